/**
 * Response rate limiting's token arithmetic (src/policy/rrl.ts), with the clock injected so every
 * count is exact: BIND 9.18's rules (lib/dns/rrl.c) for credit, debt down to -window*rate, the
 * slip sequence, buckets by prefix/kind/name, all-per-second, exemptions, log-only and the bounded
 * table. No sockets here; test/policy/rrl-server.test.ts floods a real server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientAddress } from '../../src/policy/client-address.js';
import { RrlKind, RrlVerdict, ResponseRateLimiter, nameHash } from '../../src/policy/rrl.js';
import { Name } from '../../src/wire/name.js';

const WWW = nameHash(Name.fromText('www.example.').wire);
const FTP = nameHash(Name.fromText('ftp.example.').wire);
const ZONE = nameHash(Name.fromText('example.').wire);
const A = 1;
const IN = 1;

/** Verdicts of `n` answers for www A to `address`, as a string: '.' sent, 's' slipped, 'x' dropped. */
function run(r: ResponseRateLimiter, address: string, n: number, kind: RrlKind = RrlKind.ANSWER, name = WWW, qtype = A): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    const v = r.check(address, false, kind, qtype, IN, name);
    out += v === RrlVerdict.OK ? '.' : v === RrlVerdict.SLIP ? 's' : 'x';
  }
  return out;
}

test('client addresses parse without allocation: IPv4, IPv6 with ::, mapped IPv4, junk', () => {
  const b = new Uint8Array(16);
  assert.equal(parseClientAddress('192.0.2.77', b), 4);
  assert.deepEqual([...b.subarray(0, 4)], [192, 0, 2, 77]);
  assert.equal(parseClientAddress('2001:db8::1', b), 6);
  assert.equal(Buffer.from(b).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(parseClientAddress('::1', b), 6);
  assert.equal(Buffer.from(b).toString('hex'), '00000000000000000000000000000001');
  assert.equal(parseClientAddress('fe80::1:2%eth0', b), 6);
  assert.equal(Buffer.from(b).toString('hex'), 'fe800000000000000000000000010002');
  assert.equal(parseClientAddress('::ffff:198.51.100.9', b), 4);
  assert.deepEqual([...b.subarray(0, 4)], [198, 51, 100, 9]);
  for (const bad of ['', '1.2.3', '1.2.3.256', '1:2:3:4:5:6:7:8:9', 'x::1', '1::2::3']) assert.equal(parseClientAddress(bad, b), 0, bad);
});

test('rate tokens a second, then slip/drop alternating (slip 2), debt to -window*rate, fresh after the window', () => {
  let now = 1000;
  const r = new ResponseRateLimiter({ responsesPerSecond: 5, window: 15, slip: 2, nowS: () => now });
  // Second 0: 5 answered, then 15 limited: the first of each pair slips (rrl.c slip_cnt).
  assert.equal(run(r, '192.0.2.1', 20), '.....sxsxsxsxsxsxsxs');
  assert.equal(r.slipped[0], 8);
  assert.equal(r.dropped[0], 7);
  // Balance 5 - 20 = -15; one second credits 5: -10, still limited; the slip sequence carries on.
  now = 1001;
  assert.equal(run(r, '192.0.2.1', 3), 'xsx');
  // -13 after those; two more seconds: -3, still limited; 3 more seconds: 5 (capped), answered again.
  now = 1003;
  assert.equal(run(r, '192.0.2.1', 1), 's');
  now = 1006;
  assert.equal(run(r, '192.0.2.1', 6), '.....s', 'credit is capped at the rate, and the slip count restarts');
  // A long flood: the debt stops at -window*rate = -75, so 15 s of silence clear it.
  now = 2000;
  run(r, '192.0.2.1', 500);
  now = 2015;
  assert.equal(run(r, '192.0.2.1', 1), 'x', '-75 + 15*5 = 0 tokens: still limited (495 limited so far: the slip count is odd)');
  now = 2016;
  assert.equal(run(r, '192.0.2.1', 5), '....s', '-1 + 5 = 4 tokens');
});

test('debt arithmetic is exact at the floor', () => {
  let now = 50;
  const r = new ResponseRateLimiter({ responsesPerSecond: 2, window: 3, slip: 0, nowS: () => now });
  run(r, '192.0.2.1', 100); // floor: -6
  now = 53; // -6 + 3*2 = 0: no token yet
  assert.equal(run(r, '192.0.2.1', 1), 'x');
  now = 54; // -1 + 2 = 1: one answer
  assert.equal(run(r, '192.0.2.1', 2), '.x');
  now = 59; // more than `window` seconds since the last response: a fresh bucket
  assert.equal(run(r, '192.0.2.1', 3), '..x');
});

test('buckets: one per /24 and /56, per qname and type for answers, per zone for NXDOMAIN, one for errors', () => {
  const now = 7;
  const r = new ResponseRateLimiter({ responsesPerSecond: 2, slip: 0, nowS: () => now });
  assert.equal(run(r, '192.0.2.1', 3), '..x');
  assert.equal(run(r, '192.0.2.200', 1), 'x', 'the same /24 shares the bucket');
  assert.equal(run(r, '192.0.3.1', 2), '..', 'another /24 has its own');
  assert.equal(run(r, '192.0.2.1', 2, RrlKind.ANSWER, FTP), '..', 'another name has its own');
  assert.equal(run(r, '192.0.2.1', 2, RrlKind.ANSWER, WWW, 28), '..', 'another type has its own');
  // NXDOMAIN: keyed by the zone whatever the qname (the caller passes the origin's hash).
  assert.equal(run(r, '192.0.2.1', 3, RrlKind.NXDOMAIN, ZONE), '..x');
  // NODATA ignores the type.
  assert.equal(run(r, '192.0.2.1', 2, RrlKind.NODATA, WWW, 28) + run(r, '192.0.2.1', 1, RrlKind.NODATA, WWW, 99), '..x');
  // Errors: one bucket per prefix, names ignored.
  assert.equal(run(r, '192.0.2.1', 2, RrlKind.ERROR, WWW) + run(r, '192.0.2.1', 1, RrlKind.ERROR, FTP), '..x');
  // IPv6: /56.
  assert.equal(run(r, '2001:db8:0:ff::1', 2) + run(r, '2001:db8:0:1::2', 1), '..x', 'same /56');
  assert.equal(run(r, '2001:db8:0:100::1', 1), '.', 'another /56');
});

test('slip 0 only drops, slip 1 always slips, slip 3 slips one in three', () => {
  const now = 1;
  const drop = new ResponseRateLimiter({ responsesPerSecond: 1, slip: 0, nowS: () => now });
  assert.equal(run(drop, '192.0.2.1', 6), '.xxxxx');
  const tc = new ResponseRateLimiter({ responsesPerSecond: 1, slip: 1, nowS: () => now });
  assert.equal(run(tc, '192.0.2.1', 6), '.sssss');
  const three = new ResponseRateLimiter({ responsesPerSecond: 1, slip: 3, nowS: () => now });
  assert.equal(run(three, '192.0.2.1', 8), '.sxxsxxs');
});

test('all-per-second debits every response of a prefix, decides when it limits, and never slips', () => {
  const now = 1;
  const r = new ResponseRateLimiter({ responsesPerSecond: 10, allPerSecond: 3, slip: 1, nowS: () => now });
  assert.equal(run(r, '192.0.2.1', 2) + run(r, '192.0.2.1', 3, RrlKind.ANSWER, FTP), '...xx');
  assert.equal(r.dropped[RrlKind.ALL], 2);
  assert.equal(r.slipped[RrlKind.ANSWER], 0);
});

test('exempt clients, TCP and other rates; log-only counts what it would do and limits nothing', () => {
  const now = 1;
  const r = new ResponseRateLimiter({ responsesPerSecond: 1, nxdomainsPerSecond: 0, exempt: ['192.0.2.0/25'], nowS: () => now });
  assert.equal(run(r, '192.0.2.1', 5), '.....', 'exempt');
  assert.equal(run(r, '192.0.2.200', 3), '.sx', 'outside the exemption');
  assert.equal(run(r, '198.51.100.1', 4, RrlKind.NXDOMAIN, ZONE), '....', 'nxdomains-per-second 0: not limited');
  for (let i = 0; i < 5; i++) assert.equal(r.check('198.51.100.1', true, RrlKind.ANSWER, A, IN, WWW), RrlVerdict.OK, 'TCP');
  const lo = new ResponseRateLimiter({ responsesPerSecond: 1, logOnly: true, nowS: () => now });
  assert.equal(run(lo, '192.0.2.1', 5), '.....');
  assert.equal(lo.wouldSlip[0], 2);
  assert.equal(lo.wouldDrop[0], 2);
  assert.equal(lo.dropped[0] + lo.slipped[0]!, 0);
});

test('the table is bounded: a spoofed flood from 5000 prefixes neither grows it past maxTableSize nor starves a client', () => {
  let now = 100;
  const r = new ResponseRateLimiter({ responsesPerSecond: 2, minTableSize: 10, maxTableSize: 64, nowS: () => now });
  for (let s = 0; s < 3; s++, now++) {
    for (let i = 0; i < 5000; i++) r.check(`10.${(i >> 8) & 0xff}.${i & 0xff}.1`, false, RrlKind.ANSWER, A, IN, WWW);
    assert.equal(run(r, '192.0.2.1', 2), '..', `second ${s}: the legitimate client within its rate`);
  }
  assert.equal(r.tableSize, 64);
});

test('qps-scale scales rates down when the server is busy', () => {
  let now = 10;
  const r = new ResponseRateLimiter({ responsesPerSecond: 10, qpsScale: 50, window: 1, slip: 0, nowS: () => now });
  // One window at 200 responses per second: scale 50/200 = 0.25, so 10 becomes 2.
  for (let i = 0; i < 200; i++) r.check(`10.0.${i}.1`, false, RrlKind.ANSWER, A, IN, WWW);
  now = 11;
  for (let i = 0; i < 200; i++) r.check(`10.1.${i}.1`, false, RrlKind.ANSWER, A, IN, WWW);
  now = 12;
  assert.equal(run(r, '192.0.2.1', 4), '..xx');
  assert.equal(r.rateOf(RrlKind.ANSWER), 2);
});

test('config errors name the key and the fix', async () => {
  const { validateConfig } = await import('../../src/config/load.js');
  assert.throws(() => validateConfig({ rateLimit: { slip: 11 } }, '/'), /rateLimit\.slip.*0 \(never send TC, only drop\) to 10/s);
  assert.throws(() => validateConfig({ rateLimit: { responsesPerSecond: 5000 } }, '/'), /rateLimit\.responsesPerSecond.*0 \(off\) to 1000/s);
  assert.throws(() => validateConfig({ rateLimit: { exempt: ['300.1.2.3/8'] } }, '/'), /rateLimit\.exempt/);
  assert.throws(() => validateConfig({ rateLimit: { minTableSize: 100, maxTableSize: 10 } }, '/'), /rateLimit\.minTableSize.*above maxTableSize/s);
  assert.throws(() => validateConfig({ resolver: { clientQueryRateAction: 'tarpit' } }, '/'), /resolver\.clientQueryRateAction.*drop or refuse/s);
  const ok = validateConfig({ rateLimit: { responsesPerSecond: 5, window: '10s' } }, '/');
  assert.equal(ok.rateLimit.window, 10);
  assert.equal(ok.rateLimit.nxdomainsPerSecond, undefined, 'defaults to responsesPerSecond in the limiter');
});
