/**
 * Two network namespaces joined by a veth pair, for tests of link-local protocols (LLMNR
 * multicast, NetBIOS broadcast) that must never reach the host's real interfaces.
 *
 *   <prefix>A: vA 10.77.0.1/24, fd77::1/64 (+ link-local)  <->  <prefix>B: vB 10.77.0.2/24, fd77::2/64
 *
 * Both have the 224.0.0.0/4 route on the veth. Invariants: the namespaces carry this process's
 * PID in their names; `remove()` (also run at process exit) kills whatever runs in them and
 * deletes them, so nothing is left behind even when a test fails.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { havePeers, inCI } from './peers.js';

export const ADDR_A = '10.77.0.1';
export const ADDR_B = '10.77.0.2';
export const BROADCAST = '10.77.0.255';

const live = new Set<string>();
process.once('exit', () => {
  for (const ns of live) deleteNamespace(ns);
});

function ip(args: string[]): void {
  const r = spawnSync('/usr/sbin/ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function deleteNamespace(ns: string): void {
  const pids = spawnSync('/usr/sbin/ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const p of pids.split('\n').filter((x) => /^\d+$/.test(x))) {
    try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
  }
  spawnSync('/usr/sbin/ip', ['netns', 'del', ns]);
  live.delete(ns);
}

/** True when namespaces can be made here (root and iproute2); skips outside CI, fails in CI. */
export function canUseNetns(t: TestContext): boolean {
  if (!havePeers(t, 'ip')) return false;
  if (process.getuid?.() === 0) return true;
  const why = 'network namespace tests need root';
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

export interface LinkPair {
  a: string;
  b: string;
  /** Starts a long-running command in a namespace; output is collected. */
  start(ns: string, cmd: string, args: string[]): { child: ChildProcess; output(): string };
  /** Runs a command in a namespace to completion (async: the test's event loop keeps running). */
  run(ns: string, cmd: string, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

export function createLinkPair(tag: string): LinkPair {
  const a = `sov${tag}A-${process.pid}`;
  const b = `sov${tag}B-${process.pid}`;
  for (const ns of [a, b]) {
    deleteNamespace(ns);
    ip(['netns', 'add', ns]);
    live.add(ns);
  }
  try {
    ip(['link', 'add', 'vA', 'netns', a, 'type', 'veth', 'peer', 'name', 'vB', 'netns', b]);
    for (const [ns, dev, i] of [[a, 'vA', 1], [b, 'vB', 2]] as const) {
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      // No duplicate address detection: the addresses are usable at once (no waiting in tests).
      const sys = spawnSync('/usr/sbin/ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
      if (sys.status !== 0) throw new Error(`sysctl in ${ns} failed`);
      ip(['-n', ns, 'addr', 'add', `10.77.0.${i}/24`, 'brd', BROADCAST, 'dev', dev]);
      ip(['-n', ns, 'addr', 'add', `fd77::${i}/64`, 'dev', dev, 'nodad']);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
      ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev]);
    }
  } catch (e) {
    deleteNamespace(a);
    deleteNamespace(b);
    throw e;
  }
  return {
    a, b,
    start(ns, cmd, args) {
      const child = spawn('/usr/sbin/ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      return { child, output: () => out };
    },
    run(ns, cmd, args, input) {
      return new Promise((resolve) => {
        const child = spawn('/usr/sbin/ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
        child.stdin.end(input ?? '');
      });
    },
    remove() {
      deleteNamespace(a);
      deleteNamespace(b);
    },
  };
}

/** Resolves once `output()` contains `text`, or rejects after `timeoutMs` with the output. */
export async function waitForOutput(output: () => string, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" did not appear within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
