/**
 * Bad input over real sockets: truncated headers, random bytes, lying counts, compression loops,
 * responses, giant TCP length prefixes, slow clients, connection floods. The server answers
 * FORMERR or drops and counts, keeps answering everyone else, and never crashes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { TcpClient, startServer, udpExchange, udpQuery } from './net-helpers.js';

const ADDRESS = '127.23.4.1';

/** Deterministic bytes (xorshift32), so a failure can be replayed. */
function randomBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const goodQuery = (id = 0x1234): Uint8Array => Message.query('www.example.com.', RRType.A, { id, rd: false }).encode().slice();

describe('bad input', { concurrency: false }, () => {
  let srv: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    srv = await startServer(ADDRESS, {
      tcp: { idleTimeoutMs: 400, maxConnections: 40, maxConnectionsPerClient: 5, maxPipelined: 100 },
    });
  });
  after(async () => {
    await srv.stop();
  });

  async function stillAnswers(): Promise<void> {
    const r = await udpQuery(ADDRESS, srv.port, Message.query('www.example.com.', RRType.A, { id: 7 }));
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(r.answer.length, 3);
  }

  test('truncated headers get no reply and are counted', async () => {
    const before = srv.server.stats.dropped;
    for (const n of [0, 1, 5, 11]) {
      assert.equal(await udpExchange(ADDRESS, srv.port, goodQuery().subarray(0, n), 200), undefined);
    }
    assert.ok(srv.server.stats.dropped >= before + 3); // an empty datagram may not reach us at all
    await stillAnswers();
  });

  test('responses (QR set) are dropped: no reflection', async () => {
    const q = goodQuery();
    q[2]! |= 0x80;
    const before = srv.server.stats.dropped;
    assert.equal(await udpExchange(ADDRESS, srv.port, q, 200), undefined);
    assert.equal(srv.server.stats.dropped, before + 1);
  });

  test('lying counts, truncated questions, compression loops: FORMERR with the ID', async () => {
    const q = goodQuery(0x4242);
    const cases: Uint8Array[] = [
      (() => { const b = q.slice(); b[5] = 200; return b; })(), // QDCOUNT says 200
      (() => { const b = q.slice(); b[7] = 3; return b; })(), // ANCOUNT says 3, nothing there
      (() => { const b = q.slice(); b[11] = 0xff; return b; })(), // ARCOUNT 255
      q.slice(0, 20), // question cut in the middle of a label
      q.slice(0, q.length - 2), // QCLASS missing
      (() => { const b = q.slice(); b[12] = 0xc0; b[13] = 12; return b; })(), // pointer to itself
      (() => { // two pointers pointing at each other
        const b = new Uint8Array(12 + 4 + 4);
        b.set(q.subarray(0, 12));
        b.set([0xc0, 14, 0xc0, 12, 0, 1, 0, 1], 12);
        return b;
      })(),
      (() => { const b = q.slice(); b[12] = 64; return b; })(), // label longer than 63
      (() => { const b = new Uint8Array(q.length + 7); b.set(q); return b; })(), // trailing garbage
    ];
    for (const c of cases) {
      const r = await udpExchange(ADDRESS, srv.port, c, 1000);
      assert.ok(r !== undefined, 'FORMERR expected, got nothing');
      assert.equal(r[3]! & 0xf, Rcode.FORMERR);
      assert.equal(r.readUInt16BE(0), 0x4242);
      assert.equal(r[2]! & 0x80, 0x80);
    }
    await stillAnswers();
  });

  test('3,000 datagrams of random bytes: no crash, a reply to each one that has a header, none to the rest', async () => {
    const sent: Uint8Array[] = [];
    const replies: Promise<Buffer | undefined>[] = [];
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytes(i + 1, 1 + (i % 300));
      if (bytes.length > 2) bytes[2]! &= 0x7f; // not responses, so every one with a header must be answered
      sent.push(bytes);
      replies.push(udpExchange(ADDRESS, srv.port, bytes, 3000));
      if (i % 100 === 99) await Promise.all(replies.slice(-100));
    }
    const got = await Promise.all(replies);
    for (const [i, r] of got.entries()) {
      const q = sent[i]!;
      if (q.length < 12) {
        assert.equal(r, undefined, `datagram ${i} (${q.length} octets, no header) must be dropped`);
        continue;
      }
      assert.ok(r !== undefined, `datagram ${i} (${q.length} octets) got no reply`);
      assert.ok(r.length >= 12, `reply ${i} has a header`);
      assert.equal(r.readUInt16BE(0), (q[0]! << 8) | q[1]!, `reply ${i} carries the query ID`);
      assert.equal(r[2]! & 0x80, 0x80, `reply ${i} has QR set`);
      assert.equal(r[2]! & 0x78, q[2]! & 0x78, `reply ${i} echoes the opcode`);
      const opcode = (q[2]! >> 3) & 0xf;
      // RFC 1035 §4.1.1: opcodes we do not implement get NOTIMP (as BIND and Knot answer).
      if (opcode !== 0 && opcode !== 4 && opcode !== 5) assert.equal(r[3]! & 0xf, Rcode.NOTIMP, `reply ${i} to opcode ${opcode}`);
    }
    await stillAnswers();
    assert.equal(srv.server.stats.internalErrors, 0);
  });

  test('TCP: a giant length prefix followed by silence is closed by the idle timeout', async () => {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    c.socket.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    const other = await TcpClient.connect(ADDRESS, srv.port);
    other.send(goodQuery(9));
    await other.waitFor(1);
    assert.equal(other.messages.length, 1, 'another client is still answered');
    other.close();
    assert.equal(await c.waitClosed(3000), true);
  });

  test('TCP: a length below the header size closes the connection', async () => {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    c.socket.write(Buffer.from([0, 3, 1, 2, 3]));
    assert.equal(await c.waitClosed(2000), true);
  });

  test('TCP: a slow client sending one byte at a time is closed when it stalls', async () => {
    const before = srv.server.stats.tcpTimeouts;
    const c = await TcpClient.connect(ADDRESS, srv.port);
    const q = goodQuery(11);
    const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
    // Dribble half the message, then stall.
    for (let i = 0; i < framed.length / 2; i++) {
      c.socket.write(framed.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await c.waitClosed(3000), true);
    assert.equal(c.messages.length, 0);
    assert.ok(srv.server.stats.tcpTimeouts > before);
  });

  test('TCP: a client trickling a message (never idle long enough to time out) is still closed', async () => {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    const q = goodQuery(12);
    const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
    // One byte every 150 ms: each is within the 400 ms idle timeout, the message never ends in time.
    for (let i = 0; i < framed.length - 1 && !c.closed; i++) {
      c.socket.write(framed.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 150));
    }
    // Closed by the server before the last byte could be sent (the loop stops at the close).
    assert.equal(c.closed, true, 'a trickled message is cut off');
    assert.equal(c.messages.length, 0);
  });

  test('TCP: a malformed message gets FORMERR and the connection keeps working', async () => {
    const c = await TcpClient.connect(ADDRESS, srv.port);
    const bad = goodQuery(0x77);
    bad[5] = 9;
    c.send(bad);
    c.send(goodQuery(0x78));
    await c.waitFor(2);
    assert.equal(c.messages.length, 2);
    assert.equal(c.messages[0]![3]! & 0xf, Rcode.FORMERR);
    assert.equal(Message.decode(c.messages[1]!).answer.length, 3);
    c.close();
  });

  test('connection flood: beyond the per-client limit new connections are closed, others still served', async () => {
    const before = srv.server.stats.tcpRefused;
    const conns: TcpClient[] = [];
    for (let i = 0; i < 12; i++) conns.push(await TcpClient.connect(ADDRESS, srv.port));
    await new Promise((r) => setTimeout(r, 100));
    const closed = conns.filter((c) => c.closed).length;
    assert.ok(closed >= 7, `expected at least 7 of 12 connections refused, got ${closed}`);
    assert.ok(srv.server.stats.tcpRefused >= before + 7);
    // The ones kept are served; UDP is unaffected.
    const open = conns.find((c) => !c.closed)!;
    open.send(goodQuery(21));
    await open.waitFor(1);
    assert.equal(open.messages.length, 1);
    await stillAnswers();
    for (const c of conns) c.close();
    await new Promise((r) => setTimeout(r, 100));
    // Once they are gone, the client may connect again.
    const again = await TcpClient.connect(ADDRESS, srv.port);
    again.send(goodQuery(22));
    await again.waitFor(1);
    assert.equal(again.messages.length, 1);
    again.close();
  });
});
