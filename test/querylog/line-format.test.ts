import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryAt, entryLine } from '../../src/querylog/entry.js';
import { LineFormatter } from '../../src/querylog/line-format.js';
import { CacheKind, LineMemo, QueryRing } from '../../src/querylog/ring.js';
import { replyTo } from '../../src/server/query-context.js';
import { Message, RRType, Rcode } from '../../src/index.js';
import { parseRecord } from '../../src/wire/record.js';

function query(name: string, type: number, o: { rd?: boolean; dnssecOk?: boolean; cd?: boolean; ad?: boolean } = {}): Uint8Array {
  const m = Message.query(name, type, {
    id: 9, rd: o.rd ?? false,
    edns: o.dnssecOk === undefined ? undefined : { version: 0, udpSize: 1232, dnssecOk: o.dnssecOk, zFlags: 0, options: [] },
  });
  m.cd = o.cd === true;
  m.ad = o.ad === true;
  return m.encode();
}

function reply(q: Uint8Array, rcode: number, answers: string[], authority: string[] = [], aa = true, additional: string[] = []): Uint8Array {
  const m = replyTo(Message.decode(q), rcode);
  m.aa = aa;
  m.answer = answers.map((t) => parseRecord(t));
  m.authority = authority.map((t) => parseRecord(t));
  m.additional = additional.map((t) => parseRecord(t));
  return m.encode();
}

/** Every case: the octets LineFormatter writes must be the reference line (entry.ts) as UTF-8. */
function cases(): { q: Uint8Array; r: Uint8Array; rlen?: number; handler?: string; policy?: string; client?: string }[] {
  const out: ReturnType<typeof cases> = [];
  const soa = 'example. 300 IN SOA ns1.example. h.example. 1 2 3 4 5';
  let q = query('www.Example.', RRType.A, { dnssecOk: true, cd: true, rd: true });
  out.push({ q, r: reply(q, 0, ['www.example. 300 IN A 192.0.2.1', 'www.example. 300 IN A 10.255.0.99']) });
  q = query('v6.example.', RRType.AAAA, { ad: true });
  out.push({ q, r: reply(q, 0, ['v6.example. 300 IN AAAA 2001:db8::1']) });
  out.push({ q, r: reply(q, 0, ['v6.example. 300 IN AAAA ::ffff:192.0.2.1']) });
  q = query('alias.example.', RRType.A);
  out.push({ q, r: reply(q, 0, ['alias.example. 300 IN CNAME www.example.', 'www.example. 300 IN A 192.0.2.1']) });
  q = query('x.d.example.', RRType.A);
  out.push({ q, r: reply(q, 0, ['d.example. 300 IN DNAME e.example.', 'x.d.example. 300 IN CNAME x.e.example.']) });
  q = query('example.', RRType.MX, { dnssecOk: false });
  out.push({ q, r: reply(q, 0, ['example. 300 IN MX 10 mail.example.', 'example. 300 IN MX 0 .']) });
  q = query('example.', RRType.NS);
  out.push({ q, r: reply(q, 0, ['example. 300 IN NS ns1.example.']) });
  q = query('1.2.0.192.in-addr.arpa.', RRType.PTR);
  out.push({ q, r: reply(q, 0, ['1.2.0.192.in-addr.arpa. 300 IN PTR host.example.']) });
  q = query('t.wild.example.', RRType.TXT);
  out.push({ q, r: reply(q, 0, ['t.wild.example. 300 IN TXT "wild \\"card\\"" "\\195\\169"']) });
  q = query('example.', RRType.SOA);
  out.push({ q, r: reply(q, 0, [soa]) });
  q = query('nx.example.', RRType.A);
  out.push({ q, r: reply(q, Rcode.NXDOMAIN, [], [soa]) });
  out.push({ q, r: reply(q, 0, [], ['nx.example. 300 IN NS ns1.nx.example.', 'nx.example. 300 IN NS ns2.nx.example.'], false, ['ns1.nx.example. 300 IN A 192.0.2.7']) });
  out.push({ q, r: reply(q, Rcode.REFUSED, []) });
  q = query('nx.example.', RRType.A, { dnssecOk: true });
  out.push({ q, r: reply(q, Rcode.BADCOOKIE, []) });
  const bc = reply(q, Rcode.BADCOOKIE, []);
  out.push({ q, r: bc.subarray(0, bc.length - 3), rlen: bc.length }); // cut: the header's RCODE only
  q = query('we\\"ird\\.label\\@\\$\\;\\(\\)\\\\.\\000\\255\\032x.example.', 65280 + 3);
  out.push({ q, r: reply(q, 0, []), handler: 'auth"ority', policy: 'rpz:\u00e9:qname', client: '::ffff:127.0.0.1' });
  q = query('.', RRType.NS);
  out.push({ q, r: reply(q, 0, ['. 300 IN NS a.root-servers.net.']) });
  q = query('cut.example.', RRType.A);
  const long = reply(q, 0, ['cut.example. 300 IN CNAME a-long-target.example.', 'a-long-target.example. 300 IN A 192.0.2.1']);
  out.push({ q, r: long.subarray(0, 45), rlen: long.length });
  out.push({ q: q.subarray(0, 8), r: long });
  out.push({ q, r: new Uint8Array(0), rlen: -1, handler: 'transfer' });
  q = query(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`, RRType.A);
  out.push({ q, r: reply(q, Rcode.SERVFAIL, []) });
  const unk = query('u.example.', 4321);
  out.push({ q: unk, r: reply(unk, 0, ['u.example. 300 IN TYPE4321 \\# 3 010203']) });
  return out;
}

test('JSON lines written from octets are the reference lines (entryLine of entryAt) exactly', () => {
  const cs = cases();
  const ring = new QueryRing(cs.length);
  const f = new LineFormatter();
  f.begin(cs.length);
  cs.forEach((c, k) => {
    const rl = c.rlen ?? c.r.length;
    ring.record(Date.UTC(2026, 11, 3, 19, 59, 59, k * 37 % 1000), k * 13.6, k % 4, c.client ?? '127.0.0.1', 5300 + k, c.q, c.q.length,
      c.r, rl < 0 ? -1 : Math.min(rl, c.r.length), c.handler ?? 'authority', c.policy, k % 4 as CacheKind);
    if (c.rlen !== undefined && c.rlen > c.r.length) ring.replyFull[k] = c.rlen;
  });
  for (let k = 0; k < cs.length; k++) {
    const before = f.pos;
    f.line(ring, k, undefined);
    const got = f.buf.subarray(before, f.pos).toString('utf8');
    assert.equal(got, entryLine(entryAt(ring, k)), `case ${k}`);
    assert.doesNotThrow(() => JSON.parse(got), `case ${k}`);
  }
  assert.ok(f.slow <= 4, `the fast path writes the usual cases itself (slow: ${f.slow})`);
});

test('a memo is reused only for the same spelling of the name', () => {
  const ring = new QueryRing(4);
  const memo = new LineMemo();
  const f = new LineFormatter();
  f.begin(4);
  const spellings = ['www.example.', 'WWW.example.', 'www.example.'];
  spellings.forEach((n, k) => {
    const q = query(n, RRType.A);
    const r = reply(q, 0, ['www.example. 300 IN A 192.0.2.1']);
    ring.record(1_700_000_000_000 + k, 5, 0, '127.0.0.1', 1000 + k, q, q.length, r, r.length, 'authority', undefined, CacheKind.ANSWER, memo);
    const before = f.pos;
    f.line(ring, k, memo);
    assert.equal(f.buf.subarray(before, f.pos).toString('utf8'), entryLine(entryAt(ring, k)));
  });
  assert.ok(memo.bytes !== undefined);
});
