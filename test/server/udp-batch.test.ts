/**
 * Batched UDP (src/server/udp-batch.ts, native/batch-udp): the same answers as node:dgram, for
 * bursts that arrive as one recvmmsg batch, over IPv4 and IPv6, for synchronous (authoritative)
 * and asynchronous (forwarded) answers, and for junk. In CI the addon must have been built by
 * `npm install` (a missing build fails here); elsewhere the batched cases skip without it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { loadBatchAddon, batchLoadError } from '../../src/server/udp-batch.js';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { inCI } from '../helpers/peers.js';
import { startServer, udpExchange } from './net-helpers.js';

const addon = loadBatchAddon();

function needAddon(t: { skip(msg: string): void }): boolean {
  // The suite is also run with batching forced off (SOVEREIGN_UDP_BATCH=off beats the config).
  if (process.env.SOVEREIGN_UDP_BATCH === 'off') {
    t.skip('batched UDP forced off by the environment');
    return false;
  }
  if (addon !== undefined) return true;
  if (inCI) assert.fail(`the batched UDP addon did not load in CI: ${batchLoadError()}`);
  t.skip(`batched UDP addon not built: ${batchLoadError()}`);
  return false;
}

/** Sends `queries` at once from one socket; resolves with the replies by ID once all came or after 3 s. */
function burst(family: 4 | 6, address: string, port: number, queries: Message[]): Promise<Map<number, Message>> {
  return new Promise((resolve) => {
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    const got = new Map<number, Message>();
    const done = (): void => {
      clearTimeout(timer);
      s.close();
      resolve(got);
    };
    const timer = setTimeout(done, 3000);
    s.on('message', (m) => {
      const r = Message.decode(m);
      assert.ok(!got.has(r.id), `ID ${r.id} answered twice`);
      got.set(r.id, r);
      if (got.size === queries.length) done();
    });
    s.on('error', () => undefined);
    for (const q of queries) s.send(q.encode(), port, address);
  });
}

/** 150 questions (more than one batch of 32): www (3 A), one (1 A), nx (NXDOMAIN), in turn. */
function mix(): { queries: Message[]; expect: Map<number, { rcode: number; answers: number }> } {
  const names = [['www.example.com.', Rcode.NOERROR, 3], ['one.example.com.', Rcode.NOERROR, 1], ['nx.example.com.', Rcode.NXDOMAIN, 0]] as const;
  const queries: Message[] = [];
  const expect = new Map<number, { rcode: number; answers: number }>();
  for (let i = 0; i < 150; i++) {
    const [name, rcode, answers] = names[i % 3]!;
    const id = 1000 + i;
    queries.push(Message.query(name, RRType.A, { id }));
    expect.set(id, { rcode, answers });
  }
  return { queries, expect };
}

function check(got: Map<number, Message>, expect: Map<number, { rcode: number; answers: number }>): void {
  // UDP on loopback under a loaded machine may drop a datagram; every reply that came must be right,
  // and nearly all must come.
  assert.ok(got.size >= expect.size - 5, `only ${got.size} of ${expect.size} answered`);
  for (const [id, r] of got) {
    const e = expect.get(id);
    assert.ok(e !== undefined, `reply with unknown ID ${id}`);
    assert.equal(r.rcode, e.rcode, `rcode for ID ${id}`);
    assert.equal(r.answer.length, e.answers, `answers for ID ${id}`);
    assert.equal(r.question[0]?.type, RRType.A);
  }
}

test('batched UDP answers bursts over IPv4 and IPv6 exactly as node:dgram does', async (t) => {
  if (!needAddon(t)) return;
  const srv = await startServer('127.23.9.40', { listen: ['127.23.9.40:0', '[::1]:0'], udp: { batching: 'on' } });
  try {
    assert.deepEqual(srv.server.udpBatched, [true, true]);
    const { queries, expect } = mix();
    check(await burst(4, '127.23.9.40', srv.port, queries), expect);
    const v6 = srv.server.addresses.find((a) => a.transport === 'udp' && a.address === '::1')!;
    check(await burst(6, '::1', v6.port, queries), expect);
    // The same burst again: now from the answer cache (the copy-out path).
    check(await burst(4, '127.23.9.40', srv.port, queries), expect);
  } finally {
    await srv.stop();
  }
});

test('batched UDP: junk gets no reply and the socket keeps serving', async (t) => {
  if (!needAddon(t)) return;
  const srv = await startServer('127.23.9.41', { udp: { batching: 'on' } });
  try {
    assert.equal(await udpExchange('127.23.9.41', srv.port, new Uint8Array([1, 2, 3]), 300), undefined);
    const r = await udpExchange('127.23.9.41', srv.port, Message.query('one.example.com.', RRType.A, { id: 77 }).encode(), 2000);
    assert.ok(r !== undefined);
    const m = Message.decode(r);
    assert.equal(m.id, 77);
    assert.equal(m.answer.length, 1);
  } finally {
    await srv.stop();
  }
});

test('batched UDP: forwarded (asynchronous) answers reach their clients', async (t) => {
  if (!needAddon(t)) return;
  const upstream = await startServer('127.23.9.42', { udp: { batching: 'off' } });
  const fwd = await startServer('127.23.9.43', { zones: [], forwarders: [`127.23.9.42:${upstream.port}`], udp: { batching: 'on' } });
  try {
    assert.deepEqual(fwd.server.udpBatched, [true]);
    const { queries, expect } = mix();
    // First pass misses the cache (answered later, through Node's send), second pass hits it.
    check(await burst(4, '127.23.9.43', fwd.port, queries), expect);
    check(await burst(4, '127.23.9.43', fwd.port, queries), expect);
  } finally {
    await fwd.stop();
    await upstream.stop();
  }
});

test('udp.batching off (or SOVEREIGN_UDP_BATCH=off) keeps node:dgram', async (t) => {
  if (process.env.SOVEREIGN_UDP_BATCH === 'on') return t.skip('forced on by the environment');
  const srv = await startServer('127.23.9.44', { udp: { batching: 'off' } });
  try {
    assert.deepEqual(srv.server.udpBatched, [false]);
    const r = await udpExchange('127.23.9.44', srv.port, Message.query('www.example.com.', RRType.A, { id: 5 }).encode(), 2000);
    assert.equal(r === undefined ? -1 : Message.decode(r).answer.length, 3);
  } finally {
    await srv.stop();
  }
});
