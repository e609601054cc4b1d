import { ANSWER_LATENCY_BOUNDS_S } from '../histogram.js';
import { SAMPLE_EVERY, TopTalkers } from './top-talkers.js';

/** One query in this many has its answer's latency measured (two clock reads; the rest pay one decrement). */
export const ANSWER_LATENCY_EVERY = 16;
/** The countdown's start when answer latency is not measured: never reaches zero in practice (reset when it does). */
const LATENCY_OFF = 0x3fffffff;

/**
 * Server counters. Plain numbers and typed arrays: incrementing must cost nothing on the hot path.
 */
export class ServerStats {
  /** Packets/messages received, by transport. */
  udpQueries = 0;
  tcpQueries = 0;
  /** Replies sent. */
  responses = 0;
  /** Replies by RCODE (0..4095). */
  readonly rcodes = new Float64Array(4096);
  /** Queries by QTYPE. */
  readonly qtypes = new Float64Array(65536);
  /** Dropped without reply: undecodable header, QR set, ... */
  dropped = 0;
  /** Replies that did not fit and went out with TC. */
  truncated = 0;
  /** Handler failures turned into SERVFAIL. */
  internalErrors = 0;
  /** Entries the UDP answer cache evicted to stay within its octet bound. */
  answerCacheEvictions = 0;
  /** Queries no view matched (REFUSED, src/policy/views.ts). */
  viewRefused = 0;
  tcpConnections = 0;
  tcpRefused = 0;
  tcpTimeouts = 0;
  /** Queries whose TSIG verified, and those answered with a TSIG error (RFC 8945). */
  tsigVerified = 0;
  tsigFailed = 0;
  /** Zone transfers out (AXFR/IXFR): started, refused, messages sent, and time spent sending (ms). */
  xfrOut = 0;
  xfrOutRefused = 0;
  xfrOutMessages = 0;
  xfrOutMs = 0;
  /** DNS over TLS (RFC 7858) and over HTTPS (RFC 8484): queries, connections, refusals, failed handshakes, HTTP errors sent. */
  tlsQueries = 0;
  httpsQueries = 0;
  tlsConnections = 0;
  tlsRefused = 0;
  tlsHandshakeFailures = 0;
  httpsErrors = 0;
  /** Server cookies (RFC 7873): queries with a valid one, with a bad one, and BADCOOKIE replies. */
  cookiesValid = 0;
  cookiesInvalid = 0;
  badCookie = 0;
  /**
   * Response rate limiting (src/policy/rrl.ts), by kind (responses, referrals, nodata, nxdomains,
   * errors, all): limited responses dropped, slipped (sent TC), and in log-only mode those that would have been.
   */
  readonly rrlDropped = new Float64Array(6);
  readonly rrlSlipped = new Float64Array(6);
  readonly rrlWouldDrop = new Float64Array(6);
  readonly rrlWouldSlip = new Float64Array(6);
  /** Resolver/forwarder queries over `resolver.clientQueryRate`, and over `resolver.maxClientRecursions`. */
  clientQueriesLimited = 0;
  clientRecursionsLimited = 0;
  /** Top names and clients from a sample of the queries (src/server/top-talkers.ts). */
  readonly top = new TopTalkers();
  /** Queries until the next sampled one (the engine decrements it once per query). */
  sampleIn = SAMPLE_EVERY;
  /**
   * Answer latency (query in to reply out, as the engine sees it) of a sample of the queries:
   * counts per ANSWER_LATENCY_BOUNDS_S bucket (not cumulative), their sum (ms) and number.
   */
  readonly answerLatency = new Float64Array(ANSWER_LATENCY_BOUNDS_S.length + 1);
  answerLatencySumMs = 0;
  answerLatencyCount = 0;
  /** Queries until the next one timed (the engine decrements it once per query; 0: time this one). */
  latencyIn = ANSWER_LATENCY_EVERY;
  private latencyEvery = ANSWER_LATENCY_EVERY;

  /** Measures answer latency of one query in `every` (0: not at all, as when no control endpoint reads it). */
  setLatencySampling(every: number): void {
    this.latencyEvery = every > 0 ? every : LATENCY_OFF;
    this.latencyIn = this.latencyEvery;
  }

  /** One timed answer (ms); starts the next countdown. */
  observeAnswer(ms: number): void {
    this.latencyIn = this.latencyEvery;
    this.addLatency(ms);
  }

  /** Starts the next countdown (the timed query's answer comes later: addLatency). */
  nextLatencySample(): void {
    this.latencyIn = this.latencyEvery;
  }

  /** Counts one answer's latency (ms) without touching the countdown. */
  addLatency(ms: number): void {
    if (this.latencyEvery === LATENCY_OFF) return;
    const s = ms / 1000;
    const b = ANSWER_LATENCY_BOUNDS_S;
    let i = 0;
    while (i < b.length && s > b[i]!) i++;
    this.answerLatency[i]!++;
    this.answerLatencySumMs += ms;
    this.answerLatencyCount++;
  }

  /** The timed query got no reply after all (dropped, a transfer): the next one is timed instead. */
  skipAnswer(): void {
    this.latencyIn = this.latencyEvery === LATENCY_OFF ? LATENCY_OFF : 1;
  }

  /** Counts a sampled query in `top` and starts the next countdown (off the per-query path). */
  sample(buf: Uint8Array, len: number, address: string): void {
    this.sampleIn = this.top.every;
    this.top.sample(buf, len, address);
  }

  /** Counters as a plain object, by-code tables reduced to their non-zero entries (for logs and tests). */
  snapshot(): Record<string, unknown> {
    const nz = (a: Float64Array): Record<string, number> => nonZero(a, String);
    return {
      udpQueries: this.udpQueries, tcpQueries: this.tcpQueries, responses: this.responses, dropped: this.dropped,
      truncated: this.truncated, internalErrors: this.internalErrors, tcpConnections: this.tcpConnections,
      tcpRefused: this.tcpRefused, tcpTimeouts: this.tcpTimeouts, tsigVerified: this.tsigVerified, tsigFailed: this.tsigFailed,
      xfrOut: this.xfrOut, xfrOutRefused: this.xfrOutRefused, xfrOutMessages: this.xfrOutMessages, xfrOutMs: this.xfrOutMs,
      tlsQueries: this.tlsQueries, httpsQueries: this.httpsQueries, tlsConnections: this.tlsConnections, tlsRefused: this.tlsRefused,
      tlsHandshakeFailures: this.tlsHandshakeFailures, httpsErrors: this.httpsErrors, cookiesValid: this.cookiesValid,
      cookiesInvalid: this.cookiesInvalid, badCookie: this.badCookie, rcodes: nz(this.rcodes), qtypes: nz(this.qtypes),
      rateLimit: rateLimitSnapshot(this),
    };
  }
}

/**
 * The non-zero entries of a by-code counter table, keyed by `label(code)` (a mnemonic such as
 * `AAAA` or `NXDOMAIN`, or the number itself): what `sovereign stats` and logs show of `qtypes`
 * and `rcodes`.
 */
export function nonZero(table: Float64Array, label: (code: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < table.length; i++) if (table[i] !== 0) out[label(i)] = table[i]!;
  return out;
}

/** The kinds of rate-limited responses, in the order of the ServerStats rrl* tables (src/policy/rrl.ts RRL_KIND_NAMES). */
const RRL_KINDS = ['responses', 'referrals', 'nodata', 'nxdomains', 'errors', 'all'] as const;

/** Rate limiting counters as `stats` and /metrics show them (kinds with a zero count left out). */
export interface RateLimitSnapshot {
  dropped: Record<string, number>;
  slipped: Record<string, number>;
  wouldDrop: Record<string, number>;
  wouldSlip: Record<string, number>;
  clientQueriesLimited: number;
  clientRecursionsLimited: number;
}

export function rateLimitSnapshot(s: ServerStats): RateLimitSnapshot {
  const by = (a: Float64Array): Record<string, number> => {
    const o: Record<string, number> = {};
    for (let i = 0; i < RRL_KINDS.length; i++) if (a[i] !== 0) o[RRL_KINDS[i]!] = a[i]!;
    return o;
  };
  return {
    dropped: by(s.rrlDropped), slipped: by(s.rrlSlipped), wouldDrop: by(s.rrlWouldDrop), wouldSlip: by(s.rrlWouldSlip),
    clientQueriesLimited: s.clientQueriesLimited, clientRecursionsLimited: s.clientRecursionsLimited,
  };
}
