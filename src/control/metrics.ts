/**
 * Prometheus text exposition (via prom-client) of a StatsSnapshot. A fresh registry is filled
 * from the snapshot on every scrape, so the same code serves one process or a merged cluster.
 * Metric names follow Prometheus conventions (`_total` counters, base units: seconds); latencies
 * are histograms; process and Node.js metrics (prom-client's defaults) cover every process
 * serving: each collects its own and a cluster's are aggregated as prom-client's
 * AggregatorRegistry does (CPU, memory, handles summed; event-loop lag averaged; version once).
 * The output passes `promtool check metrics`.
 */
import {
  AggregatorRegistry, Counter, Gauge, type MetricObjectWithValues, type MetricValue, Registry, collectDefaultMetrics,
} from 'prom-client';
import { ANSWER_LATENCY_BOUNDS_S, LATENCY_BOUNDS_S } from '../histogram.js';
import { EdeCode } from '../wire/constants.js';
import type { ResolverStats } from '../resolver/iterator.js';
import type { StatsSnapshot } from './snapshot.js';

export interface MetricsText {
  contentType: string;
  body: string;
}

/** The recursive path's counters: metric name (after `sovereign_resolver_`), help, field, scale to base units. */
type NumericKey = { [K in keyof ResolverStats]: ResolverStats[K] extends number ? K : never }[keyof ResolverStats];

const RESOLVER_COUNTERS: readonly (readonly [string, string, NumericKey, number])[] = [
  ['cache_hits_total', 'Recursive questions answered from the cache.', 'cacheHits', 1],
  ['cache_misses_total', 'Recursive questions the cache could not answer.', 'cacheMisses', 1],
  ['local_answers_total', 'Questions answered from the built-in special-use names.', 'localAnswers', 1],
  ['resolutions_total', 'Iterative resolutions started.', 'resolutions', 1],
  ['upstream_queries_total', 'Queries sent to authoritative servers.', 'upstreamQueries', 1],
  ['upstream_timeouts_total', 'Queries to authoritative servers that timed out.', 'upstreamTimeouts', 1],
  ['upstream_network_errors_total', 'Network errors talking to authoritative servers.', 'upstreamErrors', 1],
  ['upstream_ignored_total', 'Messages that matched no query (source, ID, question): spoofing attempts or junk.', 'ignoredReplies', 1],
  ['tcp_retries_total', 'Truncated UDP replies retried over TCP.', 'tcpRetries', 1],
  ['lame_servers_total', 'Replies from lame or broken servers.', 'lameServers', 1],
  ['edns_fallbacks_total', 'Queries repeated without EDNS for servers that reject it.', 'ednsFallbacks', 1],
  ['failures_total', 'Resolutions that failed (SERVFAIL unless stale data was served).', 'failures', 1],
  ['stale_answers_total', 'Stale answers served after a failed resolution (RFC 8767).', 'staleAnswers', 1],
  ['cached_failures_total', 'SERVFAIL answered from the failure cache.', 'cachedFailures', 1],
  ['limit_hits_total', 'Resolutions stopped by a limit (queries, referrals, chain, fan-out, time).', 'limitHits', 1],
  ['prefetches_total', 'Popular records refreshed before they expired.', 'prefetches', 1],
  ['validation_limit_hits_total', 'DNSSEC validations stopped by a work limit (KeyTrap, NSEC3 hashes).', 'validationLimitHits', 1],
  ['validation_signature_checks_total', 'Signature verifications done by the DNSSEC validator.', 'validationSignatureChecks', 1],
  ['validation_nsec3_hashes_total', 'NSEC3 hashes computed by the DNSSEC validator.', 'validationNsec3Hashes', 1],
  ['aggressive_nsec_answers_total', 'Negative answers synthesised from cached validated NSEC/NSEC3 (RFC 8198).', 'aggressiveNsecAnswers', 1],
  ['edns_size_fallbacks_total', 'Servers offered a smaller EDNS UDP size after a timeout (big replies lost on the path).', 'ednsSizeFallbacks', 1],
];

/** `signature_expired` for EDE 7: the constant's name, lowercased, as a label value. */
function edeReason(code: number): string {
  for (const [k, v] of Object.entries(EdeCode)) if (v === code) return k.toLowerCase();
  return `ede_${code}`;
}

/** Process and Node.js metrics, collected from the first scrape on (event-loop lag, GC need a running start). */
let defaults: Registry | undefined;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Histograms in the text format (prom-client cannot take pre-counted buckets); one family per call. */
class HistogramText {
  private text = '';
  constructor(private readonly name: string, help: string, private readonly bounds: readonly number[] = LATENCY_BOUNDS_S) {
    this.text = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
  }

  /** `counts` as src/histogram.ts keeps them (not cumulative); `sumSeconds` the sum of observations. */
  add(labels: Record<string, string>, counts: readonly number[] | undefined, sumSeconds: number, count: number): void {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}",`).join('');
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += counts?.[i] ?? 0;
      this.text += `${this.name}_bucket{${l}le="${bound}"} ${cumulative}\n`;
    });
    const total = counts === undefined ? count : cumulative + (counts[this.bounds.length] ?? 0);
    const plain = l === '' ? '' : `{${l.slice(0, -1)}}`;
    this.text += `${this.name}_bucket{${l}le="+Inf"} ${total}\n${this.name}_sum${plain} ${sumSeconds}\n${this.name}_count${plain} ${total}\n`;
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Starts collecting process and Node.js metrics (idempotent; the control server calls it at start
 * so event-loop lag and GC figures cover the whole run).
 */
export function startProcessMetrics(): Registry {
  if (defaults === undefined) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    // prom-client's *_total gauges duplicate the per-type gauges and break the naming rule
    // promtool checks (`_total` is for counters only).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      defaults.removeSingleMetric(name);
    }
  }
  return defaults;
}

/** One process's process and Node.js metrics as plain data (prom-client's JSON form; crosses IPC). */
export type ProcessMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** This process's process and Node.js metrics (see startProcessMetrics). */
export async function processMetrics(): Promise<ProcessMetrics> {
  const metrics = await startProcessMetrics().getMetricsAsJSON();
  // prom-client leaves the start time out of an aggregate; the earliest start (the primary's) is the server's.
  for (const m of metrics) if (m.name === 'process_start_time_seconds') (m as { aggregator: string }).aggregator = 'min';
  return metrics;
}

/** The text of several processes' metrics as one (AggregatorRegistry's rules; one process: its own). */
async function aggregateProcesses(processes: readonly ProcessMetrics[]): Promise<string> {
  return AggregatorRegistry.aggregate(processes as ProcessMetrics[]).metrics();
}

/**
 * The exposition of `s` with the process metrics of `processes` (one entry per process serving;
 * default: this process alone).
 */
export async function renderMetrics(s: StatsSnapshot, processes?: readonly ProcessMetrics[]): Promise<MetricsText> {
  const perProcess = processes ?? [await processMetrics()];
  const registry = new Registry();
  const histograms: HistogramText[] = [];
  const counter = (name: string, help: string, labelNames: string[] = []): Counter<string> =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = []): Gauge<string> =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const queries = counter('sovereign_queries_total', 'Queries received, by transport.', ['transport']);
  queries.inc({ transport: 'udp' }, s.queries.udp);
  queries.inc({ transport: 'tcp' }, s.queries.tcp);
  const byType = counter('sovereign_queries_by_type_total', 'Queries received, by QTYPE.', ['qtype']);
  for (const [k, v] of Object.entries(s.qtypes)) byType.inc({ qtype: k }, v);
  const byRcode = counter('sovereign_responses_total', 'Responses sent, by RCODE.', ['rcode']);
  for (const [k, v] of Object.entries(s.rcodes)) byRcode.inc({ rcode: k }, v);
  counter('sovereign_dropped_total', 'Messages dropped without a reply.').inc(s.dropped);
  counter('sovereign_truncated_total', 'Replies sent with TC set.').inc(s.truncated);
  counter('sovereign_internal_errors_total', 'Handler failures turned into SERVFAIL.').inc(s.internalErrors);
  counter('sovereign_tcp_connections_total', 'TCP connections accepted.').inc(s.tcpConnections);
  const x = s.transfers;
  if (x !== undefined) {
    counter('sovereign_tsig_verified_total', 'Queries whose TSIG verified (RFC 8945).').inc(x.tsigVerified);
    counter('sovereign_tsig_failed_total', 'Queries answered with a TSIG error (BADKEY, BADSIG, BADTIME).').inc(x.tsigFailed);
    counter('sovereign_xfr_out_total', 'Zone transfers (AXFR/IXFR) started out.').inc(x.xfrOut);
    counter('sovereign_xfr_out_refused_total', 'Zone transfer requests refused (access, not our zone).').inc(x.xfrOutRefused);
    counter('sovereign_xfr_out_messages_total', 'Messages sent in zone transfers.').inc(x.xfrOutMessages);
    counter('sovereign_xfr_out_seconds_total', 'Time spent sending zone transfers.').inc(x.xfrOutMs / 1000);
    const notify = counter('sovereign_notify_out_total', 'NOTIFY messages sent, answered and given up.', ['result']);
    notify.inc({ result: 'sent' }, x.notifySent);
    notify.inc({ result: 'answered' }, x.notifyAnswered);
    notify.inc({ result: 'failed' }, x.notifyFailed);
  }

  gauge('sovereign_cache_entries', 'RRsets and negative answers held in the cache.').set(s.cache.size);
  counter('sovereign_cache_hits_total', 'Cache lookups that found a fresh answer.').inc(s.cache.hits);
  counter('sovereign_cache_misses_total', 'Cache lookups that found nothing usable.').inc(s.cache.misses);
  counter('sovereign_cache_stale_hits_total', 'Stale answers served (RFC 8767).').inc(s.cache.staleHits);
  counter('sovereign_cache_inserts_total', 'Entries stored in the cache.').inc(s.cache.inserts);
  counter('sovereign_cache_evictions_total', 'Entries evicted to respect the size bound.').inc(s.cache.evictions);

  const fwd = counter('sovereign_forwarder_answers_total', 'Forwarded questions answered, by source.', ['source']);
  fwd.inc({ source: 'cache' }, s.forwarder.cacheAnswers);
  fwd.inc({ source: 'upstream' }, s.forwarder.upstreamAnswers);
  counter('sovereign_forwarder_failures_total', 'Forwarded questions no upstream answered (SERVFAIL).').inc(s.forwarder.failures);
  const fv = s.forwarder.validation;
  if (fv !== undefined) {
    const val = counter('sovereign_forwarder_validations_total', 'DNSSEC validations of forwarded answers, by result.', ['result']);
    val.inc({ result: 'secure' }, fv.secure);
    val.inc({ result: 'insecure' }, fv.insecure);
    val.inc({ result: 'bogus' }, fv.bogus);
    val.inc({ result: 'indeterminate' }, fv.indeterminate);
    const bogus = counter('sovereign_forwarder_validation_bogus_total', 'Bogus forwarded answers, by the Extended DNS Error (RFC 8914) answered.', ['reason']);
    fv.bogusByEde.forEach((n, code) => {
      if (n > 0) bogus.inc({ reason: edeReason(code) }, n);
    });
    counter('sovereign_forwarder_validation_limit_hits_total', 'Forwarder DNSSEC validations stopped by a work limit (KeyTrap, NSEC3 hashes).').inc(fv.limitHits);
    counter('sovereign_forwarder_validation_signature_checks_total', 'Signature verifications done by the forwarder\'s validator.').inc(fv.signatureChecks);
    counter('sovereign_forwarder_validation_nsec3_hashes_total', 'NSEC3 hashes computed by the forwarder\'s validator.').inc(fv.nsec3Hashes);
  }

  const labels = ['zone', 'kind', 'upstream'];
  const uQueries = counter('sovereign_upstream_queries_total', 'Queries sent to an upstream.', labels);
  const uAnswers = counter('sovereign_upstream_answers_total', 'Replies received from an upstream.', labels);
  const uFailures = counter('sovereign_upstream_failures_total', 'Timeouts and network errors talking to an upstream.', labels);
  const uTimeouts = counter('sovereign_upstream_timeouts_total', 'Timeouts talking to an upstream.', labels);
  const uErrors = counter('sovereign_upstream_error_replies_total', 'SERVFAIL/REFUSED and other error replies from an upstream.', labels);
  const uRtt = new HistogramText('sovereign_upstream_rtt_seconds', 'Round-trip times of upstream replies.');
  histograms.push(uRtt);
  const uIgnored = counter('sovereign_upstream_ignored_total', 'Messages from the network that did not match a question (source, ID, question).', labels);
  const uSrtt = gauge('sovereign_upstream_srtt_seconds', 'Smoothed round-trip time of an upstream.', labels);
  const uUp = gauge('sovereign_upstream_up', '1 when the upstream is in use, 0 while it is skipped as dead.', labels);
  const uSize = counter('sovereign_upstream_edns_size_fallbacks_total', 'Timeouts after which a smaller EDNS UDP size was offered to an upstream.', labels);
  for (const r of s.forwarder.routes) {
    for (const u of r.upstreams) {
      const l = { zone: r.zone, kind: r.kind, upstream: u.upstream };
      uQueries.inc(l, u.queries);
      uAnswers.inc(l, u.answers);
      uFailures.inc(l, u.failures);
      uTimeouts.inc(l, u.timeouts);
      uErrors.inc(l, u.errorReplies);
      uIgnored.inc(l, u.ignored);
      uRtt.add(l, u.rttBuckets, u.rttSumMs / 1000, u.rttCount);
      uSrtt.set(l, u.srttMs / 1000);
      uUp.set(l, u.up ? 1 : 0);
      uSize.inc(l, u.ednsSizeFallbacks ?? 0);
    }
  }
  const r = s.resolver;
  if (r !== null) {
    for (const [name, help, key, scale] of RESOLVER_COUNTERS) counter(`sovereign_resolver_${name}`, help).inc((r[key] ?? 0) * scale);
    const val = counter('sovereign_resolver_validations_total', 'DNSSEC validations, by result.', ['result']);
    val.inc({ result: 'secure' }, r.validationSecure ?? 0);
    val.inc({ result: 'insecure' }, r.validationInsecure ?? 0);
    val.inc({ result: 'bogus' }, r.validationBogus ?? 0);
    val.inc({ result: 'indeterminate' }, r.validationIndeterminate ?? 0);
    const bogus = counter('sovereign_resolver_validation_bogus_total', 'Bogus DNSSEC validations, by the Extended DNS Error (RFC 8914) answered.', ['reason']);
    (r.validationBogusByEde ?? []).forEach((n, code) => {
      if (n > 0) bogus.inc({ reason: edeReason(code) }, n);
    });
    const res = new HistogramText('sovereign_resolver_resolution_seconds', 'Wall time of iterative resolutions.');
    res.add({}, r.resolutionBuckets, r.resolutionMsSum / 1000, r.resolutions);
    const rtt = new HistogramText('sovereign_resolver_upstream_rtt_seconds', 'Round-trip times of authoritative servers\' replies.');
    rtt.add({}, r.upstreamRttBuckets, r.upstreamRttMsSum / 1000, r.upstreamReplies);
    histograms.push(res, rtt);
    const sl = ['zone', 'server'];
    const sSrtt = gauge('sovereign_stub_server_srtt_seconds', 'Smoothed round-trip time of a stub zone server (-1: not measured yet).', sl);
    const sQueries = counter('sovereign_stub_server_queries_total', 'Queries sent to a stub zone server.', sl);
    const sTimeouts = counter('sovereign_stub_server_timeouts_total', 'Timeouts of a stub zone server.', sl);
    for (const z of r.stubZones) {
      for (const srv of z.servers) {
        const l = { zone: z.zone, server: srv.server };
        sSrtt.set(l, srv.srttMs < 0 ? -1 : srv.srttMs / 1000);
        sQueries.inc(l, srv.queries);
        sTimeouts.inc(l, srv.timeouts);
      }
    }
  }
  if (s.hosts !== null) {
    gauge('sovereign_hosts_names', 'Names loaded from the hosts file.').set(s.hosts.names);
    counter('sovereign_hosts_loads_total', 'Times the hosts file was (re)loaded.').inc(s.hosts.loads);
  }
  if (s.zones !== undefined && s.zones.length > 0) {
    // Per configured zone: whether it is served, its serial, and failed loads (BIND/Knot log these; we also count them).
    const zl = ['zone'];
    const loaded = gauge('sovereign_zone_loaded', '1 when the zone is served, 0 when it failed to load (answered SERVFAIL).', zl);
    const serial = gauge('sovereign_zone_serial', 'SOA serial of the zone being served.', zl);
    const failures = counter('sovereign_zone_load_failures_total', 'Loads of the zone (start, reload) that failed.', zl);
    for (const z of s.zones) {
      loaded.set({ zone: z.name }, z.loaded ? 1 : 0);
      if (z.serial !== null) serial.set({ zone: z.name }, z.serial);
      failures.inc({ zone: z.name }, z.loadFailures);
    }
    // Secondary zones: transfers in (the process that transfers reports them; RFC 5936/1995).
    const secondaries = s.zones.filter((z) => z.secondary !== undefined && z.secondary !== null && z.secondary.transfers);
    if (secondaries.length > 0) {
      const xin = counter('sovereign_xfr_in_total', 'Zone transfers in (AXFR/IXFR) completed, by zone.', zl);
      const xinFailed = counter('sovereign_xfr_in_failures_total', 'Refreshes of a secondary zone that failed (no primary gave the zone), by zone.', zl);
      const xinBytes = counter('sovereign_xfr_in_bytes_total', 'Octets of DNS messages received in zone transfers, by zone.', zl);
      const xinSeconds = counter('sovereign_xfr_in_seconds_total', 'Time spent receiving and installing zone transfers, by zone.', zl);
      const xinSerial = gauge('sovereign_xfr_in_last_serial', 'SOA serial of the last zone transfer in, by zone.', zl);
      for (const z of secondaries) {
        const sec = z.secondary!;
        xin.inc({ zone: z.name }, sec.transfersIn);
        xinFailed.inc({ zone: z.name }, sec.transferFailures);
        xinBytes.inc({ zone: z.name }, sec.transferBytes);
        xinSeconds.inc({ zone: z.name }, sec.transferMs / 1000);
        if (sec.lastTransfer !== null) xinSerial.set({ zone: z.name }, sec.lastTransfer.serial);
      }
    }
  }
  if (s.rateLimit !== undefined) {
    // Response rate limiting (BIND's RateDropped/RateSlipped, by kind) and the resolver's per-client limits.
    const rl = s.rateLimit;
    const rrl = counter('sovereign_rrl_responses_total', 'Responses limited by response rate limiting, by kind and action (dropped, slipped; log-only: would_drop, would_slip).', ['kind', 'action']);
    for (const [action, table] of [['dropped', rl.dropped], ['slipped', rl.slipped], ['would_drop', rl.wouldDrop], ['would_slip', rl.wouldSlip]] as const) {
      for (const [kind, v] of Object.entries(table)) rrl.inc({ kind, action }, v);
    }
    counter('sovereign_client_queries_limited_total', 'Resolver/forwarder queries over resolver.clientQueryRate (dropped or refused).').inc(rl.clientQueriesLimited);
    counter('sovereign_client_recursions_limited_total', 'Queries over resolver.maxClientRecursions (SERVFAIL or dropped).').inc(rl.clientRecursionsLimited);
  }
  if (s.views !== undefined) counter('sovereign_view_refused_total', 'Queries no view matched, answered REFUSED.').inc(s.views.refused);
  if (s.dns64 !== undefined) {
    counter('sovereign_dns64_synthesised_total', 'AAAA answers synthesised from A records (RFC 6147).').inc(s.dns64.synthesised);
    counter('sovereign_dns64_ptr_synthesised_total', 'PTR queries for the DNS64 prefix answered via in-addr.arpa.').inc(s.dns64.ptrSynthesised);
    counter('sovereign_dns64_excluded_total', 'AAAA records dropped as excluded (RFC 6147 section 5.1.4).').inc(s.dns64.excluded);
  }
  const lb = s.balance;
  if (lb !== undefined) {
    // Load balancing (src/balance): answers by the policy that shaped them, ECS, and each health-checked address.
    const answers = counter('sovereign_lb_answers_total', 'Load-balanced answers, by the policy that shaped them.', ['policy']);
    answers.inc({ policy: 'lb:weighted' }, lb.answers.weighted);
    answers.inc({ policy: 'lb:geo' }, lb.answers.geo);
    answers.inc({ policy: 'lb:failover' }, lb.answers.failover);
    counter('sovereign_ecs_queries_total', 'Queries to balanced names carrying EDNS Client Subnet (RFC 7871).').inc(lb.ecsQueries);
    counter('sovereign_ecs_formerr_total', 'Queries with a malformed EDNS Client Subnet option, answered FORMERR.').inc(lb.ecsFormErrors);
    const hl = ['name', 'address', 'check'];
    const up = gauge('sovereign_health_check_up', '1 while the address passes its health checks, 0 while it is out of the answers.', hl);
    const checks = counter('sovereign_health_checks_total', 'Health checks run.', hl);
    const failed = counter('sovereign_health_check_failures_total', 'Health checks that failed.', hl);
    for (const h of lb.healthChecks) {
      for (const name of h.names) {
        const l = { name, address: h.address, check: h.check };
        up.set(l, h.up ? 1 : 0);
        checks.inc(l, h.checks);
        failed.inc(l, h.failedChecks);
      }
    }
  }
  const pol = s.policy;
  if (pol !== undefined && (Object.keys(pol.rpz.zones).length > 0 || Object.keys(pol.blocklists.lists).length > 0)) {
    // Answer policy (src/policy): RPZ rewrites by zone and trigger, blocklist blocks by list; per client (top 20).
    const rw = counter('sovereign_rpz_rewrites_total', 'Answers rewritten by a response policy zone, by zone and trigger.', ['zone', 'trigger']);
    const dis = counter('sovereign_rpz_disabled_matches_total', 'Matches in a policy zone whose policy is disabled (logged, not applied).', ['zone']);
    for (const [zone, z] of Object.entries(pol.rpz.zones)) {
      for (const [trigger, n] of Object.entries(z.byTrigger)) rw.inc({ zone, trigger }, n);
      dis.inc({ zone }, z.disabled);
    }
    const rc = counter('sovereign_rpz_client_rewrites_total', 'RPZ rewrites for the clients with the most (top 20).', ['client']);
    for (const [client, n] of Object.entries(pol.rpz.clients)) rc.inc({ client }, n);
    const ll = ['list'];
    const blocked = counter('sovereign_blocklist_blocked_total', 'Queries answered as blocked, by list.', ll);
    const names = gauge('sovereign_blocklist_names', 'Names held by the list (last good load).', ll);
    const loads = counter('sovereign_blocklist_loads_total', 'Successful loads of the list.', ll);
    const fails = counter('sovereign_blocklist_load_failures_total', 'Failed loads of the list (the last good copy kept serving).', ll);
    for (const [list, l] of Object.entries(pol.blocklists.lists)) {
      blocked.inc({ list }, l.blocked);
      names.set({ list }, l.names);
      loads.inc({ list }, l.loads);
      fails.inc({ list }, l.failures);
    }
    const bc = counter('sovereign_blocklist_client_blocks_total', 'Blocked queries for the clients with the most (top 20).', ['client']);
    for (const [client, n] of Object.entries(pol.blocklists.clients)) bc.inc({ client }, n);
    counter('sovereign_blocklist_allowed_total', 'Queries for listed names let through by the allowlist.').inc(pol.blocklists.allowed);
  }
  const ql = s.queryLog;
  if (ql !== undefined) {
    // The query log (src/querylog): what was recorded and written, and what a slow disk or collector cost.
    counter('sovereign_querylog_entries_total', 'Queries recorded by the query log (the ring; sampled ones only).').inc(ql.recorded);
    counter('sovereign_querylog_lines_written_total', 'Query log lines handed to the file or stdout.').inc(ql.written);
    counter('sovereign_querylog_written_bytes_total', 'Octets of query log lines handed to the file or stdout.').inc(ql.bytes);
    const dropped = counter('sovereign_querylog_dropped_total', 'Query log lines dropped: the writer fell a ring behind (lost) or the destination was too slow (dropped).', ['reason']);
    dropped.inc({ reason: 'lost' }, ql.lost);
    dropped.inc({ reason: 'dropped' }, ql.dropped);
    counter('sovereign_querylog_rotations_total', 'Size rotations of the query log file.').inc(ql.rotations);
    const tap = counter('sovereign_dnstap_frames_total', 'dnstap frames written and dropped (no collector, or too many waiting).', ['result']);
    tap.inc({ result: 'sent' }, ql.dnstapSent);
    tap.inc({ result: 'dropped' }, ql.dnstapDropped);
  }
  const al = s.answerLatency;
  if (al !== undefined) {
    const h = new HistogramText('sovereign_answer_latency_seconds', 'Time from a query\'s arrival to its reply, a sample of the queries.', ANSWER_LATENCY_BOUNDS_S);
    h.add({}, al.buckets, al.sumMs / 1000, al.count);
    histograms.push(h);
  }
  gauge('sovereign_processes', 'Server processes these figures come from.').set(s.processes);
  gauge('sovereign_uptime_seconds', 'Seconds since the server started.').set(s.uptimeSeconds);
  const processText = await aggregateProcesses(perProcess);
  const body = (await registry.metrics()) + histograms.join('') + processText;
  return { contentType: registry.contentType, body };
}
