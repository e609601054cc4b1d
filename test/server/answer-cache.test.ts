/**
 * The UDP answer cache (the fast path): same bytes as the slow path, round robin still rotates,
 * cookies do not split the cache while other EDNS options bypass it, answers reached through a non-pure chain element
 * are not cached, and a chain change empties it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/logging.js';
import { composeChain } from '../../src/server/chain.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { Message } from '../../src/wire/message.js';
import { option } from '../../src/wire/edns.js';
import { RRType } from '../../src/wire/types.js';
import { Writer } from '../../src/wire/writer.js';
import { startServer, udpExchange, udpQuery } from './net-helpers.js';

const ADDRESS = '127.23.7.1';

test('round robin rotates through the cache, every rotation seen, same records each time', async () => {
  const srv = await startServer(ADDRESS);
  try {
    const firsts = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const r = await udpQuery(ADDRESS, srv.port, Message.query('www.example.com.', RRType.A, { id: i }));
      assert.equal(r.id, i);
      assert.equal(r.aa, true);
      const addrs = r.answer.map((a) => (a.data as { address: string }).address);
      assert.deepEqual([...addrs].sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.12']);
      firsts.add(addrs[0]!);
    }
    assert.equal(firsts.size, 3, 'each record comes first in turn');
    assert.ok(srv.server.stats.responses >= 9);
  } finally {
    await srv.stop();
  }
});

test('cached reply keeps the query case and ID; rotation off gives one fixed order', async () => {
  const srv = await startServer(ADDRESS, { rotate: false });
  try {
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const raw = await udpExchange(ADDRESS, srv.port, Message.query('WwW.ExAmPlE.cOm.', RRType.A, { id: 500 + i }).encode(), 2000);
      const r = Message.decode(raw!);
      assert.equal(r.id, 500 + i);
      assert.equal(r.question[0]!.name.toString(), 'WwW.ExAmPlE.cOm.');
      orders.add(r.answer.map((a) => (a.data as { address: string }).address).join(','));
    }
    assert.equal(orders.size, 1);
  } finally {
    await srv.stop();
  }
});

function engineWith(pure: boolean): { e: QueryEngine; calls: () => number } {
  let n = 0;
  const h = composeChain([{
    name: 'test', pure,
    middleware: () => (ctx) => {
      n++;
      ctx.cacheVariants = 1;
      return replyTo(ctx.request, 0);
    },
  }], (ctx) => replyTo(ctx.request, 5));
  return { e: new QueryEngine(h, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats() }), calls: () => n };
}

test('only pure chains are cached; EDNS options bypass the cache; setHandler empties it', () => {
  const w = new Writer();
  const q = Buffer.from(Message.query('a.example.', RRType.A, { id: 1 }).encode());
  const pure = engineWith(true);
  pure.e.process(q, q.length, 'udp', '127.0.0.1', 1, w);
  assert.equal(pure.e.cachedAnswers, 1);
  const hit = pure.e.cachedUdpReply(q, q.length);
  assert.ok(hit !== undefined);
  assert.equal(Message.decode(hit).question[0]!.name.toString(), 'a.example.');
  pure.e.setHandler((ctx) => replyTo(ctx.request, 0));
  assert.equal(pure.e.cachedAnswers, 0);
  assert.equal(pure.e.cachedUdpReply(q, q.length), undefined);

  const impure = engineWith(false);
  impure.e.process(q, q.length, 'udp', '127.0.0.1', 1, w);
  assert.equal(impure.e.cachedAnswers, 0);

  const withCookie = Buffer.from(Message.query('a.example.', RRType.A, {
    id: 2, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [option.cookie(new Uint8Array(8))] },
  }).encode());
  // A cookie (which we accept and do not answer) does not change the reply: one entry serves
  // every cookie; any other option (NSID here) bypasses the cache.
  const p2 = engineWith(true);
  p2.e.process(withCookie, withCookie.length, 'udp', '127.0.0.1', 1, w);
  assert.equal(p2.e.cachedAnswers, 1);
  const otherCookie = Buffer.from(Message.query('a.example.', RRType.A, {
    id: 3, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [option.cookie(new Uint8Array(8).fill(7))] },
  }).encode());
  assert.ok(p2.e.cachedUdpReply(otherCookie, otherCookie.length) !== undefined);
  const noOptions = Buffer.from(Message.query('a.example.', RRType.A, {
    id: 4, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [] },
  }).encode());
  assert.ok(p2.e.cachedUdpReply(noOptions, noOptions.length) !== undefined);
  const withNsid = Buffer.from(Message.query('a.example.', RRType.A, {
    id: 5, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [option.nsid()] },
  }).encode());
  assert.equal(p2.e.cachedUdpReply(withNsid, withNsid.length), undefined);
  const p3 = engineWith(true);
  p3.e.process(withNsid, withNsid.length, 'udp', '127.0.0.1', 1, w);
  assert.equal(p3.e.cachedAnswers, 0);
  const dnssecOk = Buffer.from(Message.query('a.example.', RRType.A, {
    id: 6, edns: { version: 0, udpSize: 1232, dnssecOk: true, zFlags: 0, options: [] },
  }).encode());
  assert.equal(p2.e.cachedUdpReply(dnssecOk, dnssecOk.length), undefined, 'DO is part of the key');
  // TCP answers are never taken from or put in the UDP cache.
  const p4 = engineWith(true);
  p4.e.process(q, q.length, 'tcp', '127.0.0.1', 1, w);
  assert.equal(p4.e.cachedAnswers, 0);
});

/** A query's bytes with the given header flags and EDNS. */
function queryBytes(name: string, o: { type?: number; cls?: number; rd?: boolean; cd?: boolean; udpSize?: number; dnssecOk?: boolean; edns?: boolean; id?: number } = {}): Buffer {
  const m = Message.query(name, o.type ?? RRType.A, {
    id: o.id ?? 1, rd: o.rd ?? true,
    ...(o.edns === false ? {} : { edns: { version: 0, udpSize: o.udpSize ?? 1232, dnssecOk: o.dnssecOk ?? false, zFlags: 0, options: [] } }),
  });
  const b = Buffer.from(m.encode());
  if (o.cd === true) b[3]! |= 0x10;
  if (o.cls !== undefined) {
    let p = 12;
    while (b[p] !== 0) p += b[p]! + 1;
    b.writeUInt16BE(o.cls, p + 3);
  }
  return b;
}

test('answer-cache key: RD, CD, QTYPE, QCLASS, EDNS size, DO and EDNS presence each change it; ID and name case do not', () => {
  const w = new Writer();
  const { e } = engineWith(true);
  const base = queryBytes('www.example.');
  e.process(base, base.length, 'udp', '127.0.0.1', 1, w);
  assert.equal(e.cachedAnswers, 1);
  const differing: [string, Buffer][] = [
    ['RD', queryBytes('www.example.', { rd: false })],
    ['CD', queryBytes('www.example.', { cd: true })],
    ['QTYPE', queryBytes('www.example.', { type: RRType.AAAA })],
    ['QCLASS', queryBytes('www.example.', { cls: 3 })],
    ['EDNS size', queryBytes('www.example.', { udpSize: 4096 })],
    ['DO', queryBytes('www.example.', { dnssecOk: true })],
    ['no EDNS', queryBytes('www.example.', { edns: false })],
    ['name', queryBytes('www2.example.')],
  ];
  for (const [what, q] of differing) assert.equal(e.cachedUdpReply(q, q.length), undefined, `${what} must change the key`);
  const same = queryBytes('wWw.ExAmPlE.', { id: 0xbeef });
  const hit = e.cachedUdpReply(same, same.length);
  assert.ok(hit !== undefined, 'ID and case do not change the key');
  const r = Message.decode(hit);
  assert.equal(r.id, 0xbeef);
  assert.equal(r.question[0]!.name.toString(), 'wWw.ExAmPlE.', 'the reply echoes the name as this client spelled it');
  // Only letters fold: a Latin-1 octet is compared exactly (RFC 4343 §3), and QTYPE 0x0061 is not 0x0041.
  const upperLatin = queryBytes('www.examplx.');
  upperLatin[12 + 4 + 7] = 0xc1; // 'x' -> Latin-1 capital A with acute
  e.process(upperLatin, upperLatin.length, 'udp', '127.0.0.1', 1, w);
  const lowerLatin = Buffer.from(upperLatin);
  lowerLatin[12 + 4 + 7] = 0xe1;
  assert.ok(e.cachedUdpReply(upperLatin, upperLatin.length) !== undefined);
  assert.equal(e.cachedUdpReply(lowerLatin, lowerLatin.length), undefined);
  const t41 = queryBytes('www.example.', { type: 0x41 });
  e.process(t41, t41.length, 'udp', '127.0.0.1', 1, w);
  const t61 = queryBytes('www.example.', { type: 0x61 });
  assert.equal(e.cachedUdpReply(t61, t61.length), undefined);
});

test('0x20: sixteen spellings of one name make one entry, and every reply echoes its own spelling', async () => {
  const srv = await startServer(ADDRESS);
  try {
    const spell = (i: number): string => 'www.example.com.'.replace(/[a-z]/g, (c, k: number) => ((i >> (k % 8)) & 1) === 1 ? c.toUpperCase() : c);
    for (let i = 0; i < 16; i++) {
      const name = spell(i * 37 + 5);
      const r = await udpQuery(ADDRESS, srv.port, Message.query(name, RRType.A, { id: i }));
      assert.equal(r.question[0]!.name.toString(), name);
      assert.equal(r.answer.length, 3);
      for (const a of r.answer) assert.equal(a.name.key, r.question[0]!.name.key);
    }
    assert.equal((srv.server as unknown as { engine: QueryEngine }).engine.cachedAnswers, 1);
  } finally {
    await srv.stop();
  }
});

test('the answer cache is bounded in octets and keeps what is asked for while a flood of new names passes through', () => {
  const w = new Writer();
  const stats = new ServerStats();
  const h = composeChain([{ name: 'test', pure: true, middleware: () => (ctx) => { ctx.cacheVariants = 1; return replyTo(ctx.request, 0); } }],
    (ctx) => replyTo(ctx.request, 5));
  const e = new QueryEngine(h, { maxUdpSize: 1232, logger: silentLogger, stats, answerCacheBytes: 20_000 });
  const popular = queryBytes('popular.example.');
  e.process(popular, popular.length, 'udp', '127.0.0.1', 1, w);
  for (let i = 0; i < 5000; i++) {
    const q = queryBytes(`flood${i}.example.`);
    if (e.cachedUdpReply(q, q.length) === undefined) e.process(q, q.length, 'udp', '127.0.0.1', 1, w);
    // The popular name is asked for now and then, as real traffic does.
    if (i % 50 === 0) assert.ok(e.cachedUdpReply(popular, popular.length) !== undefined, `popular entry evicted at ${i}`);
    assert.ok(e.cachedAnswerBytes <= 20_000);
  }
  // Once full, a one-shot name is not admitted (the doorkeeper): the flood evicts nothing.
  assert.equal(stats.answerCacheEvictions, 0);
  // Names asked for again do get in, one eviction at a time.
  for (let i = 0; i < 200; i++) {
    const q = queryBytes(`again${i}.example.`);
    e.process(q, q.length, 'udp', '127.0.0.1', 1, w);
    e.process(q, q.length, 'udp', '127.0.0.1', 1, w);
    assert.ok(e.cachedUdpReply(q, q.length) !== undefined, `again${i} admitted on its second ask`);
  }
  assert.ok(stats.answerCacheEvictions >= 150);
  assert.ok(e.cachedAnswers > 50, 'evicting makes room one entry at a time, never by emptying the cache');
});
