/**
 * `npm run bench:balance`: CPU per answer of load-balanced names next to plain zone answers, in
 * process (the engine's `process`, no sockets): a zone name through the slow path and through the
 * answer cache, a weighted set (2 addresses, 1 answer), a set chosen by ECS subnet (with the
 * option echoed), a GeoIP-free region-less failover set of 3 health-checked addresses (all up), and
 * `answers: all` over 8 addresses. Prints µs per answer and the ratio to the zone's slow path.
 *
 * Environment: BENCH_QUERIES (per case, default 300000).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/load.js';
import { silentLogger } from '../src/logging.js';
import type { QueryEngine } from '../src/server/engine.js';
import { DnsServer } from '../src/server/server.js';
import { newEdns, option } from '../src/wire/edns.js';
import { Message } from '../src/wire/message.js';
import { RRType } from '../src/wire/types.js';
import { Writer } from '../src/wire/writer.js';
import { tempDir } from '../test/helpers/peers.js';

const N = Number(process.env.BENCH_QUERIES ?? 300_000);
const dir = tempDir('sovereign-bench-balance-');
const zoneFile = join(dir.path, 'example.com.zone');
writeFileSync(zoneFile, '$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\none A 192.0.2.20\n');
const eight = Array.from({ length: 8 }, (_, i) => `192.0.2.${100 + i}`);
const server = new DnsServer({
  config: defaultConfig({
    workers: 1, control: { enabled: false }, zones: [{ name: 'example.com', file: zoneFile }],
    balance: {
      records: [
        { name: 'w.example.com.', addresses: [{ address: '192.0.2.5', weight: 3 }, { address: '192.0.2.6', weight: 1 }] },
        { name: 'geo.example.com.', ecs: true, addresses: ['192.0.2.1'], subnets: [{ prefix: '10.0.0.0/8', addresses: ['192.0.2.10'] }, { prefix: '10.1.0.0/16', addresses: ['192.0.2.11'] }] },
        { name: 'hc.example.com.', answers: 'all', addresses: ['192.0.2.31', '192.0.2.32', '192.0.2.33'], health: { check: 'tcp', port: 80, interval: '1h' } },
        { name: 'all.example.com.', answers: 'all', addresses: eight },
      ],
    },
  }),
  logger: silentLogger,
  // Health probes that always pass: the bench measures answering, not checking.
  balance: { probe: () => Promise.resolve() },
});
await server.loadZones();
const engine = (server as unknown as { engine: QueryEngine }).engine;
const w = new Writer();

function wire(m: Message): Buffer {
  return Buffer.from(m.encode());
}

function run(label: string, query: Buffer, cached: boolean): number {
  const len = query.length;
  // Warm up (and fill the answer cache for the cached case).
  for (let i = 0; i < 20_000; i++) {
    if (cached) {
      if (engine.cachedUdpReply(query, len) === undefined) engine.process(query, len, 'udp', '127.0.0.1', 5353, w);
    } else engine.process(query, len, 'udp', '127.0.0.1', 5353, w);
  }
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (cached) engine.cachedUdpReply(query, len);
    else engine.process(query, len, 'udp', '127.0.0.1', 5353, w);
  }
  const d = process.cpuUsage(t0);
  const us = (d.user + d.system) / N;
  process.stdout.write(`${label.padEnd(44)} ${us.toFixed(3)} µs/answer\n`);
  return us;
}

const edns = () => newEdns({ udpSize: 1232 });
const zoneSlow = run('zone name, slow path (EDNS)', wire(Message.query('one.example.com.', RRType.A, { edns: newEdns({ udpSize: 1232, options: [option.nsid()] }) })), false);
const zoneCached = run('zone name, answer cache', wire(Message.query('one.example.com.', RRType.A, { edns: edns() })), true);
const weighted = run('weighted (2 addresses, 1 answer)', wire(Message.query('w.example.com.', RRType.A, { edns: edns() })), false);
const ecs = run('ECS subnet (option echoed with SCOPE)', wire(Message.query('geo.example.com.', RRType.A, { edns: newEdns({ udpSize: 1232, options: [option.clientSubnet('10.1.2.0', 24)] }) })), false);
const hc = run('health-checked, 3 up, answers all', wire(Message.query('hc.example.com.', RRType.A, { edns: edns() })), false);
const all = run('answers all of 8 (weighted order)', wire(Message.query('all.example.com.', RRType.A, { edns: edns() })), false);
process.stdout.write(`\nratios to the zone's slow path: weighted ${(weighted / zoneSlow).toFixed(2)}x, ECS ${(ecs / zoneSlow).toFixed(2)}x, ` +
  `health ${(hc / zoneSlow).toFixed(2)}x, all-of-8 ${(all / zoneSlow).toFixed(2)}x; answer cache ${(zoneCached / zoneSlow).toFixed(2)}x\n`);
await server.stop();
dir.cleanup();
