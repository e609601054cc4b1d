/**
 * `npm run bench:auth`: authoritative UDP throughput on one core.
 *
 * Generates a 1,000-name zone and serves it, one after the other in the same run, with NSD, Knot
 * (one UDP, TCP and background worker, as NSD runs one server process),
 * Sovereign (`sovereign serve --workers 1`), a bare node:dgram responder that returns one fixed
 * answer (the ceiling of Node's UDP socket on this machine) and the `dns2` npm package answering
 * the same names. Each server is pinned to core 0 (`taskset`, all its threads), dnsperf to core 1,
 * and dnsperf sends the same query mix to each. Prints QPS, average latency, lost queries, the
 * server's CPU time per answered query (utime+stime from /proc/PID/stat of the server and its
 * children, before and after) and the ratios our targets are stated in:
 * >= 0.5x NSD, >= 0.85x bare node:dgram, >= 2x dns2, no lost queries.
 *
 * Servers run side by side (all idle but the one measured) and take turns over several rounds, so
 * a noisy moment on the shared machine hits them all; medians are printed with every round's QPS.
 *
 * Then the same with DNSSEC: the zone signed by dnssec-signzone (one ECDSAP256SHA256 CSK, NSEC)
 * served by NSD, Knot and Sovereign, queried with DO=1 (dnsperf -D): RRSIGs with every answer, NSEC
 * proofs with NXDOMAIN and NODATA. Prints the same columns, the ratios to NSD and Knot, and
 * Sovereign's CPU per DO=1 answer over its CPU per unsigned answer (target <= 1.2x).
 *
 * The varied workload (BENCH_WORKLOAD=varied, or both) serves a second zone of 100,000 names
 * (wildcards and 1,000 delegations in it) and sends 200,000 distinct questions spelled in random
 * case (as resolvers using 0x20 send them): 70% names that exist (A, AAAA, some NODATA), 10%
 * NXDOMAIN, 10% wildcard expansions, 10% referrals; once without EDNS and once with EDNS and DO=1
 * (dnsperf -D). Only NSD and Sovereign take it (the others cannot load the zone or do not matter).
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING (dnsperf -q, default 100),
 * BENCH_ONLY (comma list of nsd,knot,sovereign,bare,dns2,dnssec,querylog,batch,dashboard), BENCH_WORKLOAD (repeated, varied or both; default both).
 *
 * `querylog` runs a second Sovereign with the query log on (ring of 10,000 entries and JSON lines
 * to a file rotated at 64 MB) beside the one with it off, and prints its CPU per answer over
 * the other's (target <= 1.3x, issue 21).
 * `batch` runs a second Sovereign with batched UDP (SOVEREIGN_UDP_BATCH=on: recvmmsg/sendmmsg through
 * native/batch-udp) beside the node:dgram one and prints its CPU per answer over the other's (issue 17).
 * `dashboard` (or BENCH_DASHBOARD=1): the web dashboard's cost, open vs closed during the benchmark
 * (bench/lib/dashboard-cost.ts; needs Debian's chromium).
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addLoopbackAddress, runTool, startKnot, startNsd, tempDir } from '../test/helpers/peers.js';
import {
  CLIENT_CORE, type Measured, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, type Target, measure, median, pinTree, startNode, summarize,
  warmUp,
} from './lib/dnsperf.js';
import { dashboardPass, printDashboardCost } from './lib/dashboard-cost.js';

const ONLY = (process.env.BENCH_ONLY ?? 'nsd,knot,sovereign,bare,dns2,dnssec,querylog').split(',');
if (process.env.BENCH_DASHBOARD === '1' && !ONLY.includes('dashboard')) ONLY.push('dashboard');
/** The Sovereign with the query log on (BENCH_ONLY querylog). */
const LOGGED = 'Sovereign+qlog';
/** The Sovereign with batched UDP (recvmmsg/sendmmsg addon, BENCH_ONLY batch; issue 17). */
const BATCHED = 'Sovereign+batch';
const WORKLOAD = process.env.BENCH_WORKLOAD ?? 'both';
const VZONE = 'varied.example';
const VNAMES = 100_000;
const VQUERIES = 200_000;
const VSUBS = 1000;
const PORT = 5390;
const ZONE = 'bench.example';
const NAMES = 1000;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The zone: 1,000 names with an A each, every tenth with an AAAA, an MX and some CNAMEs. */
function zoneText(): string {
  const lines = [
    `$ORIGIN ${ZONE}.`, '$TTL 3600',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', '@ NS ns2', '@ MX 10 mail',
    'ns1 A 192.0.2.1', 'ns2 A 192.0.2.2', 'mail A 192.0.2.3',
  ];
  for (let i = 0; i < NAMES; i++) {
    lines.push(`host${i} A 10.${(i >> 8) & 255}.${i & 255}.1`);
    if (i % 10 === 0) lines.push(`host${i} AAAA 2001:db8::${i.toString(16)}`);
  }
  return lines.join('\n') + '\n';
}

/** The query mix: mostly A for existing names, some AAAA (half NODATA), some NXDOMAIN. */
function queryText(): string {
  const lines: string[] = [];
  for (let i = 0; i < NAMES; i++) {
    lines.push(`host${i}.${ZONE} A`);
    if (i % 10 === 0) lines.push(`host${i}.${ZONE} AAAA`, `host${i + 5}.${ZONE} AAAA`);
    if (i % 20 === 0) lines.push(`nx${i}.${ZONE} A`);
  }
  lines.push(`${ZONE} MX`, `${ZONE} NS`);
  return lines.join('\n') + '\n';
}

/** The varied zone: 100,000 names, every tenth with an AAAA, a wildcard, 1,000 delegations with glue. */
function variedZoneText(): string {
  const lines = [
    `$ORIGIN ${VZONE}.`, '$TTL 3600',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', '@ NS ns2', 'ns1 A 192.0.2.1', 'ns2 A 192.0.2.2',
    '*.wild A 192.0.2.80', '*.wild TXT "wildcard"',
  ];
  for (let i = 0; i < VNAMES; i++) {
    lines.push(`n${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 10 === 0) lines.push(`n${i} AAAA 2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`);
  }
  for (let j = 0; j < VSUBS; j++) lines.push(`sub${j} NS ns.sub${j}`, `ns.sub${j} A 198.51.${j >> 8}.${j & 255}`);
  return lines.join('\n') + '\n';
}

/** 200,000 distinct questions in random case (a fixed generator: the same file every run). */
function variedQueryText(): string {
  let x = 12345;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x >>> 8;
  };
  const mix = (n: string): string => {
    let out = '';
    for (const c of n) out += (rnd() & 1) === 1 ? c.toUpperCase() : c;
    return out;
  };
  const lines: string[] = [];
  for (let k = 0; k < VQUERIES; k++) {
    const r = k % 10;
    let q: string;
    if (r < 7) {
      const i = rnd() % VNAMES;
      q = `n${i}.${VZONE} ${k % 7 === 0 ? 'AAAA' : k % 13 === 0 ? 'MX' : 'A'}`;
    } else if (r === 7) q = `nx${k}.${VZONE} A`;
    else if (r === 8) q = `w${k}.wild.${VZONE} ${k % 3 === 0 ? 'TXT' : 'A'}`;
    else q = `h${k}.sub${rnd() % VSUBS}.${VZONE} A`;
    lines.push(mix(q));
  }
  return lines.join('\n') + '\n';
}

/** A bare node:dgram responder: one fixed answer, only the ID patched. */
const BARE = `
import { createSocket } from 'node:dgram';
const [address, port] = [process.argv[2], Number(process.argv[3])];
// Response: id 0, QR AA, 1 question host0.${ZONE} A, 1 answer A 10.0.0.1 (compressed owner).
const q = Buffer.concat([Buffer.from([0,0,0x84,0,0,1,0,1,0,0,0,0])].concat(
  '${'host0.' + ZONE}'.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
  [Buffer.from([0, 0,1, 0,1, 0xc0,12, 0,1, 0,1, 0,0,0x0e,0x10, 0,4, 10,0,0,1])]));
const s = createSocket('udp4');
s.on('message', (msg, rinfo) => {
  const out = Buffer.allocUnsafe(q.length);
  q.copy(out);
  out[0] = msg[0]; out[1] = msg[1];
  s.send(out, rinfo.port, rinfo.address);
});
s.bind(port, address);
`;

/** dns2 answering the same names: A from the zone, NODATA for other types, NXDOMAIN otherwise. */
const DNS2 = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const dns2 = require('dns2');
const { Packet } = dns2;
const [address, port, names] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const a = new Map();
for (let i = 0; i < names; i++) a.set('host' + i + '.${ZONE}', '10.' + ((i >> 8) & 255) + '.' + (i & 255) + '.1');
const server = dns2.createServer({ udp: true, handle: (request, send) => {
  const response = Packet.createResponseFromRequest(request);
  const [question] = request.questions;
  const name = question.name.toLowerCase();
  const ip = a.get(name);
  if (ip === undefined && name !== '${ZONE}') response.header.rcode = Packet.RCODE?.NXDOMAIN ?? 3;
  else if (ip !== undefined && question.type === Packet.TYPE.A) {
    response.answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 3600, address: ip });
  }
  response.header.aa = 1;
  send(response);
} });
server.listen({ udp: { port, address } });
`;

interface Running extends Target {
  stop(): Promise<void>;
  rounds: Measured[];
  /** Varied workload: without EDNS, with EDNS and DO=1. */
  varied: Measured[][];
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-auth-');
  const zoneFile = join(dir.path, `${ZONE}.zone`);
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(zoneFile, zoneText());
  writeFileSync(queries, queryText());
  const variedOn = WORKLOAD === 'both' || WORKLOAD === 'varied';
  const repeatedOn = WORKLOAD === 'both' || WORKLOAD === 'repeated';
  const vZoneFile = join(dir.path, `${VZONE}.zone`);
  const vQueries = join(dir.path, 'varied.txt');
  if (variedOn) {
    writeFileSync(vZoneFile, variedZoneText());
    writeFileSync(vQueries, variedQueryText());
  }
  writeFileSync(join(dir.path, 'bare.mjs'), BARE);
  writeFileSync(join(dir.path, 'dns2.mjs'), DNS2);
  const zones = [{ name: ZONE, file: zoneFile }, ...(variedOn ? [{ name: VZONE, file: vZoneFile }] : [])];
  const addr = { nsd: '127.23.2.1', knot: '127.23.2.2', sovereign: '127.23.2.3', bare: '127.23.2.4', dns2: '127.23.2.5', logged: '127.23.2.6', batched: '127.23.2.7' };
  for (const a of Object.values(addr)) addLoopbackAddress(a);
  console.log(`bench:auth: ${NAMES}-name zone; ${ROUNDS} rounds of dnsperf -q ${OUTSTANDING} for ${SECONDS}s per server, ` +
    `servers taking turns (medians shown); server on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}`);
  if (ONLY.includes('dashboard') && repeatedOn) {
    printDashboardCost(await dashboardPass(ROOT, dir.path, ZONE, zoneFile, queries, PORT));
    if (ONLY.length === 1) {
      dir.cleanup();
      return;
    }
  }
  const servers: Running[] = [];
  const add = (name: string, address: string, h: { pid: number; stop(): Promise<void> }): void => {
    servers.push({ name, address, port: PORT, tree: pinTree(h.pid), stop: () => h.stop(), rounds: [], varied: [[], []] });
  };
  const ready = (address: string): { address: string; port: number; zone: string } => ({ address, port: PORT, zone: ZONE });
  try {
    if (ONLY.includes('nsd')) {
      mkdirSync(join(dir.path, 'nsd'));
      add('NSD', addr.nsd, await startNsd(join(dir.path, 'nsd'), addr.nsd, PORT, zones));
    }
    if (ONLY.includes('knot')) {
      mkdirSync(join(dir.path, 'knot'));
      add('Knot', addr.knot, await startKnot(join(dir.path, 'knot'), addr.knot, PORT, zones.slice(0, 1), { oneThread: true }));
    }
    if (ONLY.includes('sovereign')) {
      add('Sovereign', addr.sovereign, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--listen',
        `${addr.sovereign}:${PORT}`, '--zone', `${ZONE}=${zoneFile}`, ...(variedOn ? ['--zone', `${VZONE}=${vZoneFile}`] : []), '--workers', '1', '--log-level', 'warn'],
        ready(addr.sovereign)));
    }
    if (ONLY.includes('batch')) {
      const conf = join(dir.path, 'batched.yaml');
      writeFileSync(conf, JSON.stringify({ listen: [`${addr.batched}:${PORT}`], workers: 1, control: { enabled: false }, zones }));
      add(BATCHED, addr.batched, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf, '--log-level', 'warn'],
        ready(addr.batched), { env: { SOVEREIGN_UDP_BATCH: 'on' } }));
    }
    if (ONLY.includes('querylog')) {
      const conf = join(dir.path, 'querylog.yaml');
      writeFileSync(conf, JSON.stringify({
        listen: [`${addr.logged}:${PORT}`], workers: 1, control: { enabled: false }, zones,
        queryLog: { enabled: true, ring: 10_000, file: join(dir.path, 'log', 'query.log'), maxFileBytes: 64 * 1024 * 1024, maxFiles: 2 },
      }));
      add(LOGGED, addr.logged, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf, '--log-level', 'warn'],
        ready(addr.logged)));
    }
    if (ONLY.includes('bare')) {
      add('bare node:dgram', addr.bare, await startNode([join(dir.path, 'bare.mjs'), addr.bare, String(PORT)], ready(addr.bare)));
    }
    if (ONLY.includes('dns2')) {
      add('dns2', addr.dns2, await startNode([join(dir.path, 'dns2.mjs'), addr.dns2, String(PORT), String(NAMES)], ready(addr.dns2)));
    }
    console.log(`load before: ${execSync('uptime').toString().trim()}`);
    // Warm up every server (JIT, caches) before any timed round.
    const vServers = servers.filter((r) => r.name === 'NSD' || r.name === 'Sovereign' || r.name === LOGGED || r.name === BATCHED);
    const vModes: string[][] = [[], ['-D']];
    if (repeatedOn) for (const r of servers) warmUp(r, queries);
    if (variedOn) for (const r of vServers) for (const m of vModes) warmUp(r, vQueries, m);
    for (let round = 0; round < ROUNDS; round++) {
      if (repeatedOn) for (const r of servers) r.rounds.push(measure(r, queries));
      if (variedOn) for (let m = 0; m < vModes.length; m++) for (const r of vServers) r.varied[m]!.push(measure(r, vQueries, SECONDS, vModes[m]!));
    }
    console.log(`load after: ${execSync('uptime').toString().trim()}`);
  } finally {
    for (const r of servers) await r.stop();
    dir.cleanup();
  }
  const pad0 = (x: string, n: number): string => x.padEnd(n);
  if (variedOn) {
    for (const [m, label] of [[0, 'no EDNS'], [1, 'EDNS, DO=1']] as const) {
      const vs = servers.filter((r) => r.varied[m]!.length > 0).map((r) => ({ name: r.name, ...summarize(r.varied[m]!) }));
      console.log(`varied workload (${VNAMES} names, ${VQUERIES} distinct questions in mixed case, ${label}; medians):`);
      for (const r of vs) {
        console.log(`  ${pad0(r.name, 16)}${pad0(r.qps.toFixed(0), 10)}${pad0(r.latencyMs.toFixed(3), 9)}${pad0(String(r.lost), 7)}` +
          `${pad0(r.cpuUsPerQuery.toFixed(2), 10)}us/answer  rounds ${r.roundsQps}`);
      }
      const s = vs.find((r) => r.name === 'Sovereign');
      const n = vs.find((r) => r.name === 'NSD');
      if (s !== undefined && n !== undefined) {
        const x = s.cpuUsPerQuery / n.cpuUsPerQuery;
        console.log(`  Sovereign / NSD: ${x.toFixed(2)}x CPU per answer (target <= 2.5x: ${x <= 2.5 ? 'met' : 'NOT met'}), ${(s.qps / n.qps).toFixed(2)}x QPS`);
      }
      queryLogRatio(vs);
      pairedRatio(servers, (r) => r.varied[m]!);
      batchRatio(vs);
    }
  }
  if (!repeatedOn) return;
  const results = servers.map((r) => ({ name: r.name, ...summarize(r.rounds) }));
  const signed = ONLY.includes('dnssec') ? await dnssecPass() : [];
  print(results);
  queryLogRatio(results);
  pairedRatio(servers, (r) => r.rounds);
  batchRatio(results);
  const sov = results.find((r) => r.name === 'Sovereign');
  if (signed.length > 0) {
    console.log('\nDO=1 on the zone signed by dnssec-signzone (ECDSAP256SHA256 CSK, NSEC):');
    print(signed, false);
    const ssov = signed.find((r) => r.name === 'Sovereign');
    if (ssov !== undefined && sov !== undefined) {
      const x = ssov.cpuUsPerQuery / sov.cpuUsPerQuery;
      console.log(`Sovereign CPU per DO=1 answer / per unsigned answer: ${x.toFixed(2)}x (target <= 1.2x: ${x <= 1.2 ? 'met' : 'NOT met'})`);
    }
  }
}

type Result = ReturnType<typeof summarize> & { name: string };

/** The DNSSEC pass (see the module comment). */
async function dnssecPass(): Promise<Result[]> {
  const dir = tempDir('sovereign-bench-auth-dnssec-');
  const d = dir.path;
  const zoneFile = join(d, `${ZONE}.zone`);
  const queries = join(d, 'queries.txt');
  writeFileSync(zoneFile, zoneText());
  writeFileSync(queries, queryText());
  const keygen = runTool('dnssec-keygen', ['-q', '-K', d, '-a', 'ECDSAP256SHA256', '-f', 'KSK', ZONE], { cwd: d });
  if (keygen.status !== 0) throw new Error(`dnssec-keygen: ${keygen.stderr}`);
  const sign = runTool('dnssec-signzone', ['-S', '-z', '-K', d, '-o', ZONE, '-f', `${zoneFile}.signed`, zoneFile], { cwd: d, timeoutMs: 120_000 });
  if (sign.status !== 0) throw new Error(`dnssec-signzone: ${sign.stderr}`);
  const zones = [{ name: ZONE, file: `${zoneFile}.signed` }];
  const addr = { nsd: '127.23.2.11', knot: '127.23.2.12', sovereign: '127.23.2.13' };
  for (const a of Object.values(addr)) addLoopbackAddress(a);
  const servers: Running[] = [];
  const add = (name: string, address: string, h: { pid: number; stop(): Promise<void> }): void => {
    servers.push({ name, address, port: PORT, tree: pinTree(h.pid), stop: () => h.stop(), rounds: [], varied: [[], []], dnsperfArgs: ['-D'] });
  };
  try {
    mkdirSync(join(d, 'nsd'));
    add('NSD', addr.nsd, await startNsd(join(d, 'nsd'), addr.nsd, PORT, zones));
    mkdirSync(join(d, 'knot'));
    add('Knot', addr.knot, await startKnot(join(d, 'knot'), addr.knot, PORT, zones, { oneThread: true }));
    add('Sovereign', addr.sovereign, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--listen',
      `${addr.sovereign}:${PORT}`, '--zone', `${ZONE}=${zoneFile}.signed`, '--workers', '1', '--log-level', 'warn'],
    { address: addr.sovereign, port: PORT, zone: ZONE }));
    for (const r of servers) warmUp(r, queries);
    for (let round = 0; round < ROUNDS; round++) for (const r of servers) r.rounds.push(measure(r, queries));
  } finally {
    for (const r of servers) await r.stop();
    dir.cleanup();
  }
  return servers.map((r) => ({ name: r.name, ...summarize(r.rounds) }));
}

/** Sovereign's CPU per answer with the query log on over with it off (target <= 1.3x). */
function queryLogRatio(results: readonly { name: string; cpuUsPerQuery: number; qps: number }[]): void {
  const on = results.find((r) => r.name === LOGGED);
  const off = results.find((r) => r.name === 'Sovereign');
  if (on === undefined || off === undefined) return;
  const x = on.cpuUsPerQuery / off.cpuUsPerQuery;
  console.log(`  query log on (ring + JSON lines file) / off: ${on.cpuUsPerQuery.toFixed(2)} / ${off.cpuUsPerQuery.toFixed(2)} us = ` +
    `${x.toFixed(2)}x CPU per answer (target <= 1.3x: ${x <= 1.3 ? 'met' : 'NOT met'}), ${(on.qps / off.qps).toFixed(2)}x QPS`);
}

/**
 * The same ratio round by round (log on and off measured back to back, so a noisy moment on the
 * shared machine hits both), and the median of those: the figure the target is judged on.
 */
function pairedRatio(servers: readonly Running[], rounds: (r: Running) => Measured[]): void {
  const on = servers.find((r) => r.name === LOGGED);
  const off = servers.find((r) => r.name === 'Sovereign');
  if (on === undefined || off === undefined) return;
  const a = rounds(on);
  const b = rounds(off);
  const xs = a.map((x, i) => x.cpuUsPerQuery / b[i]!.cpuUsPerQuery).filter((x) => Number.isFinite(x));
  if (xs.length === 0) return;
  const m = median(xs);
  console.log(`  query log on/off per round: ${xs.map((x) => x.toFixed(2)).join(' ')}; median ${m.toFixed(2)}x CPU per answer ` +
    `(target <= 1.3x: ${m <= 1.3 ? 'met' : 'NOT met'}); load ${execSync('uptime').toString().trim().replace(/.*load average: /, '')}`);
}

/** Sovereign's CPU per answer with batched UDP over with node:dgram (issue 17: lands only at <= 0.75x). */
function batchRatio(results: readonly { name: string; cpuUsPerQuery: number; qps: number }[]): void {
  const on = results.find((r) => r.name === BATCHED);
  const off = results.find((r) => r.name === 'Sovereign');
  if (on === undefined || off === undefined) return;
  const x = on.cpuUsPerQuery / off.cpuUsPerQuery;
  console.log(`  batched UDP (recvmmsg/sendmmsg) / node:dgram: ${on.cpuUsPerQuery.toFixed(2)} / ${off.cpuUsPerQuery.toFixed(2)} us = ` +
    `${x.toFixed(2)}x CPU per answer (default-on bar <= 0.75x: ${x <= 0.75 ? 'met' : 'NOT met'}), ${(on.qps / off.qps).toFixed(2)}x QPS`);
}

/** The table, then Sovereign's ratios to each peer (with the unsigned targets when `targets`). */
function print(results: readonly Result[], targets = true): void {
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`${pad('server', 18)}${pad('QPS', 10)}${pad('avg ms', 9)}${pad('sent', 10)}${pad('lost', 7)}${pad('CPU us/answer', 15)}rounds (QPS)`);
  for (const r of results) {
    console.log(`${pad(r.name, 18)}${pad(r.qps.toFixed(0), 10)}${pad(r.latencyMs.toFixed(3), 9)}${pad(String(r.sent), 10)}` +
      `${pad(String(r.lost), 7)}${pad(r.cpuUsPerQuery.toFixed(2), 15)}${r.roundsQps}`);
  }
  const sov = results.find((r) => r.name === 'Sovereign');
  if (sov !== undefined) {
    const ratio = (peer: string, target: number): void => {
      const p = results.find((r) => r.name === peer);
      if (p === undefined) return;
      const x = sov.qps / p.qps;
      const goal = targets && target > 0 ? ` (target >= ${target}x: ${x >= target ? 'met' : 'NOT met'})` : '';
      console.log(`Sovereign / ${pad(peer, 16)} ${x.toFixed(2)}x QPS${goal}; ` +
        `CPU per answer ${(sov.cpuUsPerQuery / p.cpuUsPerQuery).toFixed(2)}x`);
    };
    ratio('NSD', 0.5);
    const nsd = results.find((r) => r.name === 'NSD');
    if (nsd !== undefined) {
      const x = sov.cpuUsPerQuery / nsd.cpuUsPerQuery;
      console.log(`  repeated workload: ${x.toFixed(2)}x NSD's CPU per answer (target <= 2.0x: ${x <= 2 ? 'met' : 'NOT met'})`);
    }
    ratio('Knot', 0);
    ratio('bare node:dgram', 0.85);
    if (results.some((r) => r.name === 'bare node:dgram')) {
      console.log('  (the bare responder ignores the question: one fixed answer with the ID patched, no parsing or lookup)');
    }
    ratio('dns2', 2);
    console.log(`Sovereign lost queries: ${sov.lost}${targets ? ` (target 0: ${sov.lost === 0 ? 'met' : 'NOT met'})` : ''}`);
  }
}

await main();
