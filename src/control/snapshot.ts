/**
 * The data the control endpoint hands out, as plain JSON-able objects: statistics, cache rows
 * and reload reports, plus how to merge them across cluster workers.
 *
 * Invariant: everything here survives JSON and structured clone (it crosses IPC and HTTP), so
 * names are text in presentation format and RDATA is text as in a zone file.
 */
import type { UpstreamSnapshot } from '../resolver/forwarder.js';

export interface CacheStatsSnapshot {
  size: number;
  hits: number;
  misses: number;
  staleHits: number;
  inserts: number;
  refused: number;
  evictions: number;
  prefetches: number;
}

export interface RouteSnapshot {
  zone: string;
  kind: string;
  upstreams: UpstreamSnapshot[];
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
  forwarder: { cacheAnswers: number; upstreamAnswers: number; failures: number; routes: RouteSnapshot[] };
  hosts: { path: string; names: number; loads: number } | null;
  localData: { records: number } | null;
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
  /** Which worker held it (cluster mode). */
  worker?: number;
}

export interface ReloadReport {
  zones: { name: string; ok: boolean; serial?: number | undefined; problems: string[] }[];
  hosts: { path: string; names: number } | null;
  ok: boolean;
  error?: string;
}

function addRecord(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Sums statistics of several processes (counters add; upstream SRTT averages; up if any sees it up). */
export function mergeStats(parts: readonly StatsSnapshot[]): StatsSnapshot {
  if (parts.length === 1) return parts[0]!;
  const out: StatsSnapshot = {
    processes: 0, uptimeSeconds: 0, queries: { udp: 0, tcp: 0 }, responses: 0, dropped: 0, truncated: 0,
    internalErrors: 0, tcpConnections: 0, qtypes: {}, rcodes: {},
    cache: { size: 0, hits: 0, misses: 0, staleHits: 0, inserts: 0, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: { cacheAnswers: 0, upstreamAnswers: 0, failures: 0, routes: [] },
    hosts: null, localData: null,
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
    addRecord(out.qtypes, p.qtypes);
    addRecord(out.rcodes, p.rcodes);
    for (const k of Object.keys(out.cache) as (keyof CacheStatsSnapshot)[]) out.cache[k] += p.cache[k];
    out.forwarder.cacheAnswers += p.forwarder.cacheAnswers;
    out.forwarder.upstreamAnswers += p.forwarder.upstreamAnswers;
    out.forwarder.failures += p.forwarder.failures;
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
        have.srttMs = Math.round(((have.srttMs * (n - 1) + u.srttMs) / n) * 10) / 10;
        have.up ||= u.up;
        have.queries += u.queries;
        have.answers += u.answers;
        have.failures += u.failures;
        have.timeouts += u.timeouts;
        have.errorReplies += u.errorReplies;
        have.rttSumMs += u.rttSumMs;
        have.rttCount += u.rttCount;
        have.probes += u.probes;
        have.ignored += u.ignored;
      }
    }
    if (p.hosts !== null) {
      out.hosts = out.hosts === null ? { ...p.hosts } : { ...out.hosts, loads: out.hosts.loads + p.hosts.loads };
    }
    out.localData ??= p.localData;
  }
  out.forwarder.routes = [...routes.values()];
  return out;
}
