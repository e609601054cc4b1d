/**
 * The query log's in-memory ring: the last N queries, kept as preallocated columns (typed arrays
 * of numbers, arrays of string references the transport and chain already hold, and the first
 * octets of the query and of the reply), so recording a query allocates nothing and builds no
 * string. Everything a reader wants (name, type, flags, RCODE, answer summary) is derived from
 * the stored octets when the ring is read (entry.ts), which is rare next to recording.
 *
 * Invariants: `seq` counts every entry ever recorded; the slot of entry `s` is `s % capacity`,
 * so entries `seq - capacity .. seq - 1` are the ones present (fewer before the ring filled).
 */

/** Where the answer came from (the `cache` field of an entry). */
export const CacheKind = {
  /** Computed by the chain. */
  NONE: 0,
  /** The engine's answer cache: encoded bytes replayed (engine.ts). */
  ANSWER: 1,
  /** The engine's copy of a resolver/forwarder cache answer, TTLs counted down (live-answer.ts). */
  LIVE: 2,
  /** The resolver's or forwarder's record cache, through the chain. */
  RESOLVER: 3,
} as const;
export type CacheKind = (typeof CacheKind)[keyof typeof CacheKind];

export const CACHE_KIND_NAMES = [null, 'answer', 'live', 'resolver'] as const;

/** Transport codes, in the order of TRANSPORT_NAMES. */
export const TRANSPORT_NAMES = ['udp', 'tcp', 'tls', 'https'] as const;

/**
 * The middle of a file line (name to policy), the same for every hit on one cached answer (the
 * engine's answer cache keys on everything it shows but the name's case, which `name` pins):
 * built at the first line, reused by the rest, so a repeated answer's line costs a concatenation.
 */
export class LineMemo {
  /** The question's name as it was spelled (wire labels) when `bytes` was built. */
  name: Uint8Array | undefined = undefined;
  /** The middle's octets (line-format.ts). */
  bytes: Buffer | undefined = undefined;
}

/** Octets of each query kept: a header, any name (255), the question's type and class and an OPT. */
export const QUERY_OCTETS = 300;
/** Octets of each reply kept: enough for the header, the question and the first answer records. */
export const REPLY_OCTETS = 512;

export class QueryRing {
  readonly capacity: number;
  /** Entries recorded so far (the next one's sequence number). */
  seq = 0;
  readonly timeMs: Float64Array;
  readonly latencyUs: Float64Array;
  readonly port: Uint16Array;
  readonly transport: Uint8Array;
  readonly cache: Uint8Array;
  readonly client: string[];
  readonly handler: (string | undefined)[];
  readonly policy: (string | undefined)[];
  readonly memo: (LineMemo | undefined)[];
  readonly query: Uint8Array;
  readonly queryLen: Uint16Array;
  readonly reply: Uint8Array;
  readonly replyLen: Uint16Array;
  /** The whole reply's length (the stored part may be shorter). */
  readonly replyFull: Uint32Array;

  constructor(capacity: number) {
    const n = Math.max(1, capacity);
    this.capacity = n;
    this.timeMs = new Float64Array(n);
    this.latencyUs = new Float64Array(n);
    this.port = new Uint16Array(n);
    this.transport = new Uint8Array(n);
    this.cache = new Uint8Array(n);
    this.client = new Array<string>(n).fill('');
    this.handler = new Array<string | undefined>(n).fill(undefined);
    this.policy = new Array<string | undefined>(n).fill(undefined);
    this.memo = new Array<LineMemo | undefined>(n).fill(undefined);
    this.query = new Uint8Array(n * QUERY_OCTETS);
    this.queryLen = new Uint16Array(n);
    this.reply = new Uint8Array(n * REPLY_OCTETS);
    this.replyLen = new Uint16Array(n);
    this.replyFull = new Uint32Array(n);
  }

  /**
   * Records one answered query; returns its sequence number. `reply` may be empty (`replyLen` 0:
   * nothing was sent). Copies at most QUERY_OCTETS and REPLY_OCTETS octets.
   */
  record(timeMs: number, latencyUs: number, transport: number, client: string, port: number,
    query: Uint8Array, queryLen: number, reply: Uint8Array, replyLen: number,
    handler: string | undefined, policy: string | undefined, cache: number, memo?: LineMemo): number {
    const s = this.seq++;
    const i = s % this.capacity;
    this.timeMs[i] = timeMs;
    this.latencyUs[i] = latencyUs;
    this.transport[i] = transport;
    this.client[i] = client;
    this.port[i] = port;
    this.handler[i] = handler;
    this.policy[i] = policy;
    this.cache[i] = cache;
    this.memo[i] = memo;
    const ql = queryLen < QUERY_OCTETS ? queryLen : QUERY_OCTETS;
    const qa = this.query;
    let o = i * QUERY_OCTETS;
    for (let k = 0; k < ql; k++) qa[o + k] = query[k]!;
    this.queryLen[i] = ql;
    const rl = replyLen < REPLY_OCTETS ? replyLen : REPLY_OCTETS;
    o = i * REPLY_OCTETS;
    if (rl > 64) {
      this.reply.set(rl === reply.length ? reply : reply.subarray(0, rl), o);
    } else {
      const ra = this.reply;
      for (let k = 0; k < rl; k++) ra[o + k] = reply[k]!;
    }
    this.replyLen[i] = rl < 0 ? 0 : rl;
    this.replyFull[i] = replyLen < 0 ? 0 : replyLen;
    return s;
  }

  /** The oldest sequence number still held. */
  get oldest(): number {
    return this.seq > this.capacity ? this.seq - this.capacity : 0;
  }

  /** Slot index of sequence number `s` (which must be held). */
  slot(s: number): number {
    return s % this.capacity;
  }

  /** The stored query octets of slot `i`. */
  queryOf(i: number): Uint8Array {
    return this.query.subarray(i * QUERY_OCTETS, i * QUERY_OCTETS + this.queryLen[i]!);
  }

  /** The stored reply octets of slot `i`. */
  replyOf(i: number): Uint8Array {
    return this.reply.subarray(i * REPLY_OCTETS, i * REPLY_OCTETS + this.replyLen[i]!);
  }
}
