/**
 * The resolver's RRset cache: positive RRsets and negative answers (RFC 2308), ranked by
 * credibility (RFC 2181 §5.4.1), counted down by an injected clock, bounded in entries and in
 * (estimated) bytes with least-recently-used eviction, with serve-stale (RFC 8767) and a prefetch hook.
 *
 * API summary (everything a resolver, a forwarder or a control endpoint needs):
 * - `new RRCache({ maxEntries, maxBytes, minTtl, maxTtl, maxNegativeTtl, staleTtl, prefetch, clock })`
 * - `put(records, rank, extra?)`: caches one RRset (all records share owner, type, class). Refused when
 *   an unexpired entry of higher credibility exists (RFC 2181 §5.4.1: glue and additional data
 *   never overwrite authoritative answers). Returns the entry stored, or undefined; `capped()`
 *   gives the records with the TTL a put would store (for callers whose put was refused).
 *   `extra.sigs`: the RRSIGs covering the set, kept with it (served only to DO=1 clients);
 *   `extra.dnssec`: the data was fetched with DO=1, so `sigs` is complete (possibly empty);
 *   `extra.space`: `CacheSpace.UNCHECKED` for data fetched with CD=1 (kept apart from checked data).
 * - `putNegative(name, type, class, kind, soa, rank, extra?)`: caches NXDOMAIN (for every type of `name`)
 *   or NODATA (for `type` only); TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), capped;
 *   `extra.sigs` holds the DNSSEC proof (RRSIGs, NSEC/NSEC3) from the authority section.
 * - `get(name, type, class, minRank?, count?, space?)`: a fresh `CacheHit` (records with TTLs counted down, or
 *   the negative answer with its SOA counted down) or undefined. Counts hits and misses. Fires
 *   `onPrefetch(name, type, class)` once when a popular entry enters its last 10% of TTL.
 *   NXDOMAIN cached for `name` answers every type.
 * - `getStale(name, type, class)`: an expired entry still within `staleTtl` (RFC 8767), TTLs set
 *   to `staleAnswerTtl` (30 s, RFC 8767 §4); for use only when every upstream failed.
 * - `peek(name, type, class, minRank?)`: like `get` without touching counters, LRU order or prefetch.
 * - `closestDelegation(name, class)`: the cached NS RRset nearest above-or-at `name`.
 * - `dump(name?, type?)` / `entries()`: `CacheDumpEntry` rows (name, type, class, kind, rank,
 *   original TTL, remaining TTL, stale flag, records) for `sovereign cache print`.
 * - `flush(name?, { subtree })`: removes everything, one name's entries, or a whole subtree;
 *   returns how many entries went.
 * - `stats`: hits, misses, staleHits, inserts, evictions, prefetches, and `size`.
 *
 * Invariants: entries are read-only once stored (answers get fresh record objects whose TTL is
 * the remaining TTL, shared by all hits within the same second); TTL arithmetic uses whole
 * seconds from the clock, and a TTL with the top bit set counts as 0 (RFC 2181 §8); an entry is
 * removed only by flush, LRU eviction, or being found past its stale window. The estimated
 * bytes of all entries never exceed `maxBytes` (a single entry larger than the bound is not
 * stored), so whoever controls a zone cannot grow the process without limit. Data fetched with
 * CD=1 lives in its own space (`CacheSpace.UNCHECKED`) and never answers a lookup of the checked
 * space. The cache never does I/O and never awaits.
 */
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { negativeTtl, ttlValue } from '../wire/ttl.js';

export { negativeTtl } from '../wire/ttl.js';

/**
 * Which data a lookup may see. CHECKED: fetched with CD=0 (validated by a validating upstream, or
 * from a resolver that does not validate). UNCHECKED: fetched with CD=1 (RFC 4035 §3.2.2), may
 * have failed validation upstream; only CD=1 clients get it, as Unbound keeps bogus data apart.
 */
export const CacheSpace = { CHECKED: 0, UNCHECKED: 1 } as const;
export type CacheSpace = (typeof CacheSpace)[keyof typeof CacheSpace];

/** Optional parts of a put. */
export interface PutExtra {
  /** RRSIGs covering the set (or, for negative answers, the authority proof: RRSIGs, NSEC, NSEC3). */
  sigs?: readonly ResourceRecord[];
  /** Fetched with DO=1: `sigs` is everything there is (an unsigned answer has none). */
  dnssec?: boolean;
  space?: CacheSpace;
  /**
   * NSEC/NSEC3 records and their RRSIGs proving a wildcard expansion (positive) or the denial
   * (negative; the validating resolver keeps the SOA's RRSIGs in `sigs` and the denial here).
   */
  proof?: readonly ResourceRecord[];
}

/**
 * Credibility of cached data, lowest first (RFC 2181 §5.4.1). Data of a lower rank never
 * replaces unexpired data of a higher rank.
 */
export const Credibility = {
  /** Additional section of any reply (addresses of NS/MX targets etc.). */
  ADDITIONAL: 1,
  /** Glue and NS records of a referral (the authority section of a non-authoritative reply). */
  GLUE: 2,
  /** Authority section of an authoritative reply (the zone's own NS/SOA). */
  AUTH_AUTHORITY: 3,
  /** Answer section of a non-authoritative reply (e.g. from a forwarder). */
  NONAUTH_ANSWER: 4,
  /** Answer section of an authoritative reply (AA set). */
  AUTH_ANSWER: 5,
  /** Data configured locally (local zones, hosts file). */
  LOCAL: 6,
} as const;
export type Credibility = (typeof Credibility)[keyof typeof Credibility];

export type CacheEntryKind = 'positive' | 'nxdomain' | 'nodata';

/**
 * DNSSEC validation state of an entry (RFC 4035 §4.7: the cache keeps it with the data). Set by
 * the resolver after validating; UNCHECKED until then (and for data stored with CD=1 or by side lookups).
 */
export const ValidationState = { UNCHECKED: 0, SECURE: 1, INSECURE: 2, INDETERMINATE: 3, BOGUS: 4 } as const;


/** Lowest credibility a resolver should hand to clients as an answer (RFC 2181 §5.4.1). */
export const ANSWER_RANK: Credibility = Credibility.AUTH_AUTHORITY;

/** A cache hit: what to put in a reply. Records are fresh objects with counted-down TTLs. */
export interface CacheHit {
  kind: CacheEntryKind;
  /** The RRset (positive), empty for negative answers. */
  records: readonly ResourceRecord[];
  /** Negative answers: the SOA (TTL counted down) for the authority section. */
  soa: readonly ResourceRecord[];
  /** RRSIGs of `records` (positive) or the DNSSEC proof (negative), TTL counted down; for DO=1 clients. */
  sigs: readonly ResourceRecord[];
  rank: Credibility;
  /** Seconds left. */
  ttl: number;
  /** True when served from beyond the TTL (serve-stale). */
  stale: boolean;
  /** The stored entry (for callers that need its identity, e.g. to compare or dump). */
  entry: CacheEntry;
  /** NSEC/NSEC3 proof and its RRSIGs (negative answers, wildcard expansions). */
  proof: readonly ResourceRecord[];
}

/** One row of `dump()`. */
export interface CacheDumpEntry {
  name: Name;
  type: number;
  class: number;
  kind: CacheEntryKind;
  rank: Credibility;
  /** TTL when stored (after minTtl/maxTtl), seconds. */
  originalTtl: number;
  /** Seconds left (0 when expired). */
  remainingTtl: number;
  stale: boolean;
  records: readonly ResourceRecord[];
  soa: readonly ResourceRecord[];
  /** 0 checked, 1 unchecked (CD=1) data. */
  space: CacheSpace;
}

export interface CacheOptions {
  /** Most entries kept (an entry = one RRset or one negative answer). Default 100 000. */
  maxEntries?: number;
  /**
   * Most bytes kept, as estimated from the records' data and the objects holding them (default
   * 64 MiB). Least recently used entries go first.
   */
  maxBytes?: number;
  /** TTL floor for positive data, seconds (default 0). */
  minTtl?: number;
  /** TTL cap for positive data, seconds (default 86400, like Unbound's cache-max-ttl). */
  maxTtl?: number;
  /** TTL cap for negative answers, seconds (default 3600; RFC 2308 §5 suggests 1-3 hours). */
  maxNegativeTtl?: number;
  /** How long past expiry an entry may still be served stale, seconds (0 = serve-stale off). */
  staleTtl?: number;
  /** TTL put on stale answers (RFC 8767 §4 recommends 30 s). */
  staleAnswerTtl?: number;
  /** Fire `onPrefetch` for entries hit in their last 10% of TTL (Unbound's rule). */
  prefetch?: boolean;
  /** Milliseconds since some epoch (default Date.now); tests inject their own. */
  clock?: () => number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  staleHits: number;
  inserts: number;
  /** Puts refused because better-ranked data was cached. */
  refused: number;
  evictions: number;
  prefetches: number;
}

/** Default `maxBytes`: 64 MiB of estimated entry size. */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/** Estimated bytes of a record's object (owner reference, fields, header) beyond its data. */
const RECORD_OVERHEAD = 96;
/** Estimated bytes of an entry (object, LRU links, map slot) beyond its records. */
const ENTRY_OVERHEAD = 320;

/** Estimated heap bytes of a value inside RDATA: strings, byte arrays, names, arrays, objects. */
function dataBytes(v: unknown, depth = 0): number {
  if (v === null || v === undefined) return 8;
  switch (typeof v) {
    case 'number': case 'boolean': case 'bigint': return 8;
    case 'string': return 16 + v.length * 2;
    case 'object': {
      if (v instanceof Uint8Array) return 128 + v.byteLength; // the view object and its own backing store
      if (depth > 4) return 64;
      const w = (v as { wire?: unknown }).wire;
      if (w instanceof Uint8Array) return 96 + w.byteLength * 3; // a Name: wire labels and its lowercased key
      let n = 32;
      if (Array.isArray(v)) {
        for (const x of v) n += 8 + dataBytes(x, depth + 1);
        return n;
      }
      for (const k in v as Record<string, unknown>) n += 16 + dataBytes((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default: return 16;
  }
}

function recordsBytes(rrs: readonly ResourceRecord[]): number {
  let n = 0;
  for (let i = 0; i < rrs.length; i++) n += RECORD_OVERHEAD + dataBytes(rrs[i]!.data);
  return n;
}

/** Stored entry. Fields are fully initialised in the constructor (stable hidden class). */
export class CacheEntry {
  readonly name: Name;
  readonly type: number;
  readonly class: number;
  readonly kind: CacheEntryKind;
  readonly records: readonly ResourceRecord[];
  readonly soa: readonly ResourceRecord[];
  readonly sigs: readonly ResourceRecord[];
  /** NSEC/NSEC3 proof with its RRSIGs (see `PutExtra.proof`). */
  readonly proof: readonly ResourceRecord[];
  /** Fetched with DO=1: `sigs` is complete. */
  readonly dnssec: boolean;
  readonly space: CacheSpace;
  /** Estimated bytes (see `maxBytes`). */
  readonly bytes: number;
  readonly rank: Credibility;
  readonly originalTtl: number;
  /** Seconds (clock) when stored and when it expires. */
  readonly storedAt: number;
  /** Lowered only by `capTtl` (signature TTL caps, RFC 4035 §5.3.3). */
  expiresAt: number;
  /** Key inside the name's node. */
  readonly slot: number;
  readonly nameKey: string;
  hits = 0;
  prefetchFired = false;
  /** Set when the entry leaves the cache (replaced, evicted, flushed by name): answers built from it are out of date. */
  removed = false;
  /** A ValidationState value (the validating resolver sets it once the data is validated). */
  status = 0;
  /** Memoised counted-down view: valid while `viewTtl` equals the remaining TTL. */
  viewTtl = -1;
  viewRecords: readonly ResourceRecord[] = [];
  viewSoa: readonly ResourceRecord[] = [];
  viewSigs: readonly ResourceRecord[] = [];
  viewProof: readonly ResourceRecord[] = [];
  viewHit: CacheHit | undefined = undefined;
  /** LRU list links (most recent at the head). */
  prev: CacheEntry | undefined = undefined;
  next: CacheEntry | undefined = undefined;

  constructor(name: Name, nameKey: string, type: number, cls: number, slot: number, kind: CacheEntryKind,
    records: readonly ResourceRecord[], soa: readonly ResourceRecord[], sigs: readonly ResourceRecord[],
    proof: readonly ResourceRecord[], dnssec: boolean, space: CacheSpace, rank: Credibility, ttl: number, now: number) {
    this.name = name;
    this.nameKey = nameKey;
    this.type = type;
    this.class = cls;
    this.slot = slot;
    this.kind = kind;
    this.records = records;
    this.soa = soa;
    this.sigs = sigs;
    this.proof = proof;
    this.dnssec = dnssec;
    this.space = space;
    this.bytes = ENTRY_OVERHEAD + name.wire.length * 3 + recordsBytes(records) + recordsBytes(soa) + recordsBytes(sigs)
      + recordsBytes(proof);
    this.rank = rank;
    this.originalTtl = ttl;
    this.storedAt = now;
    this.expiresAt = now + ttl;
  }
}

/**
 * Slot inside a name's node: class, type and space. NXDOMAIN uses type 0 (never a real type);
 * the space is the low bit so checked and unchecked data of one RRset never share a slot.
 */
function slotOf(type: number, cls: number, space: number): number {
  return (cls * 65536 + type) * 2 + space;
}

const NONE: readonly ResourceRecord[] = Object.freeze([]) as readonly ResourceRecord[];

function withTtl(rrs: readonly ResourceRecord[], ttl: number): ResourceRecord[] {
  const out = new Array<ResourceRecord>(rrs.length);
  for (let i = 0; i < rrs.length; i++) {
    const r = rrs[i]!;
    out[i] = { name: r.name, type: r.type, class: r.class, ttl, data: r.data };
  }
  return out;
}


export class RRCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, staleHits: 0, inserts: 0, refused: 0, evictions: 0, prefetches: 0 };
  /** Puts not stored because the one entry alone exceeds maxBytes. */
  tooLarge = 0;
  /** Called (synchronously, at most once per entry) when a popular entry nears expiry. */
  onPrefetch: ((name: Name, type: number, cls: number) => void) | undefined = undefined;

  /**
   * Bumped when the whole cache is emptied (`flush()`), which does not mark each entry removed:
   * answers remembered from entries of an older generation are out of date.
   */
  generation = 0;
  /**
   * While set (see `record`), every entry a lookup returns is pushed here: the server's fast
   * path remembers which entries an answer was built from, to know when it goes out of date.
   */
  private recorder: CacheEntry[] | undefined = undefined;

  private readonly nodes = new Map<string, Map<number, CacheEntry>>();
  private head: CacheEntry | undefined = undefined;
  private tail: CacheEntry | undefined = undefined;
  private count = 0;
  private totalBytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;
  private readonly staleTtl: number;
  private readonly staleAnswerTtl: number;
  private readonly prefetch: boolean;
  private readonly clock: () => number;

  constructor(opts: CacheOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 100_000);
    this.maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_CACHE_MAX_BYTES);
    this.minTtl = opts.minTtl ?? 0;
    this.maxTtl = opts.maxTtl ?? 86_400;
    this.maxNegativeTtl = opts.maxNegativeTtl ?? 3600;
    this.staleTtl = opts.staleTtl ?? 0;
    this.staleAnswerTtl = opts.staleAnswerTtl ?? 30;
    this.prefetch = opts.prefetch ?? false;
    this.clock = opts.clock ?? Date.now;
  }

  /** Entries held now (expired ones not yet swept included). */
  get size(): number {
    return this.count;
  }

  /** Estimated bytes held now (never above `maxBytes`). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True when popular entries are prefetched in their last 10% of TTL (see `onPrefetch`). */
  get prefetching(): boolean {
    return this.prefetch && this.onPrefetch !== undefined;
  }

  /**
   * Starts (with an array, emptied first) or stops (undefined) recording the entries lookups
   * return. Used around one synchronous cache answer; never left on across an await.
   */
  record(into: CacheEntry[] | undefined): void {
    if (into !== undefined) into.length = 0;
    this.recorder = into;
  }

  /**
   * A hit served without a lookup (the server's answer fast path): counts it, moves the entries
   * to the young end of the LRU list as `get` would.
   */
  noteHit(entries: readonly CacheEntry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      e.hits++;
      this.touch(e);
    }
  }

  /** Current time in whole seconds. */
  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  /**
   * Caches one RRset at `rank`. TTL = the set's smallest TTL, floored by minTtl and capped by
   * maxTtl (RFC 2181 §5.2: one TTL per RRset). Returns the entry, or undefined when better data
   * is cached (counted in `stats.refused`).
   */
  put(records: readonly ResourceRecord[], rank: Credibility, extra?: PutExtra): CacheEntry | undefined {
    if (records.length === 0) return undefined;
    const first = records[0]!;
    const ttl = this.ttlOf(records, extra?.sigs);
    const sigs = extra?.sigs !== undefined && extra.sigs.length > 0 ? withTtl(extra.sigs, ttl) : NONE;
    const proof = extra?.proof !== undefined && extra.proof.length > 0 ? withTtl(extra.proof, ttl) : NONE;
    return this.store(first.name, first.type, first.class, 'positive', withTtl(records, ttl), NONE, sigs, proof,
      extra?.dnssec === true, extra?.space ?? CacheSpace.CHECKED, rank, ttl);
  }

  /**
   * The records with the TTL `put` would store: the set's smallest (RFC 2181 §5.2; §8: top bit set
   * = 0), floored by minTtl and capped by maxTtl. For callers whose put was refused.
   */
  capped(records: readonly ResourceRecord[]): ResourceRecord[] {
    return records.length === 0 ? [] : withTtl(records, this.ttlOf(records, undefined));
  }

  private ttlOf(records: readonly ResourceRecord[], sigs: readonly ResourceRecord[] | undefined): number {
    let ttl = ttlValue(records[0]!.ttl);
    for (let i = 1; i < records.length; i++) {
      const t = ttlValue(records[i]!.ttl);
      if (t < ttl) ttl = t;
    }
    // RFC 4035 §5.3.3: the RRset lives no longer than its signatures' TTL.
    if (sigs !== undefined) for (const s of sigs) if (ttlValue(s.ttl) < ttl) ttl = ttlValue(s.ttl);
    if (ttl > this.maxTtl) ttl = this.maxTtl;
    if (ttl < this.minTtl) ttl = this.minTtl;
    return ttl;
  }

  /**
   * Caches a negative answer: `nxdomain` (the name has no data of any type) or `nodata` (not
   * this type). `soa` is the zone's SOA from the authority section; without one the answer is
   * not cached (RFC 2308 §5: no SOA, no negative caching).
   */
  putNegative(name: Name, type: number, cls: number, kind: 'nxdomain' | 'nodata', soa: ResourceRecord | undefined,
    rank: Credibility, extra?: PutExtra): CacheEntry | undefined {
    if (soa === undefined) return undefined;
    let ttl = negativeTtl(soa);
    if (ttl > this.maxNegativeTtl) ttl = this.maxNegativeTtl;
    const sigs = extra?.sigs !== undefined && extra.sigs.length > 0 ? withTtl(extra.sigs, ttl) : NONE;
    const proof = extra?.proof !== undefined && extra.proof.length > 0 ? withTtl(extra.proof, ttl) : NONE;
    return this.store(name, kind === 'nxdomain' ? 0 : type, cls, kind, NONE, withTtl([soa], ttl), sigs, proof,
      extra?.dnssec === true, extra?.space ?? CacheSpace.CHECKED, rank, ttl);
  }

  /** A fresh answer for (name, type, class) of at least `minRank` in `space`, or undefined (a miss). */
  get(name: Name, type: number, cls: number, minRank: number = ANSWER_RANK, count = true,
    space: CacheSpace = CacheSpace.CHECKED): CacheHit | undefined {
    const hit = this.lookup(name, type, cls, minRank, true, space);
    if (count) {
      if (hit === undefined) this.stats.misses++;
      else this.stats.hits++;
    }
    return hit;
  }

  /** Like `get` but leaves counters, LRU order and prefetch alone (for the iterator's own use). */
  peek(name: Name, type: number, cls: number, minRank: number = Credibility.ADDITIONAL,
    space: CacheSpace = CacheSpace.CHECKED): CacheHit | undefined {
    return this.lookup(name, type, cls, minRank, false, space);
  }

  /**
   * RFC 8767: an answer past its TTL but within `staleTtl`, with TTL `staleAnswerTtl`. Only for
   * when resolution failed. Undefined when serve-stale is off or nothing usable is cached.
   */
  getStale(name: Name, type: number, cls: number, minRank: number = ANSWER_RANK,
    space: CacheSpace = CacheSpace.CHECKED, count = true): CacheHit | undefined {
    if (this.staleTtl <= 0) return undefined;
    const node = this.nodes.get(name.key);
    if (node === undefined) return undefined;
    const now = this.now();
    let e = node.get(slotOf(type, cls, space));
    if (e === undefined || e.rank < minRank || now >= e.expiresAt + this.staleTtl) e = node.get(slotOf(0, cls, space));
    if (e === undefined || e.rank < minRank || now >= e.expiresAt + this.staleTtl) return undefined;
    if (count) {
      this.stats.staleHits++;
      this.touch(e);
    }
    const ttl = now < e.expiresAt ? e.expiresAt - now : this.staleAnswerTtl;
    return {
      kind: e.kind, records: withTtl(e.records, ttl), soa: withTtl(e.soa, ttl), sigs: withTtl(e.sigs, ttl), rank: e.rank, ttl,
      stale: now >= e.expiresAt, entry: e, proof: withTtl(e.proof, ttl),
    };
  }

  /**
   * The closest cached NS RRset at or above `name` (fresh, any rank): where iteration starts.
   * Undefined when not even the root's NS set is cached.
   */
  closestDelegation(name: Name, cls: number): CacheHit | undefined {
    let n = name;
    for (;;) {
      const hit = this.lookup(n, RRType.NS, cls, Credibility.ADDITIONAL, false, CacheSpace.CHECKED);
      if (hit !== undefined && hit.kind === 'positive') return hit;
      if (n.isRoot) return undefined;
      n = n.parent();
    }
  }

  /** Every entry, most recently used first. */
  *entries(): IterableIterator<CacheDumpEntry> {
    const now = this.now();
    for (let e = this.head; e !== undefined; e = e.next) yield this.row(e, now);
  }

  /** Entries for `name` (all of them when omitted) and `type` (all types when omitted), sorted. */
  dump(name?: Name, type?: number): CacheDumpEntry[] {
    const now = this.now();
    const out: CacheDumpEntry[] = [];
    const consider = (node: Map<number, CacheEntry>): void => {
      for (const e of node.values()) if (type === undefined || e.type === type) out.push(this.row(e, now));
    };
    if (name !== undefined) {
      const node = this.nodes.get(name.key);
      if (node !== undefined) consider(node);
    } else {
      for (const node of this.nodes.values()) consider(node);
    }
    out.sort((a, b) => a.name.compare(b.name) || a.type - b.type || a.class - b.class);
    return out;
  }

  /**
   * Removes entries: all of them (no name), those owned by `name`, or with `subtree` those owned
   * by `name` or any name below it. Returns how many were removed.
   */
  flush(name?: Name, opts: { subtree?: boolean } = {}): number {
    if (name === undefined) {
      const n = this.count;
      this.generation++;
      this.nodes.clear();
      this.head = this.tail = undefined;
      this.count = 0;
      this.totalBytes = 0;
      return n;
    }
    let removed = 0;
    const drop = (node: Map<number, CacheEntry>): void => {
      for (const e of [...node.values()]) {
        this.remove(e);
        removed++;
      }
    };
    if (opts.subtree === true) {
      for (const [, node] of [...this.nodes]) {
        const any = node.values().next().value;
        if (any !== undefined && any.name.isSubdomainOf(name)) drop(node);
      }
    } else {
      const node = this.nodes.get(name.key);
      if (node !== undefined) drop(node);
    }
    return removed;
  }

  /**
   * Shortens an entry to expire `ttl` seconds from now, never lengthens it (the validator's
   * RFC 4035 §5.3.3 cap: RRSIG original TTL and signature expiration).
   */
  capTtl(e: CacheEntry, ttl: number): void {
    const until = this.now() + Math.max(0, ttl);
    if (until >= e.expiresAt) return;
    e.expiresAt = until;
    e.viewTtl = -1;
    e.viewHit = undefined;
  }

  /** Removes one entry (e.g. data found bogus, so the next question fetches it afresh). */
  evict(e: CacheEntry): void {
    this.remove(e);
  }

  // ---- internals -------------------------------------------------------------------------------

  private lookup(name: Name, type: number, cls: number, minRank: number, touch: boolean, space: number): CacheHit | undefined {
    const node = this.nodes.get(name.key);
    if (node === undefined) return undefined;
    const now = this.now();
    let e = node.get(slotOf(type, cls, space));
    if (e !== undefined && (e.rank < minRank || now >= e.expiresAt)) {
      if (now >= e.expiresAt + this.staleTtl) this.remove(e);
      e = undefined;
    }
    if (e === undefined && type !== 0) {
      // RFC 2308 §5: a cached NXDOMAIN answers every type at that name.
      const nx = node.get(slotOf(0, cls, space));
      if (nx !== undefined && nx.rank >= minRank && now < nx.expiresAt) e = nx;
    }
    if (e === undefined) return undefined;
    if (this.recorder !== undefined) this.recorder.push(e);
    const remaining = e.expiresAt - now;
    if (touch) {
      e.hits++;
      this.touch(e);
      // Unbound's rule: prefetch when hit within the last 10% of the original TTL.
      if (this.prefetch && !e.prefetchFired && e.kind === 'positive' && e.originalTtl >= 10 &&
        remaining * 10 <= e.originalTtl && this.onPrefetch !== undefined) {
        e.prefetchFired = true;
        this.stats.prefetches++;
        this.onPrefetch(e.name, e.type, e.class);
      }
    }
    if (e.viewTtl !== remaining || e.viewHit === undefined) {
      e.viewTtl = remaining;
      e.viewRecords = e.records.length === 0 ? e.records : withTtl(e.records, remaining);
      e.viewSoa = e.soa.length === 0 ? e.soa : withTtl(e.soa, remaining);
      e.viewSigs = e.sigs.length === 0 ? e.sigs : withTtl(e.sigs, remaining);
      e.viewProof = e.proof.length === 0 ? e.proof : withTtl(e.proof, remaining);
      e.viewHit = {
        kind: e.kind, records: e.viewRecords, soa: e.viewSoa, sigs: e.viewSigs, proof: e.viewProof, rank: e.rank, ttl: remaining, stale: false, entry: e,
      };
    }
    return e.viewHit;
  }

  private store(name: Name, type: number, cls: number, kind: CacheEntryKind, records: readonly ResourceRecord[],
    soa: readonly ResourceRecord[], sigs: readonly ResourceRecord[], proof: readonly ResourceRecord[], dnssec: boolean,
    space: CacheSpace, rank: Credibility, ttl: number): CacheEntry | undefined {
    const key = name.key;
    let node = this.nodes.get(key);
    const slot = slotOf(type, cls, space);
    const now = this.now();
    const old = node?.get(slot);
    if (old !== undefined && now < old.expiresAt && old.rank > rank) {
      this.stats.refused++;
      return undefined;
    }
    if (kind === 'nxdomain' && node !== undefined) {
      // The name is gone: positive data of lower or equal rank for it is out of date.
      for (const e of [...node.values()]) if (e.rank <= rank && e.space === space) this.remove(e);
      node = this.nodes.get(key);
    } else if (old !== undefined) {
      this.remove(old);
      node = this.nodes.get(key);
    }
    if (kind !== 'nxdomain' && node !== undefined) {
      // Positive data or NODATA at a name we had as NXDOMAIN: the name exists now.
      const nx = node.get(slotOf(0, cls, space));
      if (nx !== undefined && (nx.rank <= rank || now >= nx.expiresAt)) {
        this.remove(nx);
        node = this.nodes.get(key);
      }
    }
    if (node === undefined) {
      node = new Map();
      this.nodes.set(key, node);
    }
    const e = new CacheEntry(name, key, type, cls, slot, kind, records, soa, sigs, proof, dnssec, space, rank, ttl, now);
    if (e.bytes > this.maxBytes) {
      // One RRset bigger than the whole cache: answer it, never keep it.
      if (node.size === 0) this.nodes.delete(key);
      this.tooLarge++;
      return undefined;
    }
    node.set(slot, e);
    this.linkHead(e);
    this.count++;
    this.totalBytes += e.bytes;
    this.stats.inserts++;
    while ((this.count > this.maxEntries || this.totalBytes > this.maxBytes) && this.tail !== undefined && this.tail !== e) {
      this.remove(this.tail);
      this.stats.evictions++;
    }
    return e;
  }

  private row(e: CacheEntry, now: number): CacheDumpEntry {
    return {
      name: e.name, type: e.type, class: e.class, kind: e.kind, rank: e.rank, originalTtl: e.originalTtl,
      remainingTtl: Math.max(0, e.expiresAt - now), stale: now >= e.expiresAt, records: e.records, soa: e.soa, space: e.space,
    };
  }

  private remove(e: CacheEntry): void {
    const node = this.nodes.get(e.nameKey);
    if (node === undefined || node.get(e.slot) !== e) return;
    node.delete(e.slot);
    e.removed = true;
    if (node.size === 0) this.nodes.delete(e.nameKey);
    this.unlink(e);
    this.count--;
    this.totalBytes -= e.bytes;
  }

  private touch(e: CacheEntry): void {
    if (this.head === e) return;
    this.unlink(e);
    this.linkHead(e);
  }

  private linkHead(e: CacheEntry): void {
    e.prev = undefined;
    e.next = this.head;
    if (this.head !== undefined) this.head.prev = e;
    this.head = e;
    if (this.tail === undefined) this.tail = e;
  }

  private unlink(e: CacheEntry): void {
    if (e.prev !== undefined) e.prev.next = e.next;
    else if (this.head === e) this.head = e.next;
    if (e.next !== undefined) e.next.prev = e.prev;
    else if (this.tail === e) this.tail = e.prev;
    e.prev = e.next = undefined;
  }
}
