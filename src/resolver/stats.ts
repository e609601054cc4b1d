/** Counters of the recursive resolver (plain numbers: snapshots and the cluster merge add them key by key). */
import { newLatencyBuckets } from '../histogram.js';

/**
 * Counters of the recursive path for `sovereign stats` and /metrics (Unbound's num.cachehits,
 * num.cachemiss, num.recursivereplies, recursion.time.avg...). Plain numbers only: the
 * snapshot and the cluster merge add them key by key.
 */
export interface ResolverStats {
  /** Client questions answered from the cache without an upstream query. */
  cacheHits: number;
  /** Client questions the cache could not answer (resolution needed). */
  cacheMisses: number;
  /** Client questions answered from the built-in special-use names (localhost, RFC 6303...). */
  localAnswers: number;
  /** Resolutions started (cache misses, prefetches; concurrent identical questions share one). */
  resolutions: number;
  /** Wall time of finished resolutions, ms (their average is the recursion latency). */
  resolutionMsSum: number;
  upstreamQueries: number;
  /** Round-trip times of upstream replies, ms (average = sum / count). */
  upstreamRttMsSum: number;
  upstreamReplies: number;
  upstreamTimeouts: number;
  /** Network errors talking to an upstream (unreachable, connection refused...). */
  upstreamErrors: number;
  /** Messages that did not match a query (source, ID, question, 0x20 case): spoofing or junk. */
  ignoredReplies: number;
  /** Replies over TCP after a truncated UDP reply (RFC 7766 §5). */
  tcpRetries: number;
  lameServers: number;
  ednsFallbacks: number;
  /** Resolutions that ended in SERVFAIL (before serve-stale). */
  failures: number;
  staleAnswers: number;
  /** Questions answered SERVFAIL from the failure cache (EDE 13). */
  cachedFailures: number;
  limitHits: number;
  prefetches: number;
  /** Resolution wall times and upstream RTTs as latency histograms (src/histogram.ts). */
  resolutionBuckets: number[];
  upstreamRttBuckets: number[];
}

/** A ResolverStats with every counter at zero. */
export function newResolverStats(): ResolverStats {
  return {
    cacheHits: 0, cacheMisses: 0, localAnswers: 0, resolutions: 0, resolutionMsSum: 0, upstreamQueries: 0, upstreamRttMsSum: 0,
    upstreamReplies: 0, upstreamTimeouts: 0, upstreamErrors: 0, ignoredReplies: 0, tcpRetries: 0, lameServers: 0,
    ednsFallbacks: 0, failures: 0, staleAnswers: 0, cachedFailures: 0, limitHits: 0, prefetches: 0,
    resolutionBuckets: newLatencyBuckets(), upstreamRttBuckets: newLatencyBuckets(),
  };
}
