/**
 * `npm run bench:xfr`: zone transfers, Sovereign beside BIND 9.18 and Knot 3.2 in the same run.
 *
 * 1. AXFR out: a BENCH_RECORDS-record zone (default 100,000; A, AAAA, TXT, MX) served by each
 *    server as a primary, pulled by `dig AXFR` (output discarded): wall seconds, MiB/s of DNS
 *    messages, and the server's CPU seconds for the transfer (utime+stime from /proc).
 * 2. IXFR out of a small change (one record removed, one added, serial +1, reloaded by SIGHUP
 *    with the difference kept: Sovereign's journal, BIND's ixfr-from-differences, Knot's
 *    zonefile-load: difference): seconds and records of `dig IXFR=old`.
 * 3. In: Sovereign pulling the zone from BIND (fetchZone: the AXFR built from the wire and
 *    checked, the zone ready to serve; in this process, CPU from process.cpuUsage) beside BIND as
 *    a secondary of the same BIND primary (the "Transfer completed" time BIND logs), alternating
 *    round by round; then the copy on disk (written after the zone is live, as BIND does), apart.
 *
 * Each figure is the median of BENCH_ROUNDS (default 3; AXFR in: BENCH_IN_ROUNDS, default 5)
 * runs; the machine is shared, so read the ratios, and the load printed with them.
 * BENCH_PARTS=out,ixfr,in picks parts (BENCH_PARTS=in starts only BIND). Run inside `unshare -n`
 * (127.x addresses).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { fetchZone, writeZoneFileAsync } from '../src/transfer/inbound.js';
import { Name } from '../src/wire/name.js';
import { addLoopbackAddress, tempDir } from '../test/helpers/peers.js';
import { startKnotXfr, startNamedXfr, waitForSerial } from '../test/helpers/xfr-peers.js';
import { cpuSeconds, median, processTree, startNode } from './lib/dnsperf.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Rounds of the AXFR-in comparison (the figure with a target): more, since both sides wait on one primary. */
const IN_ROUNDS = Number(process.env.BENCH_IN_ROUNDS ?? 5);
/** Which parts run: any of out, ixfr, in (default all). */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'out,ixfr,in').split(','));

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ZONE = 'xfr.bench';
const ADDR = { sovereign: '127.32.1.1', bind: '127.32.1.2', knot: '127.32.1.3', bind2: '127.32.1.4' };
const PORT = 5399;

/** Writes the zone at `serial` (the body is the same for every serial but the change); returns its records. */
function writeZone(path: string, serial: number, change = false): number {
  const fd = openSync(path, 'w');
  let buf = `$ORIGIN ${ZONE}.\n$TTL 3600\n@ SOA ns1 hostmaster ${serial} 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n`;
  let n = 3;
  for (let i = 0; n < RECORDS; i++) {
    if (change && i === 7) { buf += 'changed A 192.0.2.77\n'; n++; continue; }
    const k = i % 4;
    buf += k === 0 ? `h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`
      : k === 1 ? `h${i} AAAA 2001:db8::${(i & 0xffff).toString(16)}\n`
        : k === 2 ? `h${i} TXT "v=spf1 record number ${i}"\n` : `h${i} MX 10 mail${i % 100}.${ZONE}.\n`;
    n++;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return n;
}

/** A /proc/PID/status memory figure (VmRSS, VmHWM) summed over `pids`, MiB. */
function memoryOf(pids: number[], field: string): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m !== null) kib += Number(m[1]);
    } catch { /* gone */ }
  }
  return kib / 1024;
}

interface XfrRun { seconds: number; bytes: number; records: number; cpu: number }

/** One `dig` transfer; the server's CPU is read around it. */
function dig(address: string, type: string, pids: number[]): XfrRun {
  const before = cpuSeconds(pids);
  const t0 = process.hrtime.bigint();
  const out = execFileSync('/usr/bin/dig', [`@${address}`, '-p', String(PORT), ZONE, type, '+noall', '+stats', '+tries=1', '+time=60'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(pids) - before;
  const m = /XFR size: (\d+) records \(messages \d+, bytes (\d+)\)/.exec(out);
  if (m === null) throw new Error(`${address} ${type}: ${out.slice(0, 500)}`);
  return { seconds, bytes: Number(m[2]), records: Number(m[1]), cpu };
}

function row(name: string, runs: XfrRun[]): string {
  const s = median(runs.map((r) => r.seconds));
  const cpu = median(runs.map((r) => r.cpu));
  const mib = runs[0]!.bytes / 1024 / 1024;
  return `${name.padEnd(10)} ${s.toFixed(3).padStart(8)} s ${(mib / s).toFixed(1).padStart(8)} MiB/s ${cpu.toFixed(2).padStart(7)} s CPU  ${runs[0]!.records} records, ${mib.toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-xfr-');
  const stops: (() => Promise<void>)[] = [];
  try {
    for (const a of Object.values(ADDR)) addLoopbackAddress(a);
    process.stdout.write(`zone transfers, ${RECORDS} records, ${ROUNDS} rounds; load: ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}\n`);
    const files = { sovereign: join(dir.path, 'sov', 'zone'), bind: join(dir.path, 'bind', 'zone'), knot: join(dir.path, 'knot', 'zone') };
    for (const f of Object.values(files)) mkdirSync(dirname(f), { recursive: true });
    mkdirSync(join(dir.path, 'knot', 'db'));
    let records = 0;
    for (const f of Object.values(files)) records = writeZone(f, 1);
    // Only BIND is needed for the AXFR-in comparison (BENCH_PARTS=in).
    const outParts = PARTS.has('out') || PARTS.has('ixfr');
    const servers: { name: string; address: string; pids: number[]; pid: number; file: string }[] = [];
    if (outParts) {
      const sov = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--zone', `${ZONE}=${files.sovereign}`, '--listen', `${ADDR.sovereign}:${PORT}`,
        '--workers', '1', '--log-level', 'error'], { address: ADDR.sovereign, port: PORT, zone: ZONE }, { readyTimeoutMs: 180_000 });
      stops.push(() => sov.stop());
      servers.push({ name: 'Sovereign', address: ADDR.sovereign, pids: processTree(sov.pid), pid: sov.pid, file: files.sovereign });
    }
    const named = await startNamedXfr(join(dir.path, 'bind'), ADDR.bind, PORT, [], [{ name: ZONE, file: files.bind }]);
    stops.push(() => named.stop());
    servers.push({ name: 'BIND', address: ADDR.bind, pids: [named.pid], pid: named.pid, file: files.bind });
    if (outParts) {
      const knot = await startKnotXfr(join(dir.path, 'knot'), ADDR.knot, PORT, [], [{ name: ZONE, file: files.knot }], { zonefileLoad: 'difference' });
      stops.push(() => knot.stop());
      servers.push({ name: 'Knot', address: ADDR.knot, pids: [knot.pid], pid: knot.pid, file: files.knot });
    }
    for (const s of servers) {
      if (!await waitForSerial(s.address, PORT, ZONE, 1, 300_000)) throw new Error(`${s.name} does not serve the zone`);
    }
    if (PARTS.has('out')) {
      process.stdout.write(`\nAXFR out (${records} records), dig as the client:\n`);
      const rssBefore = memoryOf(servers[0]!.pids, 'VmRSS');
      const axfr = new Map<string, XfrRun[]>();
      for (let r = 0; r < ROUNDS; r++) for (const s of servers) axfr.set(s.name, [...(axfr.get(s.name) ?? []), dig(s.address, 'AXFR', s.pids)]);
      for (const s of servers) process.stdout.write(row(s.name, axfr.get(s.name)!) + '\n');
      // Streamed: the transfers add little to the server's peak memory beyond the loaded zone.
      process.stdout.write(`Sovereign memory: RSS ${rssBefore.toFixed(0)} MiB before the transfers, peak (VmHWM) ${memoryOf(servers[0]!.pids, 'VmHWM').toFixed(0)} MiB\n`);
      const sovS = median(axfr.get('Sovereign')!.map((x) => x.seconds));
      process.stdout.write(`Sovereign/BIND time ${(sovS / median(axfr.get('BIND')!.map((x) => x.seconds))).toFixed(2)}x, ` +
        `Sovereign/Knot ${(sovS / median(axfr.get('Knot')!.map((x) => x.seconds))).toFixed(2)}x; load ${loadAverage()}\n`);
    }

    // A small change at serial 2 (IXFR out of it; the AXFR-in part transfers serial 2).
    for (const s of servers) {
      writeZone(s.file, 2, true);
      process.kill(s.pid, 'SIGHUP');
    }
    for (const s of servers) if (!await waitForSerial(s.address, PORT, ZONE, 2, 300_000)) throw new Error(`${s.name} did not reload`);
    if (PARTS.has('ixfr')) {
      process.stdout.write('\nIXFR=1 out (one record removed, one added):\n');
      for (const s of servers) {
        const runs: XfrRun[] = [];
        for (let r = 0; r < ROUNDS; r++) runs.push(dig(s.address, 'IXFR=1', s.pids));
        process.stdout.write(`${s.name.padEnd(10)} ${(median(runs.map((x) => x.seconds)) * 1000).toFixed(1).padStart(8)} ms  ${runs[0]!.records} records, ${runs[0]!.bytes} bytes\n`);
      }
    }

    // In: Sovereign pulling from BIND vs BIND pulling from BIND, alternating round by round so
    // both see the same load. Sovereign's figure is fetchZone: the AXFR built into a zone from
    // the wire and checked like a loaded zone, i.e. the zone ready to serve (what a secondary
    // installs at that moment). BIND's is the time it logs for "Transfer completed", which is
    // also before it writes its copy to disk (BIND dumps received zones afterwards). Our copy
    // is written after the zone is live too (writeZoneFileAsync: streamed, fsynced, renamed);
    // its time is shown apart, and with it added.
    if (PARTS.has('in')) {
      process.stdout.write(`\nAXFR in from the BIND primary (${IN_ROUNDS} rounds, alternating; median):\n`);
      const origin = Name.fromText(ZONE + '.');
      const inRuns: { seconds: number; copy: number; cpu: number; records: number }[] = [];
      const bindIn: number[] = [];
      let peakRss = 0;
      const rssBeforeIn = process.memoryUsage().rss / 1048576;
      for (let r = 0; r < IN_ROUNDS; r++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const got = await fetchZone(origin, undefined, { primary: { address: ADDR.bind, port: PORT, key: undefined }, timeoutMs: 60_000 });
        if (got.kind === 'uptodate') throw new Error('nothing transferred');
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const c = process.cpuUsage(c0);
        peakRss = Math.max(peakRss, process.memoryUsage().rss / 1048576);
        const t1 = process.hrtime.bigint();
        await writeZoneFileAsync(got.zone, join(dir.path, 'sov', 'copy.zone'));
        const copy = Number(process.hrtime.bigint() - t1) / 1e9;
        inRuns.push({ seconds, copy, cpu: (c.user + c.system) / 1e6, records: got.records });

        const d = join(dir.path, `bind2-${r}`);
        mkdirSync(d);
        const b0 = process.hrtime.bigint();
        const sec = await startNamedXfr(d, ADDR.bind2, PORT, [], [{ name: ZONE, file: join(d, 'copy.zone'), primary: { address: ADDR.bind, port: PORT } }]);
        const ok = await waitForSerial(ADDR.bind2, PORT, ZONE, 2, 300_000);
        const wall = Number(process.hrtime.bigint() - b0) / 1e9;
        const m = /Transfer completed: .*, ([\d.]+) secs/.exec(sec.output());
        const cpu = cpuSeconds([sec.pid]);
        await sec.stop();
        if (!ok) throw new Error('BIND secondary did not transfer');
        bindIn.push(m === null ? wall : Number(m[1]));
        process.stdout.write(`  round ${r + 1}: Sovereign ${seconds.toFixed(3)} s (+ copy ${copy.toFixed(3)} s), BIND ${bindIn[r]!.toFixed(3)} s` +
          ` (start to serving ${wall.toFixed(2)} s, its CPU incl. start-up ${cpu.toFixed(2)} s); load ${loadAverage()}\n`);
    }
    const sovIn = median(inRuns.map((x) => x.seconds));
    const sovCopy = median(inRuns.map((x) => x.copy));
    const sovBoth = median(inRuns.map((x) => x.seconds + x.copy));
    const b = median(bindIn);
    process.stdout.write(`Sovereign  ${sovIn.toFixed(3).padStart(8)} s to the zone checked and live (${inRuns[0]!.records} records, ` +
      `${median(inRuns.map((x) => x.cpu)).toFixed(2)} s CPU); copy on disk after it ${sovCopy.toFixed(3)} s; RSS ${rssBeforeIn.toFixed(0)} MiB before, ${peakRss.toFixed(0)} MiB with a zone built\n`);
    process.stdout.write(`BIND       ${b.toFixed(3).padStart(8)} s (its logged "Transfer completed" time)\n`);
    process.stdout.write(`Sovereign/BIND in: ${(sovIn / b).toFixed(2)}x (zone live, the figure compared), ${(sovBoth / b).toFixed(2)}x with the copy on disk; load ${loadAverage()}\n`);
    }
    process.stdout.write(`load after: ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}\n`);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    dir.cleanup();
  }
}

await main();
