/**
 * What the resolver knows about upstream servers (an "infrastructure cache", as Unbound calls
 * it): smoothed round-trip time per address, timeouts with backoff, EDNS support, and servers
 * found lame or broken for a zone, which are avoided for a while.
 *
 * Server choice (as BIND and Unbound do): the address with the lowest smoothed RTT, where
 * addresses never tried count as fast (so each is tried once), and with a small probability a
 * random other usable address instead (exploration), so a server that got faster is noticed.
 *
 * Invariants: times come from the injected clock (ms); randomness from the injected source; the
 * table is bounded (oldest entries dropped); nothing here does I/O.
 */

/** Smoothing as in RFC 6298 §2: alpha 1/8, beta 1/4. */
const ALPHA = 0.125;
const BETA = 0.25;

export interface InfraOptions {
  clock?: () => number;
  /** Uniform random in [0, 1); injected so tests are repeatable. Not used for anything secret. */
  random?: () => number;
  /** Probability of picking a non-best server (default 0.05). */
  exploration?: number;
  /** How long a server stays avoided after being lame or broken for a zone, ms (default 15 min). */
  lameMs?: number;
  /** Timeout for an unknown server, ms (default 800). */
  initialTimeoutMs?: number;
  /** Bounds of the per-attempt timeout, ms (default 150 .. 3000). */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** Servers that timed out this many times in a row are held back (default 3). */
  maxConsecutiveTimeouts?: number;
  /** How long such a server is held back, ms (default 60 s; probed again afterwards). */
  holdDownMs?: number;
  /** Most addresses remembered (default 10 000). */
  maxEntries?: number;
}

/** Per-address state. */
export class ServerInfo {
  /** Smoothed RTT and its variation, ms; srtt < 0: never measured. */
  srtt = -1;
  rttvar = 0;
  consecutiveTimeouts = 0;
  /** Avoid until this time (ms), after repeated timeouts. */
  heldUntil = 0;
  /** Server answered FORMERR/NOTIMP to EDNS: query it without (until `noEdnsUntil`). */
  noEdnsUntil = 0;
  /**
   * EDNS UDP payload size to offer it after queries timed out (0: the configured size), until
   * `udpSizeUntil`: big replies may be lost on the path (MTU, dropped fragments).
   */
  udpSize = 0;
  udpSizeUntil = 0;
  /** Zone key -> avoid-until (ms) for servers found lame/broken for that zone. */
  lame: Map<string, number> | undefined = undefined;
  queries = 0;
  timeouts = 0;
  lastUsed = 0;
}

export class ServerSelector {
  private readonly servers = new Map<string, ServerInfo>();
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly exploration: number;
  private readonly lameMs: number;
  private readonly initialTimeoutMs: number;
  private readonly minTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private readonly maxConsecutiveTimeouts: number;
  private readonly holdDownMs: number;
  private readonly maxEntries: number;

  constructor(opts: InfraOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.exploration = opts.exploration ?? 0.05;
    this.lameMs = opts.lameMs ?? 15 * 60_000;
    this.initialTimeoutMs = opts.initialTimeoutMs ?? 800;
    this.minTimeoutMs = opts.minTimeoutMs ?? 150;
    this.maxTimeoutMs = opts.maxTimeoutMs ?? 3000;
    this.maxConsecutiveTimeouts = opts.maxConsecutiveTimeouts ?? 3;
    this.holdDownMs = opts.holdDownMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** State for `address` (created when first seen). */
  info(address: string): ServerInfo {
    let s = this.servers.get(address);
    if (s === undefined) {
      if (this.servers.size >= this.maxEntries) {
        // Maps iterate in insertion order: drop the oldest.
        const oldest = this.servers.keys().next().value;
        if (oldest !== undefined) this.servers.delete(oldest);
      }
      s = new ServerInfo();
      this.servers.set(address, s);
    }
    return s;
  }

  /** State for `address` if it was ever asked (nothing is created). */
  known(address: string): Readonly<ServerInfo> | undefined {
    return this.servers.get(address);
  }

  /** True when `address` may be asked about `zoneKey` now (not lame for it, not held down). */
  usable(address: string, zoneKey: string): boolean {
    const s = this.servers.get(address);
    if (s === undefined) return true;
    const now = this.clock();
    if (s.heldUntil > now) return false;
    const until = s.lame?.get(zoneKey);
    return until === undefined || until <= now;
  }

  /**
   * Picks the next address to ask among `candidates` (skipping `tried`): the lowest smoothed
   * RTT, never-measured ones first, with occasional exploration. Unusable servers are chosen
   * only when nothing else is left (better a slow answer than none). Undefined when all tried.
   */
  choose(candidates: readonly string[], zoneKey: string, tried: ReadonlySet<string>): string | undefined {
    let best: string | undefined;
    let bestScore = Infinity;
    let fallback: string | undefined;
    let fallbackScore = Infinity;
    let usableCount = 0;
    for (const a of candidates) {
      if (tried.has(a)) continue;
      const s = this.servers.get(a);
      // Never-measured servers score as fast, with a little randomness so their order varies.
      const score = s === undefined || s.srtt < 0 ? this.random() : 1 + s.srtt;
      if (this.usable(a, zoneKey)) {
        usableCount++;
        if (score < bestScore) {
          bestScore = score;
          best = a;
        }
      } else if (score < fallbackScore) {
        fallbackScore = score;
        fallback = a;
      }
    }
    if (best === undefined) return fallback;
    if (usableCount > 1 && this.random() < this.exploration) {
      // Exploration: any other usable candidate, uniformly.
      const others = candidates.filter((a) => a !== best && !tried.has(a) && this.usable(a, zoneKey));
      if (others.length > 0) return others[Math.floor(this.random() * others.length)]!;
    }
    return best;
  }

  /** Per-attempt timeout for `address`: RTO = srtt + 4 * rttvar (RFC 6298 §2), bounded, doubled per recent timeout. */
  timeoutFor(address: string): number {
    const s = this.servers.get(address);
    let rto = s === undefined || s.srtt < 0 ? this.initialTimeoutMs : s.srtt + 4 * s.rttvar;
    if (s !== undefined) rto *= 2 ** Math.min(s.consecutiveTimeouts, 4);
    return Math.min(this.maxTimeoutMs, Math.max(this.minTimeoutMs, Math.round(rto)));
  }

  /** An answer came back after `rttMs`. */
  recordRtt(address: string, rttMs: number): void {
    const s = this.info(address);
    s.queries++;
    s.lastUsed = this.clock();
    s.consecutiveTimeouts = 0;
    s.heldUntil = 0;
    if (s.srtt < 0) {
      s.srtt = rttMs;
      s.rttvar = rttMs / 2;
    } else {
      s.rttvar = (1 - BETA) * s.rttvar + BETA * Math.abs(s.srtt - rttMs);
      s.srtt = (1 - ALPHA) * s.srtt + ALPHA * rttMs;
    }
  }

  /** The attempt timed out (or failed on the network). */
  recordTimeout(address: string, timeoutMs: number): void {
    const s = this.info(address);
    s.queries++;
    s.timeouts++;
    s.consecutiveTimeouts++;
    s.lastUsed = this.clock();
    // Count the timeout as a slow sample so the server sinks in the order.
    const sample = Math.max(timeoutMs, s.srtt < 0 ? 0 : s.srtt * 2);
    if (s.srtt < 0) {
      s.srtt = sample;
      s.rttvar = sample / 2;
    } else {
      s.srtt = Math.min(this.maxTimeoutMs * 4, (1 - ALPHA) * s.srtt + ALPHA * sample * 2);
    }
    if (s.consecutiveTimeouts >= this.maxConsecutiveTimeouts) s.heldUntil = this.clock() + this.holdDownMs;
  }

  /** `address` was lame (or broken: SERVFAIL, REFUSED, bad data) for `zoneKey`: avoid it for a while. */
  recordLame(address: string, zoneKey: string): void {
    const s = this.info(address);
    if (s.lame === undefined) s.lame = new Map();
    if (s.lame.size > 64) s.lame.clear();
    s.lame.set(zoneKey, this.clock() + this.lameMs);
  }

  /** Whether to send EDNS to `address`. */
  edns(address: string): boolean {
    const s = this.servers.get(address);
    return s === undefined || s.noEdnsUntil <= this.clock();
  }

  /** `address` rejected EDNS (FORMERR/NOTIMP): query it without for a while. */
  recordNoEdns(address: string): void {
    this.info(address).noEdnsUntil = this.clock() + this.lameMs;
  }

  /**
   * The EDNS UDP payload size to offer `address`: `configured`, or less while an earlier timeout
   * at a bigger size is remembered (`recordUdpTimeout`).
   */
  udpSizeFor(address: string, configured: number): number {
    const s = this.servers.get(address);
    if (s === undefined || s.udpSize === 0 || s.udpSizeUntil <= this.clock()) return configured;
    return Math.min(s.udpSize, configured);
  }

  /**
   * A query offering `sent` octets to `address` timed out: offer the next smaller size from now
   * on, for `lameMs` (Unbound keeps it in its infra cache, BIND in its ADB). Returns the new size,
   * or undefined when already at the floor. See `nextUdpSize`.
   */
  recordUdpTimeout(address: string, sent: number): number | undefined {
    const next = nextUdpSize(sent);
    if (next === undefined) return undefined;
    const s = this.info(address);
    s.udpSize = next;
    s.udpSizeUntil = this.clock() + this.lameMs;
    return next;
  }

  /** Snapshot for stats and tests. */
  snapshot(): Map<string, Readonly<ServerInfo>> {
    return new Map(this.servers);
  }
}

/** The largest EDNS payload that fits a 1280-octet IPv6 minimum MTU path (DNS Flag Day 2020). */
export const SAFE_UDP_SIZE = 1232;
/** The RFC 1035 §4.2.1 size every path carries; with it, big answers come back with TC=1 and go to TCP. */
export const MIN_UDP_SIZE = 512;

/**
 * The EDNS UDP size to offer after a timeout at `sent` (RFC 6891 §6.2.5: start large, then
 * "around the range of 1280-1410 bytes", then 512 "which with large answers may cause a TCP
 * retry"): above 1232 -> 1232, above 512 -> 512, else undefined (nothing smaller to try).
 * BIND 9.18 does the same per server (its ADB's learned size, then EDNS512 after two timeouts),
 * Unbound too (EDNS_FRAG_SIZE 1232, then no EDNS).
 */
export function nextUdpSize(sent: number): number | undefined {
  if (sent > SAFE_UDP_SIZE) return SAFE_UDP_SIZE;
  if (sent > MIN_UDP_SIZE) return MIN_UDP_SIZE;
  return undefined;
}
