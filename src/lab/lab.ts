/**
 * `lab up`, `lab down`, `lab status`, `lab exec` and `lab query`: building the lab's network
 * (netns.ts), its NAT (nat.ts) and its servers (services.ts), and tearing it all down again.
 *
 *   clients --(lan bridge in gw)-- gw [masquerade] --wan-- core (router: bridges isp, inet)
 *   isp resolver on the isp segment; root, TLDs, authoritative servers, attacker on inet
 *
 * Invariants: `down` is idempotent and also finds a crashed lab's leftovers by namespace prefix;
 * `up` on a prefix that still has namespaces removes them first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IP, addBridge, addNamespace, deleteNamespace, ipIn, labPrerequisites, listNamespaces, plug } from './netns.js';
import { TRACKING_RULESET, gatewayRuleset, loadRuleset } from './nat.js';
import type { ProbeRequest } from './probe.js';
import { type LabState, SOVEREIGN_BIN, isAlive, labDir, labServices, nsOf, readState, startService, stopProcess, writeState } from './services.js';
import type { StubResult, StubSource } from './stub.js';
import type { Topology } from './topology.js';

export const DEFAULT_PREFIX = 'sov-lab-';

function subnetOf(address: string, len: number): number {
  const n = address.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  return len === 0 ? 0 : (n & (~0 << (32 - len))) >>> 0;
}

/** The router address (ADDRESS/LEN) of the Internet segment holding `address`. */
function routerFor(t: Topology, address: string): { router: string; len: number } {
  for (const r of t.internet.routers) {
    const [a, l] = r.split('/');
    if (subnetOf(a!, Number(l)) === subnetOf(address, Number(l))) return { router: a!, len: Number(l) };
  }
  throw new Error(`topology: ${address} is in none of internet.routers (${t.internet.routers.join(', ')})`);
}

function broadcastOf(address: string, len: number): string {
  const n = (subnetOf(address, len) | (len === 32 ? 0 : (~0 >>> len))) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function lanBroadcast(t: Topology): string {
  return broadcastOf(t.lan.gateway, t.lan.prefixLength);
}

/** Builds namespaces, links, addresses, routes and nftables of the topology. */
function buildNetwork(prefix: string, t: Topology): void {
  const ns = (n: string): string => nsOf(prefix, n);
  addNamespace(ns('core'), true);
  addBridge(ns('core'), 'isp', [`${t.isp.router}/${t.isp.prefixLength}`]);
  addBridge(ns('core'), 'inet', t.internet.routers);
  addNamespace(ns('isp'));
  plug(ns('isp'), 'eth0', `${t.isp.resolver}/${t.isp.prefixLength}`, ns('core'), 'isp', 'p-isp');
  ipIn(ns('isp'), 'route', 'add', 'default', 'via', t.isp.router);
  const gw = ns(t.gateway.name);
  addNamespace(gw, true);
  plug(gw, 'wan', `${t.gateway.wan}/${t.isp.prefixLength}`, ns('core'), 'isp', 'p-gw');
  ipIn(gw, 'route', 'add', 'default', 'via', t.isp.router);
  addBridge(gw, 'lan', [`${t.lan.gateway}/${t.lan.prefixLength}`]);
  t.clients.forEach((c, i) => {
    addNamespace(ns(c.name));
    plug(ns(c.name), 'eth0', `${c.address}/${t.lan.prefixLength}`, gw, 'lan', `p-c${i}`);
    ipIn(ns(c.name), 'route', 'add', 'default', 'via', t.lan.gateway);
  });
  const servers = [...t.internet.servers.map((s) => ({ name: s.name, address: s.address })), { name: 'attacker', address: t.internet.attacker }];
  servers.forEach((s, i) => {
    const { router, len } = routerFor(t, s.address);
    addNamespace(ns(s.name));
    plug(ns(s.name), 'eth0', `${s.address}/${len}`, ns('core'), 'inet', `p-s${i}`);
    ipIn(ns(s.name), 'route', 'add', 'default', 'via', router);
  });
  loadRuleset(gw, gatewayRuleset(t));
  loadRuleset(ns('isp'), TRACKING_RULESET);
  // What `ip netns exec` mounts over /etc in each node (iproute2's /etc/netns/NAME/ convention):
  // tools run there (`lab exec laptop -- sovereign doctor`) see the node's resolver and hosts file.
  const resolvConf = (node: string, server: string, hosts?: string[]): void => {
    const d = join(ETC_NETNS, ns(node));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'resolv.conf'), `# sovereign lab node ${node}\nnameserver ${server}\n`);
    if (hosts !== undefined) writeFileSync(join(d, 'hosts'), ['127.0.0.1 localhost', '::1 localhost', ...hosts].join('\n') + '\n');
  };
  for (const c of t.clients) resolvConf(c.name, t.lan.gateway, c.hosts);
  resolvConf(t.gateway.name, t.lan.gateway);
  for (const node of ['core', 'isp', 'attacker', ...t.internet.servers.map((s) => s.name)]) resolvConf(node, t.isp.resolver);
}

/** Where iproute2 keeps per-namespace files bind-mounted over /etc by `ip netns exec`. */
const ETC_NETNS = '/etc/netns';

/** Every namespace of the lab, as `down` removes them. */
export function labNamespaces(prefix: string): string[] {
  return listNamespaces(prefix);
}

export interface UpResult {
  state: LabState;
  /** Milliseconds from the start of `up` to the first answer from a client. */
  firstAnswerMs: number;
  firstAnswer: StubResult;
}

/** `lab up`: builds everything, starts the servers, waits for a client's first answer. */
export async function labUp(t: Topology, prefix = DEFAULT_PREFIX, now = Date.now): Promise<UpResult> {
  const why = labPrerequisites();
  if (why !== undefined) throw new Error(why);
  const t0 = now();
  const old = readState(prefix);
  if (old !== undefined && old.processes.some(isAlive)) throw new Error(`a lab with prefix "${prefix}" is up already (\`sovereign lab down\` first)`);
  await labDown(prefix);
  const dir = labDir(prefix);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const state: LabState = { prefix, dir, topology: t, processes: [], broken: [] };
  writeState(state);
  try {
    buildNetwork(prefix, t);
    for (const c of t.clients) {
      mkdirSync(join(dir, c.name), { recursive: true });
      writeFileSync(join(dir, c.name, 'hosts'), c.hosts.join('\n') + '\n');
    }
    // DNS first (what the first answer needs); the clients' LLMNR/NetBIOS responders once it came.
    const clients = new Set(t.clients.map((c) => c.name));
    const services = labServices(t);
    state.processes = await Promise.all(services.filter((s) => !clients.has(s.node)).map((s) => startService(state, s)));
    writeState(state);
    const first = firstName(t);
    let answer: StubResult;
    for (;;) {
      answer = await labQuery(state, t.clients[0]!.name, first, 'A', { cache: false, llmnr: false, netbios: false, hosts: false });
      if (answer.source === 'dns' || now() - t0 > 20_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    state.upMs = now() - t0;
    state.processes.push(...await Promise.all(services.filter((s) => clients.has(s.node)).map((s) => startService(state, s))));
    writeState(state);
    return { state, firstAnswerMs: state.upMs, firstAnswer: answer };
  } catch (e) {
    await labDown(prefix);
    throw e;
  }
}

/** The first A name of the topology's leaf zones (www.example.com. by default). */
export function firstName(t: Topology): string {
  for (const s of t.internet.servers) {
    for (const z of s.zones) {
      const r = z.records.find((x) => /\sA\s/.test(` ${x} `) && !x.startsWith('@'));
      if (r !== undefined) return `${r.split(/\s+/)[0]}.${z.name.replace(/\.$/, '')}.`;
    }
  }
  return t.internet.servers[0]!.zones[0]!.name;
}

/**
 * `lab down`: stops the recorded processes by PID, then kills whatever still runs in a namespace
 * with the prefix (a crashed `lab up`, a state file in another state directory or lost) and
 * deletes the namespaces and the state. Counts every process it stopped either way. Idempotent.
 */
export async function labDown(prefix = DEFAULT_PREFIX): Promise<{ stopped: number; namespaces: number }> {
  const state = readState(prefix);
  const stopped = new Set<number>();
  if (state !== undefined) {
    await Promise.all(state.processes.map(async (p) => {
      if (isAlive(p)) stopped.add(p.pid);
      await stopProcess(p, 1500);
    }));
  }
  const names = labNamespaces(prefix);
  for (const n of names) for (const pid of deleteNamespace(n)) stopped.add(pid);
  if (existsSync(ETC_NETNS)) {
    for (const d of readdirSync(ETC_NETNS)) if (d.startsWith(prefix)) rmSync(join(ETC_NETNS, d), { recursive: true, force: true });
  }
  rmSync(labDir(prefix), { recursive: true, force: true });
  return { stopped: stopped.size, namespaces: names.length };
}

export function requireState(prefix: string): LabState {
  const s = readState(prefix);
  if (s === undefined) throw new Error(`no lab with prefix "${prefix}" is up (\`sovereign lab up\` first)`);
  return s;
}

/** Runs a command in a lab node's namespace; resolves with its output (the caller's event loop keeps running). */
export function execInNode(state: LabState, node: string, cmd: string[], timeoutMs = 60_000, inherit = false):
  Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const ns = nsOf(state.prefix, node);
    if (!labNamespaces(state.prefix).includes(ns)) {
      reject(new Error(`no lab node "${node}" (nodes: ${labNamespaces(state.prefix).map((n) => n.slice(state.prefix.length)).join(', ')})`));
      return;
    }
    const child = spawn(IP, ['netns', 'exec', ns, ...cmd], { stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** Runs a probe (probe.ts) inside a node's namespace and returns its JSON result. */
export async function probeIn<T>(state: LabState, node: string, req: ProbeRequest): Promise<T> {
  const r = await execInNode(state, node, [process.execPath, SOVEREIGN_BIN, 'lab', 'probe', JSON.stringify(req)]);
  if (r.status !== 0) throw new Error(`probe in ${node} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** `lab query CLIENT NAME [TYPE]`: the client's stub order (stub.ts), run in its namespace. */
export async function labQuery(state: LabState, client: string, name: string, type = 'A',
  use: Partial<Record<StubSource, boolean>> = {}): Promise<StubResult> {
  const t = state.topology;
  const c = t.clients.find((x) => x.name === client);
  if (c === undefined) throw new Error(`no lab client "${client}" (clients: ${t.clients.map((x) => x.name).join(', ')})`);
  return probeIn<StubResult>(state, client, {
    op: 'stub', name, type, hostsFile: join(state.dir, client, 'hosts'), cacheFile: join(state.dir, client, 'stub-cache.json'),
    server: t.lan.gateway, broadcast: lanBroadcast(t), address: c.address,
    use: { hosts: true, cache: true, dns: true, llmnr: true, netbios: true, ...use },
  });
}

/** Forgets the stub caches of every client (after a fault is injected or repaired). */
export function clearStubCaches(state: LabState): void {
  for (const c of state.topology.clients) rmSync(join(state.dir, c.name, 'stub-cache.json'), { force: true });
}

export interface NodeStatus { node: string; software: string; pid: number; alive: boolean }

export function labStatus(prefix: string): { up: boolean; namespaces: string[]; processes: NodeStatus[]; broken: string[]; upMs?: number } {
  const s = readState(prefix);
  const namespaces = labNamespaces(prefix);
  const processes = (s?.processes ?? []).map((p) => ({ node: p.node, software: p.software, pid: p.pid, alive: isAlive(p) }));
  return { up: s !== undefined && processes.every((p) => p.alive), namespaces, processes, broken: s?.broken ?? [], upMs: s?.upMs };
}
