// exchange() and TcpConnection against a tiny UDP/TCP responder of the test's own on 127.24.1.x:
// matching (source, ID, question), spoof and garbage rejection, TC -> TCP retry, timeouts,
// refused connections, abort, pipelining and multi-message streams.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { TcpConnection, TcpFramer, exchange, type IgnoredReason } from '../../src/client/exchange.js';
import { AbortedError, NetworkError, TimeoutError } from '../../src/errors.js';
import { Message, Name, RRType, parseRecord } from '../../src/wire/index.js';

const ADDR = '127.24.1.1';
const OTHER = '127.24.1.2';

type UdpBehaviour = (q: Message, raw: Buffer, rinfo: RemoteInfo, reply: (m: Message | Uint8Array, from?: UdpSocket) => void) => void;
type TcpBehaviour = (q: Message, raw: Uint8Array, sock: Socket) => void;

let udp: UdpSocket;
let spoofer: UdpSocket; // same address, another port
let other: UdpSocket; // another address, same port number as nothing in particular
let tcp: Server;
let port = 0;
let udpBehaviour: UdpBehaviour = () => {};
let tcpBehaviour: TcpBehaviour = () => {};

function answerFor(q: Message, extra: (m: Message) => void = () => {}): Message {
  const m = new Message();
  m.id = q.id;
  m.qr = true;
  m.aa = true;
  m.rd = q.rd;
  m.question = q.question.map((x) => ({ ...x }));
  m.answer.push(parseRecord(`${q.question[0]!.name.toString()} 300 IN A 192.0.2.7`));
  extra(m);
  return m;
}

function tcpFrame(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + bytes.length);
  b.writeUInt16BE(bytes.length, 0);
  b.set(bytes, 2);
  return b;
}

async function bindUdp(address: string, p: number): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(p, address, () => resolve()); });
  return s;
}

before(async () => {
  // Find a port free for both UDP and TCP on ADDR.
  for (let i = 0; i < 50 && port === 0; i++) {
    const p = 30000 + Math.floor((process.pid * 7 + i * 131) % 20000);
    try {
      udp = await bindUdp(ADDR, p);
    } catch { continue; }
    try {
      tcp = createServer();
      await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(p, ADDR, () => resolve()); });
      port = p;
    } catch {
      udp.close();
    }
  }
  assert.ok(port !== 0, 'no free port');
  spoofer = await bindUdp(ADDR, 0);
  other = await bindUdp(OTHER, 0);
  udp.on('message', (raw, rinfo) => {
    let q: Message;
    try { q = Message.decode(raw); } catch { return; }
    udpBehaviour(q, raw, rinfo, (m, from = udp) => {
      from.send(m instanceof Message ? m.encode() : m, rinfo.port, rinfo.address);
    });
  });
  tcp.on('connection', (sock) => {
    const framer = new TcpFramer();
    sock.on('error', () => {});
    sock.on('data', (chunk) => {
      for (const b of framer.push(chunk)) tcpBehaviour(Message.decode(b), b, sock);
    });
  });
});

after(() => {
  udp.close();
  spoofer.close();
  other.close();
  tcp.close();
});

const server = (): { address: string; port: number } => ({ address: ADDR, port });

test('UDP: a plain answer comes back, with a fresh random ID and the caller\'s query untouched', async () => {
  const seen: number[] = [];
  udpBehaviour = (q, _raw, _r, reply) => { seen.push(q.id); reply(answerFor(q)); };
  const query = Message.query('www.example.', RRType.A, { id: 4242 });
  const ids = new Set<number>();
  for (let i = 0; i < 5; i++) {
    const r = await exchange(query, server());
    assert.equal(r.transport, 'udp');
    assert.equal(r.truncatedRetry, false);
    assert.equal(r.message.answer.length, 1);
    assert.equal(r.message.id, seen[seen.length - 1]);
    assert.equal(r.ignored, 0);
    assert.ok(r.rttMs >= 0);
    assert.deepEqual(r.server, server());
    ids.add(r.message.id);
  }
  assert.equal(query.id, 4242);
  assert.ok(ids.size >= 4, 'IDs should vary between exchanges');
  const kept = await exchange(query, server(), { keepId: true });
  assert.equal(kept.message.id, 4242);
  assert.equal((kept.queryBytes[0]! << 8) | kept.queryBytes[1]!, 4242);
});

test('UDP: wrong ID, wrong question, wrong source, not-a-response and garbage are ignored until the real reply', async () => {
  udpBehaviour = (q, _raw, _r, reply) => {
    const wrongId = answerFor(q);
    wrongId.id = (q.id + 1) & 0xffff;
    reply(wrongId);
    const wrongName = answerFor(q);
    wrongName.question[0] = { ...wrongName.question[0]!, name: Name.fromText('evil.example.') };
    reply(wrongName);
    const wrongType = answerFor(q);
    wrongType.question[0] = { ...wrongType.question[0]!, type: RRType.AAAA };
    reply(wrongType);
    const noQr = answerFor(q);
    noQr.qr = false;
    reply(noQr);
    const bad = answerFor(q).encode();
    reply(bad.subarray(0, bad.length - 3)); // right ID, cut short
    reply(answerFor(q), spoofer); // right everything, wrong source port
    reply(answerFor(q), other); // wrong source address
    setTimeout(() => reply(answerFor(q, (m) => { m.answer[0] = parseRecord(`${q.question[0]!.name} 300 IN A 192.0.2.99`); })), 30);
  };
  const reasons: IgnoredReason[] = [];
  const r = await exchange(Message.query('www.example.', RRType.A), server(), { onIgnored: (why) => reasons.push(why) });
  assert.equal((r.message.answer[0]!.data as { address: string }).address, '192.0.2.99');
  // Datagrams from other sources never reach a connected socket; the rest are counted.
  assert.deepEqual(reasons.sort(), ['id', 'malformed', 'not-response', 'question', 'question']);
  assert.equal(r.ignored, 5);
});

test('UDP: question names match ignoring case by default, byte-for-byte with matchCase', async () => {
  udpBehaviour = (q, _raw, _r, reply) => {
    const m = answerFor(q);
    m.question[0] = { ...m.question[0]!, name: Name.fromText(q.question[0]!.name.toString().toLowerCase()) };
    reply(m);
  };
  const query = Message.query('WwW.ExAmPlE.', RRType.A);
  const r = await exchange(query, server(), { timeoutMs: 300 });
  assert.equal(r.message.answer.length, 1);
  await assert.rejects(exchange(query, server(), { timeoutMs: 200, matchCase: true }), TimeoutError);
  udpBehaviour = (q, _raw, _r, reply) => reply(answerFor(q));
  const exact = await exchange(query, server(), { matchCase: true });
  assert.equal(exact.message.question[0]!.name.toString(), 'WwW.ExAmPlE.');
});

test('UDP: an error reply without a question section is accepted; a NOERROR one is not', async () => {
  udpBehaviour = (q, _raw, _r, reply) => {
    const m = answerFor(q);
    m.question = [];
    m.answer = [];
    m.rcode = 1;
    reply(m);
  };
  const r = await exchange(Message.query('www.example.', RRType.A), server());
  assert.equal(r.message.rcode, 1);
  udpBehaviour = (q, _raw, _r, reply) => {
    const m = answerFor(q);
    m.question = [];
    reply(m);
  };
  await assert.rejects(exchange(Message.query('www.example.', RRType.A), server(), { timeoutMs: 200 }), TimeoutError);
});

test('UDP: TC set -> retried over TCP; ignoreTruncation keeps the UDP reply', async () => {
  udpBehaviour = (q, _raw, _r, reply) => {
    const m = answerFor(q);
    m.answer = [];
    m.tc = true;
    reply(m);
  };
  tcpBehaviour = (q, _raw, sock) => {
    const m = answerFor(q);
    for (let i = 0; i < 60; i++) m.answer.push(parseRecord(`${q.question[0]!.name} 300 IN TXT "${'x'.repeat(200)} ${i}"`));
    const bytes = tcpFrame(m.encode());
    // Write in small pieces: the reader must reassemble the message.
    let at = 0;
    const step = (): void => {
      if (at >= bytes.length) return;
      sock.write(bytes.subarray(at, at + 700));
      at += 700;
      setImmediate(step);
    };
    step();
  };
  const r = await exchange(Message.query('big.example.', RRType.TXT), server());
  assert.equal(r.transport, 'tcp');
  assert.equal(r.truncatedRetry, true);
  assert.equal(r.message.answer.length, 61);
  assert.ok(r.bytes.length > 12000);
  const kept = await exchange(Message.query('big.example.', RRType.TXT), server(), { ignoreTruncation: true });
  assert.equal(kept.transport, 'udp');
  assert.equal(kept.message.tc, true);
});

test('TCP: explicit transport, mismatched messages skipped, malformed reply is a NetworkError', async () => {
  tcpBehaviour = (q, _raw, sock) => {
    const wrong = answerFor(q);
    wrong.id = (q.id + 7) & 0xffff;
    sock.write(tcpFrame(wrong.encode()));
    sock.write(tcpFrame(answerFor(q).encode()));
  };
  const r = await exchange(Message.query('t.example.', RRType.A), server(), { transport: 'tcp' });
  assert.equal(r.transport, 'tcp');
  assert.equal(r.truncatedRetry, false);
  assert.equal(r.ignored, 1);
  tcpBehaviour = (q, _raw, sock) => {
    const b = answerFor(q).encode();
    sock.write(tcpFrame(b.subarray(0, b.length - 2)));
  };
  await assert.rejects(exchange(Message.query('t.example.', RRType.A), server(), { transport: 'tcp' }), NetworkError);
  tcpBehaviour = (_q, _raw, sock) => { sock.end(); };
  await assert.rejects(exchange(Message.query('t.example.', RRType.A), server(), { transport: 'tcp' }),
    (e: unknown) => e instanceof NetworkError && e.ede === 23 && /closed/.test(e.message));
});

test('timeouts: silent server -> TimeoutError after every try, with SERVFAIL + EDE 22', async () => {
  let count = 0;
  udpBehaviour = () => { count++; };
  await assert.rejects(exchange(Message.query('slow.example.', RRType.A), server(), { timeoutMs: 150, tries: 3 }),
    (e: unknown) => e instanceof TimeoutError && e.rcode === 2 && e.ede === 22 && e.code === 'ERR_DNS_TIMEOUT');
  assert.equal(count, 3);
  // A later try succeeds.
  count = 0;
  udpBehaviour = (q, _raw, _r, reply) => { if (++count === 2) reply(answerFor(q)); };
  const r = await exchange(Message.query('slow.example.', RRType.A), server(), { timeoutMs: 150, tries: 3 });
  assert.equal(r.message.answer.length, 1);
  tcpBehaviour = () => {};
  await assert.rejects(exchange(Message.query('slow.example.', RRType.A), server(), { timeoutMs: 150, transport: 'tcp' }), TimeoutError);
});

test('refused: no listener -> NetworkError for TCP, and UDP fails fast or times out', async () => {
  const closed = { address: '127.24.1.3', port };
  await assert.rejects(exchange(Message.query('x.example.', RRType.A), closed, { transport: 'tcp', timeoutMs: 500 }),
    (e: unknown) => e instanceof NetworkError && /refused/.test(e.message));
  await assert.rejects(exchange(Message.query('x.example.', RRType.A), closed, { timeoutMs: 500 }),
    (e: unknown) => e instanceof NetworkError || e instanceof TimeoutError);
});

test('abort: the signal ends the wait with AbortedError', async () => {
  udpBehaviour = () => {};
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(exchange(Message.query('x.example.', RRType.A), server(), { timeoutMs: 5000, signal: ac.signal }), AbortedError);
  await assert.rejects(exchange(Message.query('x.example.', RRType.A), server(), { signal: AbortSignal.abort() }), AbortedError);
});

test('TcpConnection: pipelined queries answered out of order, and a multi-message stream', async () => {
  tcpBehaviour = (q, _raw, sock) => {
    const name = q.question[0]!.name.toString();
    if (q.question[0]!.type === RRType.AXFR) {
      for (let i = 0; i < 3; i++) {
        const m = answerFor(q);
        m.answer = [parseRecord(`r${i}.${name} 60 IN A 192.0.2.${i}`)];
        sock.write(tcpFrame(m.encode()));
      }
      return;
    }
    // Answer "slow" names later, so replies arrive out of order.
    const delay = name.startsWith('slow') ? 60 : 0;
    setTimeout(() => sock.write(tcpFrame(answerFor(q).encode())), delay);
  };
  const conn = await TcpConnection.connect(server());
  try {
    const names = ['slow1.example.', 'a.example.', 'slow2.example.', 'b.example.'];
    const results = await Promise.all(names.map((n) => conn.query(Message.query(n, RRType.A))));
    assert.deepEqual(results.map((r) => r.message.question[0]!.name.toString()), names);
    for (const r of results) assert.equal(r.message.id, (r.queryBytes[0]! << 8) | r.queryBytes[1]!);
    const got: string[] = [];
    for await (const { message: m, bytes } of conn.stream(Message.query('zone.example.', RRType.AXFR), { idleTimeoutMs: 1000 })) {
      assert.ok(bytes.length > 12);
      got.push(m.answer[0]!.name.toString());
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['r0.zone.example.', 'r1.zone.example.', 'r2.zone.example.']);
    tcpBehaviour = () => {};
    await assert.rejects(conn.query(Message.query('never.example.', RRType.A), { timeoutMs: 100 }), TimeoutError);
  } finally {
    conn.close();
  }
});
