/**
 * `npm run bench:rrl`: what response rate limiting costs per answer, CPU time in one process.
 *
 * Builds a Sovereign server (not listening) over a 1,000-name zone and drives its engine the way
 * the UDP transport does: each query goes through `cachedUdpReply` (the answer cache, where
 * almost all authoritative answers are served) and, on a miss, `process`. Same run, same queries:
 * - off:      no rateLimit;
 * - on:       responsesPerSecond 1000 over 16,000 buckets (16 client /24s x 1,000 names): every answer is checked
 *             and counted, none limited (the accounting overhead on answered traffic);
 * - flood:    one name from one /24 at rate 5: almost every response limited (the drop/slip path);
 * - spoofed:  the same name from 65,536 spoofed /24s with maxTableSize 20000: every query makes or
 *             reuses a bucket (LRU reuse at the bound).
 * Prints CPU µs per query (user+system from process.cpuUsage) per mode, the ratio to `off`, and
 * the machine load (`uptime`), in rounds taken in turn (medians).
 *
 * Environment: BENCH_QUERIES (per mode and round, default 1,000,000), BENCH_ROUNDS (default 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { silentLogger } from '../src/logging.js';
import type { QueryEngine } from '../src/server/engine.js';
import { DnsServer } from '../src/server/server.js';
import { Message } from '../src/wire/message.js';
import { Writer } from '../src/wire/writer.js';

const N = Number(process.env.BENCH_QUERIES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'sovereign-bench-rrl-'));
const lines = ['$ORIGIN bench.example.', '$TTL 300', '@ SOA ns1 host 1 3600 600 86400 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
for (let i = 0; i < 1000; i++) lines.push(`h${i} A 192.0.2.${i % 250}`);
writeFileSync(join(dir, 'db'), lines.join('\n') + '\n');

interface Mode {
  name: string;
  rateLimit: ConfigInput['rateLimit'];
  queries: Buffer[];
  sources: string[];
}

const names = Array.from({ length: 1000 }, (_, i) => Buffer.from(Message.query(`h${i}.bench.example.`, 1, { id: 1, rd: false }).encode()));
const one = [names[0]!];
const clients = Array.from({ length: 16 }, (_, i) => `10.1.${i}.7`);
const spoofed = Array.from({ length: 65536 }, (_, i) => `10.${(i >> 8) & 0xff}.${i & 0xff}.9`);
const modes: Mode[] = [
  { name: 'off', rateLimit: {}, queries: names, sources: clients },
  { name: 'on', rateLimit: { responsesPerSecond: 1000 }, queries: names, sources: clients },
  { name: 'flood', rateLimit: { responsesPerSecond: 5 }, queries: one, sources: ['10.9.9.9'] },
  { name: 'spoofed', rateLimit: { responsesPerSecond: 5, maxTableSize: 20000 }, queries: one, sources: spoofed },
];

async function engineFor(m: Mode): Promise<QueryEngine> {
  const s = new DnsServer({
    config: defaultConfig({ listen: '127.0.0.1:0', workers: 1, zones: [{ name: 'bench.example', file: join(dir, 'db') }], control: { enabled: false }, rateLimit: m.rateLimit }),
    logger: silentLogger,
  });
  await s.loadZones();
  return (s as unknown as { engine: QueryEngine }).engine;
}

function run(engine: QueryEngine, m: Mode): number {
  const w = new Writer();
  const qs = m.queries;
  const src = m.sources;
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const q = qs[i % qs.length]!;
    const a = src[i % src.length]!;
    const r = engine.cachedUdpReply(q, q.length, a);
    if (r === undefined) engine.process(q, q.length, 'udp', a, 5353, w);
  }
  const d = process.cpuUsage(before);
  return (d.user + d.system) / N;
}

const engines = new Map<string, QueryEngine>();
for (const m of modes) engines.set(m.name, await engineFor(m));
const results = new Map<string, number[]>(modes.map((m) => [m.name, []]));
const load: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  load.push(execFileSync('uptime', { encoding: 'utf8' }).trim());
  for (const m of modes) results.get(m.name)!.push(run(engines.get(m.name)!, m));
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const off = median(results.get('off')!);
console.log(`bench:rrl: ${N} queries per mode and round, ${ROUNDS} rounds (engine fast path, one process)`);
for (const l of load) console.log(`  load: ${l}`);
for (const m of modes) {
  const v = results.get(m.name)!;
  const s = engines.get(m.name)!.rrl;
  const extra = s === undefined ? '' : `  (limited: dropped ${s.dropped.reduce((a, b) => a + b, 0)}, slipped ${s.slipped.reduce((a, b) => a + b, 0)}, table ${s.tableSize})`;
  console.log(`  ${m.name.padEnd(8)} ${median(v).toFixed(3)} µs/query  x${(median(v) / off).toFixed(2)} of off  rounds ${v.map((x) => x.toFixed(3)).join(' ')}${extra}`);
}
rmSync(dir, { recursive: true, force: true });
