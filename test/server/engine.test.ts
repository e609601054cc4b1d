import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/logging.js';
import { composeChain } from '../../src/server/chain.js';
import { PendingReply, QueryEngine, acceptHeader, Verdict } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { Message, Name, Rcode, RRType, Writer, EdeCode, decodeOption } from '../../src/index.js';

function engine(handler = composeChain([], (ctx) => replyTo(ctx.request, Rcode.REFUSED))) {
  const stats = new ServerStats();
  return { e: new QueryEngine(handler, { maxUdpSize: 1232, logger: silentLogger, stats }), stats };
}

function run(e: QueryEngine, bytes: Uint8Array, transport: 'udp' | 'tcp' = 'udp'): Message | undefined {
  const w = new Writer();
  const r = e.process(bytes, bytes.length, transport, '127.0.0.1', 5555, w);
  assert.equal(typeof r, 'number');
  return (r as number) < 0 ? undefined : Message.decode(w.buf.slice(0, r as number));
}

const query = (): Message => Message.query('www.example.com.', RRType.A, { id: 0x4242 });

test('header-only accept check', () => {
  const q = query().encode();
  assert.equal(acceptHeader(q, 11), Verdict.DROP);
  const resp = q.slice();
  resp[2]! |= 0x80;
  assert.equal(acceptHeader(resp, resp.length), Verdict.DROP);
  const status = q.slice();
  status[2] = (status[2]! & 0x87) | (2 << 3);
  assert.equal(acceptHeader(status, status.length), Verdict.NOTIMP);
  assert.equal(acceptHeader(q, q.length), Verdict.ACCEPT);
});

test('short packets and responses get no reply and are counted', () => {
  const { e, stats } = engine();
  assert.equal(run(e, new Uint8Array(5)), undefined);
  const resp = query().encode();
  resp[2]! |= 0x80;
  assert.equal(run(e, resp), undefined);
  assert.equal(stats.dropped, 2);
});

test('unknown opcode: NOTIMP with the ID', () => {
  const { e } = engine();
  const q = query().encode();
  q[2] = (q[2]! & 0x87) | (2 << 3); // STATUS
  const r = run(e, q)!;
  assert.equal(r.rcode, Rcode.NOTIMP);
  assert.equal(r.id, 0x4242);
  assert.equal(r.qr, true);
});

test('malformed queries: FORMERR, never a throw', () => {
  const { e, stats } = engine();
  const q = query().encode();
  const cases: Uint8Array[] = [
    q.slice(0, 20), // truncated question
    (() => { const b = q.slice(); b[5] = 9; return b; })(), // lying QDCOUNT
    (() => { const b = new Uint8Array(q.length + 3); b.set(q); return b; })(), // trailing garbage
    (() => { const b = q.slice(); b[12] = 0xc0; b[13] = 12; return b; })(), // pointer loop to itself
  ];
  for (const c of cases) {
    const r = run(e, c)!;
    assert.equal(r.rcode, Rcode.FORMERR);
    assert.equal(r.id, 0x4242);
  }
  assert.equal(stats.rcodes[Rcode.FORMERR], cases.length);
});

test('QUERY with two questions: FORMERR', () => {
  const { e } = engine();
  const m = query();
  m.question.push({ name: Name.fromText('a.example.'), type: 1, class: 1 });
  assert.equal(run(e, m.encode())!.rcode, Rcode.FORMERR);
});

test('EDNS version 1: BADVERS with an OPT of version 0', () => {
  const { e } = engine();
  const m = query();
  m.edns = { version: 1, udpSize: 4096, dnssecOk: false, zFlags: 0, options: [] };
  const r = run(e, m.encode())!;
  assert.equal(r.rcode, Rcode.BADVERS);
  assert.equal(r.edns?.version, 0);
});

test('handler throwing: SERVFAIL with an Extended DNS Error', () => {
  const { e, stats } = engine(() => {
    throw new Error('boom');
  });
  const m = query();
  m.edns = { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [] };
  const r = run(e, m.encode())!;
  assert.equal(r.rcode, Rcode.SERVFAIL);
  const ede = r.edns!.options.map(decodeOption).find((o) => o.code === 15);
  assert.ok(ede && 'infoCode' in ede && ede.infoCode === EdeCode.OTHER);
  assert.equal(stats.internalErrors, 1);
});

test('asynchronous handler: settle encodes when ready', async () => {
  const { e } = engine(async (ctx) => replyTo(ctx.request, Rcode.NXDOMAIN));
  const w = new Writer();
  const bytes = query().encode();
  const r = e.process(bytes, bytes.length, 'udp', '127.0.0.1', 1, w);
  assert.ok(r instanceof PendingReply);
  const len = await new Promise<number>((resolve) => e.settle(r, w, resolve));
  assert.equal(Message.decode(w.buf.slice(0, len)).rcode, Rcode.NXDOMAIN);
});

test('UDP size: no EDNS means 512 and TC; EDNS size honoured up to the cap', () => {
  const big = (ctx: Parameters<Parameters<typeof composeChain>[1]>[0]): Message => {
    const r = replyTo(ctx.request, 0);
    for (let i = 0; i < 100; i++) {
      r.answer.push({ name: ctx.qname, type: RRType.A, class: 1, ttl: 60, data: { address: `192.0.2.${i}` } });
    }
    return r;
  };
  const { e, stats } = engine(big);
  const plain = run(e, query().encode())!;
  assert.equal(plain.tc, true);
  assert.ok(plain.answer.length < 100);
  const m = query();
  m.edns = { version: 0, udpSize: 65000, dnssecOk: false, zFlags: 0, options: [] };
  const w = new Writer();
  const bytes = m.encode();
  const len = e.process(bytes, bytes.length, 'udp', '127.0.0.1', 1, w) as number;
  assert.ok(len <= 1232);
  assert.equal(Message.decode(w.buf.slice(0, len)).tc, true);
  const tcp = run(e, query().encode(), 'tcp')!;
  assert.equal(tcp.tc, false);
  assert.equal(tcp.answer.length, 100);
  assert.equal(stats.truncated, 2);
});

test('a handler that throws: SERVFAIL, and the log names the query that caused it', () => {
  const logged: { obj: unknown; msg: string | undefined }[] = [];
  const at = (obj: object | string, msg?: string): void => { logged.push({ obj, msg }); };
  const logger = { trace: at, debug: at, info: at, warn: at, error: at };
  const h = composeChain([], () => { throw new TypeError('bug in a handler'); });
  const e = new QueryEngine(h, { maxUdpSize: 1232, logger, stats: new ServerStats() });
  const r = run(e, query().encode());
  assert.equal(r?.rcode, Rcode.SERVFAIL);
  assert.equal(logged.length, 1);
  const o = logged[0]!.obj as { err: Error; query: { name: string; type: number; client: string; transport: string } };
  assert.equal(o.err.message, 'bug in a handler');
  assert.deepEqual({ ...o.query }, { name: 'www.example.com.', type: RRType.A, class: 1, client: '127.0.0.1#5555', transport: 'udp' });
});
