/**
 * `sovereign stats [--json] [--prometheus]`: the running server's counters through its control
 * endpoint: queries by type, replies by RCODE, queries by transport, cache hits and misses,
 * upstream latency and failures. `--prometheus` prints what /metrics serves.
 */
import { parseArgs } from 'node:util';
import { controlJson, controlRequest } from '../control/client.js';
import { type TargetValues, resolveTarget, targetOptions } from '../control/cli-target.js';
import type { StatsSnapshot } from '../control/snapshot.js';
import { type Command, TARGET_USAGE, parseThenRun } from './command.js';

function sorted(o: Record<string, number>): [string, number][] {
  return Object.entries(o).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Human-readable statistics. */
export function formatStats(s: StatsSnapshot): string {
  const out: string[] = [];
  const kv = (k: string, v: string | number): void => {
    out.push(`${k.padEnd(28)} ${v}`);
  };
  kv('processes', s.processes);
  kv('uptime.seconds', s.uptimeSeconds);
  kv('queries.udp', s.queries.udp);
  kv('queries.tcp', s.queries.tcp);
  kv('responses', s.responses);
  kv('dropped', s.dropped);
  kv('truncated', s.truncated);
  kv('internal-errors', s.internalErrors);
  for (const [k, v] of sorted(s.qtypes)) kv(`qtype.${k}`, v);
  for (const [k, v] of sorted(s.rcodes)) kv(`rcode.${k}`, v);
  const lookups = s.cache.hits + s.cache.misses;
  kv('cache.entries', s.cache.size);
  kv('cache.hits', s.cache.hits);
  kv('cache.misses', s.cache.misses);
  kv('cache.hit-ratio', lookups === 0 ? '-' : `${((100 * s.cache.hits) / lookups).toFixed(1)}%`);
  kv('cache.evictions', s.cache.evictions);
  kv('forwarder.cache-answers', s.forwarder.cacheAnswers);
  kv('forwarder.upstream-answers', s.forwarder.upstreamAnswers);
  kv('forwarder.failures', s.forwarder.failures);
  const fv = s.forwarder.validation;
  if (fv !== undefined) {
    // As the resolver's validation counters below (Unbound's num.answer.secure / num.answer.bogus).
    kv('forwarder.validation-secure', fv.secure);
    kv('forwarder.validation-insecure', fv.insecure);
    kv('forwarder.validation-bogus', fv.bogus);
    kv('forwarder.validation-indeterminate', fv.indeterminate);
    fv.bogusByEde.forEach((n, code) => {
      if (n > 0) kv(`forwarder.validation-bogus.ede-${code}`, n);
    });
    kv('forwarder.validation-limit-hits', fv.limitHits);
    kv('forwarder.validation-signature-checks', fv.signatureChecks);
    kv('forwarder.validation-nsec3-hashes', fv.nsec3Hashes);
  }
  for (const r of s.forwarder.routes) {
    for (const u of r.upstreams) {
      const avg = u.rttCount === 0 ? '-' : `${(u.rttSumMs / u.rttCount).toFixed(2)}ms`;
      out.push(`upstream ${u.upstream} (${r.kind} ${r.zone}): ${u.up ? 'up' : 'DOWN'}, queries ${u.queries}, answers ${u.answers}, ` +
        `avg-rtt ${avg}, srtt ${u.srttMs}ms, failures ${u.failures} (timeouts ${u.timeouts}), error-replies ${u.errorReplies}, ignored ${u.ignored}` +
        (u.ednsSizeFallbacks ? `, edns-size-fallbacks ${u.ednsSizeFallbacks}` : ''));
    }
  }
  const r = s.resolver;
  if (r !== null) {
    const lookups = r.cacheHits + r.cacheMisses;
    const avg = (sumMs: number, n: number): string => (n === 0 ? '-' : `${(sumMs / n).toFixed(2)}ms`);
    kv('resolver.cache-hits', r.cacheHits);
    kv('resolver.cache-misses', r.cacheMisses);
    kv('resolver.cache-hit-ratio', lookups === 0 ? '-' : `${((100 * r.cacheHits) / lookups).toFixed(1)}%`);
    kv('resolver.local-answers', r.localAnswers);
    kv('resolver.resolutions', r.resolutions);
    kv('resolver.resolution-avg', avg(r.resolutionMsSum, r.resolutions));
    kv('resolver.upstream-queries', r.upstreamQueries);
    kv('resolver.upstream-avg-rtt', avg(r.upstreamRttMsSum, r.upstreamReplies));
    kv('resolver.upstream-timeouts', r.upstreamTimeouts);
    kv('resolver.upstream-network-errors', r.upstreamErrors);
    kv('resolver.upstream-ignored', r.ignoredReplies);
    kv('resolver.tcp-retries', r.tcpRetries);
    kv('resolver.lame-servers', r.lameServers);
    kv('resolver.edns-fallbacks', r.ednsFallbacks);
    if (r.ednsSizeFallbacks !== undefined) kv('resolver.edns-size-fallbacks', r.ednsSizeFallbacks);
    kv('resolver.failures', r.failures);
    kv('resolver.cached-failures', r.cachedFailures);
    kv('resolver.stale-answers', r.staleAnswers);
    kv('resolver.limit-hits', r.limitHits);
    kv('resolver.prefetches', r.prefetches);
    if (r.validationSecure !== undefined) {
      // Unbound's num.answer.secure / num.answer.bogus; bogus by the EDE the answer carried.
      kv('resolver.validation-secure', r.validationSecure);
      kv('resolver.validation-insecure', r.validationInsecure);
      kv('resolver.validation-bogus', r.validationBogus);
      kv('resolver.validation-indeterminate', r.validationIndeterminate);
      r.validationBogusByEde.forEach((n, code) => {
        if (n > 0) kv(`resolver.validation-bogus.ede-${code}`, n);
      });
      kv('resolver.validation-limit-hits', r.validationLimitHits);
      kv('resolver.validation-signature-checks', r.validationSignatureChecks);
      kv('resolver.validation-nsec3-hashes', r.validationNsec3Hashes);
      kv('resolver.aggressive-nsec-answers', r.aggressiveNsecAnswers);
    }
    for (const z of r.stubZones) {
      for (const srv of z.servers) {
        out.push(`stub ${srv.server} (${z.zone}): queries ${srv.queries}, timeouts ${srv.timeouts}, srtt ${srv.srttMs < 0 ? '-' : `${srv.srttMs}ms`}`);
      }
    }
  }
  if (s.hosts !== null) kv('hosts.names', `${s.hosts.names} (${s.hosts.path}, loaded ${s.hosts.loads}x)`);
  if (s.localData !== null) kv('local-data.records', s.localData.records);
  for (const z of s.zones ?? []) {
    // One line per zone: an operator looks here first when a zone answers SERVFAIL.
    const state = z.loaded ? `serial ${z.serial ?? '-'}` : 'NOT LOADED (answered SERVFAIL)';
    const failed = z.loadFailures > 0 ? `, ${z.loadFailures} failed load(s)${z.error !== null ? `: ${z.error}` : ''}` : '';
    out.push(`zone ${z.name}: ${state}${failed}`);
    const sec = z.secondary;
    if (sec !== undefined && sec !== null && sec.transfers) {
      // Transfers in, as BIND's statistics-channel xfrins and Knot's stats: count, failures, volume, time.
      const last = sec.lastTransfer === null ? 'none' : `${sec.lastTransfer.kind.toUpperCase()} serial ${sec.lastTransfer.serial}`;
      out.push(`zone ${z.name}: transfers in ${sec.transfersIn}, failed ${sec.transferFailures}, ${sec.transferBytes} bytes, ${sec.transferMs} ms, last ${last}`);
    }
  }
  const lb = s.balance;
  if (lb !== undefined) {
    // Load balancing: answers by policy (lb:weighted, lb:geo, lb:failover), ECS, and each checked address.
    kv('lb.answers.weighted', lb.answers.weighted);
    kv('lb.answers.geo', lb.answers.geo);
    kv('lb.answers.failover', lb.answers.failover);
    kv('lb.ecs-queries', lb.ecsQueries);
    kv('lb.ecs-formerr', lb.ecsFormErrors);
    for (const h of lb.healthChecks) out.push(`health ${h.names.join(',')} ${h.address} (${h.check}): ${h.up ? 'up' : 'DOWN'}, checks ${h.checks}, failed ${h.failedChecks}`);
  }
  const pol = s.policy;
  if (pol !== undefined) {
    // Answer policy (src/policy): RPZ rewrites per zone and trigger, blocks per list, the busiest clients.
    for (const [zone, z] of Object.entries(pol.rpz.zones)) {
      const by = Object.entries(z.byTrigger).map(([k, v]) => `${k} ${v}`).join(', ');
      out.push(`rpz ${zone}: ${z.hits} rewrite(s)${by !== '' ? ` (${by})` : ''}${z.disabled > 0 ? `, ${z.disabled} disabled match(es)` : ''}`);
    }
    for (const [list, l] of Object.entries(pol.blocklists.lists)) {
      out.push(`blocklist ${list}: ${l.names} names, ${l.blocked} blocked, loads ${l.loads}, failed ${l.failures}${l.error !== null ? ` (${l.error})` : ''}`);
    }
    const top = (m: Record<string, number>): string => Object.entries(m).slice(0, 5).map(([k, v]) => `${k} ${v}`).join(', ');
    if (Object.keys(pol.rpz.clients).length > 0) kv('rpz.top-clients', top(pol.rpz.clients));
    if (Object.keys(pol.blocklists.clients).length > 0) kv('blocklist.top-clients', top(pol.blocklists.clients));
  }
  return out.join('\n') + '\n';
}

type StatsValues = { json?: boolean | undefined; prometheus?: boolean | undefined } & TargetValues;

function parseStatsArgs(argv: string[]): StatsValues {
  return parseArgs({ args: argv, options: { ...targetOptions, json: { type: 'boolean' }, prometheus: { type: 'boolean' } }, strict: true }).values;
}

export const command: Command = {
  summary: 'print the running server\'s statistics (--json, --prometheus)',
  usage: 'usage: sovereign stats [--json | --prometheus] [target options]\n\noptions:\n' + TARGET_USAGE,
  run: (argv) => parseThenRun('stats', argv, parseStatsArgs, async (values) => {
    const target = resolveTarget(values);
    if (values.prometheus === true) {
      process.stdout.write((await controlRequest(target, 'GET', '/metrics')).body);
      return 0;
    }
    const { data } = await controlJson<StatsSnapshot>(target, 'GET', '/v1/stats');
    process.stdout.write(values.json === true ? JSON.stringify(data, null, 1) + '\n' : formatStats(data));
    return 0;
  }),
};
