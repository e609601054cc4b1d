/**
 * `npm run bench:update`: acknowledged, durable dynamic updates per second (RFC 2136), Sovereign
 * and BIND `named` in the same run from the same starting zone. One client, one update at a time
 * (the next is sent when the previous NOERROR came back), each adding one A record at a new name,
 * over UDP as nsupdate sends them, TSIG-signed (hmac-sha256) as real updaters do. Sovereign
 * fdatasyncs its journal before each NOERROR; BIND 9.18 writes its journal without any fsync
 * (strace shows none), so Sovereign also runs with `journalFsync: false` for a like-for-like line.
 *
 * Prints per server: updates/s (median of BENCH_ROUNDS rounds of BENCH_UPDATES updates), CPU µs
 * per update (the server process's user+sys over the round), and the ratio; then `uptime`.
 * Target (issue 16): Sovereign >= 1x BIND.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exchange } from '../src/client/exchange.js';
import { makeKey } from '../src/tsig/key.js';
import { signMessage } from '../src/tsig/tsig.js';
import { Opcode, Rcode } from '../src/wire/constants.js';
import { Message } from '../src/wire/message.js';
import { Name } from '../src/wire/name.js';
import { RRType } from '../src/wire/types.js';
import { addLoopbackAddress, startPeer, tempDir } from '../test/helpers/peers.js';
import { cpuSeconds, median, pinTree, processTree, startNode } from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const UPDATES = Number(process.env.BENCH_UPDATES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

async function round(address: string, pids: readonly number[]): Promise<Round> {
  const cpu0 = cpuSeconds(pids);
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < UPDATES; n++) {
    const m = Message.decode(updateBytes());
    const r = await exchange(m, { address, port: PORT }, {
      timeoutMs: 5000, tries: 3, keepId: true,
      sign: (bytes) => signMessage(bytes, KEY, { timeSigned: Math.floor(Date.now() / 1000) }).bytes,
    });
    if (r.message.rcode !== Rcode.NOERROR) throw new Error(`${address}: update ${n} answered RCODE ${r.message.rcode}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(pids) - cpu0;
  return { perSecond: UPDATES / seconds, cpuUsPerUpdate: (cpu * 1e6) / UPDATES };
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
  try {
    // Warm-up (JIT, journal files made).
    await round(SOV, sovPids);
    await round(SOV_NOSYNC, noSyncPids);
    await round(BIND, namedPids);
    const results: Record<'sovereign' | 'nosync' | 'bind', Round[]> = { sovereign: [], nosync: [], bind: [] };
    for (let i = 0; i < ROUNDS; i++) {
      results.sovereign.push(await round(SOV, sovPids));
      results.nosync.push(await round(SOV_NOSYNC, noSyncPids));
      results.bind.push(await round(BIND, namedPids));
    }
    const line = (name: string, rs: Round[]): { rate: number; cpu: number } => {
      const rate = median(rs.map((r) => r.perSecond));
      const cpu = median(rs.map((r) => r.cpuUsPerUpdate));
      console.log(`${name.padEnd(10)} ${rate.toFixed(0).padStart(7)} updates/s  ${cpu.toFixed(0).padStart(6)} CPU µs/update  (rounds: ${rs.map((r) => r.perSecond.toFixed(0)).join(', ')})`);
      return { rate, cpu };
    };
    console.log(`dynamic update: ${UPDATES} durable updates per round, ${ROUNDS} rounds, one client, one at a time, TSIG`);
    const s = line('sovereign', results.sovereign);
    const n = line('sov-nosync', results.nosync);
    const b = line('bind', results.bind);
    console.log('sovereign fsyncs (fdatasync) its journal before each NOERROR; BIND 9.18 does not fsync its journal at all');
    console.log('(strace -e fsync,fdatasync on named shows none), so "sov-nosync" (journalFsync: false) is the like-for-like line.');
    console.log(`sovereign/bind: ${(s.rate / b.rate).toFixed(2)}x updates/s, ${(s.cpu / b.cpu).toFixed(2)}x CPU per update`);
    console.log(`sov-nosync/bind: ${(n.rate / b.rate).toFixed(2)}x updates/s, ${(n.cpu / b.cpu).toFixed(2)}x CPU per update`);
    console.log(`load: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    await sov.stop();
    await noSync.stop();
    await named.stop();
    dir.cleanup();
  }
}

await main();
