/**
 * TCP transport (RFC 7766): several queries per connection, pipelining with answers sent as they
 * complete (out of order), the idle timeout, and the total connection limit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/logging.js';
import { composeChain } from '../../src/server/chain.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { TcpListener } from '../../src/server/tcp.js';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { TcpClient, startServer } from './net-helpers.js';

const ADDRESS = '127.23.5.1';

test('TCP: many queries on one connection, sent back to back', async () => {
  const srv = await startServer(ADDRESS);
  try {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    const names = ['www', 'one', 'ns1', 'nx', 'www'];
    // One write holding five framed queries (pipelined).
    const frames = names.map((n, i) => {
      const q = Message.query(`${n}.example.com.`, RRType.A, { id: 100 + i }).encode();
      const b = Buffer.alloc(q.length + 2);
      b.writeUInt16BE(q.length, 0);
      b.set(q, 2);
      return b;
    });
    c.socket.write(Buffer.concat(frames));
    await c.waitFor(5);
    assert.equal(c.messages.length, 5);
    const byId = new Map(c.messages.map((m) => [m.readUInt16BE(0), Message.decode(m)]));
    assert.equal(byId.get(100)!.answer.length, 3);
    assert.equal(byId.get(101)!.answer.length, 1);
    assert.equal(byId.get(103)!.rcode, Rcode.NXDOMAIN);
    // The connection stays open for more.
    c.send(Message.query('one.example.com.', RRType.A, { id: 200 }).encode());
    await c.waitFor(6);
    assert.equal(c.messages[5]!.readUInt16BE(0), 200);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('TCP: pipelined queries are answered as they complete, out of order', async () => {
  const stats = new ServerStats();
  // A chain whose answer for "slow." takes 150 ms and for anything else is immediate.
  const engine = new QueryEngine(composeChain([], (ctx) => {
    const reply = replyTo(ctx.request, Rcode.NOERROR);
    if (ctx.qname.toString() === 'slow.') return new Promise<Message>((r) => setTimeout(() => r(reply), 150));
    return Promise.resolve(reply);
  }), { maxUdpSize: 1232, logger: silentLogger, stats });
  const tcp = new TcpListener({
    address: ADDRESS, port: 0, engine, logger: silentLogger, stats, idleTimeoutMs: 2000, maxConnections: 10,
    maxConnectionsPerClient: 10, maxPipelined: 10,
  });
  const { port } = await tcp.listen();
  try {
    const c = await TcpClient.connect(ADDRESS, port);
    c.send(Message.query('slow.', RRType.A, { id: 1 }).encode());
    c.send(Message.query('fast.', RRType.A, { id: 2 }).encode());
    await c.waitFor(2);
    assert.deepEqual(c.messages.map((m) => m.readUInt16BE(0)), [2, 1]);
    c.close();
  } finally {
    await tcp.close();
  }
});

test('TCP: idle connections are closed after idleTimeoutMs', async () => {
  const srv = await startServer(ADDRESS, { tcp: { idleTimeoutMs: 200 } });
  try {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    c.send(Message.query('www.example.com.', RRType.A, { id: 5 }).encode());
    await c.waitFor(1);
    assert.equal(c.messages.length, 1);
    assert.equal(await c.waitClosed(2000), true);
    assert.equal(srv.server.stats.tcpTimeouts, 1);
  } finally {
    await srv.stop();
  }
});

test('TCP: the total connection limit refuses the extra connections', async () => {
  const srv = await startServer(ADDRESS, { tcp: { maxConnections: 3, maxConnectionsPerClient: 100 } });
  try {
    const conns: TcpClient[] = [];
    for (let i = 0; i < 6; i++) conns.push(await TcpClient.connect(ADDRESS, srv.port));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(conns.filter((c) => c.closed).length, 3);
    assert.equal(srv.server.stats.tcpRefused, 3);
    for (const c of conns) c.close();
  } finally {
    await srv.stop();
  }
});

test('TCP: a client that sends many queries and does not read is paused, then answered in full', async () => {
  const srv = await startServer(ADDRESS, { tcp: { idleTimeoutMs: 5000 } });
  try {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    c.socket.pause(); // do not read
    const n = 6000;
    const frames: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const q = Message.query('www.example.com.', RRType.A, { id: i & 0xffff }).encode();
      const b = Buffer.alloc(q.length + 2);
      b.writeUInt16BE(q.length, 0);
      b.set(q, 2);
      frames.push(b);
    }
    c.socket.write(Buffer.concat(frames));
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile another client is served.
    const other = await TcpClient.connect(ADDRESS, srv.port);
    other.send(Message.query('one.example.com.', RRType.A, { id: 1 }).encode());
    await other.waitFor(1);
    assert.equal(other.messages.length, 1);
    other.close();
    c.socket.resume();
    await c.waitFor(n, 10_000);
    assert.equal(c.messages.length, n);
    c.close();
  } finally {
    await srv.stop();
  }
});

/** A listener whose chain answers every query after `delayMs`, counting how many are in the chain at once. */
async function slowListener(opts: { maxPipelined: number; idleTimeoutMs: number; delayMs: number }): Promise<{
  tcp: TcpListener; port: number; peak: () => number; started: () => number;
}> {
  const stats = new ServerStats();
  let active = 0;
  let peak = 0;
  let started = 0;
  const engine = new QueryEngine(composeChain([], (ctx) => {
    started++;
    peak = Math.max(peak, ++active);
    const reply = replyTo(ctx.request, Rcode.NOERROR);
    return new Promise<Message>((r) => setTimeout(() => {
      active--;
      r(reply);
    }, opts.delayMs));
  }), { maxUdpSize: 1232, logger: silentLogger, stats });
  const tcp = new TcpListener({
    address: ADDRESS, port: 0, engine, logger: silentLogger, stats, idleTimeoutMs: opts.idleTimeoutMs, maxConnections: 10,
    maxConnectionsPerClient: 10, maxPipelined: opts.maxPipelined,
  });
  const { port } = await tcp.listen();
  return { tcp, port, peak: () => peak, started: () => started };
}

test('TCP: maxPipelined holds within one read (50 queries in one write, 2 in flight at most), all answered', async () => {
  const l = await slowListener({ maxPipelined: 2, idleTimeoutMs: 5000, delayMs: 5 });
  try {
    const c = await TcpClient.connect(ADDRESS, l.port);
    const frames: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const q = Message.query(`q${i}.example.`, RRType.A, { id: i }).encode();
      const b = Buffer.alloc(q.length + 2);
      b.writeUInt16BE(q.length, 0);
      b.set(q, 2);
      frames.push(b);
    }
    c.socket.write(Buffer.concat(frames));
    await c.waitFor(50, 15_000);
    assert.equal(c.messages.length, 50);
    assert.deepEqual(c.messages.map((m) => m.readUInt16BE(0)).sort((a, b) => a - b), [...Array(50).keys()]);
    assert.equal(l.started(), 50);
    assert.equal(l.peak(), 2, 'never more than maxPipelined queries in the chain at once');
    c.close();
  } finally {
    await l.tcp.close();
  }
});

test('TCP: the idle timeout does not close a connection whose query is still being answered', async () => {
  // Answers take 3x the idle timeout (a slow upstream); RFC 7766 §6.2.3: idle means nothing outstanding.
  const l = await slowListener({ maxPipelined: 10, idleTimeoutMs: 200, delayMs: 600 });
  try {
    const c = await TcpClient.connect(ADDRESS, l.port);
    c.send(Message.query('slow.example.', RRType.A, { id: 41 }).encode());
    await c.waitFor(1, 5000);
    assert.equal(c.messages.length, 1, 'the answer came back on the same connection');
    assert.equal(c.messages[0]!.readUInt16BE(0), 41);
    // Once nothing is outstanding, the idle timeout applies again.
    assert.equal(await c.waitClosed(3000), true);
  } finally {
    await l.tcp.close();
  }
});
