/**
 * Runs the real peers (BIND, Knot, NSD, Unbound) as foreground child processes on 127.x addresses,
 * and the real client tools (dig, kdig, drill, Debian's python3 with dnspython).
 *
 * Invariants: every peer started here is stopped by PID (`stop()`, and again at process exit);
 * peers are kept off the network (no DNSSEC root fetch, no NOTIFY, root hints only on 127.x).
 * Outside CI a missing peer skips its test; in CI (CI=true) it fails it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** Where each peer's binary lives on Debian. */
export const PEER_BINARIES = {
  named: '/usr/sbin/named',
  'named-checkzone': '/usr/bin/named-checkzone',
  knotd: '/usr/sbin/knotd',
  kzonecheck: '/usr/bin/kzonecheck',
  nsd: '/usr/sbin/nsd',
  unbound: '/usr/sbin/unbound',
  dig: '/usr/bin/dig',
  /** BIND's and Knot's dynamic update clients (RFC 2136). */
  nsupdate: '/usr/bin/nsupdate',
  knsupdate: '/usr/bin/knsupdate',
  /** BIND's nslookup (bind9-dnsutils), the reference for our nslookup. */
  nslookup: '/usr/bin/nslookup',
  /** Makes throwaway TLS certificates for DoT/DoH tests. */
  openssl: '/usr/bin/openssl',
  kdig: '/usr/bin/kdig',
  drill: '/usr/bin/drill',
  dnsperf: '/usr/bin/dnsperf',
  h2load: '/usr/bin/h2load',
  /** Debian's python3 (the one with python3-dnspython), not a pyenv one earlier on PATH. */
  python3: '/usr/bin/python3',
  /** Debian's prometheus package: `promtool check metrics` judges /metrics. */
  promtool: '/usr/bin/promtool',
  /** curl: DoH with --doh-url and plain GET/POST against our DoH listeners. */
  curl: '/usr/bin/curl',
  // DNSSEC tools (BIND's and ldns's), for signing interop.
  delv: '/usr/bin/delv',
  'dnssec-keygen': '/usr/bin/dnssec-keygen',
  'dnssec-signzone': '/usr/bin/dnssec-signzone',
  'dnssec-verify': '/usr/bin/dnssec-verify',
  'dnssec-dsfromkey': '/usr/bin/dnssec-dsfromkey',
  'dnssec-revoke': '/usr/bin/dnssec-revoke',
  'ldns-verify-zone': '/usr/bin/ldns-verify-zone',
  'ldns-signzone': '/usr/bin/ldns-signzone',
  // Knot's key manager and offline signer (signed zones in the validation hierarchy).
  keymgr: '/usr/sbin/keymgr',
  kzonesign: '/usr/bin/kzonesign',
  /** Samba's NetBIOS tools (samba-common-bin, samba), run only inside test network namespaces. */
  nmblookup: '/usr/bin/nmblookup',
  nmbd: '/usr/sbin/nmbd',
  /** iproute2, to build the network namespaces of the LLMNR and NetBIOS tests. */
  ip: '/usr/sbin/ip',
  /** dnstap (query log tests): a Frame Streams collector (fstrm-bin) and a dnstap reader (dnstap-ldns). */
  fstrm_capture: '/usr/bin/fstrm_capture',
  'dnstap-ldns': '/usr/bin/dnstap-ldns',
  /** Debian's chromium, driven headless by puppeteer-core for the dashboard tests (no downloaded browser). */
  chromium: '/usr/bin/chromium',
} as const;
export type Peer = keyof typeof PEER_BINARIES;

/**
 * True when every peer is installed. Otherwise skips the test (outside CI) or fails it (in CI),
 * so a CI run never passes by silently skipping interop.
 */
export function havePeers(t: TestContext, ...peers: Peer[]): boolean {
  const missing = peers.filter((p) => !existsSync(PEER_BINARIES[p]));
  if (missing.length === 0) return true;
  const why = `missing peer(s): ${missing.join(', ')} (run scripts/install-peers.sh)`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

/** True when Debian's python3 can import dnspython. */
export function haveDnspython(t: TestContext): boolean {
  if (!havePeers(t, 'python3')) return false;
  const r = spawnSync(PEER_BINARIES.python3, ['-c', 'import dns.message'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const why = 'python3-dnspython is not installed (run scripts/install-peers.sh)';
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

/** A fresh temporary folder, removed with `cleanup()`. */
export function tempDir(prefix = 'sovereign-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs a tool to completion and returns its output (never throws on a non-zero exit). */
export function runTool(peer: Peer | string, args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}):
  { status: number | null; stdout: string; stderr: string } {
  const bin = peer in PEER_BINARIES ? PEER_BINARIES[peer as Peer] : peer;
  const r = spawnSync(bin, args, {
    encoding: 'utf8', input: opts.input, cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** `runTool` without blocking the event loop (for peers that talk to a server in this process). */
export function runToolAsync(peer: Peer | string, args: string[], opts: { timeoutMs?: number } = {}):
  Promise<{ status: number | null; stdout: string; stderr: string }> {
  const bin = peer in PEER_BINARIES ? PEER_BINARIES[peer as Peer] : peer;
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code, stdout, stderr });
    });
  });
}

/** A self-signed P-256 certificate for `dnsName` and `ip` (2 days), as key.pem and cert.pem in `dir`. */
export function selfSignedCert(dir: string, dnsName: string, ip: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = runTool('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', `/CN=${dnsName}`, '-addext', `subjectAltName=DNS:${dnsName},IP:${ip}`]);
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { key, cert };
}

/**
 * Gives `lo` the address so that BIND, Knot, NSD and Unbound can bind it (our own sockets bind any
 * 127.x without this). Needs root, as on CI; returns false when it could not.
 */
export function addLoopbackAddress(address: string): boolean {
  if (address === '127.0.0.1' || address === '::1') return true;
  const shown = spawnSync('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  if (shown.stdout?.includes(` ${address}/`)) return true;
  const r = spawnSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { encoding: 'utf8' });
  return r.status === 0 || (r.stderr ?? '').includes('File exists');
}

/** A free port on 127.0.0.1 for both UDP and TCP, chosen from a range by the caller's seed. */
let nextPort = 20000 + (process.pid % 20000);
export function pickPort(): number {
  nextPort = nextPort >= 60000 ? 20000 : nextPort + 1;
  return nextPort;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export interface RunningPeer {
  readonly pid: number;
  /** What the process printed so far (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Stops the process by PID (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void>;
}

/** A DNS SOA query for `zone` (header + question), for readiness probes. */
function probeQuery(zone: string): Buffer {
  const labels = zone === '.' ? [] : zone.replace(/\.$/, '').split('.');
  const parts = [Buffer.from([0x51, 0x7e, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, 6, 0, 1]));
  return Buffer.concat(parts);
}

/** Resolves true once address:port answers a UDP query (any reply counts), false after `timeoutMs`. */
export async function waitForDns(address: string, port: number, zone = '.', timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const q = probeQuery(zone);
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      const timer = setTimeout(() => { s.close(); resolve(false); }, 200);
      s.on('error', () => { clearTimeout(timer); s.close(); resolve(false); });
      s.on('message', () => { clearTimeout(timer); s.close(); resolve(true); });
      s.send(q, port, address);
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts a peer in the foreground and waits until it answers on address:port.
 * Throws with the peer's own output when it exits or never answers.
 */
export async function startPeer(peer: Peer | string, args: string[], ready: { address: string; port: number; zone?: string },
  opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunningPeer> {
  const bin = peer in PEER_BINARIES ? PEER_BINARIES[peer as Peer] : peer;
  const child = spawn(bin, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; running.delete(child); resolve(); }));
  const handle: RunningPeer = {
    pid: child.pid ?? -1,
    output: () => out,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(t);
    },
  };
  const up = await Promise.race([waitForDns(ready.address, ready.port, ready.zone ?? '.', opts.timeoutMs ?? 15_000), exit.then(() => false)]);
  if (!up) {
    await handle.stop();
    throw new Error(`${peer} did not come up on ${ready.address}:${ready.port}:\n${out}`);
  }
  return handle;
}

export interface ZoneSpec {
  name: string;
  /** Absolute path of the master file. */
  file: string;
}

/**
 * BIND's `options { }` for a test instance: on address:port (IPv4 only), files in `dir`, no
 * recursion, validation or NOTIFY, full responses unless `extra` sets minimal-responses; `extra`
 * (whole statements) goes inside.
 */
export function namedOptions(dir: string, address: string, port: number, extra = ''): string {
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { ${address}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  ${extra.includes('minimal-responses') ? '' : 'minimal-responses no;'}
  ${extra}
};`;
}

/**
 * Knot's `server:` and `database:` sections for a test instance on address:port, files in `dir`;
 * `oneThread`: one UDP, one TCP and one background worker.
 */
export function knotServerConf(dir: string, address: string, port: number, oneThread = false): string {
  const threads = oneThread ? '  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n' : '';
  return `server:
  rundir: "${dir}"
  listen: ${address}@${port}
${threads}database:
  storage: "${dir}/db"`;
}

/** Starts BIND `named` serving `zones` authoritatively on address:port (no recursion, no DNSSEC, no NOTIFY). */
export async function startNamed(dir: string, address: string, port: number, zones: ZoneSpec[],
  extraOptions = ''): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, `${namedOptions(dir, address, port, `allow-transfer { any; };\n  ${extraOptions}`)}
${zones.map((z) => `zone "${z.name}" { type primary; file "${z.file}"; };`).join('\n')}
`);
  return startPeer('named', ['-g', '-u', 'root', '-c', conf], { address, port, zone: zones[0]?.name ?? '.' });
}

/**
 * Starts Knot serving `zones` on address:port (AXFR allowed from 127.0.0.0/8, like startNamed's allow-transfer).
 * `oneThread`: one UDP, one TCP and one background worker, as bench:auth runs NSD and Unbound.
 */
export async function startKnot(dir: string, address: string, port: number, zones: ZoneSpec[],
  opts: { oneThread?: boolean } = {}): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, `${knotServerConf(dir, address, port, opts.oneThread === true)}
acl:
  - id: loopback_transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "${dir}"
    acl: loopback_transfer
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
${zones.map((z) => `  - domain: ${z.name}\n    file: "${z.file}"`).join('\n')}
`);
  return startPeer('knotd', ['-c', conf], { address, port, zone: zones[0]?.name ?? '.' });
}

/**
 * NSD's `server:` and `remote-control:` sections for a test instance: on address:port, every file in
 * `dir`, no chroot, no rate limiting, one process. `extra` lines go into `server:`.
 */
export function nsdServerConf(dir: string, address: string, port: number, extra: string[] = []): string {
  return `server:
  ip-address: ${address}@${port}
  port: ${port}
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  logfile: "${dir}/nsd.log"
  rrl-ratelimit: 0
  server-count: 1
${extra.map((l) => `  ${l}\n`).join('')}remote-control:
  control-enable: no`;
}

/** Starts NSD serving `zones` on address:port, with rate limiting off. */
export async function startNsd(dir: string, address: string, port: number, zones: ZoneSpec[]): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, `${nsdServerConf(dir, address, port)}
${zones.map((z) => `zone:\n  name: ${z.name}\n  zonefile: "${z.file}"`).join('\n')}
`);
  return startPeer('nsd', ['-d', '-c', conf], { address, port, zone: zones[0]?.name ?? '.' });
}

/**
 * Unbound's `server:` clause opening for a test instance on address:port, files in `dir`: in the
 * foreground, no chroot or user change, loopback queries allowed both ways.
 */
export function unboundServerConf(dir: string, address: string, port: number): string {
  return `server:
  interface: ${address}@${port}
  port: ${port}
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  logfile: ""
  use-syslog: no
  do-daemonize: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow`;
}

/**
 * Starts Unbound as a recursive resolver on address:port whose root hints are `rootHints`
 * (a named.root-format file pointing at 127.x servers).
 */
export async function startUnbound(dir: string, address: string, port: number, rootHints: string,
  extra = ''): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'unbound.conf');
  writeFileSync(conf, `${unboundServerConf(dir, address, port)}
  root-hints: "${rootHints}"
  module-config: "iterator"
  qname-minimisation: yes
  num-threads: 1
${extra}
`);
  return startPeer('unbound', ['-d', '-c', conf], { address, port });
}
