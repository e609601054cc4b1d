/**
 * `npm run bench:update`: acknowledged, durable dynamic updates per second (RFC 2136), Sovereign
 * and BIND `named` in the same run from the same starting zone. One client, one update at a time
 * (the next is sent when the previous NOERROR came back), each adding one A record at a new name,
 * over UDP as nsupdate sends them, TSIG-signed (hmac-sha256) as real updaters do. Both are
 * durable: Sovereign fdatasyncs its journal once before each NOERROR; BIND 9.18 fsyncs its
 * zone.jnl twice per update (after the transaction, after the header; `strace -f -e fsync` on
 * named shows 2 per update, made by its isc-net thread). A third line runs Sovereign with
 * `journalFsync: false` (journal left in the OS cache) to show what the flush costs.
 *
 * Prints per server: updates/s (median of BENCH_ROUNDS rounds of BENCH_UPDATES updates; the
 * order of the servers turns each round), CPU µs per update (the server process's user+sys over
 * the round), the ratios, then `uptime`. BENCH_SERVERS picks lines (e.g. `sovereign,bind`).
 * Target (issue 16): Sovereign (durable) >= 1x BIND.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { type Socket, createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKey } from '../src/tsig/key.js';
import { findTsig, signMessage, verifyMessage } from '../src/tsig/tsig.js';
import { Opcode, Rcode } from '../src/wire/constants.js';
import { Message } from '../src/wire/message.js';
import { Name } from '../src/wire/name.js';
import { RRType } from '../src/wire/types.js';
import { addLoopbackAddress, startPeer, tempDir } from '../test/helpers/peers.js';
import { CLIENT_CORE, SERVER_CORE, cpuSeconds, median, pinTree, processTree, startNode } from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const UPDATES = Number(process.env.BENCH_UPDATES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_SERVERS: the lines to measure (all three by default; e.g. `sovereign,bind` while profiling). */
const SERVERS = (process.env.BENCH_SERVERS ?? 'sovereign,nosync,bind').split(',');
const SOV = '127.31.61.1';
const BIND = '127.31.61.2';
/** Sovereign again, with journalFsync: false (the journal in the OS cache, as BIND 9.18 leaves it). */
const SOV_NOSYNC = '127.31.61.3';
const PORT = 5361;
const ZONE = 'bench-upd.example';
const SECRET = 'YmVuY2gtdXBkYXRlLWtleS1zZWNyZXQtMTIzNDU2Nzg=';
const KEY = makeKey('upd', 'hmac-sha256', SECRET);

/** The NS host is the server itself: no NOTIFY goes out (BIND runs with notify no). */
const zoneText = (ns: string): string => `$ORIGIN ${ZONE}.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 300
@ NS ns
ns A ${ns}
`;

let counter = 0;
function updateBytes(): Uint8Array {
  const i = counter++;
  const m = new Message();
  m.id = i & 0xffff;
  m.opcode = Opcode.UPDATE;
  m.rd = false;
  m.question.push({ name: Name.fromText(`${ZONE}.`), type: RRType.SOA, class: 1 });
  m.authority.push({ name: Name.fromText(`h${i}.${ZONE}.`), type: RRType.A, class: 1, ttl: 300,
    data: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } });
  return m.encode();
}

interface Round {
  perSecond: number;
  cpuUsPerUpdate: number;
}

/** One update, signed, ready to send: its ID and the request MAC (to verify the reply's TSIG). */
interface Prepared {
  bytes: Uint8Array;
  id: number;
  mac: Uint8Array;
}

/**
 * The client: one UDP socket, the round's updates built and TSIG-signed before the clock starts
 * (the time signed stays well inside the 300 s fudge), so the only client work between a NOERROR
 * and the next update is a send. Replies are kept and their TSIG verified after the round (as
 * nsupdate would), outside the timing. The client runs on its own core (CLIENT_CORE), the servers
 * on SERVER_CORE.
 */
class Client {
  private readonly socket: Socket = createSocket('udp4');
  private waiting: ((reply: Buffer) => void) | undefined;
  private expect = -1;

  async open(): Promise<void> {
    this.socket.on('message', (msg: Buffer) => {
      // Only the reply to the update in flight (a late duplicate of a retransmitted one is dropped).
      if (msg.length < 12 || ((msg[0]! << 8) | msg[1]!) !== this.expect) return;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(msg);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
  }

  close(): void {
    this.socket.close();
  }

  /** Sends `u` and resolves with its reply; resent after 2 s, given up after 3 tries. */
  async send(u: Prepared, address: string): Promise<Buffer> {
    this.expect = u.id;
    for (let tries = 0; tries < 3; tries++) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const t = setTimeout(() => {
          this.waiting = undefined;
          resolve(undefined);
        }, 2000);
        this.waiting = (m) => {
          clearTimeout(t);
          resolve(m);
        };
        this.socket.send(u.bytes, PORT, address);
      });
      if (reply !== undefined) return reply;
    }
    throw new Error(`${address}: no reply to update ID ${u.id} after 3 tries`);
  }
}

function prepare(): Prepared[] {
  const out: Prepared[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (let n = 0; n < UPDATES; n++) {
    const bytes = updateBytes();
    const s = signMessage(bytes, KEY, { timeSigned: now });
    out.push({ bytes: s.bytes, id: (bytes[0]! << 8) | bytes[1]!, mac: s.mac });
  }
  return out;
}

async function round(client: Client, address: string, pids: readonly number[]): Promise<Round> {
  const updates = prepare();
  const replies: Buffer[] = [];
  const cpu0 = cpuSeconds(pids);
  const t0 = process.hrtime.bigint();
  for (const u of updates) replies.push(await client.send(u, address));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(pids) - cpu0;
  // Every reply NOERROR and signed with the key (RFC 8945 §5.3), checked after the clock stopped.
  const now = Math.floor(Date.now() / 1000);
  for (let n = 0; n < replies.length; n++) {
    const reply = replies[n]!;
    const rcode = reply[3]! & 0x0f;
    if (rcode !== Rcode.NOERROR) throw new Error(`${address}: update ${n} answered RCODE ${rcode}`);
    const rec = findTsig(reply);
    if (rec === undefined) throw new Error(`${address}: reply to update ${n} is not signed`);
    const v = verifyMessage(reply, reply.length, rec, KEY, { now, priorMac: updates[n]!.mac });
    if (v.error !== 0) throw new Error(`${address}: reply to update ${n}: TSIG error ${v.error}`);
  }
  return { perSecond: updates.length / seconds, cpuUsPerUpdate: (cpu * 1e6) / updates.length };
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-update-');
  addLoopbackAddress(SOV);
  addLoopbackAddress(BIND);
  addLoopbackAddress(SOV_NOSYNC);
  mkdirSync(join(dir.path, 'named'));
  mkdirSync(join(dir.path, 'sov'));
  mkdirSync(join(dir.path, 'sov-nosync'));
  writeFileSync(join(dir.path, 'named', 'zone'), zoneText(BIND));
  writeFileSync(join(dir.path, 'sov', 'zone'), zoneText(SOV));
  writeFileSync(join(dir.path, 'sov-nosync', 'zone'), zoneText(SOV_NOSYNC));
  const conf = join(dir.path, 'named', 'named.conf');
  writeFileSync(conf, `key "upd" { algorithm hmac-sha256; secret "${SECRET}"; };
options {
  directory "${join(dir.path, 'named')}";
  pid-file "${join(dir.path, 'named', 'named.pid')}";
  listen-on port ${PORT} { ${BIND}; };
  listen-on-v6 { none; };
  recursion no; dnssec-validation no; notify no;
};
zone "${ZONE}" { type primary; file "zone"; allow-update { key upd; }; };
`);
  const sovConfig = (sub: string, address: string, fsync: boolean): string => {
    const path = join(dir.path, sub, 'sovereign.yaml');
    writeFileSync(path, `workers: 1
listen: ["${address}:${PORT}"]
control: { enabled: false }
log: { level: warn }
keys:
  upd: { algorithm: hmac-sha256, secret: "${SECRET}" }
zones:
  - name: ${ZONE}
    file: zone
    allowUpdate: ["key upd"]
    journalFsync: ${fsync}
`);
    return path;
  };
  const sovConf = sovConfig('sov', SOV, true);
  const noSyncConf = sovConfig('sov-nosync', SOV_NOSYNC, false);
  // One thread of named (-n 1), one Sovereign worker: the same single core each.
  const named = await startPeer('named', ['-g', '-u', 'root', '-n', '1', '-c', conf], { address: BIND, port: PORT, zone: ZONE });
  const sov = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', sovConf], { address: SOV, port: PORT, zone: ZONE });
  const noSync = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', noSyncConf], { address: SOV_NOSYNC, port: PORT, zone: ZONE });
  const namedPids = pinTree(named.pid);
  const sovPids = processTree(sov.pid);
  const noSyncPids = processTree(noSync.pid);
  // The client on its own core: its turnaround must not wait behind the server it measures.
  spawnSync('taskset', ['-a', '-p', '-c', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
  const client = new Client();
  await client.open();
  try {
    // Warm-up (JIT, journal files made).
    await round(client, SOV, sovPids);
    await round(client, SOV_NOSYNC, noSyncPids);
    await round(client, BIND, namedPids);
    const results: Record<'sovereign' | 'nosync' | 'bind', Round[]> = { sovereign: [], nosync: [], bind: [] };
    // The order turns each round: whatever the one before left to the disk (dirty pages, a
    // journal commit) falls on each server alike.
    const order = [
      { key: 'sovereign', address: SOV, pids: sovPids },
      { key: 'nosync', address: SOV_NOSYNC, pids: noSyncPids },
      { key: 'bind', address: BIND, pids: namedPids },
    ] as const;
    for (let i = 0; i < ROUNDS; i++) {
      for (let k = 0; k < order.length; k++) {
        const t = order[(i + k) % order.length]!;
        if (!SERVERS.includes(t.key)) continue;
        results[t.key].push(await round(client, t.address, t.pids));
      }
    }
    const line = (name: string, rs: Round[]): { rate: number; cpu: number } => {
      const rate = median(rs.map((r) => r.perSecond));
      const cpu = median(rs.map((r) => r.cpuUsPerUpdate));
      console.log(`${name.padEnd(10)} ${rate.toFixed(0).padStart(7)} updates/s  ${cpu.toFixed(0).padStart(6)} CPU µs/update  (rounds: ${rs.map((r) => r.perSecond.toFixed(0)).join(', ')})`);
      return { rate, cpu };
    };
    console.log(`dynamic update: ${UPDATES} updates per round, median of ${ROUNDS} rounds, one client, one at a time, TSIG; servers on core ${SERVER_CORE}, client on core ${CLIENT_CORE}`);
    const s = line('sovereign', results.sovereign);
    const n = line('sov-nosync', results.nosync);
    const b = line('bind', results.bind);
    console.log('sovereign: 1 fdatasync of its journal before each NOERROR (thread pool, group commit); bind 9.18: 2 fsyncs of zone.jnl');
    console.log('per update (strace -f); sov-nosync: journalFsync: false (no flush), what the flush costs.');
    console.log(`sovereign/bind: ${(s.rate / b.rate).toFixed(2)}x updates/s, ${(s.cpu / b.cpu).toFixed(2)}x CPU per update`);
    console.log(`sov-nosync/bind: ${(n.rate / b.rate).toFixed(2)}x updates/s, ${(n.cpu / b.cpu).toFixed(2)}x CPU per update`);
    console.log(`load: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    client.close();
    await sov.stop();
    await noSync.stop();
    await named.stop();
    dir.cleanup();
  }
}

await main();
