import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/logging.js';
import { compileQueryLogQuery, mergeQueryLogs } from '../../src/querylog/search.js';
import { QueryLog } from '../../src/querylog/query-log.js';
import { CacheKind, QueryRing } from '../../src/querylog/ring.js';
import { answerSummary, bindLine, entryAt, entryLine, isoTime, queryFacts, replyRcode, searchRing } from '../../src/querylog/entry.js';
import { type Handler, composeChain } from '../../src/server/chain.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { Message, RRType, Rcode, Writer } from '../../src/index.js';
import { parseRecord } from '../../src/wire/record.js';

const bad = (m: string): Error => new Error(m);

function query(name: string, type: number, opts: { rd?: boolean; dnssecOk?: boolean; cd?: boolean } = {}): Uint8Array {
  const m = Message.query(name, type, {
    id: 7, rd: opts.rd ?? true,
    edns: opts.dnssecOk === undefined ? undefined : { version: 0, udpSize: 1232, dnssecOk: opts.dnssecOk, zFlags: 0, options: [] },
  });
  m.cd = opts.cd === true;
  return m.encode();
}

function reply(q: Uint8Array, rcode: number, answers: string[], authority: string[] = [], aa = true): Uint8Array {
  const req = Message.decode(q);
  const m = replyTo(req, rcode);
  m.aa = aa;
  m.answer = answers.map((t) => parseRecord(t));
  m.authority = authority.map((t) => parseRecord(t));
  return m.encode();
}

test('an entry is derived from the stored octets: question, flags, RCODE, answer summary', () => {
  const ring = new QueryRing(4);
  const q = query('www.Example.', RRType.A, { dnssecOk: true, cd: true });
  const r = reply(q, Rcode.NOERROR, ['www.example. 300 IN A 192.0.2.1', 'www.example. 300 IN A 192.0.2.2']);
  ring.record(Date.UTC(2026, 0, 2, 3, 4, 5, 678), 120.4, 0, '127.0.0.1', 5353, q, q.length, r, r.length, 'authority', undefined, CacheKind.ANSWER);
  assert.deepEqual(entryAt(ring, 0), {
    time: '2026-01-02T03:04:05.678Z', client: '127.0.0.1', port: 5353, transport: 'udp', name: 'www.Example.', type: 'A',
    flags: 'rd cd do', rcode: 'NOERROR', answer: '192.0.2.1 (+1)', handler: 'authority', policy: null, latencyUs: 120,
    cacheHit: true, cache: 'answer',
  });
  assert.equal(bindLine(entryAt(ring, 0)),
    '02-Jan-2026 03:04:05.678 client 127.0.0.1#5353 (www.Example.): query: www.Example. IN A +EDC (udp) -> NOERROR 192.0.2.1 (+1) [authority] 120us cache=answer');
});

test('answer summaries: CNAME first, referral, none, cut-short replies', () => {
  const q = query('alias.example.', RRType.A, { rd: false });
  const cname = reply(q, 0, ['alias.example. 300 IN CNAME www.example.', 'www.example. 300 IN A 192.0.2.1']);
  assert.equal(answerSummary(cname, RRType.A), 'CNAME www.example. (+1)');
  const referral = reply(q, 0, [], ['alias.example. 300 IN NS ns1.example.', 'alias.example. 300 IN NS ns2.example.'], false);
  assert.equal(answerSummary(referral, RRType.A), 'referral (2 in authority)');
  const nx = reply(q, Rcode.NXDOMAIN, [], ['example. 300 IN SOA ns1.example. h.example. 1 2 3 4 5'], true);
  assert.equal(answerSummary(nx, RRType.A), '');
  assert.equal(answerSummary(cname.subarray(0, 40), RRType.A), '(2 records)');
  assert.deepEqual(queryFacts(q.subarray(0, 5)), { name: undefined, type: -1, rd: false, cd: false, ad: false, do: false });
});

test('the RCODE is extended by the OPT record (RFC 6891 §6.1.3) when the whole reply was kept', () => {
  const q = query('www.example.', RRType.A, { dnssecOk: false });
  const r = reply(q, Rcode.BADCOOKIE, []);
  assert.equal(replyRcode(r, r.length), Rcode.BADCOOKIE);
  assert.equal(replyRcode(r.subarray(0, 20), r.length), Rcode.BADCOOKIE & 0xf);
});

test('the ring keeps the newest N; search filters and counts newest first', () => {
  const ring = new QueryRing(3);
  const names = ['a.example.', 'b.example.', 'c.other.', 'd.example.'];
  names.forEach((n, i) => {
    const q = query(n, i === 3 ? RRType.AAAA : RRType.A);
    const r = reply(q, i === 1 ? Rcode.NXDOMAIN : 0, []);
    ring.record(1000 + i, 1, i % 2, i === 2 ? '10.0.0.1' : '127.0.0.1', 1000 + i, q, q.length, r, r.length, undefined, undefined, 0);
  });
  const all = searchRing(ring, compileQueryLogQuery({}, bad));
  assert.deepEqual(all.entries.map((e) => e.name), ['d.example.', 'c.other.', 'b.example.'], 'a. came round');
  assert.equal(all.total, 3);
  const f = (q: Record<string, string>): string[] => searchRing(ring, compileQueryLogQuery(q, bad)).entries.map((e) => e.name);
  assert.deepEqual(f({ name: 'example' }), ['d.example.', 'b.example.']);
  assert.deepEqual(f({ name: 'D.EXAMPLE' }), ['d.example.']);
  assert.deepEqual(f({ client: '10.0.0.1' }), ['c.other.']);
  assert.deepEqual(f({ rcode: 'nxdomain' }), ['b.example.']);
  assert.deepEqual(f({ type: 'aaaa' }), ['d.example.']);
  assert.deepEqual(f({ since: '1002', until: '1003' }), ['c.other.']);
  assert.deepEqual(f({ since: new Date(1002).toISOString() }), ['d.example.', 'c.other.']);
  const limited = searchRing(ring, compileQueryLogQuery({ limit: '1' }, bad));
  assert.deepEqual([limited.entries.length, limited.total], [1, 3]);
  assert.throws(() => compileQueryLogQuery({ rcode: 'NOPE' }, bad), /unknown rcode "NOPE"/);
  assert.throws(() => compileQueryLogQuery({ limit: '0' }, bad), /limit= must be a whole number/);
  assert.throws(() => compileQueryLogQuery({ since: 'yesterday' }, bad), /since= must be an ISO 8601 time/);
});

test('workers\' answers merge newest first with totals summed', () => {
  const e = (time: string) => ({ time } as never);
  const m = mergeQueryLogs([{ entries: [e('2026-01-01T00:00:03.000Z'), e('2026-01-01T00:00:01.000Z')], total: 5 },
    { entries: [e('2026-01-01T00:00:02.000Z')], total: 1 }], 2);
  assert.deepEqual(m.entries.map((x: { time: string }) => x.time), ['2026-01-01T00:00:03.000Z', '2026-01-01T00:00:02.000Z']);
  assert.equal(m.total, 6);
});

test('the engine records answered queries: handler, policy, cache hits; nothing when off', () => {
  const answer: Handler = (ctx) => {
    const m = replyTo(ctx.request, 0);
    m.aa = true;
    m.answer = [parseRecord('www.example. 300 IN A 192.0.2.1')];
    ctx.cacheVariants = 1;
    if (ctx.qtype === RRType.TXT) ctx.policy = 'test:txt';
    return m;
  };
  const chain = composeChain([{ name: 'zone', middleware: () => answer, pure: true }], (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  const e = new QueryEngine(chain, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats() });
  const w = new Writer();
  const q = Buffer.from(query('www.example.', RRType.A));
  assert.equal(typeof e.process(q, q.length, 'udp', '127.0.0.1', 1111, w), 'number');
  const log = new QueryLog({ ring: 10, logger: silentLogger });
  e.queryLog = log;
  const n = e.process(q, q.length, 'tcp', '127.0.0.2', 2222, w) as number;
  assert.ok(n > 0);
  const hit = e.cachedUdpReply(q, q.length, '127.0.0.3', 3333);
  assert.ok(hit !== undefined, 'the first query put it in the answer cache');
  const t = Buffer.from(query('www.example.', RRType.TXT));
  e.process(t, t.length, 'udp', '127.0.0.4', 4444, w);
  const got = log.search(compileQueryLogQuery({}, bad)).entries;
  assert.deepEqual(got.map((x) => [x.client, x.port, x.transport, x.type, x.handler, x.policy, x.cacheHit, x.cache, x.answer]), [
    ['127.0.0.4', 4444, 'udp', 'TXT', 'zone', 'test:txt', false, null, 'A 192.0.2.1'],
    ['127.0.0.3', 3333, 'udp', 'A', 'zone', null, true, 'answer', '192.0.2.1'],
    ['127.0.0.2', 2222, 'tcp', 'A', 'zone', null, false, null, '192.0.2.1'],
  ], 'the query before the log was on is not there');
  const refused = Buffer.from(query('nobody.test.', RRType.A));
  const chain2 = composeChain([{ name: 'zone', middleware: (next) => next, pure: true }], (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  e.setHandler(chain2);
  e.process(refused, refused.length, 'udp', '127.0.0.5', 5555, w);
  const last = log.search(compileQueryLogQuery({ limit: '1' }, bad)).entries[0]!;
  assert.deepEqual([last.name, last.rcode, last.handler], ['nobody.test.', 'REFUSED', null], 'passed on by every element: no handler');
  log.close();
});

test('sampling records one query in N', () => {
  const log = new QueryLog({ ring: 10, sample: 3, logger: silentLogger });
  const q = query('www.example.', RRType.A);
  for (let i = 0; i < 9; i++) log.record(performance.now(), 0, '127.0.0.1', i, q, q.length, q, 0, undefined, undefined, 0);
  assert.deepEqual(log.search(compileQueryLogQuery({}, bad)).entries.map((e) => e.port), [8, 5, 2]);
  log.close();
});

test('file lines are exactly JSON.stringify of the entry; times as toISOString', () => {
  const ring = new QueryRing(2);
  const q = query('we\\"ird.example.', RRType.TXT);
  const r = reply(q, 0, ['we\\"ird.example. 300 IN TXT "a\\"b" "\\195\\169"']);
  ring.record(Date.UTC(2026, 5, 7, 8, 9, 10, 5), 3, 3, '::1', 443, q, q.length, r, r.length, undefined, 'rpz:x:qname', 0);
  const e = entryAt(ring, 0);
  assert.equal(e.name, 'we\\"ird.example.');
  assert.equal(entryLine(e), JSON.stringify(e) + '\n');
  for (const ms of [0, 5, 99, 1000, 1_767_225_599_999, Date.UTC(2026, 0, 1, 0, 0, 0, 120)]) assert.equal(isoTime(ms), new Date(ms).toISOString());
  assert.equal(isoTime(1000.7), new Date(1000).toISOString());
});

test('repeated answer-cache hits reuse one line middle, names spelled as each query spelled them', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sovereign-qlmemo-'));
  const answer: Handler = (ctx) => {
    const m = replyTo(ctx.request, 0);
    m.aa = true;
    m.answer = [parseRecord('www.example. 300 IN A 192.0.2.1'), parseRecord('www.example. 300 IN A 192.0.2.2')];
    ctx.cacheVariants = 1;
    return m;
  };
  const chain = composeChain([{ name: 'zone', middleware: () => answer, pure: true }], (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  const e = new QueryEngine(chain, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats() });
  const log = new QueryLog({ ring: 10, file: join(dir, 'q.log'), logger: silentLogger });
  e.queryLog = log;
  const w = new Writer();
  const spellings = ['www.example.', 'www.example.', 'WWW.example.', 'www.example.', 'wWw.ExAmPlE.'];
  const first = Buffer.from(query(spellings[0]!, RRType.A));
  e.process(first, first.length, 'udp', '127.0.0.1', 1, w);
  for (let k = 1; k < spellings.length; k++) {
    const q = Buffer.from(query(spellings[k]!, RRType.A));
    assert.ok(e.cachedUdpReply(q, q.length, '127.0.0.1', 1 + k) !== undefined);
  }
  log.flush();
  log.close();
  await new Promise((r) => setTimeout(r, 200));
  const lines = readFileSync(join(dir, 'q.log'), 'utf8').trim().split('\n');
  const api = log.search(compileQueryLogQuery({}, bad)).entries.reverse();
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), api, 'the file says what the API says');
  assert.deepEqual(api.map((x) => x.name), spellings);
  rmSync(dir, { recursive: true, force: true });
});
