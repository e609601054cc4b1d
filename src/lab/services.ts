/**
 * What runs inside the lab's namespaces: Sovereign (authoritative servers, the ISP's recursive
 * resolver, the gateway's forwarder, the clients' LLMNR/NetBIOS responders) and, where installed,
 * NSD and BIND for the zones the topology gives them. Each is a child process started with
 * `ip netns exec NS ...` (which execs, so the recorded PID is the server's own), detached, its
 * output in a log file; PIDs and everything `lab down` needs are in the state file
 * (<state dir>/<prefix>/state.json, the state dir being /run/sovereign-lab or $SOVEREIGN_LAB_DIR).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IP } from './netns.js';
import type { LabServer, Topology } from './topology.js';
import { labDs, wrongDs } from './dnssec.js';
import { type LabZone, labZones, rootHintsText, zoneText } from './zones.js';

/** The sovereign entry point (bin/sovereign.js), three levels above dist/src/lab. */
export const SOVEREIGN_BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
export const NSD = '/usr/sbin/nsd';
export const NAMED = '/usr/sbin/named';
export const NMBD = '/usr/sbin/nmbd';

export interface LabProcess {
  node: string;
  ns: string;
  software: 'sovereign' | 'nsd' | 'bind' | 'nmbd';
  pid: number;
  dir: string;
  /** The Sovereign config file (control commands take it with -c). */
  config?: string;
  args: string[];
}

export interface LabState {
  prefix: string;
  dir: string;
  topology: Topology;
  processes: LabProcess[];
  /** Faults injected by `lab break` and not yet repaired. */
  broken: string[];
  upMs?: number;
}

export function stateRoot(): string {
  return process.env.SOVEREIGN_LAB_DIR ?? '/run/sovereign-lab';
}

export function labDir(prefix: string): string {
  return join(stateRoot(), prefix.replace(/[^A-Za-z0-9_.-]/g, '_'));
}

export function readState(prefix: string): LabState | undefined {
  const f = join(labDir(prefix), 'state.json');
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as LabState;
}

export function writeState(s: LabState): void {
  mkdirSync(s.dir, { recursive: true });
  writeFileSync(join(s.dir, 'state.json'), JSON.stringify(s, null, 2) + '\n');
}

export function nsOf(prefix: string, node: string): string {
  return prefix + node;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `cmd args` inside `ns`, detached, output appended to DIR/log. */
function startIn(ns: string, dir: string, cmd: string, args: string[]): number {
  const log = openSync(join(dir, 'log'), 'a');
  const child = spawn(IP, ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd} in ${ns}`);
  return child.pid;
}

function yamlList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
}

/** A Sovereign config for a lab node: one worker, control on the namespace's loopback. */
function sovereignConfig(dir: string, listen: string[], body: string, control = true, log = 'level: info, format: text'): string {
  return `listen: ${yamlList(listen)}
workers: 1
pidFile: ${JSON.stringify(join(dir, 'sovereign.pid'))}
control: { enabled: ${control}, listen: "127.0.0.1:8053", tokenFile: ${JSON.stringify(join(dir, 'control.token'))} }
log: { ${log} }
${body}`;
}

/**
 * The ISP resolver logs JSON at debug level: its trace of every upstream exchange (lines whose
 * msg is RESOLVER_UPSTREAM_MSG) is what `lab trace` shows as the resolver's hops.
 */
export const RESOLVER_LOG = 'level: debug, format: json';

export interface ServiceSpec {
  node: string;
  software: LabProcess['software'];
  /** Writes the node's files into its directory; returns the command line. */
  prepare(dir: string): { cmd: string; args: string[]; config?: string; pidFile: string };
}

/** The software a server really runs: BIND/NSD when installed, else Sovereign. */
export function effectiveSoftware(s: LabServer): 'sovereign' | 'nsd' | 'bind' {
  if (s.software === 'nsd' && existsSync(NSD)) return 'nsd';
  if (s.software === 'bind' && existsSync(NAMED)) return 'bind';
  return 'sovereign';
}

function zoneFileName(z: LabZone): string {
  return z.name === '.' ? 'root.zone' : `${z.name.slice(0, -1)}.zone`;
}

/** Zones signed in the lab: those Sovereign serves, when the topology asks for DNSSEC. */
export function signedZones(t: Topology): LabZone[] {
  return t.internet.dnssec ? labZones(t).filter((z) => effectiveSoftware(z.server) === 'sovereign') : [];
}

export interface AuthoritativeOptions {
  /** Delegations pointed elsewhere (zone -> address): `lab break lame-delegation`. */
  delegateTo?: Map<string, string>;
  /** Child zones whose DS is published wrong: `lab break wrong-ds`. */
  wrongDs?: Set<string>;
  /** Serve unsigned (the attacker has no keys). */
  unsigned?: boolean;
}

/** The authoritative server of `s`: its zones written from the topology, served by its software. */
export function authoritativeSpec(t: Topology, s: LabServer, o: AuthoritativeOptions = {}): ServiceSpec {
  const software = effectiveSoftware(s);
  return {
    node: s.name, software,
    prepare(dir) {
      const all = labZones(t);
      const mine = all.filter((z) => z.server.name === s.name);
      const keyDir = join(dir, '..', 'keys');
      const signed = o.unsigned === true ? [] : signedZones(t);
      const ds = labDs(keyDir, signed);
      for (const z of o.wrongDs ?? []) if (ds.has(z)) ds.set(z, wrongDs(ds.get(z)!));
      const files = mine.map((z) => {
        const file = join(dir, zoneFileName(z));
        writeFileSync(file, zoneText(all, z, { delegateTo: o.delegateTo, ds }));
        return { name: z.name, file, signed: signed.some((x) => x.name === z.name) };
      });
      if (software === 'nsd') {
        const conf = join(dir, 'nsd.conf');
        writeFileSync(conf, `server:
  ip-address: ${s.address}
  port: 53
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  rrl-ratelimit: 0
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
${files.map((f) => `zone:\n  name: "${f.name}"\n  zonefile: "${f.file}"`).join('\n')}
`);
        return { cmd: NSD, args: ['-d', '-c', conf], pidFile: join(dir, 'nsd.pid') };
      }
      if (software === 'bind') {
        const conf = join(dir, 'named.conf');
        writeFileSync(conf, `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port 53 { ${s.address}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
${files.map((f) => `zone "${f.name}" { type primary; file "${f.file}"; };`).join('\n')}
`);
        return { cmd: NAMED, args: ['-g', '-u', 'root', '-c', conf], pidFile: join(dir, 'named.pid') };
      }
      const config = join(dir, 'sovereign.yaml');
      writeFileSync(config, sovereignConfig(dir, [`${s.address}:53`],
        `zones:\n${files.map((f) => `  - { name: ${JSON.stringify(f.name)}, file: ${JSON.stringify(f.file)}${
          f.signed ? `, dnssec: { policy: default, keyDir: ${JSON.stringify(keyDir)} }` : ''} }`).join('\n')}\n`));
      return { cmd: process.execPath, args: [SOVEREIGN_BIN, 'serve', '-c', config], config, pidFile: join(dir, 'sovereign.pid') };
    },
  };
}

/** The services of the whole lab, in start order. */
export function labServices(t: Topology): ServiceSpec[] {
  const specs: ServiceSpec[] = t.internet.servers.map((s) => authoritativeSpec(t, s));
  specs.push({
    node: 'isp', software: 'sovereign',
    prepare(dir) {
      const hints = join(dir, 'root.hints');
      writeFileSync(hints, rootHintsText(labZones(t)));
      const config = join(dir, 'sovereign.yaml');
      // The trust anchor is the lab root's DS (never the real root's); an unsigned lab root: no validation.
      const root = signedZones(t).filter((z) => z.name === '.');
      const anchor = join(dir, 'root.ds');
      writeFileSync(anchor, [...labDs(join(dir, '..', 'keys'), root)].map(([z, ds]) => `${z} 86400 IN DS ${ds}\n`).join(''));
      const dnssec = root.length > 0 ? `true, trustAnchors: [${JSON.stringify(anchor)}]` : 'false';
      writeFileSync(config, sovereignConfig(dir, [`${t.isp.resolver}:53`], `resolver: { enabled: true, rootHints: ${JSON.stringify(hints)}, dnssec: ${dnssec} }
allowRecursion: ${yamlList(['127.0.0.0/8', '192.168.0.0/16', `${t.isp.resolver}/${t.isp.prefixLength}`, ...t.internet.routers])}
`, true, RESOLVER_LOG));
      return { cmd: process.execPath, args: [SOVEREIGN_BIN, 'serve', '-c', config], config, pidFile: join(dir, 'sovereign.pid') };
    },
  });
  specs.push({
    node: t.gateway.name, software: 'sovereign',
    prepare(dir) {
      const config = join(dir, 'sovereign.yaml');
      writeFileSync(config, sovereignConfig(dir, [`${t.lan.gateway}:53`], `forwarders: ["${t.isp.resolver}"]
forwarding: { timeoutMs: 1000, maxAttempts: 2, maxFailures: 100 }
`));
      return { cmd: process.execPath, args: [SOVEREIGN_BIN, 'serve', '-c', config], config, pidFile: join(dir, 'sovereign.pid') };
    },
  });
  for (const c of t.clients) {
    const nmbd = c.netbios && c.netbiosServer === 'nmbd' && existsSync(NMBD);
    if (nmbd) specs.push(nmbdSpec(c.name));
    const netbios = c.netbios && !nmbd;
    if (!c.llmnr && !netbios) continue;
    specs.push({
      node: c.name, software: 'sovereign',
      prepare(dir) {
        const config = join(dir, 'sovereign.yaml');
        writeFileSync(config, sovereignConfig(dir, ['127.0.0.1:5300'], `llmnr: { enabled: ${c.llmnr}, names: [${c.name}], interfaces: [eth0] }
netbios: { enabled: ${netbios}, names: [${c.name.toUpperCase().slice(0, 15)}], interfaces: [eth0] }
`, false));
        return { cmd: process.execPath, args: [SOVEREIGN_BIN, 'serve', '-c', config], config, pidFile: join(dir, 'sovereign.pid') };
      },
    });
  }
  return specs;
}

/** Samba's nmbd answering a client's NetBIOS name (broadcast only, its own directories, one interface). */
function nmbdSpec(node: string): ServiceSpec {
  return {
    node, software: 'nmbd',
    prepare(dir) {
      const base = join(dir, 'samba');
      for (const d of ['lock', 'state', 'cache', 'private', 'pid', 'ncalrpc']) mkdirSync(join(base, d), { recursive: true });
      const conf = join(base, 'smb.conf');
      writeFileSync(conf, `[global]
  workgroup = LAB
  netbios name = ${node.toUpperCase().slice(0, 15)}
  interfaces = eth0
  bind interfaces only = yes
  name resolve order = bcast
  lock directory = ${base}/lock
  state directory = ${base}/state
  cache directory = ${base}/cache
  private dir = ${base}/private
  pid directory = ${base}/pid
  ncalrpc dir = ${base}/ncalrpc
  log file = ${base}/log.%m
`);
      return { cmd: NMBD, args: ['-F', '--debug-stdout', '--no-process-group', '-s', conf], pidFile: join(base, 'pid', 'nmbd.pid') };
    },
  };
}

/** Starts one service in its node's namespace (files under DIR/NODE); returns its record once its PID file is written. */
export async function startService(state: LabState, spec: ServiceSpec, timeoutMs = 15_000): Promise<LabProcess> {
  const dir = join(state.dir, spec.node);
  mkdirSync(dir, { recursive: true });
  const p = spec.prepare(dir);
  rmSync(p.pidFile, { force: true });
  const ns = nsOf(state.prefix, spec.node);
  const pid = startIn(ns, dir, p.cmd, p.args);
  const proc: LabProcess = { node: spec.node, ns, software: spec.software, pid, dir, config: p.config, args: [p.cmd, ...p.args] };
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(p.pidFile)) {
    if (!alive(pid) || Date.now() > deadline) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${spec.software} on ${spec.node} did not start (${alive(pid) ? 'no PID file' : 'exited'}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** Stops a lab process by its PID (TERM, then KILL after a grace period). */
export async function stopProcess(p: LabProcess, graceMs = 3000): Promise<void> {
  if (!alive(p.pid)) return;
  try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(p.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(p.pid)) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

export function isAlive(p: LabProcess): boolean {
  return alive(p.pid);
}
