/**
 * BIND, Knot and NSD as TSIG-keyed primaries or secondaries, for the transfer interop suites.
 * Each runs in the foreground on its own 127.x address and is stopped by PID (see peers.ts).
 */
import { execFile, spawn as spawnChild } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PEER_BINARIES, type RunningPeer, addLoopbackAddress, knotServerConf, namedOptions, nsdServerConf, startPeer } from './peers.js';

const run = promisify(execFile);

export interface PeerKey {
  name: string;
  algorithm: string;
  secret: string;
}

/** A zone on a peer: primary from `file`, or secondary of `primary` (address, port) into `file`. */
export interface PeerZone {
  name: string;
  file: string;
  primary?: { address: string; port: number; key?: string };
  /** Who may transfer from this peer (a key name), besides loopback. */
  allowKey?: string;
  /** Send NOTIFY for this zone to this address (from the peer's own address). */
  notify?: { address: string; port: number };
  /** BIND: dynamic updates allowed with this key. */
  allowUpdateKey?: string;
}

/** Runs a tool asynchronously (the event loop keeps serving an in-process Sovereign meanwhile). */
export async function tool(bin: string, args: string[], timeoutMs = 30_000, input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  if (input !== undefined) return toolWithInput(bin, args, timeoutMs, input);
  try {
    const r = await run(bin, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : 1 };
  }
}

export async function startNamedXfr(dir: string, address: string, port: number, keys: PeerKey[], zones: PeerZone[]): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, `${keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`).join('\n')}
${namedOptions(dir, address, port, `ixfr-from-differences yes;
  notify-source ${address};
  transfer-source ${address};`)}
${zones.map((z) => z.primary === undefined
    ? `zone "${z.name}" { type primary; file "${z.file}"; allow-transfer { ${z.allowKey !== undefined ? `key ${z.allowKey};` : '127.0.0.0/8;'} };${
      z.notify !== undefined ? ` notify explicit; also-notify { ${z.notify.address} port ${z.notify.port}; };` : ''}${
      z.allowUpdateKey !== undefined ? ` allow-update { key ${z.allowUpdateKey}; };` : ''} };`
    : `zone "${z.name}" { type secondary; file "${z.file}"; primaries { ${z.primary.address} port ${z.primary.port}${z.primary.key !== undefined ? ` key ${z.primary.key}` : ''}; };
    allow-transfer { 127.0.0.0/8; }; allow-notify { ${z.primary.address}; }; };`).join('\n')}
`);
  return startPeer('named', ['-g', '-u', 'root', '-c', conf], { address, port, zone: '.' });
}

export async function startKnotXfr(dir: string, address: string, port: number, keys: PeerKey[], zones: PeerZone[],
  opts: { zonefileLoad?: 'whole' | 'difference' } = {}): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'knot.conf');
  const remotes = zones.filter((z) => z.primary !== undefined);
  writeFileSync(conf, `${knotServerConf(dir, address, port)}
${keys.length > 0 ? `key:\n${keys.map((k) => `  - id: ${k.name}\n    algorithm: ${k.algorithm}\n    secret: ${k.secret}`).join('\n')}` : ''}
${remotes.length > 0 || zones.some((z) => z.notify !== undefined) ? `remote:\n${[
    ...remotes.map((z, i) => `  - id: primary${i}\n    address: ${z.primary!.address}@${z.primary!.port}\n    via: ${address}${z.primary!.key !== undefined ? `\n    key: ${z.primary!.key}` : ''}`),
    ...zones.filter((z) => z.notify !== undefined).map((z, i) => `  - id: notify${i}\n    address: ${z.notify!.address}@${z.notify!.port}\n    via: ${address}`),
  ].join('\n')}` : ''}
acl:
  - id: loopback
    address: 127.0.0.0/8
    action: [transfer, notify]
${keys.map((k) => `  - id: key_${k.name}\n    key: ${k.name}\n    action: [transfer, notify]`).join('\n')}
template:
  - id: default
    storage: "${dir}"
    zonefile-sync: 0
    journal-content: changes${opts.zonefileLoad !== undefined ? `\n    zonefile-load: ${opts.zonefileLoad}` : ''}
    semantic-checks: off
zone:
${zones.map((z) => {
    const i = remotes.indexOf(z);
    const acl = ['loopback', ...keys.map((k) => `key_${k.name}`)].join(', ');
    const n = zones.filter((x) => x.notify !== undefined).indexOf(z);
    return `  - domain: ${z.name}\n    file: "${z.file}"\n    acl: [${acl}]${i >= 0 ? `\n    master: primary${i}` : ''}${n >= 0 ? `\n    notify: notify${n}` : ''}`;
  }).join('\n')}
`);
  return startPeer('knotd', ['-c', conf], { address, port, zone: '.' });
}

export async function startNsdXfr(dir: string, address: string, port: number, keys: PeerKey[], zones: PeerZone[]): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, `${nsdServerConf(dir, address, port, ['verbosity: 2'])}
${keys.map((k) => `key:\n  name: "${k.name}"\n  algorithm: ${k.algorithm}\n  secret: "${k.secret}"`).join('\n')}
${zones.map((z) => `zone:\n  name: ${z.name}\n  zonefile: "${z.file}"\n  provide-xfr: 127.0.0.0/8 NOKEY${z.primary !== undefined
    ? `\n  request-xfr: AXFR ${z.primary.address}@${z.primary.port} ${z.primary.key ?? 'NOKEY'}\n  allow-notify: ${z.primary.address} ${z.primary.key ?? 'NOKEY'}`
    : ''}`).join('\n')}
`);
  return startPeer('nsd', ['-d', '-c', conf], { address, port, zone: '.' });
}

/** The SOA serial `address:port` serves for `zone`, or undefined (not loaded, SERVFAIL, no answer). */
export async function servedSerial(address: string, port: number, zone: string): Promise<number | undefined> {
  const r = await tool(PEER_BINARIES.dig, [`@${address}`, '-p', String(port), zone, 'SOA', '+short', '+norec', '+time=1', '+tries=1']);
  const m = /^\S+ \S+ (\d+) /m.exec(r.stdout);
  return m === null ? undefined : Number(m[1]);
}

/** Waits until the peer serves `zone` with `serial` (true), or `timeoutMs` passes (false). */
export async function waitForSerial(address: string, port: number, zone: string, serial: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await servedSerial(address, port, zone) === serial) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** The records of an AXFR by `dig` (sorted presentation lines, TSIG lines left out), or the failure text. */
export async function axfrLines(address: string, port: number, zone: string, key?: PeerKey): Promise<string[]> {
  const args = [`@${address}`, '-p', String(port), zone, 'AXFR', '+nocmd', '+nostats', '+nocomments'];
  if (key !== undefined) args.push('-y', `${key.algorithm}:${key.name}:${key.secret}`);
  const r = await tool(PEER_BINARIES.dig, args, 120_000);
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\tTSIG\t/.test(l));
  // The SOA comes twice (first and last): keep one, so sets compare.
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of lines) {
    const norm = l.replace(/\s+/g, ' ').toLowerCase();
    if (seen.has(norm)) continue;
    seen.add(norm);
    out.push(norm);
  }
  if (r.stdout.includes('Transfer failed') || r.stdout.includes("Couldn't verify")) out.push('; transfer failed');
  return out.sort();
}

/** `tool` with `input` on standard input (nsupdate, knsupdate scripts). */
function toolWithInput(bin: string, args: string[], timeoutMs: number, input: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawnChild(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => { clearTimeout(timer); resolve({ stdout, stderr: stderr + String(err), code: 127 }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, code: code ?? 1 }); });
    child.stdin!.end(input);
  });
}
