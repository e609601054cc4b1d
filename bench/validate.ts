/**
 * `npm run bench:validate`: the cost of DNSSEC validation, Sovereign against Unbound in the same
 * run, over the signed loopback hierarchy of the validation tests (test/interop/dnssec-hierarchy.ts:
 * BIND, NSD and knotd serving a signed root, TLD and leaves).
 *
 * Four resolvers, each pinned to core 0: Sovereign validating (the default) and with
 * `resolver.dnssec: false`, Unbound with `module-config: "validator iterator"` and with "iterator".
 *
 * 1. Cold validation (bench/lib/cold.ts): each resolver resolves the same list of names one after
 *    the other (the chain of trust fetched and checked once per zone), freshly started and then
 *    BENCH_COLD_ROUNDS times after a flush of its cache and key cache, in alternating order; wall
 *    time, upstream queries, CPU per answer, medians. Target (issue 13): Sovereign validating at
 *    most 1.5x Unbound validating's wall time and 1.0x its upstream queries.
 * 2. Cache-hit QPS and CPU per answer: dnsperf (core 1) sends a mix of cached secure names; rounds
 *    alternate between servers and medians are printed. Target (issue 13): validating within 10% of
 *    non-validating, for QPS and for CPU per answer.
 *
 * Environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_OUTSTANDING (see bench/lib/dnsperf.ts),
 * BENCH_COLD_ROUNDS, BENCH_COLD_ONLY=1 (skip the cache-hit part).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addLoopbackAddress, startUnbound, tempDir } from '../test/helpers/peers.js';
import { startSignedHierarchy } from '../test/interop/dnssec-hierarchy.js';
import {
  COLD_ROUNDS, type ColdResolver, coldPass, coldRounds, flushUnbound, load, printCold, printRatios, resolveAll, unboundControlConf, unboundUpstream,
} from './lib/cold.js';
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

/** Queries a Sovereign resolver has sent upstream so far (its control endpoint's /v1/stats). */
async function sovereignUpstream(address: string, tokenFile: string): Promise<number> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const res = await fetch(`http://${address}:8053/v1/stats`, { headers: { authorization: `Bearer ${token}` } });
  const s = (await res.json()) as { resolver: { upstreamQueries: number } | null };
  return s.resolver?.upstreamQueries ?? 0;
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
  console.log(`load: ${load()}`);
  const stops: (() => Promise<void>)[] = [];
  try {
    const servers: (Target & { rounds: Measured[] })[] = [];
    const cold: ColdResolver[] = [];
    for (const [name, addr, dnssec] of [['Sovereign (validating)', A.sovV, true], ['Sovereign (dnssec: false)', A.sovP, false]] as const) {
      const conf = join(dir.path, `sov-${addr}.yaml`);
      const token = join(dir.path, `token-${addr}`);
      writeFileSync(conf, [`listen: ["${addr}:53"]`, 'workers: 1', 'log: { level: warn }', 'hosts: { enabled: false }',
        `control: { listen: "${addr}:8053", tokenFile: "${token}" }`,
        `resolver: { enabled: true, dnssec: ${dnssec}, rootHints: "${h.hintsFile}", trustAnchors: ["${h.anchorFile}"] }`, ''].join('\n'));
      const s = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf], { address: addr, port: 53, zone: 'localhost.' }, { inheritStderr: true });
      stops.push(() => s.stop());
      const tree = pinTree(s.pid);
      servers.push({ name, address: addr, port: 53, tree, rounds: [] });
      cold.push({ name, address: addr, tree, rounds: [], flush: () => flushCache(addr, token), queries: () => sovereignUpstream(addr, token) });
    }
    for (const [name, addr, validating] of [['Unbound (validating)', A.ubV, true], ['Unbound (iterator only)', A.ubP, false]] as const) {
      const udir = join(dir.path, `unbound-${addr}`);
      mkdirSync(udir);
      const u = await startUnbound(udir, addr, 53, h.hintsFile, `  outgoing-interface: ${addr}\n  msg-cache-size: 64m\n  rrset-cache-size: 64m\n` +
        (validating ? `  module-config: "validator iterator"\n  trust-anchor-file: "${h.anchorFile}"\n` : '') + unboundControlConf(udir));
      stops.push(() => u.stop());
      const tree = pinTree(u.pid);
      const uconf = join(udir, 'unbound.conf');
      servers.push({ name, address: addr, port: 53, tree, rounds: [] });
      cold.push({ name, address: addr, tree, rounds: [], flush: async () => flushUnbound(uconf), queries: async () => unboundUpstream(uconf) });
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const r of cold) r.fresh = await coldPass(r, COLD, true);
    await coldRounds(cold, COLD, true);
    console.log(`\ncold cache, ${COLD.length} names one after the other (DO=1); fresh process (root primed on start), then ${COLD_ROUNDS} rounds ` +
      'after a flush of the cache and key cache, alternating order:');
    printCold(cold, COLD.length);
    const [sv, sp, uv, up] = cold;
    printRatios(sv!, uv!, 1.5, 1);
    printRatios(sp!, up!, 1.2, 1);
    console.log(`load: ${load()}`);
    if (process.env.BENCH_COLD_ONLY === '1') return;

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
    console.log(`load: ${load()}`);
  } finally {
    for (const s of stops) await s();
    await h.stop();
    dir.cleanup();
  }
}

await main();
