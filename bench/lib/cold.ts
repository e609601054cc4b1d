/**
 * Cold-resolution rounds for bench:resolver and bench:validate: a list of names resolved one after
 * the other by each resolver with an empty cache, wall time, upstream queries and CPU time per
 * pass, printed side by side with medians and same-run ratios.
 *
 * Two figures: the first pass of a freshly started process (for Sovereign this includes V8
 * compiling the code it runs for the first time), and the median of BENCH_COLD_ROUNDS passes of
 * the running processes after their caches were flushed (Sovereign through its control endpoint,
 * Unbound with `unbound-control flush_zone .`; both keep what they learnt about server RTTs, and
 * both prime the root again, which counts). The resolvers take turns in alternating order, so a
 * busy moment on the shared machine does not fall on one of them only.
 *
 * Environment: BENCH_COLD_ROUNDS (default 7).
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { exchange } from '../../src/client/exchange.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { typeFromString } from '../../src/wire/types.js';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time of the processes, every thread, in ms, from /proc/PID/task/TID/schedstat (nanosecond
 * run time; the tick-sampled utime+stime is too coarse for passes of a few tens of ms).
 */
export function cpuMs(pids: readonly number[]): number {
  let ns = 0;
  for (const p of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      try {
        ns += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch { /* gone */ }
    }
  }
  return ns / 1e6;
}

export const COLD_ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 7);

/** One pass over the list. */
export interface ColdPass {
  ms: number;
  queries: number;
  cpuMs: number;
  failed: string[];
}

/** A resolver under test, as the cold rounds drive it. */
export interface ColdResolver {
  name: string;
  address: string;
  /** Its process tree, for CPU time. */
  tree: readonly number[];
  /** Empties its cache (and validator key cache). */
  flush(): Promise<void>;
  /** Upstream queries it has sent so far (or since the last `resetQueries`). */
  queries(): Promise<number>;
  fresh?: ColdPass;
  rounds: ColdPass[];
}

/** The `uptime` line: the load during the run. */
export function load(): string {
  return execFileSync('uptime').toString().trim();
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Resolves `names` one after the other through `address`:53 (RD=1, EDNS, DO as asked); wall time and failures. */
export async function resolveAll(address: string, names: readonly [string, string][], dnssecOk = false): Promise<{ ms: number; failed: string[] }> {
  const failed: string[] = [];
  const t0 = performance.now();
  for (const [name, type] of names) {
    const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk }) });
    try {
      const r = await exchange(q, { address, port: 53 }, { timeoutMs: 10_000 });
      if (r.message.rcode !== 0 && r.message.rcode !== 3) failed.push(`${name} ${type}: rcode ${r.message.rcode}`);
    } catch (err) {
      failed.push(`${name} ${type}: ${(err as Error).message}`);
    }
  }
  return { ms: performance.now() - t0, failed };
}

/** One pass of `r` over `names`: wall time, upstream queries, CPU time of its processes. */
export async function coldPass(r: ColdResolver, names: readonly [string, string][], dnssecOk = false): Promise<ColdPass> {
  const q0 = await r.queries();
  const c0 = cpuMs(r.tree);
  const { ms, failed } = await resolveAll(r.address, names, dnssecOk);
  const cpu = cpuMs(r.tree) - c0;
  // Unbound may still be fetching (e.g. target addresses) after the last answer: let it settle.
  await new Promise((res) => setTimeout(res, 300));
  return { ms, queries: (await r.queries()) - q0, cpuMs: cpu, failed };
}

/** BENCH_COLD_ROUNDS flushed passes, the resolvers taking turns in alternating order. */
export async function coldRounds(rs: readonly ColdResolver[], names: readonly [string, string][], dnssecOk = false): Promise<void> {
  for (let round = 0; round < COLD_ROUNDS; round++) {
    const order = round % 2 === 0 ? rs : [...rs].reverse();
    for (const r of order) {
      await r.flush();
      await new Promise((res) => setTimeout(res, 100));
      r.rounds.push(await coldPass(r, names, dnssecOk));
    }
  }
}

/** Median wall time, queries and CPU of the flushed rounds. */
export function coldMedian(r: ColdResolver): { ms: number; queries: number; cpuMs: number } {
  return { ms: median(r.rounds.map((x) => x.ms)), queries: median(r.rounds.map((x) => x.queries)), cpuMs: median(r.rounds.map((x) => x.cpuMs)) };
}

/** Prints the table: fresh pass and median of flushed rounds per resolver, each round's wall time, CPU per answer. */
export function printCold(rs: readonly ColdResolver[], count: number): void {
  console.log(`  ${'resolver'.padEnd(28)}${'fresh process'.padEnd(22)}${`flushed, median of ${COLD_ROUNDS}`.padEnd(26)}${'CPU us/answer'.padEnd(15)}rounds (ms)`);
  for (const r of rs) {
    const m = coldMedian(r);
    const f = r.fresh !== undefined ? `${r.fresh.ms.toFixed(1)} ms, ${r.fresh.queries} q` : '-';
    console.log(`  ${r.name.padEnd(28)}${f.padEnd(22)}${`${m.ms.toFixed(1)} ms, ${m.queries} q`.padEnd(26)}` +
      `${(m.cpuMs * 1000 / count).toFixed(0).padEnd(15)}${r.rounds.map((x) => x.ms.toFixed(0)).join(' ')}`);
    for (const p of [...(r.fresh !== undefined ? [r.fresh] : []), ...r.rounds]) for (const f of p.failed) console.log(`    failed: ${f}`);
  }
}

/** Prints ours / theirs for the fresh pass and the flushed median, with the targets' verdicts. */
export function printRatios(ours: ColdResolver, theirs: ColdResolver, wallTarget: number, queryTarget: number): void {
  const a = coldMedian(ours);
  const b = coldMedian(theirs);
  const verdict = (wall: number, q: number): string =>
    `${wall.toFixed(2)}x wall time (target <= ${wallTarget}x: ${wall <= wallTarget ? 'met' : 'NOT met'}), ` +
    `${q.toFixed(2)}x upstream queries (target <= ${queryTarget}x: ${q <= queryTarget ? 'met' : 'NOT met'})`;
  console.log(`  ${ours.name} / ${theirs.name}, flushed (median): ${verdict(a.ms / b.ms, a.queries / b.queries)}, ${(a.cpuMs / b.cpuMs).toFixed(2)}x CPU`);
  if (ours.fresh !== undefined && theirs.fresh !== undefined) {
    console.log(`  ${ours.name} / ${theirs.name}, fresh process: ${verdict(ours.fresh.ms / theirs.fresh.ms, ours.fresh.queries / theirs.fresh.queries)}`);
  }
}

/** `unbound-control -c CONF ARGS...` (remote-control over a local socket, see the benches' Unbound config). */
export function unboundControl(conf: string, ...args: string[]): string {
  return execFileSync('unbound-control', ['-c', conf, ...args]).toString();
}

/** Unbound's cache emptied as Sovereign's flush does: every RRset, message and key below the root, negative and bogus data. */
export function flushUnbound(conf: string): void {
  unboundControl(conf, 'flush_zone', '.');
  unboundControl(conf, 'flush_negative');
  unboundControl(conf, 'flush_bogus');
}

/** Queries Unbound has sent upstream so far (num.query.udpout + tcpout; needs extended-statistics). */
export function unboundUpstream(conf: string): number {
  const out = unboundControl(conf, 'stats_noreset');
  let n = 0;
  for (const m of out.matchAll(/^num\.query\.(?:udp|tcp)out=(\d+)$/gm)) n += Number(m[1]);
  return n;
}

/** Unbound config lines for remote control over a local socket (appended after its server: block). */
export function unboundControlConf(dir: string): string {
  return `  extended-statistics: yes\nremote-control:\n  control-enable: yes\n  control-interface: "${dir}/control.sock"\n  control-use-cert: no\n`;
}
