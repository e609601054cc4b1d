/**
 * The measuring harness of the dnsperf benchmarks (bench:auth, bench:resolver): servers pinned to
 * one core (`taskset`, every thread of every process of the tree), dnsperf pinned to the other,
 * the servers' CPU time read from /proc/PID/stat before and after each run, and medians over
 * rounds, so a noisy moment on the shared 2-core machine does not decide a figure.
 *
 * Environment (read here once for every benchmark): BENCH_SECONDS (per round, default 5),
 * BENCH_ROUNDS (default 3), BENCH_OUTSTANDING (dnsperf -q, default 100).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { PEER_BINARIES, waitForDns } from '../../test/helpers/peers.js';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const OUTSTANDING = Number(process.env.BENCH_OUTSTANDING ?? 100);
/** Core the servers run on. */
export const SERVER_CORE = '0';
/** Core dnsperf runs on. */
export const CLIENT_CORE = '1';
/** Warm-up run length (JIT, caches) before any timed round, in seconds. */
export const WARM_UP_SECONDS = 2;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** PIDs of `pid` and every descendant (NSD forks its serving child). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** utime+stime of the processes, in seconds. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 (utime, stime)
    } catch { /* gone */ }
  }
  return ticks / CLK_TCK;
}

/** Pins every thread of the processes to the server core. */
export function pin(pids: readonly number[]): void {
  for (const p of pids) spawnSync('taskset', ['-a', '-p', '-c', SERVER_CORE, String(p)], { stdio: 'ignore' });
}

/** Pins `pid` and its descendants to the server core; returns that process tree. */
export function pinTree(pid: number): number[] {
  const tree = processTree(pid);
  pin(tree);
  return tree;
}

/** What one dnsperf run reports (NaN where its output lacks a figure). */
export interface DnsperfResult {
  qps: number;
  latencyMs: number;
  sent: number;
  completed: number;
  lost: number;
  /** dnsperf's stdout and stderr, for the error when it failed. */
  raw: string;
}

/** Runs dnsperf on the client core against address:port with the query file, for `seconds`. */
export function dnsperf(address: string, port: number, queries: string, seconds = SECONDS, extra: readonly string[] = []): DnsperfResult {
  const r = spawnSync('taskset', ['-c', CLIENT_CORE, PEER_BINARIES.dnsperf, '-s', address, '-p', String(port), '-d', queries,
    '-l', String(seconds), '-q', String(OUTSTANDING), '-t', '2', ...extra], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const out = r.stdout ?? '';
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    raw: out + (r.stderr ?? ''),
  };
}

/** One timed round, with the server's CPU time per answered query. */
export interface Measured extends DnsperfResult {
  /** utime+stime of the server's process tree per completed query, in microseconds (NaN without a tree). */
  cpuUsPerQuery: number;
}

/** A server under test: already started, warmed up and pinned. */
export interface Target {
  name: string;
  address: string;
  port: number;
  /** The server's process tree, for its CPU time; omit to skip that figure. */
  tree?: readonly number[];
  /** Extra dnsperf options (`-D`: DO=1). */
  dnsperfArgs?: readonly string[];
}

/** One timed dnsperf run against `target`; throws with dnsperf's output when it failed. */
export function measure(target: Target, queries: string, seconds = SECONDS, extra: readonly string[] = []): Measured {
  const tree = target.tree ?? [];
  const before = cpuSeconds(tree);
  const p = dnsperf(target.address, target.port, queries, seconds, [...(target.dnsperfArgs ?? []), ...extra]);
  const cpu = cpuSeconds(tree) - before;
  if (Number.isNaN(p.qps)) throw new Error(`dnsperf against ${target.name} failed:\n${p.raw}`);
  return { ...p, cpuUsPerQuery: target.tree !== undefined && p.completed > 0 ? (cpu * 1e6) / p.completed : NaN };
}

/** An untimed run (JIT, caches) before the timed rounds; its figures are not used. */
export function warmUp(target: Target, queries: string, extra: readonly string[] = []): void {
  dnsperf(target.address, target.port, queries, WARM_UP_SECONDS, [...(target.dnsperfArgs ?? []), ...extra]);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The rounds of one server: QPS, latency and CPU as medians, query counts summed. */
export interface Summary {
  qps: number;
  latencyMs: number;
  sent: number;
  completed: number;
  lost: number;
  cpuUsPerQuery: number;
  /** Every round's QPS, as printed beside the medians. */
  roundsQps: string;
}

export function summarize(rounds: readonly Measured[]): Summary {
  return {
    qps: median(rounds.map((x) => x.qps)),
    latencyMs: median(rounds.map((x) => x.latencyMs)),
    sent: rounds.reduce((a, x) => a + x.sent, 0),
    completed: rounds.reduce((a, x) => a + x.completed, 0),
    lost: rounds.reduce((a, x) => a + x.lost, 0),
    cpuUsPerQuery: median(rounds.map((x) => x.cpuUsPerQuery)),
    roundsQps: rounds.map((x) => x.qps.toFixed(0)).join(' '),
  };
}

/** A Node program started by `startNode`. */
export interface NodeServer {
  pid: number;
  /** SIGTERM, then SIGKILL after 3 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a Node program (`node ...args`) on the server core; resolves once it answers a query for
 * `ready.zone` on ready.address:port. Its stderr is kept for the error when it never answers, or
 * shown as it comes with `inheritStderr`.
 */
export async function startNode(args: string[], ready: { address: string; port: number; zone: string },
  opts: { inheritStderr?: boolean; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NodeServer> {
  // BENCH_NODE_ARGS: extra node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`; NODE_OPTIONS refuses --cpu-prof).
  const extra = process.env.BENCH_NODE_ARGS === undefined ? [] : process.env.BENCH_NODE_ARGS.split(' ').filter((x) => x !== '');
  const child: ChildProcess = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...extra, ...args],
    { stdio: ['ignore', 'ignore', opts.inheritStderr === true ? 'inherit' : 'pipe'], ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }) });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const up = await waitForDns(ready.address, ready.port, ready.zone, opts.readyTimeoutMs ?? 15_000);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`${args.join(' ')} did not answer:\n${err}`);
  }
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
