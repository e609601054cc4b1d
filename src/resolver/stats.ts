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
  /** DNSSEC validations by outcome (Unbound's num.answer.secure / num.answer.bogus, BIND's ValOk/ValFail...). */
  validationSecure: number;
  validationInsecure: number;
  validationBogus: number;
  validationIndeterminate: number;
  /** Bogus validations by reason: index = the RFC 8914 Extended DNS Error code the answer carried. */
  validationBogusByEde: number[];
  /** Validations stopped by a work limit (KeyTrap CVE-2023-50387, CVE-2023-50868). */
  validationLimitHits: number;
  /** Signature verifications and NSEC3 hashes done by the validator (its work, the chain of trust included). */
  validationSignatureChecks: number;
  validationNsec3Hashes: number;
  /** Negative answers synthesised from cached validated NSEC/NSEC3 (RFC 8198), no upstream query. */
  aggressiveNsecAnswers: number;
  /** Servers offered a smaller EDNS UDP size after a timeout (RFC 6891 §6.2.5: big replies lost on the path). */
  ednsSizeFallbacks: number;
}

/** Extended DNS Error codes counted in `validationBogusByEde` (0..30, RFC 8914 and its registry). */
export const VALIDATION_EDE_SLOTS = 31;

/** A ResolverStats with every counter at zero. */
export function newResolverStats(): ResolverStats {
  return {
    cacheHits: 0, cacheMisses: 0, localAnswers: 0, resolutions: 0, resolutionMsSum: 0, upstreamQueries: 0, upstreamRttMsSum: 0,
    upstreamReplies: 0, upstreamTimeouts: 0, upstreamErrors: 0, ignoredReplies: 0, tcpRetries: 0, lameServers: 0,
    ednsFallbacks: 0, failures: 0, staleAnswers: 0, cachedFailures: 0, limitHits: 0, prefetches: 0,
    resolutionBuckets: newLatencyBuckets(), upstreamRttBuckets: newLatencyBuckets(),
    validationSecure: 0, validationInsecure: 0, validationBogus: 0, validationIndeterminate: 0,
    validationBogusByEde: new Array<number>(VALIDATION_EDE_SLOTS).fill(0), validationLimitHits: 0,
    validationSignatureChecks: 0, validationNsec3Hashes: 0, aggressiveNsecAnswers: 0,
    ednsSizeFallbacks: 0,
  };
}
