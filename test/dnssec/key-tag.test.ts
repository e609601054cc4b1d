import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyTag } from '../../src/dnssec/key-tag.js';

const key = Buffer.from('AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=', 'base64');

test('key tags as BIND computes them (dig +multiline key id)', () => {
  assert.equal(keyTag(257, 3, 8, key), 9034);
  assert.equal(keyTag(256, 3, 8, key), 9033);
  assert.equal(keyTag(256, 3, 13, key), 9038);
});

test('RFC 4034 §5.4 example: dskey.example.com. has key tag 60485', () => {
  // RFC 4034 §5.4: the DS for dskey.example.com names key tag 60485.
  const k = Buffer.from('AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==', 'base64');
  assert.equal(keyTag(256, 3, 5, k), 60485);
});
