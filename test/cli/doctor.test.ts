/** `sovereign doctor`'s command line (parsing only; the checks are in test/doctor). */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseDoctorArgs, parseServer } from '../../src/cli/doctor.js';
import { RRType } from '../../src/wire/types.js';

test('--resolver forms: ADDR, ADDR:PORT, IPv6, [IPv6]:PORT; bad ones rejected', () => {
  assert.deepEqual(parseServer('127.0.0.1'), { address: '127.0.0.1', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('::1'), { address: '::1', port: 53 });
  assert.deepEqual(parseServer('[2001:db8::1]:853'), { address: '2001:db8::1', port: 853 });
  assert.deepEqual(parseServer('[fe80::1%eth0]'), { address: 'fe80::1%eth0', port: 53 });
  assert.throws(() => parseServer('resolver.example'), /not an IP address/);
  assert.throws(() => parseServer('127.0.0.1:99999'), /bad port/);
});

test('NAME, TYPE and options', () => {
  const a = parseDoctorArgs(['www.example', 'aaaa', '--resolver', '127.0.0.2', '--resolver', '127.0.0.3:54', '--bogus', 'bad.example',
    '--large', 'big.example/TXT', '--timeout', '700', '--now', '2030-01-01T00:00:00Z', '--json']);
  assert.equal(a.json, true);
  assert.equal(a.options.name?.toString(), 'www.example.');
  assert.equal(a.options.type, RRType.AAAA);
  assert.deepEqual(a.options.resolvers, [{ address: '127.0.0.2', port: 53 }, { address: '127.0.0.3', port: 54 }]);
  assert.equal(a.options.bogus?.toString(), 'bad.example.');
  assert.deepEqual([a.options.large?.name.toString(), a.options.large?.type], ['big.example.', RRType.TXT]);
  assert.equal(a.options.timeoutMs, 700);
  assert.equal(a.options.clock?.(), Date.parse('2030-01-01T00:00:00Z'));
  assert.throws(() => parseDoctorArgs(['a', 'A', 'extra']), /one NAME and one TYPE/);
  assert.throws(() => parseDoctorArgs(['a', 'NOPE']), /unknown type/);
  assert.throws(() => parseDoctorArgs(['--timeout', '0']), /milliseconds/);
  assert.throws(() => parseDoctorArgs(['--now', 'yesterday']), /ISO 8601/);
  assert.throws(() => parseDoctorArgs(['--root-hints', '/nonexistent/hints']), /ENOENT|no such file/);
});
