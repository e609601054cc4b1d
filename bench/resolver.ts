/**
 * `npm run bench:resolver`: the recursive resolver against Unbound, in the same run.
 *
 * Builds the loopback hierarchy of the interop tests (root, TLDs and leaf zones served by
 * Sovereign, BIND and NSD behind counting proxies on 127.25.x:53), then starts Sovereign
 * (`sovereign serve --workers 1` with `resolver.enabled`) and Unbound, both with root hints
 * pointing at that hierarchy, each pinned to core 0 (`taskset`, every thread).
 *
 * 1. Cold cost (bench/lib/cold.ts): each resolver resolves the same list of names one after the
 *    other with an empty cache: once freshly started (root already primed; the hierarchy's own
 *    Node servers warmed by a throwaway Unbound first, so neither resolver pays for their JIT),
 *    then BENCH_COLD_ROUNDS times after a cache flush, in alternating order; printed: wall time,
 *    upstream queries (counted at the authoritative side, per source address), CPU per answer,
 *    medians and ratios. Target (issue 17): wall time <= 1.2x Unbound's, queries <= Unbound's.
 * 2. Cache-hit QPS: with both caches warm, dnsperf (pinned to core 1) sends the same mix of cached
 *    names to each; servers take turns over several rounds and medians are printed. Target:
 *    Sovereign >= 0.6x Unbound (issue 17); CPU per answer printed for both.
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING
 * (dnsperf -q, default 100), BENCH_WORKERS (Sovereign's workers, default 1), BENCH_COLD_ROUNDS
 * (default 7), BENCH_COLD_ONLY=1 (skip the cache-hit part).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addLoopbackAddress, startUnbound, tempDir } from '../test/helpers/peers.js';
import { ADDR, NAMES, startHierarchy } from '../test/interop/resolver-hierarchy.js';
import {
  COLD_ROUNDS, type ColdResolver, coldPass, coldRounds, flushUnbound, load, printCold, printRatios, resolveAll, unboundControlConf,
} from './lib/cold.js';
import {
  CLIENT_CORE, type Measured, type NodeServer, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, type Target, measure, pinTree,
  startNode, summarize, warmUp,
} from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Sovereign's workers (BENCH_WORKERS, default 1): with 2, each has its own cache today, so the cold count shows what sharing would save. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
/** The throwaway Unbound that warms the hierarchy up before anything is measured. */
const WARM_UP = '127.25.0.55';

/** Cold list: the interop names minus the silent server's (its timeout would dominate the wall time). */
const COLD = NAMES.filter(([n]) => n !== 'www.silent.sov.');
/** Cache-hit mix: positive answers with long TTLs that fit a 512-octet reply (dnsperf sends no EDNS). */
const HOT: [string, string][] = [
  ['a.example.sov.', 'A'], ['txt.example.sov.', 'TXT'], ['www.example.sov.', 'A'], ['www.example.bnd.', 'A'],
  ['mail.example.bnd.', 'MX'], ['host.glueless.sov.', 'AAAA'], ['host.glueless.sov.', 'A'], ['a.b.c.deep.example.sov.', 'A'],
  ['x.sub.deep.example.sov.', 'A'], ['www.lame.sov.', 'A'], ['nothere.bnd.', 'A'],
];

/** Empties our resolver's cache through its control endpoint. */
async function flushOurs(tokenFile: string): Promise<void> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const res = await fetch(`http://${ADDR.ours}:8053/v1/cache/flush`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`cache flush failed: ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-resolver-');
  const h = await startHierarchy(dir.path);
  addLoopbackAddress(ADDR.ours);
  addLoopbackAddress(ADDR.unbound);
  const conf = join(dir.path, 'sovereign.yaml');
  writeFileSync(conf, [
    `listen: ["${ADDR.ours}:53"]`, `workers: ${WORKERS}`, 'log: { level: warn }',
    `control: { listen: "${ADDR.ours}:8053", tokenFile: "${join(dir.path, 'control.token')}" }`,
    `resolver: { enabled: true, dnssec: false, rootHints: "${h.hintsFile}" }`, '',
  ].join('\n'));
  const hot = join(dir.path, 'hot.txt');
  writeFileSync(hot, HOT.map(([n, t]) => `${n} ${t}`).join('\n') + '\n');
  console.log(`bench:resolver: hierarchy of ${h.proxies.size} authoritative addresses on 127.25.x:53 (Sovereign, BIND, NSD); ` +
    `resolvers on core ${SERVER_CORE}, dnsperf on core ${CLIENT_CORE}`);
  let ours: NodeServer | undefined;
  let unbound: Awaited<ReturnType<typeof startUnbound>> | undefined;
  try {
    ours = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf],
      { address: ADDR.ours, port: 53, zone: 'localhost.' }, { inheritStderr: true });
    const oursTree = pinTree(ours.pid);
    // The hierarchy's authoritative servers and proxies run in this Node process: a throwaway
    // Unbound resolves the list once first, so their JIT warm-up is paid by neither resolver.
    mkdirSync(join(dir.path, 'warm-up'));
    addLoopbackAddress(WARM_UP);
    const warm = await startUnbound(join(dir.path, 'warm-up'), WARM_UP, 53, h.hintsFile, `  outgoing-interface: ${WARM_UP}\n`);
    try {
      await resolveAll(WARM_UP, COLD);
    } finally {
      await warm.stop();
    }
    mkdirSync(join(dir.path, 'unbound'));
    unbound = await startUnbound(join(dir.path, 'unbound'), ADDR.unbound, 53, h.hintsFile,
      `  outgoing-interface: ${ADDR.unbound}\n  msg-cache-size: 64m\n  rrset-cache-size: 64m\n${unboundControlConf(join(dir.path, 'unbound'))}`);
    const unboundTree = pinTree(unbound.pid);
    // Both have primed the root by now (ours at start, Unbound on the readiness probe).
    await new Promise((r) => setTimeout(r, 1000));

    // ---- cold cost ----
    const token = join(dir.path, 'control.token');
    const unboundConf = join(dir.path, 'unbound', 'unbound.conf');
    const fromOurs = (s: string): boolean => s !== ADDR.unbound && s !== WARM_UP;
    const cold: ColdResolver[] = [
      { name: 'Sovereign', address: ADDR.ours, tree: oursTree, rounds: [], flush: () => flushOurs(token), queries: async () => h.queries(fromOurs).total },
      { name: 'Unbound', address: ADDR.unbound, tree: unboundTree, rounds: [], flush: async () => flushUnbound(unboundConf), queries: async () => h.queries(ADDR.unbound).total },
    ];
    console.log(`load before: ${load()}`);
    for (const r of cold) r.fresh = await coldPass(r, COLD);
    await coldRounds(cold, COLD);
    console.log(`\ncold cache, ${COLD.length} names resolved one after the other; fresh process (root primed), then ${COLD_ROUNDS} rounds ` +
      'after a cache flush (root primed again, counted), alternating order:');
    printCold(cold, COLD.length);
    printRatios(cold[0]!, cold[1]!, 1.2, 1);
    console.log(`load after: ${load()}`);
    if (process.env.BENCH_COLD_ONLY === '1') return;

    // ---- cache-hit QPS ----
    await resolveAll(ADDR.ours, HOT);
    await resolveAll(ADDR.unbound, HOT);
    const servers: (Target & { rounds: Measured[] })[] = [
      { name: 'Sovereign', address: ADDR.ours, port: 53, tree: oursTree, rounds: [] },
      { name: 'Unbound', address: ADDR.unbound, port: 53, tree: unboundTree, rounds: [] }];
    for (const s of servers) warmUp(s, hot); // JIT
    h.resetCounts();
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) s.rounds.push(measure(s, hot));
    }
    const upstreamDuringHits = h.queries().total;
    console.log(`\ncache hits: dnsperf -q ${OUTSTANDING}, ${ROUNDS} rounds of ${SECONDS}s, ${HOT.length} cached names (medians):`);
    console.log(`  ${'resolver'.padEnd(12)}${'QPS'.padEnd(10)}${'avg ms'.padEnd(9)}${'lost'.padEnd(7)}${'CPU us/answer'.padEnd(15)}rounds (QPS)`);
    const results = servers.map((s) => ({ name: s.name, ...summarize(s.rounds) }));
    for (const r of results) {
      console.log(`  ${r.name.padEnd(12)}${r.qps.toFixed(0).padEnd(10)}${r.latencyMs.toFixed(3).padEnd(9)}` +
        `${String(r.lost).padEnd(7)}${r.cpuUsPerQuery.toFixed(2).padEnd(15)}${r.roundsQps}`);
    }
    const ratio = results[0]!.qps / results[1]!.qps;
    console.log(`  Sovereign / Unbound: ${ratio.toFixed(2)}x cache-hit QPS (target >= 0.6x: ${ratio >= 0.6 ? 'met' : 'NOT met'}), ` +
      `${(results[0]!.cpuUsPerQuery / results[1]!.cpuUsPerQuery).toFixed(2)}x CPU per answer`);
    console.log(`  upstream queries during the cache-hit phase (both): ${upstreamDuringHits}`);
    console.log(`load: ${load()}`);
  } finally {
    await ours?.stop();
    await unbound?.stop();
    await h.stop();
    dir.cleanup();
  }
}

await main();
