/**
 * `npm run bench:validate`: the cost of DNSSEC validation, Sovereign against Unbound in the same
 * run, over the signed loopback hierarchy of the validation tests (test/interop/dnssec-hierarchy.ts:
 * BIND, NSD and knotd serving a signed root, TLD and leaves).
 *
 * Four resolvers, each pinned to core 0: Sovereign validating (the default) and with
 * `resolver.dnssec: false`, Unbound with `module-config: "validator iterator"` and with "iterator".
 *
 * 1. Cold validation: each resolver, freshly started, resolves the same list of secure names one
 *    after the other (the chain of trust fetched and checked once per zone); wall time.
 * 2. Cache-hit QPS and CPU per answer: dnsperf (core 1) sends a mix of cached secure names; rounds
 *    alternate between servers and medians are printed. Target (issue 13): validating within 10% of
 *    non-validating, for QPS and for CPU per answer.
 *
 * Environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_OUTSTANDING (see bench/lib/dnsperf.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { exchange } from '../src/client/exchange.js';
import { newEdns } from '../src/wire/edns.js';
import { Message } from '../src/wire/message.js';
import { typeFromString } from '../src/wire/types.js';
import { addLoopbackAddress, startUnbound, tempDir } from '../test/helpers/peers.js';
import { startSignedHierarchy } from '../test/interop/dnssec-hierarchy.js';
import {
  CLIENT_CORE, type Measured, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, type Target, measure, pinTree, startNode, summarize, warmUp,
} from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Secure names in every kind of signed zone (BIND, ldns and Knot signers; NSEC, NSEC3, opt-out). */
const COLD: [string, string][] = [
  ['www.good.vld.', 'A'], ['nx.good.vld.', 'A'], ['a.wild.good.vld.', 'TXT'], ['www.ldns.vld.', 'A'], ['nx.ldns.vld.', 'A'],
  ['www.ln.vld.', 'A'], ['www.knot.vld.', 'A'], ['nx.knot.vld.', 'A'], ['www.optout.vld.', 'A'], ['www.iter.vld.', 'A'],
  ['www.ins.vld.', 'A'], ['www.uns.', 'A'], ['cname.good.vld.', 'A'],
];
/** Cached answers that fit 512 octets (dnsperf sends no EDNS): secure ones and two insecure. */
const HOT: [string, string][] = [
  ['www.good.vld.', 'A'], ['www.good.vld.', 'AAAA'], ['txt.good.vld.', 'TXT'], ['www.ldns.vld.', 'A'], ['www.ln.vld.', 'A'],
  ['www.knot.vld.', 'A'], ['www.optout.vld.', 'A'], ['www.iter.vld.', 'A'], ['www.ins.vld.', 'A'], ['www.uns.', 'A'],
];

async function resolveAll(address: string, names: readonly [string, string][]): Promise<{ ms: number; failed: string[] }> {
  const failed: string[] = [];
  const t0 = performance.now();
  for (const [name, type] of names) {
    const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: true }) });
    try {
      const r = await exchange(q, { address, port: 53 }, { timeoutMs: 10_000 });
      if (r.message.rcode !== 0 && r.message.rcode !== 3) failed.push(`${name} ${type}: rcode ${r.message.rcode}`);
    } catch (err) {
      failed.push(`${name} ${type}: ${(err as Error).message}`);
    }
  }
  return { ms: performance.now() - t0, failed };
}

/** Queries a Sovereign resolver has sent upstream so far (its control endpoint's /v1/stats). */
async function sovereignUpstream(address: string, tokenFile: string): Promise<number> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const res = await fetch(`http://${address}:8053/v1/stats`, { headers: { authorization: `Bearer ${token}` } });
  const s = (await res.json()) as { resolver: { upstreamQueries: number } | null };
  return s.resolver?.upstreamQueries ?? 0;
}

/** Queries an Unbound has sent upstream so far (num.query.udpout + tcpout, extended statistics). */
function unboundUpstream(conf: string): number {
  const out = execFileSync('unbound-control', ['-c', conf, 'stats_noreset']).toString();
  let n = 0;
  for (const m of out.matchAll(/^num\.query\.(?:udp|tcp)out=(\d+)$/gm)) n += Number(m[1]);
  return n;
}

/** Empties a Sovereign's cache and its validator's key states through its control endpoint. */
async function flushCache(address: string, tokenFile: string): Promise<void> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const res = await fetch(`http://${address}:8053/v1/cache/flush`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`cache flush failed: ${res.status} ${await res.text()}`);
  // Any NTA change makes the validator forget its key states and bogus verdicts: the chain of trust is checked again.
  const nta = await fetch(`http://${address}:8053/v1/nta/remove?name=bench.invalid`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await nta.text();
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-validate-');
  const h = await startSignedHierarchy(dir.path);
  const A = { sovV: '127.26.0.53', sovP: '127.26.0.56', ubV: '127.26.0.54', ubP: '127.26.0.55' };
  for (const a of Object.values(A)) addLoopbackAddress(a);
  const hot = join(dir.path, 'hot.txt');
  writeFileSync(hot, HOT.map(([n, t]) => `${n} ${t}`).join('\n') + '\n');
  console.log(`bench:validate: signed hierarchy on 127.26.x:53 (BIND, NSD, knotd); resolvers on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}`);
  console.log(`load: ${execFileSync('uptime').toString().trim()}`);
  const stops: (() => Promise<void>)[] = [];
  try {
    const servers: (Target & { rounds: Measured[]; coldMs: number; upstream: number })[] = [];
    const warmMs = new Map<string, number>();
    for (const [name, addr, dnssec] of [['Sovereign (validating)', A.sovV, true], ['Sovereign (dnssec: false)', A.sovP, false]] as const) {
      const conf = join(dir.path, `sov-${addr}.yaml`);
      const token = join(dir.path, `token-${addr}`);
      writeFileSync(conf, [`listen: ["${addr}:53"]`, 'workers: 1', 'log: { level: warn }', 'hosts: { enabled: false }',
        `control: { listen: "${addr}:8053", tokenFile: "${token}" }`,
        `resolver: { enabled: true, dnssec: ${dnssec}, rootHints: "${h.hintsFile}", trustAnchors: ["${h.anchorFile}"] }`, ''].join('\n'));
      const s = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf], { address: addr, port: 53, zone: 'localhost.' }, { inheritStderr: true });
      stops.push(() => s.stop());
      const tree = pinTree(s.pid);
      await new Promise((r) => setTimeout(r, 500));
      const q0 = await sovereignUpstream(addr, token);
      const cold = await resolveAll(addr, COLD);
      const upstream = (await sovereignUpstream(addr, token)) - q0;
      for (const f of cold.failed) console.log(`  ${name} failed: ${f}`);
      // The first pass also paid for V8 compiling the code: flush the cache and the validator's
      // key states (chain of trust checked again) and resolve again, best of 3.
      let warm = Infinity;
      for (let i = 0; i < 3; i++) {
        await flushCache(addr, token);
        warm = Math.min(warm, (await resolveAll(addr, COLD)).ms);
      }
      warmMs.set(name, warm);
      servers.push({ name, address: addr, port: 53, tree, rounds: [], coldMs: cold.ms, upstream });
    }
    for (const [name, addr, validating] of [['Unbound (validating)', A.ubV, true], ['Unbound (iterator only)', A.ubP, false]] as const) {
      const udir = join(dir.path, `unbound-${addr}`);
      mkdirSync(udir);
      const u = await startUnbound(udir, addr, 53, h.hintsFile, `  outgoing-interface: ${addr}\n  msg-cache-size: 64m\n  rrset-cache-size: 64m\n` +
        (validating ? `  module-config: "validator iterator"\n  trust-anchor-file: "${h.anchorFile}"\n` : '') +
        `  extended-statistics: yes\nremote-control:\n  control-enable: yes\n  control-interface: "${join(udir, 'control.sock')}"\n  control-use-cert: no\n`);
      stops.push(() => u.stop());
      const tree = pinTree(u.pid);
      await new Promise((r) => setTimeout(r, 500));
      const uconf = join(udir, 'unbound.conf');
      const q0 = unboundUpstream(uconf);
      const cold = await resolveAll(addr, COLD);
      const upstream = unboundUpstream(uconf) - q0;
      for (const f of cold.failed) console.log(`  ${name} failed: ${f}`);
      servers.push({ name, address: addr, port: 53, tree, rounds: [], coldMs: cold.ms, upstream });
    }
    console.log(`\ncold cache, ${COLD.length} names one after the other (root primed on start), wall time and upstream queries:`);
    for (const s of servers) {
      const w = warmMs.get(s.name);
      console.log(`  ${s.name.padEnd(28)}${s.coldMs.toFixed(1)} ms, ${s.upstream} upstream queries${w !== undefined ? ` (warm process, cache flushed: ${w.toFixed(1)} ms)` : ''}`);
    }
    const [sv, sp, uv] = servers;
    console.log(`  Sovereign validating / Unbound validating: ${(sv!.coldMs / uv!.coldMs).toFixed(2)}x wall (target <= 1.5x), ` +
      `${(sv!.upstream / uv!.upstream).toFixed(2)}x upstream queries (target <= 1.0x); validating / not: ${(sv!.coldMs / sp!.coldMs).toFixed(2)}x`);
    const wv = warmMs.get(sv!.name);
    if (wv !== undefined) console.log(`  warm process, cache flushed / Unbound cold: ${(wv / uv!.coldMs).toFixed(2)}x`);

    for (const s of servers) await resolveAll(s.address, HOT);
    for (const s of servers) warmUp(s, hot);
    for (let round = 0; round < ROUNDS; round++) for (const s of servers) s.rounds.push(measure(s, hot));
    console.log(`\ncache hits: dnsperf -q ${OUTSTANDING}, ${ROUNDS} rounds of ${SECONDS}s, ${HOT.length} cached names (medians):`);
    console.log(`  ${'resolver'.padEnd(28)}${'QPS'.padEnd(10)}${'CPU us/answer'.padEnd(15)}${'lost'.padEnd(7)}rounds (QPS)`);
    const res = servers.map((s) => ({ name: s.name, ...summarize(s.rounds) }));
    for (const r of res) console.log(`  ${r.name.padEnd(28)}${r.qps.toFixed(0).padEnd(10)}${r.cpuUsPerQuery.toFixed(1).padEnd(15)}${String(r.lost).padEnd(7)}${r.roundsQps}`);
    const q = res[0]!.qps / res[1]!.qps;
    const c = res[0]!.cpuUsPerQuery / res[1]!.cpuUsPerQuery;
    console.log(`  Sovereign validating / not: ${q.toFixed(2)}x QPS, ${c.toFixed(2)}x CPU per answer (target: within 10%: ${q >= 0.9 && c <= 1.1 ? 'met' : 'NOT met'})`);
    console.log(`  Sovereign validating / Unbound validating: ${(res[0]!.qps / res[2]!.qps).toFixed(2)}x QPS`);
    console.log(`load: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    for (const s of stops) await s();
    await h.stop();
    dir.cleanup();
  }
}

await main();
