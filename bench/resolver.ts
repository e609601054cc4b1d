/**
 * `npm run bench:resolver`: the recursive resolver against Unbound, in the same run.
 *
 * Builds the loopback hierarchy of the interop tests (root, TLDs and leaf zones served by
 * Sovereign, BIND and NSD behind counting proxies on 127.25.x:53), then starts Sovereign
 * (`sovereign serve --workers 1` with `resolver.enabled`) and Unbound, both with root hints
 * pointing at that hierarchy, each pinned to core 0 (`taskset`, every thread).
 *
 * 1. Cold cost: each resolver, freshly started (root already primed), resolves the same list of
 *    names one after the other; printed: upstream queries (counted at the authoritative side,
 *    per source address) and wall time.
 * 2. Cache-hit QPS: with both caches warm, dnsperf (pinned to core 1) sends the same mix of cached
 *    names to each; servers take turns over several rounds and medians are printed. Target:
 *    Sovereign >= 0.6x Unbound (issue 17); CPU per answer printed for both.
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING
 * (dnsperf -q, default 100), BENCH_WORKERS (Sovereign's workers, default 1).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { exchange } from '../src/client/exchange.js';
import { newEdns } from '../src/wire/edns.js';
import { Message } from '../src/wire/message.js';
import { typeFromString } from '../src/wire/types.js';
import { addLoopbackAddress, startUnbound, tempDir } from '../test/helpers/peers.js';
import { ADDR, NAMES, startHierarchy } from '../test/interop/resolver-hierarchy.js';
import {
  CLIENT_CORE, type Measured, type NodeServer, OUTSTANDING, ROUNDS, SECONDS, SERVER_CORE, type Target, measure, pinTree,
  startNode, summarize, warmUp,
} from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Sovereign's workers (BENCH_WORKERS, default 1): with 2, each has its own cache today, so the cold count shows what sharing would save. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

/** Cold list: the interop names minus the silent server's (its timeout would dominate the wall time). */
const COLD = NAMES.filter(([n]) => n !== 'www.silent.sov.');
/** Cache-hit mix: positive answers with long TTLs that fit a 512-octet reply (dnsperf sends no EDNS). */
const HOT: [string, string][] = [
  ['a.example.sov.', 'A'], ['txt.example.sov.', 'TXT'], ['www.example.sov.', 'A'], ['www.example.bnd.', 'A'],
  ['mail.example.bnd.', 'MX'], ['host.glueless.sov.', 'AAAA'], ['host.glueless.sov.', 'A'], ['a.b.c.deep.example.sov.', 'A'],
  ['x.sub.deep.example.sov.', 'A'], ['www.lame.sov.', 'A'], ['nothere.bnd.', 'A'],
];

async function resolveAll(address: string, names: readonly [string, string][]): Promise<{ ms: number; failed: string[] }> {
  const failed: string[] = [];
  const t0 = performance.now();
  for (const [name, type] of names) {
    const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232 }) });
    try {
      const r = await exchange(q, { address, port: 53 }, { timeoutMs: 10_000 });
      if (r.message.rcode !== 0 && r.message.rcode !== 3) failed.push(`${name} ${type}: rcode ${r.message.rcode}`);
    } catch (err) {
      failed.push(`${name} ${type}: ${(err as Error).message}`);
    }
  }
  return { ms: performance.now() - t0, failed };
}

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
    mkdirSync(join(dir.path, 'unbound'));
    unbound = await startUnbound(join(dir.path, 'unbound'), ADDR.unbound, 53, h.hintsFile,
      `  outgoing-interface: ${ADDR.unbound}\n  msg-cache-size: 64m\n  rrset-cache-size: 64m\n`);
    const unboundTree = pinTree(unbound.pid);
    // Both have primed the root by now (ours at start, Unbound on the readiness probe).
    await new Promise((r) => setTimeout(r, 1000));

    // ---- cold cost ----
    const fromOurs = (s: string): boolean => s !== ADDR.unbound;
    h.resetCounts();
    const coldOurs = await resolveAll(ADDR.ours, COLD);
    const qOurs = h.queries(fromOurs);
    h.resetCounts();
    const coldUb = await resolveAll(ADDR.unbound, COLD);
    await new Promise((r) => setTimeout(r, 500)); // Unbound's background target fetches
    const qUb = h.queries(ADDR.unbound);
    console.log(`\ncold cache, ${COLD.length} names resolved one after the other (root already primed):`);
    console.log(`  ${'resolver'.padEnd(12)}${'upstream queries'.padEnd(20)}${'of which TCP'.padEnd(14)}wall time`);
    console.log(`  ${'Sovereign'.padEnd(12)}${String(qOurs.total).padEnd(20)}${String(qOurs.tcp).padEnd(14)}${coldOurs.ms.toFixed(1)} ms`);
    console.log(`  ${'Unbound'.padEnd(12)}${String(qUb.total).padEnd(20)}${String(qUb.tcp).padEnd(14)}${coldUb.ms.toFixed(1)} ms`);
    console.log(`  Sovereign / Unbound: ${(qOurs.total / qUb.total).toFixed(2)}x upstream queries ` +
      `(target <= 1: ${qOurs.total <= qUb.total ? 'met' : 'NOT met'}), ${(coldOurs.ms / coldUb.ms).toFixed(2)}x wall time`);
    for (const f of [...coldOurs.failed.map((x) => `Sovereign ${x}`), ...coldUb.failed.map((x) => `Unbound ${x}`)]) console.log(`  failed: ${f}`);
    // The first pass also paid for V8 compiling our code; flush the cache through the control
    // endpoint and resolve the list again, warm process, cold cache (server RTTs kept, as Unbound's
    // infra cache survives flush_zone; the root is primed again and that query counts).
    const warmRuns: { ms: number; queries: number }[] = [];
    for (let i = 0; i < 3; i++) {
      await flushOurs(join(dir.path, 'control.token'));
      h.resetCounts();
      const again = await resolveAll(ADDR.ours, COLD);
      warmRuns.push({ ms: again.ms, queries: h.queries(fromOurs).total });
    }
    const best = warmRuns.reduce((a, b) => (b.ms < a.ms ? b : a));
    console.log(`  Sovereign, warm process, cache flushed (best of 3): ${best.queries} upstream queries incl. re-priming, ` +
      `${best.ms.toFixed(1)} ms (${(best.ms / coldUb.ms).toFixed(2)}x Unbound's cold wall time)`);

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
  } finally {
    await ours?.stop();
    await unbound?.stop();
    await h.stop();
    dir.cleanup();
  }
}

await main();
