/**
 * `npm run bench:memory`: resident memory of the server at start and after a cold-cache flood,
 * beside Unbound's, in the same run (issue 17).
 *
 * NSD serves a zone of 50,000 names on 127.23.6.1. Sovereign (`serve` with two workers, what
 * the default `auto` gives on this 2-core machine: a primary and two workers; control endpoint on, as by
 * default; forwarding to NSD and authoritative for a 1,000-name zone) and Unbound (one thread,
 * `forward-zone: "."` to NSD) start; their memory is read once they answer and have sat idle a
 * few seconds ("start"), then dnsperf asks each every one of the 50,000 names once, A and AAAA
 * (100,000 distinct questions, cache misses all), and their memory is read again ("after flood").
 *
 * Memory is read from /proc for every process of each server's tree (Sovereign: primary and
 * workers): the sum of VmRSS (what `ps` shows; the Node.js binary's pages shared by the processes
 * are counted once per process) and the sum of Pss from smaps_rollup (shared pages divided among
 * the processes that map them: the tree's real footprint). Also the CPU time per answer during
 * the flood. BENCH_SOVEREIGN_BIN measures another checkout's bin/sovereign.js (before/after).
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEER_BINARIES, addLoopbackAddress, startNsd, startUnbound, tempDir } from '../test/helpers/peers.js';
import { CLIENT_CORE, OUTSTANDING, cpuSeconds, processTree, startNode } from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.BENCH_SOVEREIGN_BIN ?? join(ROOT, 'bin', 'sovereign.js');
const ZONE = 'flood.example';
const AUTH_ZONE = 'auth.example';
const NAMES = 50_000;
const PORT = 5394;
const ADDR = { nsd: '127.23.6.1', sovereign: '127.23.6.2', unbound: '127.23.6.3', control: '127.23.6.4' };
/** Idle time before the first reading, in ms (timers, JIT and GC settle). */
const SETTLE_MS = 4000;

function zoneText(origin: string, names: number): string {
  const lines = [`$ORIGIN ${origin}.`, '$TTL 86400', '@ SOA ns1 hostmaster 1 7200 3600 1209600 3600', '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; i < names; i++) {
    lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 4 === 0) lines.push(`h${i} AAAA 2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`);
  }
  return lines.join('\n') + '\n';
}

interface Memory {
  rssMiB: number;
  pssMiB: number;
  processes: number;
}

/** Sums VmRSS and Pss (KiB in /proc) over the tree of `pid`. */
function memory(pid: number): Memory {
  let rss = 0;
  let pss = 0;
  const tree = processTree(pid).filter((p) => {
    try {
      return !readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('taskset');
    } catch {
      return false;
    }
  });
  for (const p of tree) {
    try {
      rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      pss += Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return { rssMiB: rss / 1024, pssMiB: pss / 1024, processes: tree.length };
}

/** dnsperf through the query file once; returns the completed count. */
function flood(address: string, queries: string): { completed: number; qps: number } {
  const r = spawnSync('taskset', ['-c', CLIENT_CORE, PEER_BINARIES.dnsperf, '-s', address, '-p', String(PORT), '-d', queries,
    '-n', '1', '-q', String(OUTSTANDING), '-t', '5'], { encoding: 'utf8', timeout: 600_000 });
  const out = r.stdout ?? '';
  return { completed: Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? NaN), qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN) };
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-memory-');
  const d = dir.path;
  const zoneFile = join(d, `${ZONE}.zone`);
  const authFile = join(d, `${AUTH_ZONE}.zone`);
  writeFileSync(zoneFile, zoneText(ZONE, NAMES));
  writeFileSync(authFile, zoneText(AUTH_ZONE, 1000));
  const queries = join(d, 'queries.txt');
  const qs: string[] = [];
  for (let i = 0; i < NAMES; i++) qs.push(`h${i}.${ZONE} A`, `h${i}.${ZONE} AAAA`);
  writeFileSync(queries, qs.join('\n') + '\n');
  const hints = join(d, 'root.hints');
  writeFileSync(hints, '. 3600000 NS a.root.\na.root. 3600000 A 127.23.6.9\n');
  for (const a of Object.values(ADDR)) addLoopbackAddress(a);
  console.log(`bench:memory: Sovereign (${BIN}) with 2 workers (auto here) and Unbound (1 thread), both forwarding to NSD; ` +
    `flood: ${qs.length} distinct questions once, dnsperf -q ${OUTSTANDING}`);
  console.log(`load before: ${execSync('uptime').toString().trim()}`);
  mkdirSync(join(d, 'nsd'));
  const nsd = await startNsd(join(d, 'nsd'), ADDR.nsd, PORT, [{ name: ZONE, file: zoneFile }]);
  const conf = join(d, 'sovereign.yaml');
  writeFileSync(conf, JSON.stringify({
    // Two workers, as `auto` gives on this 2-core machine (under taskset `auto` would see one core).
    listen: [`${ADDR.sovereign}:${PORT}`], workers: 2, log: { level: 'warn' }, forwarders: [`${ADDR.nsd}:${PORT}`],
    control: { listen: `${ADDR.control}:8053`, tokenFile: join(d, 'control.token') }, zones: [{ name: AUTH_ZONE, file: authFile }],
  }));
  const rows: { name: string; start: Memory; after: Memory; cpuUs: number; completed: number; qps: number }[] = [];
  try {
    const sov = await startNode([BIN, 'serve', '--config', conf], { address: ADDR.sovereign, port: PORT, zone: AUTH_ZONE }, { readyTimeoutMs: 60_000 });
    mkdirSync(join(d, 'unbound'));
    const ub = await startUnbound(join(d, 'unbound'), ADDR.unbound, PORT, hints,
      `forward-zone:\n  name: "."\n  forward-addr: ${ADDR.nsd}@${PORT}\n`);
    try {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      for (const [name, pid, address] of [['Sovereign', sov.pid, ADDR.sovereign], ['Unbound', ub.pid, ADDR.unbound]] as const) {
        const start = memory(pid);
        const tree = processTree(pid);
        const before = cpuSeconds(tree);
        const f = flood(address, queries);
        const cpu = cpuSeconds(tree) - before;
        await new Promise((r) => setTimeout(r, 1000));
        rows.push({ name, start, after: memory(pid), cpuUs: (cpu * 1e6) / f.completed, ...f });
      }
    } finally {
      await sov.stop();
      await ub.stop();
    }
  } finally {
    await nsd.stop();
    dir.cleanup();
  }
  console.log(`load after: ${execSync('uptime').toString().trim()}`);
  const pad = (x: string, n: number): string => x.padEnd(n);
  console.log(`${pad('server', 12)}${pad('procs', 7)}${pad('RSS start', 11)}${pad('PSS start', 11)}${pad('RSS flood', 11)}${pad('PSS flood', 11)}` +
    `${pad('answered', 10)}${pad('QPS', 8)}CPU us/answer (flood)`);
  for (const r of rows) {
    console.log(`${pad(r.name, 12)}${pad(String(r.start.processes), 7)}${pad(r.start.rssMiB.toFixed(1), 11)}${pad(r.start.pssMiB.toFixed(1), 11)}` +
      `${pad(r.after.rssMiB.toFixed(1), 11)}${pad(r.after.pssMiB.toFixed(1), 11)}${pad(String(r.completed), 10)}${pad(r.qps.toFixed(0), 8)}${r.cpuUs.toFixed(1)}`);
  }
  const [s, u] = rows;
  if (s !== undefined && u !== undefined) {
    console.log(`Sovereign / Unbound: ${(s.start.rssMiB / u.start.rssMiB).toFixed(1)}x RSS at start (${(s.start.pssMiB / u.start.pssMiB).toFixed(1)}x PSS), ` +
      `${(s.after.rssMiB / u.after.rssMiB).toFixed(1)}x RSS after the flood (${(s.after.pssMiB / u.after.pssMiB).toFixed(1)}x PSS)`);
  }
}

await main();
