/**
 * `npm run bench:blocklist`: what a Pi-hole-sized blocklist costs.
 *
 * 1. In process: 500,000 generated names (hosts format, as the big public lists come) parsed into a
 *    Blocklist: load time, and heap and RSS growth (after GC when node runs with --expose-gc, which
 *    the npm script passes). Then lookups as the chain element does them, from a decoded query
 *    name (wire form, mixed case: the Name is built and its key computed per query) to the verdict:
 *    ns per query for listed names (hits), unlisted names (misses), and subdomains of listed names
 *    (misses walking every ancestor).
 * 2. Served: Sovereign forwarding (cache hits) to a Sovereign authoritative server, once without a
 *    list and once with the 500k list, taking turns; the query mix is 90% cached names and 10%
 *    listed names. QPS and server CPU per answer (dnsperf, servers on core 0, dnsperf on core 1).
 *
 * Environment: BENCH_NAMES (default 500000), BENCH_SECONDS, BENCH_ROUNDS as the other benches.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import { Blocklist, listBlocks } from '../src/policy/blocklist.js';
import { Name } from '../src/wire/name.js';
import { addLoopbackAddress, tempDir } from '../test/helpers/peers.js';
import { CLIENT_CORE, type Measured, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, measure, pinTree, startNode, summarize, warmUp } from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COUNT = Number(process.env.BENCH_NAMES ?? 500_000);
const ZONE = 'bl.example';
const CACHED = 2000;
const PORT = 5394;
const ADDR = { auth: '127.23.6.1', plain: '127.23.6.2', listed: '127.23.6.3' };

const gc = (globalThis as { gc?: () => void }).gc;

/** Deterministic pseudo-random names, like tracker host names: 2-4 labels of letters and digits. */
function names(n: number): string[] {
  const out: string[] = new Array<string>(n);
  let x = 12345;
  const rnd = (): number => (x = (x * 1103515245 + 12345) >>> 0);
  const word = (): string => {
    const len = 3 + (rnd() % 9);
    let s = '';
    for (let i = 0; i < len; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[rnd() % 36];
    return s;
  };
  const tlds = ['com', 'net', 'org', 'io', 'de', 'info'];
  for (let i = 0; i < n; i++) out[i] = `${word()}${i}.${i % 3 === 0 ? word() + '.' : ''}${word()}.${tlds[i % tlds.length]}`;
  return out;
}

function mixCase(s: string, seed: number): string {
  let out = '';
  let x = seed >>> 0;
  for (const c of s) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 16) & 1 ? c.toUpperCase() : c;
  }
  return out;
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1) + ' MiB';
}

/** ns per lookup over `wires` (each: decode to a Name, key, verdict), best of 5 passes. */
function timeLookups(list: Blocklist, wires: Uint8Array[]): { ns: number; blocked: number } {
  let best = Infinity;
  let blocked = 0;
  for (let pass = 0; pass < 5; pass++) {
    blocked = 0;
    // CPU time, not wall time: the machine is shared and loaded.
    const c0 = process.cpuUsage();
    for (let i = 0; i < wires.length; i++) if (listBlocks(list, new Name(wires[i]!).key)) blocked++;
    const c = process.cpuUsage(c0);
    const ns = ((c.user + c.system) * 1000) / wires.length;
    if (ns < best) best = ns;
  }
  return { ns: best, blocked };
}

async function inProcess(): Promise<{ text: string; all: string[] }> {
  const all = names(COUNT);
  const text = '# generated\n' + all.map((n) => `0.0.0.0 ${n}`).join('\n') + '\n';
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const c0 = process.cpuUsage();
  const list = Blocklist.parse(text, 'hosts');
  const c = process.cpuUsage(c0);
  const loadMs = (c.user + c.system) / 1000;
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  const rss1 = process.memoryUsage().rss;
  console.log(`load: ${list.size} names (${list.skipped} skipped) from ${mb(text.length)} of text in ${loadMs.toFixed(0)} ms CPU ` +
    `(${((loadMs * 1e6) / list.size).toFixed(0)} ns/name); heap +${mb(heap1 - heap0)} (${((heap1 - heap0) / list.size).toFixed(0)} B/name), ` +
    `RSS +${mb(rss1 - rss0)}${gc === undefined ? ' (no --expose-gc: figures include garbage)' : ''}`);
  const sample = 100_000;
  const wire = (n: string, seed: number): Uint8Array => Name.fromText(mixCase(n, seed) + '.').wire;
  const hits: Uint8Array[] = [];
  const misses: Uint8Array[] = [];
  const subs: Uint8Array[] = [];
  for (let i = 0; i < sample; i++) {
    const n = all[(i * 7919) % all.length]!;
    hits.push(wire(n, i));
    misses.push(wire(`nolist${i}.${n.slice(n.indexOf('.') + 1)}`, i));
    subs.push(wire(`a.b.${n}`, i));
  }
  const h = timeLookups(list, hits);
  const m = timeLookups(list, misses);
  const s = timeLookups(list, subs);
  if (h.blocked !== sample || m.blocked !== 0 || s.blocked !== 0) throw new Error(`wrong verdicts: ${h.blocked}/${m.blocked}/${s.blocked}`);
  console.log(`lookup CPU time (Name from wire + key + verdict, mixed case, ${sample} queries, best of 5): hit ${h.ns.toFixed(0)} ns, ` +
    `miss ${m.ns.toFixed(0)} ns, subdomain of a listed name ${s.ns.toFixed(0)} ns`);
  return { text, all };
}

async function served(text: string, all: string[]): Promise<void> {
  const dir = tempDir('sovereign-bench-blocklist-');
  for (const a of Object.values(ADDR)) addLoopbackAddress(a);
  const zoneLines = [`$ORIGIN ${ZONE}.`, '$TTL 86400', '@ SOA ns1 hostmaster 1 7200 3600 1209600 3600', '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; i < CACHED; i++) zoneLines.push(`h${i} A 10.${(i >> 8) & 255}.${i & 255}.1`);
  const zoneFile = join(dir.path, 'zone');
  writeFileSync(zoneFile, zoneLines.join('\n') + '\n');
  const listFile = join(dir.path, 'list.txt');
  writeFileSync(listFile, text);
  const q: string[] = [];
  for (let i = 0; i < CACHED; i++) q.push(`${mixCase(`h${i}.${ZONE}`, i)} A`);
  for (let i = 0; i < CACHED / 9; i++) q.push(`${mixCase(all[(i * 104729) % all.length]!, i)} A`);
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(queries, q.join('\n') + '\n');
  const conf = (addr: string, withList: boolean): string => {
    const f = join(dir.path, `${addr}.yaml`);
    writeFileSync(f, [`listen: ["${addr}:${PORT}"]`, 'workers: 1', 'log: { level: warn }', 'control: { enabled: false }',
      `forwarders: ["${ADDR.auth}:${PORT}"]`, ...(withList ? [`blocklists: { lists: [{ name: big, file: "${listFile}", format: hosts }] }`] : []), ''].join('\n'));
    return f;
  };
  const authConf = join(dir.path, 'auth.yaml');
  writeFileSync(authConf, [`listen: ["${ADDR.auth}:${PORT}"]`, 'workers: 1', 'log: { level: warn }', 'control: { enabled: false }',
    `zones: [{ name: "${ZONE}", file: "${zoneFile}" }]`, ''].join('\n'));
  const bin = join(ROOT, 'bin', 'sovereign.js');
  const auth = await startNode([bin, 'serve', '--config', authConf], { address: ADDR.auth, port: PORT, zone: ZONE });
  const targets: { name: string; address: string; port: number; tree: number[]; stop(): Promise<void>; rounds: Measured[] }[] = [];
  try {
    for (const [name, addr, withList] of [['no list', ADDR.plain, false], ['500k list', ADDR.listed, true]] as const) {
      const h = await startNode([bin, 'serve', '--config', conf(addr, withList)], { address: addr, port: PORT, zone: ZONE }, { readyTimeoutMs: 60_000 });
      targets.push({ name, address: addr, port: PORT, tree: pinTree(h.pid), stop: () => h.stop(), rounds: [] });
    }
    for (const t of targets) warmUp(t, queries);
    for (let r = 0; r < ROUNDS; r++) for (const t of targets) t.rounds.push(measure(t, queries, SECONDS));
    console.log(`\nserved (forwarder cache hits + 10% listed names; dnsperf -q ${OUTSTANDING}, ${ROUNDS}x${SECONDS}s; medians):`);
    const res = targets.map((t) => ({ name: t.name, ...summarize(t.rounds), rss: rssOf(t.tree[0]!) }));
    for (const r of res) console.log(`  ${r.name.padEnd(10)} ${r.qps.toFixed(0).padStart(7)} QPS  ${r.cpuUsPerQuery.toFixed(2)} CPU us/answer  RSS ${r.rss}  rounds ${r.roundsQps}`);
    console.log(`  with list / without: ${(res[1]!.qps / res[0]!.qps).toFixed(2)}x QPS, ${(res[1]!.cpuUsPerQuery / res[0]!.cpuUsPerQuery).toFixed(2)}x CPU per answer`);
  } finally {
    for (const t of targets) await t.stop();
    await auth.stop();
    dir.cleanup();
  }
}

function rssOf(pid: number): string {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(execSync(`cat /proc/${pid}/status`).toString())?.[1]);
    return mb(kb * 1024);
  } catch {
    return '?';
  }
}

console.log(`bench:blocklist: ${COUNT} names; servers on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}; load: ${execSync('uptime').toString().trim()}`);
const { text, all } = await inProcess();
if (process.env.BENCH_SERVED !== '0') await served(text, all);
console.log(`\nload after: ${execSync('uptime').toString().trim()}`);
