/**
 * answerFromZone (RFC 1034 §4.3.2) on cases the interop suite cannot reach cheaply: the RFC 2308
 * negative TTL both ways round, DNAME results longer than 255 octets (RFC 6672 §2.2: YXDOMAIN),
 * the CNAME chain cap, round-robin variants, and owner case. Expected records are zone text,
 * compared as sorted RRsets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CHAIN, answerFromZone } from '../../src/authority/answer.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { type ResourceRecord, recordToString } from '../../src/wire/record.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { Zone } from '../../src/zone/zone.js';

function zoneOf(origin: string, text: string): Zone {
  const o = Name.fromText(origin);
  const z = new Zone(o);
  for (const e of parseZoneText(text, { origin: o, file: 'test.zone' })) z.add(e.record);
  z.finish();
  return z;
}

function ask(z: Zone, qname: string, qtype: number, rotation = -1): { reply: Message; variants: number } {
  const reply = new Message();
  const variants = answerFromZone(z, reply, Name.fromText(qname), qtype, { rotate: true, anyAll: false, rotation });
  return { reply, variants };
}

const text = (rrs: ResourceRecord[]): string[] => rrs.map(recordToString).map((s) => s.split(/\s+/).join(' ')).sort();

test('negative TTL is min(SOA TTL, SOA MINIMUM) (RFC 2308 §3), both ways round', () => {
  const lowMinimum = zoneOf('a.test.', '$TTL 3600\n@ SOA ns h 1 2 3 4 300\n@ NS ns\nns A 192.0.2.1\n');
  const lowTtl = zoneOf('b.test.', '$TTL 3600\n@ 120 SOA ns h 1 2 3 4 86400\n@ NS ns\nns A 192.0.2.1\n');
  const nx = ask(lowMinimum, 'nope.a.test.', RRType.A).reply;
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.aa, true);
  assert.deepEqual(text(nx.authority), ['a.test. 300 IN SOA ns.a.test. h.a.test. 1 2 3 4 300']);
  const nodata = ask(lowTtl, 'ns.b.test.', RRType.MX).reply;
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.equal(nodata.answer.length, 0);
  assert.deepEqual(text(nodata.authority), ['b.test. 120 IN SOA ns.b.test. h.b.test. 1 2 3 4 86400']);
});

test('DNAME whose substitution exceeds 255 octets: YXDOMAIN with the DNAME (RFC 6672 §2.2)', () => {
  const long = `${'x'.repeat(60)}.${'y'.repeat(60)}.${'z'.repeat(60)}.`;
  const z = zoneOf('d.test.', `$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nd DNAME ${long}\n`);
  const q = `${'a'.repeat(60)}.${'b'.repeat(10)}.d.d.test.`;
  const r = ask(z, q, RRType.A).reply;
  assert.equal(r.rcode, Rcode.YXDOMAIN);
  assert.deepEqual(r.answer.map((a) => a.type), [RRType.DNAME]);
});

test('a CNAME chain longer than MAX_CHAIN stops there, NOERROR', () => {
  const lines = ['$TTL 60', '@ SOA ns h 1 2 3 4 5', '@ NS ns', 'ns A 192.0.2.1'];
  for (let i = 0; i < MAX_CHAIN + 5; i++) lines.push(`c${i} CNAME c${i + 1}`);
  lines.push(`c${MAX_CHAIN + 5} A 192.0.2.9`);
  const r = ask(zoneOf('c.test.', lines.join('\n') + '\n'), 'c0.c.test.', RRType.A).reply;
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.answer.length, MAX_CHAIN + 1);
  assert.ok(r.answer.every((a) => a.type === RRType.CNAME));
});

test('round robin: fixed offsets give every rotation; the count of variants is the RRset size', () => {
  const z = zoneOf('r.test.', '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nw A 192.0.2.1\nw A 192.0.2.2\nw A 192.0.2.3\n');
  const firsts = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const { reply, variants } = ask(z, 'w.r.test.', RRType.A, i);
    assert.equal(variants, 3);
    firsts.add((reply.answer[0]!.data as { address: string }).address);
    assert.equal(text(reply.answer).length, 3);
  }
  assert.equal(firsts.size, 3);
  assert.equal(ask(z, 'ns.r.test.', RRType.A).variants, 1);
  assert.equal(ask(z, 'nope.r.test.', RRType.A).variants, 1);
});

test('round robin without a fixed offset takes turns per zone: another zone answering in between changes nothing', () => {
  const src = '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nw A 192.0.2.1\nw A 192.0.2.2\nw A 192.0.2.3\n';
  const one = zoneOf('r1.test.', src);
  const two = zoneOf('r2.test.', src);
  const first = (z: Zone, name: string): string => (ask(z, name, RRType.A).reply.answer[0]!.data as { address: string }).address;
  // Alone, zone one starts at its first record and goes round: 1, 2, 3, 1.
  const alone = [0, 1, 2, 3].map(() => first(one, 'w.r1.test.'));
  assert.deepEqual(alone, ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']);
  // Zone two's answers in between do not move zone one's turn (a shared counter would skip).
  const interleaved: string[] = [];
  for (let i = 0; i < 3; i++) {
    interleaved.push(first(one, 'w.r1.test.'));
    first(two, 'w.r2.test.');
    first(two, 'w.r2.test.');
  }
  assert.deepEqual(interleaved, ['192.0.2.2', '192.0.2.3', '192.0.2.1']);
});

test("the query's name keeps its case as the answer owner; other names keep the zone's", () => {
  const z = zoneOf('k.test.', '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nalias CNAME Target\ntarget A 192.0.2.7\n');
  const r = ask(z, 'ALIAS.k.TEST.', RRType.A).reply;
  assert.equal(r.answer[0]!.name.toString(), 'ALIAS.k.TEST.');
  assert.equal(r.answer[1]!.name.toString(), 'target.k.test.');
});
