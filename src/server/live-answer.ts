/**
 * Answers built from counted-down cached data (the resolver's and the forwarder's cache hits),
 * kept by the engine's UDP answer cache as encoded bytes so a repeat costs what an authoritative
 * cached answer costs: no decoding, no handler chain, no encoding.
 *
 * A handler that answered from its cache says so on the QueryContext (`ctx.live`): which cache
 * entries the answer was built from and who may have it (the recursion ACL). The engine then
 * remembers the reply with the offset of every TTL in it (`captureLive`). On a repeat:
 * - the answer is still the answer while none of its entries left the cache (replaced, evicted,
 *   flushed: `removed`), the cache was not emptied (`generation`), no entry's validation state
 *   changed, and none expired; a prefetching cache's entries stop short of their last 10% of TTL
 *   (Unbound's prefetch rule), so the slow path fires the prefetch as before;
 * - the client must still pass the ACL (checked per query, by address, before anything is sent);
 * - every TTL is lowered by the whole seconds passed since the reply was encoded, which is what
 *   the slow path would write (the cache counts an entry down as expiresAt - now, RFC 1035 §3.2.1);
 * - ID and the question's spelling (0x20) are patched in by the engine as for authoritative answers.
 * RD, CD, AD, DO and the EDNS size are part of the engine's key, so each combination has its own bytes.
 */

/** What the fast path needs of a cache entry (src/resolver/cache.ts CacheEntry). */
export interface LiveEntry {
  readonly expiresAt: number;
  readonly originalTtl: number;
  readonly kind: string;
  readonly removed: boolean;
  readonly prefetchFired: boolean;
  readonly status: number;
}

/** The cache and the gate of the handler that answered (one object per chain element, made at chain build). */
export interface LiveSource {
  /** The cache's clock, whole seconds. */
  now(): number;
  /** Bumped when the cache is emptied. */
  readonly generation: number;
  /** True when entries are prefetched in their last 10% of TTL. */
  readonly prefetching: boolean;
  /** The client may have answers from this cache (recursion ACL). */
  allows(address: string): boolean;
  /** Counts a hit served by the fast path as the handler would have (stats, LRU order). */
  hit(entries: readonly LiveEntry[]): void;
}

/** Set on the QueryContext by a handler whose (synchronous) answer is exactly these entries, counted down. */
export interface LiveHit {
  source: LiveSource;
  entries: LiveEntry[];
}

/** A remembered live reply: its entries, the state they were in, and where its TTLs are. */
export class LiveAnswer {
  constructor(
    readonly source: LiveSource,
    readonly entries: readonly LiveEntry[],
    private readonly statuses: Int32Array,
    private readonly generation: number,
    /** Cache clock (seconds) when the reply was encoded. */
    readonly encodedAt: number,
    /** Ten times the first second at which the reply is no longer served from here. */
    private readonly until10: number,
    /** Offsets of the TTL fields (OPT excluded) and the TTLs written there at `encodedAt`. */
    readonly ttlOffsets: Int32Array,
    readonly ttls: Uint32Array,
  ) {}

  /** True while the remembered reply is still what the slow path would answer at `now` (TTLs aside). */
  valid(now: number): boolean {
    if (now * 10 >= this.until10 || now < this.encodedAt || this.source.generation !== this.generation) return false;
    const es = this.entries;
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (e.removed || e.status !== this.statuses[i]) return false;
    }
    return true;
  }

  /** Writes the counted-down TTLs into `out` (a copy of the remembered reply). */
  patch(out: Uint8Array, now: number): void {
    const d = now - this.encodedAt;
    if (d === 0) return;
    const offs = this.ttlOffsets;
    const ttls = this.ttls;
    for (let i = 0; i < offs.length; i++) {
      const o = offs[i]!;
      const t = ttls[i]! - d;
      const v = t > 0 ? t : 0;
      out[o] = v >>> 24;
      out[o + 1] = (v >>> 16) & 0xff;
      out[o + 2] = (v >>> 8) & 0xff;
      out[o + 3] = v & 0xff;
    }
  }
}

/** Skips a (possibly compressed) name at `p`; the offset after it, or -1 past `len`. */
function skipName(b: Uint8Array, p: number, len: number): number {
  while (p < len) {
    const l = b[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= len ? p + 2 : -1;
    p += l + 1;
  }
  return -1;
}

/**
 * Remembers `reply` (one encoded message, `len` octets) as built from `hit` at cache time `now`:
 * finds every TTL field outside the OPT. Undefined when the reply does not walk cleanly (then it
 * is simply not remembered).
 */
export function captureLive(hit: LiveHit, reply: Uint8Array, len: number, now: number): LiveAnswer | undefined {
  if (len < 12) return undefined;
  const qd = (reply[4]! << 8) | reply[5]!;
  const rrs = ((reply[6]! << 8) | reply[7]!) + ((reply[8]! << 8) | reply[9]!) + ((reply[10]! << 8) | reply[11]!);
  let p = 12;
  for (let i = 0; i < qd; i++) {
    p = skipName(reply, p, len);
    if (p < 0 || p + 4 > len) return undefined;
    p += 4;
  }
  const offs: number[] = [];
  const ttls: number[] = [];
  for (let i = 0; i < rrs; i++) {
    p = skipName(reply, p, len);
    if (p < 0 || p + 10 > len) return undefined;
    const type = (reply[p]! << 8) | reply[p + 1]!;
    if (type !== 41) {
      offs.push(p + 4);
      ttls.push(((reply[p + 4]! << 24) | (reply[p + 5]! << 16) | (reply[p + 6]! << 8) | reply[p + 7]!) >>> 0);
    }
    p += 10 + ((reply[p + 8]! << 8) | reply[p + 9]!);
    if (p > len) return undefined;
  }
  const es = hit.entries;
  const statuses = new Int32Array(es.length);
  let until10 = Number.MAX_SAFE_INTEGER;
  const prefetching = hit.source.prefetching;
  for (let i = 0; i < es.length; i++) {
    const e = es[i]!;
    statuses[i] = e.status;
    // The cache's prefetch rule fires when remaining * 10 <= originalTtl: leave those hits to the slow path.
    const u = prefetching && e.kind === 'positive' && e.originalTtl >= 10 && !e.prefetchFired
      ? e.expiresAt * 10 - e.originalTtl : e.expiresAt * 10;
    if (u < until10) until10 = u;
  }
  return new LiveAnswer(hit.source, es, statuses, hit.source.generation, now, until10, Int32Array.from(offs), Uint32Array.from(ttls));
}
