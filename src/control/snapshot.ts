/**
 * The data the control endpoint hands out, as plain JSON-able objects: statistics, cache rows
 * and reload reports, plus how to merge them across cluster workers.
 *
 * Invariant: everything here survives JSON and structured clone (it crosses IPC and HTTP), so
 * names are text in presentation format and RDATA is text as in a zone file.
 */
import type { SecondaryStatus } from '../transfer/secondary.js';
import type { CacheStats } from '../resolver/cache.js';
import type { UpstreamSnapshot } from '../resolver/forwarder.js';
import { type ForwarderValidationStats, newForwarderValidationStats } from '../resolver/forward-validate.js';
import type { ResolverStats } from '../resolver/iterator.js';
import type { RateLimitSnapshot } from '../server/stats.js';
import { type BalanceSnapshot, mergeBalance } from '../balance/balancer.js';
import type { PolicySnapshot } from '../policy/stats.js';
import type { QueryLogCounters } from '../querylog/query-log.js';

/** The shared cache's counters and its size in entries. */
export interface CacheStatsSnapshot extends CacheStats {
  size: number;
}

export interface RouteSnapshot {
  zone: string;
  kind: string;
  upstreams: UpstreamSnapshot[];
}

/** A server of a stub zone as the recursive resolver sees it (smoothed RTT from its infrastructure cache). */
export interface StubServerSnapshot {
  server: string;
  /** Smoothed RTT, ms; -1 before the first reply. */
  srttMs: number;
  queries: number;
  timeouts: number;
}

/** The recursive resolver: its counters, and the stub zones it iterates from configured servers. */
export interface ResolverSnapshot extends ResolverStats {
  stubZones: { zone: string; servers: StubServerSnapshot[] }[];
}

/** Everything `sovereign stats` and /metrics show. Counters are totals since start. */
export interface StatsSnapshot {
  /** Processes the figures come from (cluster workers, or 1). */
  processes: number;
  uptimeSeconds: number;
  queries: { udp: number; tcp: number };
  responses: number;
  dropped: number;
  truncated: number;
  internalErrors: number;
  tcpConnections: number;
  /** Queries by QTYPE mnemonic. */
  qtypes: Record<string, number>;
  /** Replies by RCODE mnemonic. */
  rcodes: Record<string, number>;
  cache: CacheStatsSnapshot;
  forwarder: {
    cacheAnswers: number; upstreamAnswers: number; failures: number; routes: RouteSnapshot[];
    /** The validating forwarder's counters (forwarding.dnssec); absent when it does not validate. */
    validation?: ForwarderValidationStats;
  };
  /** Full recursion or stub zones; null when neither is configured. */
  resolver: ResolverSnapshot | null;
  hosts: { path: string; names: number; loads: number } | null;
  localData: { records: number } | null;
  /** TSIG checks, zone transfers out and NOTIFY out (src/tsig, src/transfer). */
  transfers?: TransferSnapshot;
  /** Configured zones: loaded or not, serial, failed loads (absent in snapshots from older code). */
  zones?: ZoneSnapshot[];
  /** Response rate limiting and the resolver's per-client limits (src/policy). */
  rateLimit?: RateLimitSnapshot;
  /** Views: queries no view matched (REFUSED); absent without views. */
  views?: { refused: number };
  /** DNS64 (RFC 6147): AAAA answers and PTR answers synthesised, excluded AAAA records dropped; absent without dns64. */
  dns64?: { synthesised: number; ptrSynthesised: number; excluded: number };
  /** Load balancing (src/balance): answers by policy, ECS, health checks; absent when not configured. */
  balance?: BalanceSnapshot;
  /** RPZ rewrites and blocklist blocks by zone/list, trigger and client (src/policy). */
  policy?: PolicySnapshot;
  /** The query log (src/querylog): entries, lines and octets written, drops, rotations, dnstap frames; absent when it is off. */
  queryLog?: QueryLogCounters;
  /**
   * Latency of answers as the engine measured them (query in to reply out, a sample of 1 in
   * ANSWER_LATENCY_EVERY queries; src/histogram.ts ANSWER_LATENCY_BOUNDS_S buckets); absent from older code.
   */
  answerLatency?: { buckets: number[]; sumMs: number; count: number };
}

/** One configured authoritative zone (as DnsServer.zoneStatus gives it). */
export interface ZoneSnapshot {
  name: string;
  loaded: boolean;
  serial: number | null;
  loadFailures: number;
  error: string | null;
  /** Secondary zones: the refresh machine (of the transferring process in a cluster). */
  secondary?: SecondaryStatus | null;
}

/**
 * Zones of several workers, which load the same files: a zone counts as loaded when every
 * worker serves it, with the lowest serial served; failures are the most any worker saw.
 */
function mergeZones(parts: readonly StatsSnapshot[]): ZoneSnapshot[] {
  const byName = new Map<string, ZoneSnapshot>();
  for (const p of parts) {
    for (const z of p.zones ?? []) {
      const have = byName.get(z.name);
      if (have === undefined) {
        byName.set(z.name, { ...z });
        continue;
      }
      have.loaded &&= z.loaded;
      if (z.serial === null || have.serial === null) have.serial = have.serial ?? z.serial;
      else have.serial = Math.min(have.serial, z.serial);
      have.loadFailures = Math.max(have.loadFailures, z.loadFailures);
      have.error ??= z.error;
      if (z.secondary?.transfers === true || have.secondary === undefined) have.secondary = z.secondary;
    }
  }
  return [...byName.values()];
}

export interface TransferSnapshot {
  tsigVerified: number;
  tsigFailed: number;
  xfrOut: number;
  xfrOutRefused: number;
  xfrOutMessages: number;
  /** Time spent sending transfers, ms. */
  xfrOutMs: number;
  notifySent: number;
  notifyAnswered: number;
  notifyFailed: number;
}

/** One cache entry for `sovereign cache print`. */
export interface CacheRow {
  name: string;
  type: string;
  class: string;
  kind: 'positive' | 'nxdomain' | 'nodata';
  rank: number;
  originalTtl: number;
  remainingTtl: number;
  stale: boolean;
  /** Presentation-format records (positive) or the SOA (negative). */
  records: string[];
  /** Which worker held it (cluster mode): the first of `workers`. */
  worker?: number;
  /** Every worker holding this same data (cluster mode); the row is printed once for all of them. */
  workers?: number[];
}

export interface ReloadReport {
  zones: { name: string; ok: boolean; serial?: number | undefined; problems: string[] }[];
  hosts: { path: string; names: number } | null;
  ok: boolean;
  error?: string;
}

/** Adds every number of `from` into `into`, key by key (counters of one process into the sum). */
function addRecord<T extends object>(into: T, from: T): void {
  const o = into as Record<string, unknown>;
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === 'number') o[k] = ((o[k] as number | undefined) ?? 0) + v;
    // Histogram buckets (src/histogram.ts) add element-wise, into a new array (never into a part's own).
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) {
      const have = Array.isArray(o[k]) ? (o[k] as number[]) : [];
      o[k] = (v as number[]).map((x, i) => x + (have[i] ?? 0));
    }
  }
}

/** How many processes' measured SRTTs a merged stub server's `srttMs` averages. */
const srttSamples = new WeakMap<StubServerSnapshot, number>();

/** Averages `from`'s SRTT (when measured) into `into` and sums the counters of the same server. */
function mergeStubServer(into: StubServerSnapshot, from: StubServerSnapshot): void {
  if (from.srttMs >= 0) {
    const n = (srttSamples.get(into) ?? (into.srttMs >= 0 ? 1 : 0)) + 1;
    srttSamples.set(into, n);
    into.srttMs = n === 1 ? from.srttMs : Math.round(((into.srttMs * (n - 1) + from.srttMs) / n) * 10) / 10;
  }
  into.queries += from.queries;
  into.timeouts += from.timeouts;
}

function mergeResolver(into: ResolverSnapshot | null, from: ResolverSnapshot): ResolverSnapshot {
  if (into === null) return { ...from, stubZones: from.stubZones.map((z) => ({ zone: z.zone, servers: z.servers.map((x) => ({ ...x })) })) };
  const { stubZones, ...counters } = from;
  addRecord<ResolverStats>(into, counters);
  for (const z of stubZones) {
    let m = into.stubZones.find((x) => x.zone === z.zone);
    if (m === undefined) into.stubZones.push(m = { zone: z.zone, servers: [] });
    for (const srv of z.servers) {
      const have = m.servers.find((x) => x.server === srv.server);
      if (have === undefined) m.servers.push({ ...srv });
      else mergeStubServer(have, srv);
    }
  }
  return into;
}

/** Sums statistics of several processes (counters add; upstream SRTT averages; up if any sees it up). */
export function mergeStats(parts: readonly StatsSnapshot[]): StatsSnapshot {
  if (parts.length === 1) return parts[0]!;
  const out: StatsSnapshot = {
    processes: 0, uptimeSeconds: 0, queries: { udp: 0, tcp: 0 }, responses: 0, dropped: 0, truncated: 0,
    internalErrors: 0, tcpConnections: 0, qtypes: {}, rcodes: {},
    cache: { size: 0, hits: 0, misses: 0, staleHits: 0, inserts: 0, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: { cacheAnswers: 0, upstreamAnswers: 0, failures: 0, routes: [] },
    resolver: null, hosts: null, localData: null,
  };
  const routes = new Map<string, RouteSnapshot>();
  const srttParts = new Map<string, number>();
  for (const p of parts) {
    out.processes += p.processes;
    out.uptimeSeconds = Math.max(out.uptimeSeconds, p.uptimeSeconds);
    out.queries.udp += p.queries.udp;
    out.queries.tcp += p.queries.tcp;
    out.responses += p.responses;
    out.dropped += p.dropped;
    out.truncated += p.truncated;
    out.internalErrors += p.internalErrors;
    out.tcpConnections += p.tcpConnections;
    if (p.transfers !== undefined) {
      out.transfers ??= {
        tsigVerified: 0, tsigFailed: 0, xfrOut: 0, xfrOutRefused: 0, xfrOutMessages: 0, xfrOutMs: 0, notifySent: 0, notifyAnswered: 0, notifyFailed: 0,
      };
      addRecord(out.transfers, p.transfers);
    }
    addRecord(out.qtypes, p.qtypes);
    addRecord(out.rcodes, p.rcodes);
    addRecord(out.cache, p.cache);
    if (p.resolver !== null) out.resolver = mergeResolver(out.resolver, p.resolver);
    out.forwarder.cacheAnswers += p.forwarder.cacheAnswers;
    out.forwarder.upstreamAnswers += p.forwarder.upstreamAnswers;
    out.forwarder.failures += p.forwarder.failures;
    if (p.forwarder.validation !== undefined) {
      out.forwarder.validation ??= newForwarderValidationStats();
      addRecord(out.forwarder.validation, p.forwarder.validation);
    }
    for (const r of p.forwarder.routes) {
      const key = `${r.kind} ${r.zone}`;
      let m = routes.get(key);
      if (m === undefined) {
        m = { zone: r.zone, kind: r.kind, upstreams: [] };
        routes.set(key, m);
      }
      for (const u of r.upstreams) {
        const have = m.upstreams.find((x) => x.upstream === u.upstream);
        const sk = `${key} ${u.upstream}`;
        srttParts.set(sk, (srttParts.get(sk) ?? 0) + 1);
        if (have === undefined) {
          m.upstreams.push({ ...u });
          continue;
        }
        const n = srttParts.get(sk)!;
        const srttMs = Math.round(((have.srttMs * (n - 1) + u.srttMs) / n) * 10) / 10;
        addRecord(have, u);
        have.srttMs = srttMs;
        have.up ||= u.up;
      }
    }
    if (p.hosts !== null) {
      out.hosts = out.hosts === null ? { ...p.hosts } : { ...out.hosts, loads: out.hosts.loads + p.hosts.loads };
    }
    out.localData ??= p.localData;
    if (p.rateLimit !== undefined) {
      const r = (out.rateLimit ??= { dropped: {}, slipped: {}, wouldDrop: {}, wouldSlip: {}, clientQueriesLimited: 0, clientRecursionsLimited: 0 });
      addRecord(r.dropped, p.rateLimit.dropped);
      addRecord(r.slipped, p.rateLimit.slipped);
      addRecord(r.wouldDrop, p.rateLimit.wouldDrop);
      addRecord(r.wouldSlip, p.rateLimit.wouldSlip);
      r.clientQueriesLimited += p.rateLimit.clientQueriesLimited;
      r.clientRecursionsLimited += p.rateLimit.clientRecursionsLimited;
    }
  }
  out.forwarder.routes = [...routes.values()];
  out.zones = mergeZones(parts);
  for (const p of parts) {
    if (p.views !== undefined) {
      out.views ??= { refused: 0 };
      out.views.refused += p.views.refused;
    }
    if (p.dns64 !== undefined) {
      out.dns64 ??= { synthesised: 0, ptrSynthesised: 0, excluded: 0 };
      addRecord(out.dns64, p.dns64);
    }
    if (p.queryLog !== undefined) {
      out.queryLog ??= { recorded: 0, written: 0, bytes: 0, lost: 0, dropped: 0, rotations: 0, dnstapSent: 0, dnstapDropped: 0 };
      addRecord(out.queryLog, p.queryLog);
    }
    if (p.answerLatency !== undefined) {
      out.answerLatency ??= { buckets: [], sumMs: 0, count: 0 };
      addRecord(out.answerLatency, p.answerLatency);
    }
  }
  const balance = mergeBalance(parts.map((p) => p.balance));
  if (balance !== undefined) out.balance = balance;
  const policy = mergePolicy(parts);
  if (policy !== undefined) out.policy = policy;
  return out;
}

/** Policy counters of several processes: per zone/list and per client, summed. */
function mergePolicy(parts: readonly StatsSnapshot[]): PolicySnapshot | undefined {
  let out: PolicySnapshot | undefined;
  const sum = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const p of parts) {
    const q = p.policy;
    if (q === undefined) continue;
    out ??= { rpz: { zones: {}, clients: {} }, blocklists: { lists: {}, clients: {}, allowed: 0 } };
    for (const [name, z] of Object.entries(q.rpz.zones)) {
      const have = out.rpz.zones[name];
      if (have === undefined) out.rpz.zones[name] = { ...z, byTrigger: { ...z.byTrigger } };
      else {
        have.hits += z.hits;
        have.disabled += z.disabled;
        sum(have.byTrigger, z.byTrigger);
      }
    }
    sum(out.rpz.clients, q.rpz.clients);
    for (const [name, l] of Object.entries(q.blocklists.lists)) {
      const have = out.blocklists.lists[name];
      // Each process holds its own copy of a list: names and load state are the first's, blocks add.
      if (have === undefined) out.blocklists.lists[name] = { ...l };
      else have.blocked += l.blocked;
    }
    sum(out.blocklists.clients, q.blocklists.clients);
    out.blocklists.allowed += q.blocklists.allowed;
  }
  return out;
}
