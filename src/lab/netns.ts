/**
 * Network namespaces, veth pairs, bridges, addresses and routes of the lab, all through `ip`
 * (iproute2). Invariants: every namespace's name starts with the lab's prefix (so `lab down`
 * finds leftovers after a crash); links are created directly inside lab namespaces (`ip link add
 * ... netns A type veth peer ... netns B`), so the host's own interfaces, routes and nftables
 * ruleset are never touched; interface names are short and fixed inside each namespace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const IP = '/usr/sbin/ip';

/** Runs a tool to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** `ip -n NS ...` */
export function ipIn(ns: string, ...args: string[]): string {
  return run(IP, ['-n', ns, ...args]);
}

/** Runs a command inside a namespace (`ip netns exec`). */
export function execIn(ns: string, cmd: string, args: string[], input?: string): string {
  return run(IP, ['netns', 'exec', ns, cmd, ...args], input);
}

/** Tools the lab needs, with the Debian package each comes from; the missing ones. */
export function missingTools(): string[] {
  const tools: [string, string][] = [['/usr/sbin/ip', 'iproute2'], ['/usr/sbin/nft', 'nftables'], ['/usr/sbin/conntrack', 'conntrack']];
  return tools.filter(([p]) => !existsSync(p)).map(([p, pkg]) => `${p} (apt-get install ${pkg})`);
}

/** Why the lab cannot be built here, or undefined. */
export function labPrerequisites(): string | undefined {
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, veth pairs and nftables): run it with sudo';
  const missing = missingTools();
  if (missing.length > 0) return `missing tools: ${missing.join(', ')}`;
  return undefined;
}

export function listNamespaces(prefix: string): string[] {
  const out = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.length > 0 && n.startsWith(prefix));
}

/** Kills every process running in a lab namespace (all of them were started by the lab); returns their PIDs. */
export function killAllIn(ns: string): number[] {
  const pids = spawnSync(IP, ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  const killed: number[] = [];
  for (const p of pids.split('\n')) {
    if (/^\d+$/.test(p)) {
      try {
        process.kill(Number(p), 'SIGKILL');
        killed.push(Number(p));
      } catch { /* gone */ }
    }
  }
  return killed;
}

/** Kills what still runs in the namespace and deletes it; quiet when it is gone already. Returns the PIDs killed. */
export function deleteNamespace(ns: string): number[] {
  const killed = killAllIn(ns);
  spawnSync(IP, ['netns', 'del', ns]);
  return killed;
}

export function addNamespace(ns: string, forwarding = false): void {
  run(IP, ['netns', 'add', ns]);
  ipIn(ns, 'link', 'set', 'lo', 'up');
  if (forwarding) execIn(ns, '/usr/sbin/sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
}

export function addBridge(ns: string, bridge: string, address?: string[]): void {
  ipIn(ns, 'link', 'add', bridge, 'type', 'bridge');
  for (const a of address ?? []) ipIn(ns, 'addr', 'add', a, 'dev', bridge);
  ipIn(ns, 'link', 'set', bridge, 'up');
}

/**
 * Plugs `ns` into `bridge` of `bridgeNs` with a veth pair: `dev` in `ns` (with `address`),
 * `port` in `bridgeNs` (enslaved to the bridge).
 */
export function plug(ns: string, dev: string, address: string, bridgeNs: string, bridge: string, port: string): void {
  run(IP, ['link', 'add', port, 'netns', bridgeNs, 'type', 'veth', 'peer', 'name', dev, 'netns', ns]);
  ipIn(bridgeNs, 'link', 'set', port, 'master', bridge);
  ipIn(bridgeNs, 'link', 'set', port, 'up');
  ipIn(ns, 'addr', 'add', address, 'brd', '+', 'dev', dev);
  ipIn(ns, 'link', 'set', dev, 'up');
}
