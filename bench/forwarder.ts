/**
 * `npm run bench:forwarder`: forwarder cache hits, Sovereign against Unbound, in the same run.
 *
 * NSD serves a 2,000-name zone (A for every name, AAAA for every tenth, some NXDOMAIN names) on
 * 127.23.4.1. Sovereign (`serve --workers 1`, `forwarders: [NSD]`) and Unbound (`forward-zone: "."`
 * to NSD, one thread) forward to it; a second Sovereign serves the same zone authoritatively, the
 * yardstick of the target "a cache hit costs at most 1.1x an authoritative answer". Every server is
 * pinned to core 0, dnsperf to core 1.
 *
 * The query file spells each of the 2,200 questions in five random mixes of case (as resolvers
 * using 0x20 send them), 11,000 lines. Two workloads run, each over the same file: no EDNS, and
 * EDNS with DO=1 (dnsperf -D). Both forwarders have their caches filled by an untimed run first,
 * then the servers take turns over several rounds; medians of QPS and of server CPU time per
 * answer (utime+stime of the process tree / answers) are printed with the ratios.
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING
 * (dnsperf -q, default 100), BENCH_BATCH=1 (a third Sovereign forwarding with batched UDP,
 * SOVEREIGN_UDP_BATCH=on, and its CPU per answer over the node:dgram one's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import { addLoopbackAddress, startNsd, startUnbound, tempDir } from '../test/helpers/peers.js';
import {
  CLIENT_CORE, type Measured, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, type Target, measure, pinTree, startNode, summarize,
  warmUp,
} from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ZONE = 'fwd.example';
const NAMES = 2000;
const SPELLINGS = 5;
const PORT = 5392;
const ADDR = { nsd: '127.23.4.1', sovereign: '127.23.4.2', unbound: '127.23.4.3', auth: '127.23.4.4', batched: '127.23.4.5' };
/** BENCH_BATCH=1: also Sovereign forwarding with batched UDP (recvmmsg/sendmmsg addon; issue 17). */
const BATCH = process.env.BENCH_BATCH === '1';

function zoneText(): string {
  const lines = [
    `$ORIGIN ${ZONE}.`, '$TTL 86400',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 3600', '@ NS ns1', 'ns1 A 192.0.2.1',
  ];
  for (let i = 0; i < NAMES; i++) {
    lines.push(`h${i} A 10.${(i >> 8) & 255}.${i & 255}.1`);
    if (i % 10 === 0) lines.push(`h${i} AAAA 2001:db8::${i.toString(16)}`);
  }
  return lines.join('\n') + '\n';
}

/** Deterministic case mixing (the benchmark needs the same file every run, not secrecy). */
function spell(name: string, seed: number): string {
  let x = seed * 2654435761 >>> 0;
  let out = '';
  for (const c of name) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 16) & 1 ? c.toUpperCase() : c;
  }
  return out;
}

function queryText(): string {
  const qs: string[] = [];
  for (let i = 0; i < NAMES; i++) {
    qs.push(`h${i}.${ZONE} A`);
    if (i % 20 === 0) qs.push(`h${i}.${ZONE} AAAA`, `nx${i}.${ZONE} A`);
  }
  const lines: string[] = [];
  for (let s = 0; s < SPELLINGS; s++) for (let i = 0; i < qs.length; i++) {
    const [n, t] = qs[i]!.split(' ');
    lines.push(`${spell(n!, s * 100_003 + i)} ${t}`);
  }
  return lines.join('\n') + '\n';
}

interface Running extends Target {
  stop(): Promise<void>;
  rounds: Measured[][];
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-forwarder-');
  const zoneFile = join(dir.path, `${ZONE}.zone`);
  writeFileSync(zoneFile, zoneText());
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(queries, queryText());
  const hints = join(dir.path, 'root.hints');
  writeFileSync(hints, '. 3600000 NS a.root.\na.root. 3600000 A 127.23.4.9\n');
  for (const a of Object.values(ADDR)) addLoopbackAddress(a);
  const workloads: { name: string; extra: string[] }[] = [{ name: 'no EDNS', extra: [] }, { name: 'EDNS, DO=1', extra: ['-D'] }];
  console.log(`bench:forwarder: NSD serves ${NAMES} names; ${SPELLINGS} case spellings of each question; ${ROUNDS} rounds of ` +
    `dnsperf -q ${OUTSTANDING} for ${SECONDS}s; servers on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}; load: ${execSync('uptime').toString().trim()}`);
  mkdirSync(join(dir.path, 'nsd'));
  const nsd = await startNsd(join(dir.path, 'nsd'), ADDR.nsd, PORT, [{ name: ZONE, file: zoneFile }]);
  const servers: Running[] = [];
  const add = (name: string, address: string, h: { pid: number; stop(): Promise<void> }): void => {
    servers.push({ name, address, port: PORT, tree: pinTree(h.pid), stop: () => h.stop(), rounds: workloads.map(() => []) });
  };
  try {
    const conf = join(dir.path, 'sovereign.yaml');
    writeFileSync(conf, [`listen: ["${ADDR.sovereign}:${PORT}"]`, 'workers: 1', 'log: { level: warn }',
      `forwarders: ["${ADDR.nsd}:${PORT}"]`, 'control: { enabled: false }', ''].join('\n'));
    const authConf = join(dir.path, 'auth.yaml');
    writeFileSync(authConf, [`listen: ["${ADDR.auth}:${PORT}"]`, 'workers: 1', 'log: { level: warn }', 'control: { enabled: false }',
      `zones: [{ name: "${ZONE}", file: "${zoneFile}" }]`, ''].join('\n'));
    add('Sovereign fwd', ADDR.sovereign, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf],
      { address: ADDR.sovereign, port: PORT, zone: ZONE }, { inheritStderr: true }));
    mkdirSync(join(dir.path, 'unbound'));
    add('Unbound fwd', ADDR.unbound, await startUnbound(join(dir.path, 'unbound'), ADDR.unbound, PORT, hints,
      `  msg-cache-size: 64m\n  rrset-cache-size: 64m\nforward-zone:\n  name: "."\n  forward-addr: ${ADDR.nsd}@${PORT}\n`));
    add('Sovereign auth', ADDR.auth, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', authConf], { address: ADDR.auth, port: PORT, zone: ZONE }));
    if (BATCH) {
      const batchConf = join(dir.path, 'batched.yaml');
      writeFileSync(batchConf, [`listen: ["${ADDR.batched}:${PORT}"]`, 'workers: 1', 'log: { level: warn }',
        `forwarders: ["${ADDR.nsd}:${PORT}"]`, 'control: { enabled: false }', ''].join('\n'));
      add('Sovereign fwd+batch', ADDR.batched, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', batchConf],
        { address: ADDR.batched, port: PORT, zone: ZONE }, { inheritStderr: true, env: { SOVEREIGN_UDP_BATCH: 'on' } }));
    }
    // Fill the caches and warm the JIT (each workload has its own cache entries: DO is part of the question asked upstream).
    for (const s of servers) for (const w of workloads) warmUp(s, queries, w.extra);
    for (let round = 0; round < ROUNDS; round++) {
      for (let wi = 0; wi < workloads.length; wi++) for (const s of servers) s.rounds[wi]!.push(measure(s, queries, SECONDS, workloads[wi]!.extra));
    }
  } finally {
    for (const s of servers) await s.stop();
    await nsd.stop();
    dir.cleanup();
  }
  const pad = (x: string, n: number): string => x.padEnd(n);
  for (let wi = 0; wi < workloads.length; wi++) {
    console.log(`\n${workloads[wi]!.name} (medians):`);
    console.log(`  ${pad('server', 16)}${pad('QPS', 10)}${pad('avg ms', 9)}${pad('lost', 7)}${pad('CPU us/answer', 15)}rounds (QPS)`);
    const res = servers.map((s) => ({ name: s.name, ...summarize(s.rounds[wi]!) }));
    for (const r of res) {
      console.log(`  ${pad(r.name, 16)}${pad(r.qps.toFixed(0), 10)}${pad(r.latencyMs.toFixed(3), 9)}${pad(String(r.lost), 7)}` +
        `${pad(r.cpuUsPerQuery.toFixed(2), 15)}${r.roundsQps}`);
    }
    const [ours, ub, auth] = res;
    const qps = ours!.qps / ub!.qps;
    const cpu = ours!.cpuUsPerQuery / auth!.cpuUsPerQuery;
    console.log(`  Sovereign / Unbound forwarding: ${qps.toFixed(2)}x QPS (target >= 0.6x: ${qps >= 0.6 ? 'met' : 'NOT met'}), ` +
      `${(ours!.cpuUsPerQuery / ub!.cpuUsPerQuery).toFixed(2)}x CPU per answer`);
    console.log(`  Sovereign forwarding / Sovereign authoritative: ${cpu.toFixed(2)}x CPU per answer (target <= 1.1x: ${cpu <= 1.1 ? 'met' : 'NOT met'})`);
    const batched = res.find((r) => r.name === 'Sovereign fwd+batch');
    if (batched !== undefined) {
      const x = batched.cpuUsPerQuery / ours!.cpuUsPerQuery;
      console.log(`  batched UDP / node:dgram (forwarder cache hits): ${x.toFixed(2)}x CPU per answer (default-on bar <= 0.75x: ` +
        `${x <= 0.75 ? 'met' : 'NOT met'}), ${(batched.qps / ours!.qps).toFixed(2)}x QPS`);
    }
  }
  console.log(`\nload after: ${execSync('uptime').toString().trim()}`);
}

await main();
