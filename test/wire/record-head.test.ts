// The record head `[ttl] [class] type` and the owner (RFC 1035 §5.1, RFC 3597 §5, BIND's TTL
// units) are read by one implementation (src/wire/record-head.ts): every rule here is checked
// through each of its users, parseRecord, the zone file parser and $GENERATE, so none drifts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name, parseRecord } from '../../src/index.js';
import { HeadStatus, newRecordHead, readRecordHead } from '../../src/wire/record-head.js';
import { tokenize } from '../../src/wire/rdata/text.js';
import { parse, rrLine } from '../zone/util.js';

const ORIGIN = Name.fromText('example.com.');

/** The same record through the three readers: parseRecord, a zone line, and a one-value $GENERATE. */
function viaAll(owner: string, head: string, rdata: string, cls: number): string[] {
  const text = `${owner} ${head} ${rdata}`;
  const direct = rrLine(parseRecord(text, { origin: ORIGIN, defaultTtl: 7 }));
  const zone = parse(`$TTL 7\n${text}\n`, 'example.com.', { defaultClass: cls });
  assert.deepEqual(zone.errors.map((e) => e.message), [], text);
  // $GENERATE substitutes `$` in the owner: `x$` with 1 is x1; '@' and absolute owners pass through.
  const gen = parse(`$TTL 7\n$GENERATE 1-1 ${owner} ${head} ${rdata}\n`, 'example.com.', { defaultClass: cls });
  assert.deepEqual(gen.errors.map((e) => e.message), [], `$GENERATE ${text}`);
  return [direct, ...zone.records, ...gen.records];
}

test('TTL units and plain seconds, class and TTL in either order, CLASSnn and TYPEnn: the same through every reader', () => {
  const cases: [string, string, string, number, string][] = [
    // owner, head, rdata, zone class, expected line
    ['@', '1h30m IN A', '192.0.2.1', 1, 'example.com. 5400 IN A 192.0.2.1'],
    ['www', 'IN 1h30m A', '192.0.2.1', 1, 'www.example.com. 5400 IN A 192.0.2.1'],
    ['host.example.net.', '2W A', '192.0.2.1', 1, 'host.example.net. 1209600 IN A 192.0.2.1'],
    ['a', '1d2h3m4s IN TYPE1', '192.0.2.1', 1, 'a.example.com. 93784 IN A 192.0.2.1'],
    ['a', '3600 in a', '192.0.2.1', 1, 'a.example.com. 3600 IN A 192.0.2.1'],
    ['a', 'A', '192.0.2.1', 1, 'a.example.com. 7 IN A 192.0.2.1'],
    ['t', 'CH 60 TXT', '"x"', 3, 't.example.com. 60 CH TXT "x"'],
    ['t', '60 HS TXT', '"x"', 4, 't.example.com. 60 HS TXT "x"'],
    ['t', 'CLASS32 TXT', '"x"', 32, 't.example.com. 7 CLASS32 TXT "x"'],
  ];
  for (const [owner, head, rdata, cls, want] of cases) {
    assert.deepEqual(viaAll(owner, head, rdata, cls), [want, want, want], `${owner} ${head} ${rdata}`);
  }
});

test('readRecordHead: where the RDATA starts, and what fails where', () => {
  const h = newRecordHead();
  const read = (text: string): [HeadStatus, number] => [readRecordHead(tokenize(text), 1, h), h.at];
  assert.deepEqual(read('x 300 IN MX 10 mail'), [HeadStatus.OK, 3]);
  assert.deepEqual([h.ttl, h.ttlIndex, h.cls, h.type], [300, 1, 1, 15]);
  assert.deepEqual(read('x MX 10 mail'), [HeadStatus.OK, 1]);
  assert.deepEqual([h.ttl, h.ttlIndex, h.cls], [undefined, -1, undefined]);
  // ANY is the class only when a type follows; alone it is the (question) type.
  assert.deepEqual(read('x ANY TXT "a"'), [HeadStatus.OK, 2]);
  assert.equal(h.cls, 255);
  assert.deepEqual(read('x ANY'), [HeadStatus.OK, 1]);
  assert.deepEqual([h.cls, h.type], [undefined, 255]);
  // A second TTL, a quoted token, an unknown mnemonic: the token at fault.
  assert.deepEqual(read('x 1h 2h A 192.0.2.1'), [HeadStatus.UNKNOWN_TYPE, 2]);
  assert.deepEqual(read('x "IN" A 192.0.2.1'), [HeadStatus.UNKNOWN_TYPE, 1]);
  assert.deepEqual(read('x IN BOGUS 1'), [HeadStatus.UNKNOWN_TYPE, 2]);
  assert.deepEqual(read('x 60 IN'), [HeadStatus.NO_TYPE, 3]);
  assert.throws(() => readRecordHead(tokenize('x 1x A 192.0.2.1'), 1, h), /TTL/);
  assert.equal(h.at, 1);
});

test('the same mistakes are refused by every reader', () => {
  for (const bad of ['1h 2h A 192.0.2.1', '"IN" A 192.0.2.1', 'IN BOGUS 1', '1x A 192.0.2.1', '60 IN']) {
    assert.throws(() => parseRecord(`x ${bad}`, { origin: ORIGIN }), /./, bad);
    assert.equal(parse(`$TTL 7\nx ${bad}\n`).errors.length, 1, bad);
    assert.equal(parse(`$TTL 7\n$GENERATE 1-1 x$ ${bad}\n`).errors.length, 1, `$GENERATE ${bad}`);
  }
});
