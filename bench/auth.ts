/**
 * `npm run bench:auth`: authoritative UDP throughput on one core.
 *
 * Generates a 1,000-name zone and serves it, one after the other in the same run, with NSD, Knot,
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
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING (dnsperf -q, default 100),
 * BENCH_ONLY (comma list of nsd,knot,sovereign,bare,dns2).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PEER_BINARIES, addLoopbackAddress, startKnot, startNsd, tempDir, waitForDns,
} from '../test/helpers/peers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OUTSTANDING = Number(process.env.BENCH_OUTSTANDING ?? 100);
const ONLY = (process.env.BENCH_ONLY ?? 'nsd,knot,sovereign,bare,dns2').split(',');
const PORT = 5390;
const SERVER_CORE = '0';
const CLIENT_CORE = '1';
const ZONE = 'bench.example';
const NAMES = 1000;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

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

interface Result {
  name: string;
  qps: number;
  latencyMs: number;
  sent: number;
  completed: number;
  lost: number;
  cpuUsPerQuery: number;
}

/** PIDs of `pid` and every descendant (NSD forks its serving child). */
function processTree(pid: number): number[] {
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

/** utime+stime of the tree, in seconds. */
function cpuSeconds(pids: number[]): number {
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

function pin(pids: number[]): void {
  for (const p of pids) spawnSync('taskset', ['-a', '-p', '-c', SERVER_CORE, String(p)], { stdio: 'ignore' });
}

function dnsperf(address: string, queries: string): { qps: number; latencyMs: number; sent: number; completed: number; lost: number; raw: string } {
  const r = spawnSync('taskset', ['-c', CLIENT_CORE, PEER_BINARIES.dnsperf, '-s', address, '-p', String(PORT), '-d', queries,
    '-l', String(SECONDS), '-q', String(OUTSTANDING), '-t', '2'], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
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

/** Starts a Node program pinned to the server core; resolves once it answers. */
async function startNode(args: string[], address: string): Promise<{ pid: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const up = await waitForDns(address, PORT, ZONE, 15_000);
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

interface Running {
  name: string;
  address: string;
  tree: number[];
  stop(): Promise<void>;
  rounds: Result[];
}

/** One timed dnsperf run against a server already warmed up and pinned. */
function measure(r: Running, queries: string): Result {
  const before = cpuSeconds(r.tree);
  const p = dnsperf(r.address, queries);
  const cpu = cpuSeconds(r.tree) - before;
  if (Number.isNaN(p.qps)) throw new Error(`dnsperf against ${r.name} failed:\n${p.raw}`);
  return { name: r.name, qps: p.qps, latencyMs: p.latencyMs, sent: p.sent, completed: p.completed, lost: p.lost,
    cpuUsPerQuery: p.completed > 0 ? (cpu * 1e6) / p.completed : NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-auth-');
  const zoneFile = join(dir.path, `${ZONE}.zone`);
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(zoneFile, zoneText());
  writeFileSync(queries, queryText());
  writeFileSync(join(dir.path, 'bare.mjs'), BARE);
  writeFileSync(join(dir.path, 'dns2.mjs'), DNS2);
  const zones = [{ name: ZONE, file: zoneFile }];
  const addr = { nsd: '127.23.2.1', knot: '127.23.2.2', sovereign: '127.23.2.3', bare: '127.23.2.4', dns2: '127.23.2.5' };
  for (const a of Object.values(addr)) addLoopbackAddress(a);
  console.log(`bench:auth: ${NAMES}-name zone; ${ROUNDS} rounds of dnsperf -q ${OUTSTANDING} for ${SECONDS}s per server, ` +
    `servers taking turns (medians shown); server on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}`);
  const servers: Running[] = [];
  const add = (name: string, address: string, h: { pid: number; stop(): Promise<void> }): void => {
    const tree = processTree(h.pid);
    pin(tree);
    servers.push({ name, address, tree, stop: () => h.stop(), rounds: [] });
  };
  try {
    if (ONLY.includes('nsd')) {
      mkdirSync(join(dir.path, 'nsd'));
      add('NSD', addr.nsd, await startNsd(join(dir.path, 'nsd'), addr.nsd, PORT, zones));
    }
    if (ONLY.includes('knot')) {
      mkdirSync(join(dir.path, 'knot'));
      add('Knot', addr.knot, await startKnot(join(dir.path, 'knot'), addr.knot, PORT, zones));
    }
    if (ONLY.includes('sovereign')) {
      add('Sovereign', addr.sovereign, await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--listen',
        `${addr.sovereign}:${PORT}`, '--zone', `${ZONE}=${zoneFile}`, '--workers', '1', '--log-level', 'warn'], addr.sovereign));
    }
    if (ONLY.includes('bare')) {
      add('bare node:dgram', addr.bare, await startNode([join(dir.path, 'bare.mjs'), addr.bare, String(PORT)], addr.bare));
    }
    if (ONLY.includes('dns2')) {
      add('dns2', addr.dns2, await startNode([join(dir.path, 'dns2.mjs'), addr.dns2, String(PORT), String(NAMES)], addr.dns2));
    }
    // Warm up every server (JIT, caches) before any timed round.
    for (const r of servers) {
      spawnSync('taskset', ['-c', CLIENT_CORE, PEER_BINARIES.dnsperf, '-s', r.address, '-p', String(PORT), '-d', queries,
        '-l', '2', '-q', String(OUTSTANDING)], { stdio: 'ignore' });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of servers) r.rounds.push(measure(r, queries));
    }
  } finally {
    for (const r of servers) await r.stop();
    dir.cleanup();
  }
  const results: Result[] = servers.map((r) => ({
    name: r.name,
    qps: median(r.rounds.map((x) => x.qps)),
    latencyMs: median(r.rounds.map((x) => x.latencyMs)),
    sent: r.rounds.reduce((a, x) => a + x.sent, 0),
    completed: r.rounds.reduce((a, x) => a + x.completed, 0),
    lost: r.rounds.reduce((a, x) => a + x.lost, 0),
    cpuUsPerQuery: median(r.rounds.map((x) => x.cpuUsPerQuery)),
  }));
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`${pad('server', 18)}${pad('QPS', 10)}${pad('avg ms', 9)}${pad('sent', 10)}${pad('lost', 7)}${pad('CPU us/answer', 15)}rounds (QPS)`);
  for (const r of results) {
    const rounds = servers.find((s) => s.name === r.name)!.rounds.map((x) => x.qps.toFixed(0)).join(' ');
    console.log(`${pad(r.name, 18)}${pad(r.qps.toFixed(0), 10)}${pad(r.latencyMs.toFixed(3), 9)}${pad(String(r.sent), 10)}` +
      `${pad(String(r.lost), 7)}${pad(r.cpuUsPerQuery.toFixed(2), 15)}${rounds}`);
  }
  const sov = results.find((r) => r.name === 'Sovereign');
  if (sov !== undefined) {
    const ratio = (peer: string, target: number): void => {
      const p = results.find((r) => r.name === peer);
      if (p === undefined) return;
      const x = sov.qps / p.qps;
      const goal = target > 0 ? ` (target >= ${target}x: ${x >= target ? 'met' : 'NOT met'})` : '';
      console.log(`Sovereign / ${pad(peer, 16)} ${x.toFixed(2)}x QPS${goal}; ` +
        `CPU per answer ${(sov.cpuUsPerQuery / p.cpuUsPerQuery).toFixed(2)}x`);
    };
    ratio('NSD', 0.5);
    ratio('Knot', 0);
    ratio('bare node:dgram', 0.85);
    ratio('dns2', 2);
    console.log(`Sovereign lost queries: ${sov.lost} (target 0: ${sov.lost === 0 ? 'met' : 'NOT met'})`);
  }
}

await main();
