/**
 * `npm run bench:encrypted`: DNS over TLS and over HTTPS served, Sovereign against Unbound in the
 * same run, both answering the same local names (Sovereign from a zone, Unbound from local-data)
 * with the same self-signed certificate, each pinned to core 0; the load generator on core 1:
 * dnsperf `-m dot` for DoT, and nghttp2's h2load for DoH. dnsperf 2.10's DoH mode loses every
 * answer but one when a server packs several HTTP/2 responses into one TLS record (its nghttp2
 * callback pauses inside a DATA frame and drops the paused chunk), which Node's HTTP/2 does under
 * load; h2load is the HTTP/2 load tool nghttp2 itself ships. The DoH workload is GET requests
 * (RFC 8484 §4.1, base64url `dns=`) over varied names in mixed case with EDNS and DO set, so
 * neither server can answer one repeated query from a cache of bytes.
 *
 * Printed per transport: QPS (median of the rounds), server CPU µs per answer, and the handshake
 * cost: DoT with one query per connection (`-O num-queries-per-conn=1`), so every answer pays
 * a TCP+TLS handshake. Target: Sovereign >= 0.5x Unbound's QPS on DoT. Load (`uptime`) is
 * printed before and after, as the machine is shared.
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING
 * (dnsperf -q, default 100).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RRType } from '../src/wire/types.js';
import { newEdns } from '../src/wire/edns.js';
import { Message } from '../src/wire/message.js';
import { PEER_BINARIES, addLoopbackAddress, selfSignedCert, startUnbound, tempDir } from '../test/helpers/peers.js';
import {
  CLIENT_CORE, OUTSTANDING, ROUNDS, SECONDS, type NodeServer, cpuSeconds, median, pinTree, startNode,
} from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OURS = '127.32.0.1';
const UNBOUND = '127.32.0.2';
const NAMES = ['www', 'mail', 'ns1', 'a', 'b', 'c', 'd', 'e'];

interface Run { qps: number; completed: number; cpuUs: number; raw: string }

function dnsperf(mode: 'dot', address: string, port: number, queries: string, tree: number[], extra: string[] = [], seconds = SECONDS): Run {
  const before = cpuSeconds(tree);
  const args = ['-c', CLIENT_CORE, PEER_BINARIES.dnsperf, '-m', mode, '-s', address, '-p', String(port), '-d', queries,
    '-l', String(seconds), '-q', String(OUTSTANDING), '-t', '5', ...extra];
  const r = spawnSync('taskset', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const cpu = cpuSeconds(tree) - before;
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  return { qps, completed, cpuUs: completed > 0 ? (cpu * 1e6) / completed : NaN, raw: out };
}

/** The DoH workload: GET URIs for `names` in mixed case, EDNS (1232) with DO, ID 0 (RFC 8484 §4.1). */
function dohUris(address: string, names: readonly string[], count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = names[i % names.length]!;
    let mixed = '';
    for (let j = 0; j < base.length; j++) mixed += (i >> (j % 16)) & 1 ? base[j]!.toUpperCase() : base[j]!;
    const q = Message.query(mixed, RRType.A, { id: 0, rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: true }) });
    lines.push(`https://${address}:443/dns-query?dns=${Buffer.from(q.encode()).toString('base64url')}`);
  }
  return lines.join('\n') + '\n';
}

/** h2load over the URIs in `uriFile` for `seconds`: requests/s of 2xx answers, server CPU µs per answer. */
function h2load(uriFile: string, tree: number[], seconds = SECONDS): Run {
  const before = cpuSeconds(tree);
  const r = spawnSync('taskset', ['-c', CLIENT_CORE, PEER_BINARIES.h2load, '-t', '1', '-c', '4', '-m', String(Math.max(1, Math.floor(OUTSTANDING / 4))),
    '-D', String(seconds), '-i', uriFile], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const cpu = cpuSeconds(tree) - before;
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const ok = Number(/status codes: (\d+) 2xx/.exec(out)?.[1] ?? NaN);
  return { qps: ok / seconds, completed: ok, cpuUs: ok > 0 ? (cpu * 1e6) / ok : NaN, raw: out };
}

function load(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-encrypted-');
  addLoopbackAddress(OURS);
  addLoopbackAddress(UNBOUND);
  // One certificate naming both addresses.
  const { cert, key } = selfSignedCert(dir.path, 'dns.test', OURS);
  const zone = ['$ORIGIN bench.example.', '$TTL 3600', '@ SOA ns1 host 1 7200 3600 1209600 300', '@ NS ns1',
    ...NAMES.map((n, i) => `${n} A 192.0.2.${i + 1}`)].join('\n') + '\n';
  writeFileSync(join(dir.path, 'db.bench'), zone);
  writeFileSync(join(dir.path, 'none.hints'), '.  3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.32.0.99\n');
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(queries, NAMES.map((n) => `${n}.bench.example. A`).join('\n') + '\n');
  const conf = join(dir.path, 'sovereign.yaml');
  writeFileSync(conf, [
    `listen: ["${OURS}:53", "tls://${OURS}:853", "https://${OURS}:443/dns-query"]`, 'workers: 1', 'log: { level: warn }',
    'control: { enabled: false }', 'zones: [{ name: bench.example, file: db.bench }]',
    `tls: { cert: "${cert}", key: "${key}", maxConnectionsPerClient: 10000 }`, '',
  ].join('\n'));
  console.log(`bench:encrypted: servers on core 0, dnsperf on core 1, -q ${OUTSTANDING}, ${ROUNDS} rounds of ${SECONDS}s; load ${load()}`);
  let ours: NodeServer | undefined;
  let unbound: Awaited<ReturnType<typeof startUnbound>> | undefined;
  try {
    ours = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf], { address: OURS, port: 53, zone: 'bench.example.' },
      { inheritStderr: true });
    const oursTree = pinTree(ours.pid);
    mkdirSync(join(dir.path, 'unbound'));
    unbound = await startUnbound(join(dir.path, 'unbound'), UNBOUND, 53, join(dir.path, 'none.hints'), `  interface: ${UNBOUND}@853
  interface: ${UNBOUND}@443
  tls-port: 853
  https-port: 443
  http-endpoint: "/dns-query"
  http-notls-downstream: no
  tls-service-key: "${key}"
  tls-service-pem: "${cert}"
  incoming-num-tcp: 1000
  local-zone: "bench.example." static
${NAMES.map((n, i) => `  local-data: "${n}.bench.example. 3600 IN A 192.0.2.${i + 1}"`).join('\n')}
  local-data: "bench.example. 3600 IN SOA ns1.bench.example. host.bench.example. 1 7200 3600 1209600 300"
`);
    const ubTree = pinTree(unbound.pid);
    const servers = [
      { name: 'Sovereign', address: OURS, tree: oursTree },
      { name: 'Unbound', address: UNBOUND, tree: ubTree },
    ];
    const uriFiles = new Map(servers.map((s) => {
      const f = join(dir.path, `uris-${s.name}.txt`);
      writeFileSync(f, dohUris(s.address, NAMES.map((n) => `${n}.bench.example.`), 4096));
      return [s.name, f] as const;
    }));
    const run = (c: (typeof cases)[number], s: (typeof servers)[number], tree: number[], seconds?: number): Run =>
      c.mode === 'doh' ? h2load(uriFiles.get(s.name)!, tree, seconds) : dnsperf(c.mode, s.address, c.port, queries, tree, c.extra, seconds);
    const cases: { label: string; mode: 'dot' | 'doh'; port: number; extra: string[] }[] = [
      { label: 'DoT, reused connections', mode: 'dot', port: 853, extra: [] },
      { label: 'DoT, 1 query per connection (handshake cost)', mode: 'dot', port: 853, extra: ['-O', 'num-queries-per-conn=1'] },
      { label: 'DoH (HTTP/2 GET, h2load: 4 connections), varied names, mixed case, DO', mode: 'doh', port: 443, extra: [] },
    ];
    for (const s of servers) for (const c of cases) run(c, s, [], 2); // warm-up, JIT
    for (const c of cases) {
      const runs = new Map<string, Run[]>(servers.map((s) => [s.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of servers) runs.get(s.name)!.push(run(c, s, s.tree));
      }
      console.log(`\n${c.label}:`);
      console.log(`  ${'server'.padEnd(12)}${'QPS'.padEnd(10)}${'CPU µs/answer'.padEnd(16)}rounds (QPS)`);
      const med: Record<string, number> = {};
      for (const s of servers) {
        const r = runs.get(s.name)!;
        const qps = median(r.map((x) => x.qps));
        med[s.name] = qps;
        if (r.every((x) => Number.isNaN(x.qps))) console.log(`  ${s.name}: load generator failed:\n${r[0]!.raw}`);
        console.log(`  ${s.name.padEnd(12)}${qps.toFixed(0).padEnd(10)}${median(r.map((x) => x.cpuUs)).toFixed(1).padEnd(16)}${r.map((x) => x.qps.toFixed(0)).join(' ')}`);
      }
      const ratio = med.Sovereign! / med.Unbound!;
      console.log(`  Sovereign / Unbound: ${ratio.toFixed(2)}x${c.mode === 'dot' && c.extra.length === 0 ? ` (target >= 0.5x: ${ratio >= 0.5 ? 'met' : 'NOT met'})` : ''}`);
    }
    console.log(`\nload after: ${load()}`);
  } finally {
    await ours?.stop();
    await unbound?.stop();
    dir.cleanup();
  }
}

await main();
