/**
 * `npm run bench:codec`: decode and encode a typical query and a typical compressed response
 * (answer + authority + additional, 10 RRs) with Sovereign's codec and with dns-packet (the most
 * used JavaScript DNS codec), alternating rounds in the same process, and prints ops/s and the
 * ratio. The figure we promise: at least 3x dns-packet on decode and on encode.
 *
 * Each measurement is the median of several timed rounds, so one noisy round on a shared machine
 * does not decide the result.
 */
import { createRequire } from 'node:module';
import { Message, Name, parseRecord } from '../src/index.js';

interface DnsPacket {
  decode(buf: Buffer): unknown;
  encode(msg: unknown): Buffer;
}
const packet = createRequire(import.meta.url)('dns-packet') as DnsPacket;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400);

/** A response like a resolver gets from an authoritative server: answer, NS, glue, EDNS. */
function typicalResponse(): Message {
  const m = new Message();
  m.id = 0xbeef;
  m.qr = true;
  m.aa = true;
  m.rd = true;
  m.question.push({ name: Name.fromText('www.example.com.'), type: 1, class: 1 });
  const add = (section: 'answer' | 'authority' | 'additional', text: string): void => {
    m[section].push(parseRecord(text));
  };
  add('answer', 'www.example.com. 300 IN A 192.0.2.1');
  add('answer', 'www.example.com. 300 IN A 192.0.2.2');
  add('authority', 'example.com. 86400 IN NS ns1.example.com.');
  add('authority', 'example.com. 86400 IN NS ns2.example.com.');
  add('authority', 'example.com. 86400 IN NS ns3.example.net.');
  add('additional', 'ns1.example.com. 86400 IN A 192.0.2.53');
  add('additional', 'ns2.example.com. 86400 IN A 198.51.100.53');
  add('additional', 'ns1.example.com. 86400 IN AAAA 2001:db8::53');
  add('additional', 'ns2.example.com. 86400 IN AAAA 2001:db8:1::53');
  add('additional', 'ns3.example.net. 86400 IN A 203.0.113.53');
  m.edns = { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [] };
  return m;
}

function typicalQuery(): Message {
  return Message.query('www.example.com.', 1, {
    id: 0xbeef, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [] },
  });
}

/** Runs `fn` for about ROUND_MS and returns operations per second. */
function round(fn: () => unknown): number {
  let ops = 0;
  let batch = 256;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = process.hrtime.bigint();
    if (batch < 65536) batch *= 2;
  }
  return ops / (Number(now - start) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  name: string;
  ours: number;
  theirs: number;
}

function compare(name: string, ours: () => unknown, theirs: () => unknown): Row {
  // Warm both up so JIT tiers settle before timing.
  round(ours);
  round(theirs);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(round(ours));
    b.push(round(theirs));
  }
  return { name, ours: median(a), theirs: median(b) };
}

function main(): void {
  const resp = typicalResponse();
  const respBytes = Buffer.from(resp.encode());
  const query = typicalQuery();
  const queryBytes = Buffer.from(query.encode());
  // dns-packet gets the same messages as its own objects (decoded from the same bytes).
  const respPkt = packet.decode(respBytes);
  const queryPkt = packet.decode(queryBytes);
  const theirRespSize = packet.encode(respPkt).length;

  let sink = 0;
  const rows = [
    compare('decode query', () => Message.decode(queryBytes), () => packet.decode(queryBytes)),
    compare('decode response', () => Message.decode(respBytes), () => packet.decode(respBytes)),
    compare('encode query', () => (sink += query.encode().length), () => (sink += packet.encode(queryPkt).length)),
    compare('encode response', () => (sink += resp.encode().length), () => (sink += packet.encode(respPkt).length)),
  ];

  const k = (n: number): string => (n / 1000).toFixed(0).padStart(8) + 'k';
  console.log(`codec benchmark: node ${process.version}, ${ROUNDS} rounds x ${ROUND_MS} ms, median ops/s`);
  console.log(`response: ${resp.answer.length + resp.authority.length + resp.additional.length} RRs + OPT, ` +
    `${respBytes.length} octets compressed (dns-packet writes ${theirRespSize}, it does not compress)`);
  console.log(`${'case'.padEnd(18)}${'sovereign'.padStart(10)}${'dns-packet'.padStart(12)}  ratio`);
  let worst = Infinity;
  for (const r of rows) {
    const ratio = r.ours / r.theirs;
    worst = Math.min(worst, ratio);
    console.log(`${r.name.padEnd(18)}${k(r.ours)}  ${k(r.theirs)}   ${ratio.toFixed(2)}x`);
  }
  console.log(`worst ratio ${worst.toFixed(2)}x (target >= 3.00x) ${worst >= 3 ? 'MET' : 'NOT MET'}`);
  if (sink < 0) console.log(sink);
}

main();
