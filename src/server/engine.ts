/**
 * Turns query bytes into reply bytes, whatever the transport: header-only accept check, decode,
 * protocol checks (EDNS version, question count), the handler chain, the outermost guard, and
 * size-limited encoding.
 *
 * Invariants: nothing thrown by decoding or by a handler escapes (FORMERR, or SERVFAIL with an
 * Extended DNS Error, logged once per kind); an undecodable header or a message with QR set
 * gets no reply at all (RFC 1035 §4.1.1 gives no way to answer either safely). The reply is
 * written into the caller's Writer, so no buffer is allocated here per query.
 *
 * The UDP answer cache is the hot path: a plain query (one question, at most an OPT whose only
 * options are cookies) whose answer a pure chain marked cacheable is kept as encoded bytes under the query's
 * bytes after the ID with the name lowercased, one copy per round-robin rotation; a repeat is
 * answered with a copy of those bytes, its own ID and its own spelling of the name (so 0x20
 * random case, RFC draft-vixie-dnsext-dns0x20, costs one entry, not one per spelling), before
 * any decoding. Names in the answer that were compressed against the question follow its
 * case, as they would on the slow path (case-insensitively equal in every case, RFC 4343).
 * A query with a COOKIE option (RFC 7873) shares the entry of the same query without one: the
 * entry holds the reply without our cookie, and a hit is judged as the slow path judges it
 * (malformed: FORMERR; not valid while cookies are required: BADCOOKIE, both left to the slow
 * path) and gets a fresh server cookie for this client appended to its OPT record (RFC 9018).
 * The cache is bounded in octets and evicts the least recently used entries (second chance); once
 * full, a new answer is admitted only when its query was asked before (a doorkeeper), so a
 * client asking for endless new names evicts nothing. It is emptied whenever the chain changes
 * (reload), and an answer from the zones is dropped as soon as the catalog's content version
 * moves on (a zone replaced, updated or transferred in), chain rebuilt or not.
 *
 * Resolver and forwarder cache hits take the same path (live-answer.ts): the element that
 * answered from its cache names the entries used, and the remembered bytes are served, TTLs
 * counted down and the recursion ACL checked per client, only while those entries are unchanged.
 */
import { DnsError, WireFormatError } from '../errors.js';
import type { Logger } from '../logging.js';
import { EdeCode, Flag, Opcode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import { HEADER_SIZE, Message } from '../wire/message.js';
import type { Writer } from '../wire/writer.js';
import type { Handler } from './chain.js';
import { QueryContext, type TransportKind, replyTo } from './query-context.js';
import type { ServerStats } from './stats.js';
import type { KeyStore } from '../tsig/key.js';
import { TsigStreamSigner, epochSeconds, findTsig, signature, tsigSize, verifyMessage } from '../tsig/tsig.js';
import { RRType } from '../wire/types.js';
import { type LiveAnswer, captureLive } from './live-answer.js';
import { CookieState, type ServerCookies } from './cookies.js';
import { scanMessage } from './edns-tail.js';
import { type ResponseRateLimiter, RrlKind, RrlVerdict, nameHash } from '../policy/rrl.js';
import { CLIENT_RATE_DROP, CLIENT_RECURSION_DROP } from '../policy/client-limits.js';
import type { ViewTable } from '../policy/views.js';
import type { QueryLog } from '../querylog/query-log.js';
import { CacheKind, LineMemo } from '../querylog/ring.js';
import { type LocalAddress, NO_LOCAL } from '../querylog/local-address.js';
export { type LocalAddress, NO_LOCAL } from '../querylog/local-address.js';

/** What to do with a packet, decided from the 12-octet header alone. */
export const Verdict = { ACCEPT: 0, DROP: 1, NOTIMP: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** EDNS option code of DNS Cookies (RFC 7873), which we accept and do not answer. */
const COOKIE = 10;

/**
 * The answer cache key of a UDP query: its bytes after the ID with the name's ASCII letters
 * lowercased, when it has the cached shape (a plain QUERY, one uncompressed question, nothing
 * else but at most one OPT). So RD, CD (and the other flag bits), the name, QTYPE, QCLASS, the
 * EDNS size, version and DO all change the key. The OPT's options are left out when they are
 * all cookies (every resolver's query carries its own one, and only our COOKIE option in the
 * reply depends on it, which a hit writes afresh); a query with any other option gets no key. `scratch` (at least MAX_CACHED_QUERY octets)
 * holds the lowercased copy; `out[0]` receives the offset just past the question's name, `out[1]`
 * 1 when it carried a cookie, and then `out[2]`, `out[3]` the first COOKIE option's data offset
 * and length.
 */
function keyOf(buf: Uint8Array, len: number, scratch: Buffer, out: Int32Array, view = -1): string | undefined {
  if (len < 17 || len > MAX_CACHED_QUERY + 2 || (buf[2]! & 0xf8) !== 0 || buf[4] !== 0 || buf[5] !== 1 ||
    (buf[6]! | buf[7]! | buf[8]! | buf[9]! | buf[10]!) !== 0 || buf[11]! > 1) {
    return undefined;
  }
  // Skip the question (labels only: a pointer in a query's question is not the cached shape).
  let p = 12;
  for (let l = buf[p]!; l !== 0; l = buf[p]!) {
    if (l > 63) return undefined;
    p += l + 1;
    if (p >= len) return undefined;
  }
  const nameEnd = p + 1;
  let end = len;
  if (buf[11] === 1) {
    p += 5; // root label, QTYPE, QCLASS
    // OPT: owner root, TYPE 41, CLASS (size), TTL (ext-rcode, version, DO), RDLENGTH, options.
    if (p + 11 > len || buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 41) return undefined;
    const rdata = p + 11;
    if (rdata + ((buf[p + 9]! << 8) | buf[p + 10]!) !== len) return undefined;
    out[2] = -1;
    for (let o = rdata; o < len; ) {
      if (o + 4 > len || ((buf[o]! << 8) | buf[o + 1]!) !== COOKIE) return undefined;
      const ol = (buf[o + 2]! << 8) | buf[o + 3]!;
      if (out[2]! < 0) {
        // The first COOKIE option is the one judged (as checkCookie does).
        out[2] = o + 4;
        out[3] = ol;
      }
      o += 4 + ol;
      if (o > len) return undefined;
    }
    end = p + 9;
    out[1] = len > rdata ? 1 : 0; // it carried a cookie
  } else {
    out[1] = 0;
  }
  // Copy, lowercasing A-Z within the name only (length octets are < 64, never letters; other
  // octets, Latin-1 included, compare exactly as RFC 4343 §3 says).
  for (let i = 2; i < end; i++) {
    const c = buf[i]!;
    scratch[i] = i >= 12 && i < nameEnd && c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  out[0] = nameEnd;
  if (view < 0) return scratch.toString('latin1', 2, end);
  // With views the same query has one answer per view: the view's number leads the key.
  scratch[1] = view;
  return scratch.toString('latin1', 1, end);
}

/** Header-only accept check (before any decoding work). */
export function acceptHeader(buf: Uint8Array, len: number): Verdict {
  if (len < HEADER_SIZE) return Verdict.DROP;
  const b2 = buf[2]!;
  if ((b2 & 0x80) !== 0) return Verdict.DROP; // a response: never answer it (reflection loops)
  const opcode = (b2 >> 3) & 0xf;
  if (opcode === Opcode.QUERY || opcode === Opcode.NOTIFY || opcode === Opcode.UPDATE) return Verdict.ACCEPT;
  return Verdict.NOTIMP;
}

/** Default bound of the answer cache, in octets of replies and keys. */
export const ANSWER_CACHE_BYTES = 32 * 1024 * 1024;
/** Longest UDP query (from the flags word on) whose answer is cached. */
const MAX_CACHED_QUERY = 300;
/** Keys the doorkeeper remembers before it starts again (bounds its memory). */
const DOORKEEPER_KEYS = 65536;
/** Most round-robin variants kept for one question (bigger RRsets are answered slowly). */
const MAX_VARIANTS = 16;

/**
 * Encoded replies for one query shape (everything after the ID), one per round-robin rotation,
 * served in turn. Built from the slow path's own output, so the bytes are the same.
 */
class CachedAnswer {
  next = 0;
  /** Asked for since the eviction hand last passed (second chance). */
  used = false;
  constructor(readonly variants: Uint8Array[], readonly qtype: number, readonly rcode: number, readonly truncated: boolean,
    readonly bytes: number, readonly live: LiveAnswer | undefined = undefined,
    /** The data's source and its version when the answer was built (zone catalog): stale once it moves on. */
    readonly content: { readonly version: number } | undefined = undefined, readonly contentVersion = 0,
    /**
     * Octets the OPT record takes at the end of every variant (-1: no OPT), so a hit for a query
     * with a cookie finds the RDLENGTH to fix up after appending its COOKIE option (RFC 7873 §5.2).
     */
    readonly optTail = -1,
    /**
     * A COOKIE option fits in every variant within the query's UDP limit (its EDNS size is part
     * of the key) and none was truncated (cut for a room without the cookie's octets).
     */
    readonly cookieFits = false) {}
  /** Response rate limiting (src/policy/rrl.ts): the answer's kind (-1: not limited), the name hash it counts under, and QCLASS. */
  rrlKind = -1;
  rrlName = 0;
  rrlClass = 1;

  /** The chain element and policy that made the answer (for the query log). */
  handler: string | undefined = undefined;
  policy: string | undefined = undefined;
  /** Query log lines of each variant, built once (see LineMemo); made when the log first records a hit. */
  memos: LineMemo[] | undefined = undefined;
}

/**
 * What `cachedUdpReply` returns for a response rate limiting dropped: nothing is sent (the UDP
 * transport checks for it by identity).
 */
export const RRL_DROPPED: Buffer = Buffer.alloc(0);

/** A reply still being computed by an asynchronous chain. */
export class PendingReply {
  /** With the query log on: when the query came (performance.now()) and a copy of its octets. */
  startedMs = -1;
  query: Uint8Array | undefined = undefined;
  local: LocalAddress = NO_LOCAL;
  /** When the answer's latency is sampled (ServerStats.latencyIn): performance.now() as the query came; else -1. */
  timedMs = -1;
  constructor(readonly ctx: QueryContext, readonly promise: Promise<Message>) {}
}

/** The query log's transport code (ring.ts TRANSPORT_NAMES). */
function transportCode(t: TransportKind): number {
  return t === 'udp' ? 0 : t === 'tcp' ? 1 : t === 'tls' ? 2 : 3;
}

export interface EngineOptions {
  maxUdpSize: number;
  logger: Logger;
  stats: ServerStats;
  /** Bound of the UDP answer cache in octets (default ANSWER_CACHE_BYTES; 0 switches it off). */
  answerCacheBytes?: number;
  /** TSIG keys (RFC 8945) that queries may be signed with. */
  keys?: KeyStore;
  /** Wall clock in ms (TSIG time checks); default Date.now. */
  nowMs?: () => number;
  /** Server cookies (RFC 7873, RFC 9018); undefined: cookies are ignored. */
  cookies?: ServerCookies | undefined;
  /** Answer UDP queries without a valid server cookie with BADCOOKIE (BIND's require-server-cookie). */
  requireCookies?: boolean;
}

/** Octets a reply's COOKIE option takes: code, length, client cookie (8), server cookie (16). */
const COOKIE_OPTION = 28;

/**
 * A reply of several messages (a zone transfer over TCP), produced one message at a time into
 * the transport's Writer, so a whole zone is never one object in memory.
 */
export interface ReplyStream {
  /** Encodes the next message into `w` (at most `maxSize` octets); its length, or -1 after the last. */
  next(w: Writer, maxSize: number): number;
}

/**
 * Zone transfers and other replies the chain cannot give (one query, many messages): a reply,
 * a stream, or undefined to let the chain answer. Set by the server; see src/transfer.
 */
export type TransferHook = (ctx: QueryContext) => Message | ReplyStream | undefined;

/** A multi-message reply the TCP transport pumps with `next` (signed per RFC 8945 §5.3.1 when the query was). */
export class StreamReply {
  private readonly signer: TsigStreamSigner | undefined;
  private readonly reserve: number;
  private readonly startedMs: number;
  private done = false;
  /** Messages sent so far. */
  messages = 0;

  constructor(readonly ctx: QueryContext, private readonly stream: ReplyStream, private readonly stats: ServerStats, nowMs: () => number) {
    const t = ctx.tsig;
    this.signer = t === undefined ? undefined : new TsigStreamSigner(t.key, t.requestMac, () => epochSeconds(nowMs()));
    this.reserve = t === undefined ? 0 : tsigSize(t.key);
    this.startedMs = performance.now();
    stats.xfrOut++;
  }

  /** Encodes the next message into `w`; its length, or -1 when the stream is done. */
  next(w: Writer): number {
    if (this.done) return -1;
    const len = this.stream.next(w, 65535 - this.reserve);
    if (len < 0) {
      this.done = true;
      this.stats.xfrOutMs += performance.now() - this.startedMs;
      return -1;
    }
    this.messages++;
    this.stats.responses++;
    this.stats.xfrOutMessages++;
    if (this.signer === undefined) return len;
    const rec = this.signer.sign(w.buf, len);
    w.pos = len;
    w.bytes(rec);
    w.setU16(10, ((w.buf[10]! << 8) | w.buf[11]!) + 1);
    return w.pos;
  }
}

export class QueryEngine {
  private handler: Handler;
  private readonly opts: EngineOptions;
  private readonly loggedErrors = new Set<string>();
  /**
   * The UDP answer cache: query bytes after the ID (flags, counts, question, OPT) -> encoded
   * replies. Only answers a pure chain marked cacheable go in (see QueryContext.cacheVariants);
   * it is emptied whenever the chain changes (reload), so it never serves old zone data.
   */
  private readonly answers = new Map<string, CachedAnswer>();
  /** Octets held by `answers` (replies plus keys). */
  private answerBytes = 0;
  private readonly answerBytesMax: number;
  /** Scratch for the lowercased key, and where the question's name ends in the last key made. */
  private readonly keyScratch = Buffer.allocUnsafe(MAX_CACHED_QUERY + 2);
  private readonly nameEnd = new Int32Array(4);
  /** Keys that missed once while the cache was full (see askedBefore). */
  private readonly doorkeeper = new Set<string>();
  /** TSIG keys queries may be signed with (swapped on reload). */
  keys: KeyStore | undefined;
  /** Server cookies (RFC 7873); swapped on reload. */
  cookies: ServerCookies | undefined;
  requireCookies: boolean;
  /** Zone transfers (AXFR/IXFR): set by the server, swapped on reload with the catalog. */
  transfers: TransferHook | undefined = undefined;
  /**
   * Views (split horizon, src/policy/views.ts): set by the server when configured. Each query is
   * given its view (ctx.view) once, after TSIG is checked; a query no view matches is REFUSED.
   * The answer cache keys by view, so one view's answer never reaches another's clients.
   */
  views: ViewTable | undefined = undefined;
  /** Dynamic update (RFC 2136, src/update): set by the server; absent -> the chain answers NOTIMP. */
  updates: ((ctx: QueryContext) => Message | Promise<Message>) | undefined = undefined;
  private readonly nowMs: () => number;
  /** Where the OPT record starts in the reply `encode` just wrote, when it appended our cookie; else -1. */
  private cookieOptAt = -1;
  /** Response rate limiting of UDP answers from the zones and of error replies (src/policy/rrl.ts); swapped on reload. */
  rrl: ResponseRateLimiter | undefined = undefined;
  /** The name hash the last `rrlKindOf` counted the reply under. */
  private rrlName = 0;
  /**
   * The per-query log (src/querylog), or undefined when it is off: then the only cost is this
   * check. Set by the server at start and reload.
   */
  queryLog: QueryLog | undefined = undefined;
  /** Where the listener calling `process` next is bound (set by UDP and TCP listeners before each call; read by dnstap). */
  local: LocalAddress = NO_LOCAL;
  /** The context of the query `run` is working on (read by the query log after it returns). */
  private current: QueryContext | undefined = undefined;
  /** The entry `cachedReply` answered from last, and which of its variants. */
  private lastHit: CachedAnswer | undefined = undefined;
  private lastVariant = 0;

  constructor(handler: Handler, opts: EngineOptions) {
    this.handler = handler;
    this.opts = opts;
    this.keys = opts.keys;
    this.cookies = opts.cookies;
    this.requireCookies = opts.requireCookies === true;
    this.nowMs = opts.nowMs ?? Date.now;
    this.answerBytesMax = opts.answerCacheBytes ?? ANSWER_CACHE_BYTES;
  }

  /** Octets the answer cache holds now (for tests and stats). */
  get cachedAnswerBytes(): number {
    return this.answerBytes;
  }

  private clearAnswers(): void {
    this.answers.clear();
    this.answerBytes = 0;
    this.doorkeeper.clear();
  }

  /**
   * Makes room for `bytes` more: the hand walks from the least recently inserted entry; one
   * asked for since it last passed gets a second chance (moved to the young end), others go.
   */
  private evictFor(bytes: number): void {
    const max = this.answerBytesMax;
    let guard = this.answers.size * 2;
    for (const [key, e] of this.answers) {
      if (this.answerBytes + bytes <= max || guard-- <= 0) break;
      this.answers.delete(key);
      if (e.used) {
        e.used = false;
        this.answers.set(key, e);
      } else {
        this.answerBytes -= e.bytes;
        this.opts.stats.answerCacheEvictions++;
      }
    }
  }

  /** A new cap on UDP replies (reload); cached answers were sized for the old one, so they go. */
  setMaxUdpSize(n: number): void {
    if (n === this.opts.maxUdpSize) return;
    this.opts.maxUdpSize = n;
    this.clearAnswers();
  }

  /**
   * Empties the UDP answer cache, for data that changes without a chain rebuild: a zone changed in
   * place (dynamic update, re-signing; called before the update's NOERROR is sent, so no answer from
   * before the update is served after it) and the hosts file (re-read when it changes).
   */
  invalidateAnswers(): void {
    this.clearAnswers();
  }

  /** Swaps the chain (reload): queries already running finish with the old one. */
  setHandler(h: Handler): void {
    this.handler = h;
    this.clearAnswers();
  }

  /**
   * The fast path for UDP: a copy of the cached reply for this exact query (ID, cookie and the
   * name's case aside) with the query's ID and spelling of the name put in, or undefined. Costs
   * a walk over the question's labels, one string, one map probe and one copy. A query with a
   * cookie (RFC 7873) is judged as the slow path would (malformed, or not valid when cookies are
   * required: the slow path answers FORMERR/BADCOOKIE), and its copy gets a fresh server cookie
   * for this client appended to the OPT record (two SipHash runs, no allocation beyond the copy).
   */
  cachedUdpReply(buf: Buffer, len: number, address?: string, port = 0, local?: string): Buffer | undefined {
    const ql = this.queryLog;
    const stats = this.opts.stats;
    if (ql === undefined) {
      if (--stats.latencyIn !== 0) return this.cachedReply(buf, len, address, local);
      return this.timedCachedReply(buf, len, address, local);
    }
    const started = performance.now();
    this.lastHit = undefined;
    const out = this.cachedReply(buf, len, address, local);
    if (--stats.latencyIn === 0) this.timed(out, started);
    const e = this.lastHit as CachedAnswer | undefined;
    // Rate-limited replies (dropped or slipped) are not answers from the entry: not logged here.
    if (out !== undefined && out !== RRL_DROPPED && e !== undefined) {
      const memos = e.memos ??= [];
      const memo = memos[this.lastVariant] ??= new LineMemo();
      ql.record(started, 0, address ?? '', port, buf, len, out, out.length, e.handler, e.policy, e.live !== undefined ? CacheKind.LIVE : CacheKind.ANSWER,
        this.local, memo);
    }
    return out;
  }

  /** `cachedReply` for the query whose answer latency is sampled (ServerStats.latencyIn). */
  private timedCachedReply(buf: Buffer, len: number, address?: string, local?: string): Buffer | undefined {
    const started = performance.now();
    const out = this.cachedReply(buf, len, address, local);
    this.timed(out, started);
    return out;
  }

  /** Notes a sampled fast-path answer's latency; on a miss the slow path (`process`) times the same query. */
  private timed(out: Buffer | undefined, started: number): void {
    const stats = this.opts.stats;
    if (out === undefined) stats.latencyIn = 1;
    else if (out === RRL_DROPPED) stats.skipAnswer();
    else stats.observeAnswer(performance.now() - started);
  }

  private cachedReply(buf: Buffer, len: number, address?: string, local?: string): Buffer | undefined {
    // A plain QUERY (QR and opcode zero), one question, nothing else but at most one OPT.
    const ne = this.nameEnd;
    let view = -1;
    if (this.views !== undefined) {
      if (address === undefined) return undefined;
      view = this.views.pick(address, local, undefined);
      if (view < 0) return undefined;
    }
    const key = keyOf(buf, len, this.keyScratch, ne, view);
    if (key === undefined) return undefined;
    const cookies = ne[1] === 1 ? this.cookies : undefined;
    if (cookies !== undefined && address === undefined) return undefined;
    const e = this.answers.get(key);
    if (e === undefined) return undefined;
    // Our COOKIE option must fit where the slow path would have made room for it; a truncated
    // answer was cut for a smaller room, so the slow path recomputes it.
    if (cookies !== undefined && !e.cookieFits) return undefined;
    const content = e.content;
    if (content !== undefined && content.version !== e.contentVersion) {
      // A zone changed (reload, update, transfer): never serve the old answer.
      this.answers.delete(key);
      this.answerBytes -= e.bytes;
      return undefined;
    }
    const live = e.live;
    let now = 0;
    if (live !== undefined) {
      // A resolver/forwarder cache hit (see live-answer.ts): still the answer, and for this client?
      now = live.source.now();
      if (!live.valid(now)) {
        this.answers.delete(key);
        this.answerBytes -= e.bytes;
        return undefined;
      }
      if (address === undefined || !live.source.allows(address)) return undefined;
    }
    const stats = this.opts.stats;
    let cookieState = -1;
    if (cookies !== undefined) {
      cookieState = cookies.check(buf, ne[3]!, address!, ne[2]!);
      if (cookieState === CookieState.MALFORMED || (cookieState !== CookieState.VALID && this.requireCookies)) return undefined;
    }
    const rrl = this.rrl;
    if (rrl !== undefined && e.rrlKind >= 0 && address !== undefined && cookieState !== CookieState.VALID) {
      // A client that sent a cookie without a valid server cookie of ours is slipped with
      // BADCOOKIE rather than TC (as BIND does): the slow path builds that reply.
      if (cookies !== undefined) return undefined;
      const v = rrl.check(address, false, e.rrlKind as RrlKind, e.qtype, e.rrlClass, e.rrlName);
      if (v === RrlVerdict.DROP) return RRL_DROPPED;
      if (v === RrlVerdict.SLIP) return this.slipBytes(buf, ne[0]!, e.rrlKind === RrlKind.NXDOMAIN ? Rcode.NXDOMAIN : Rcode.NOERROR);
    }
    if (cookieState === CookieState.VALID) stats.cookiesValid++;
    else if (cookieState === CookieState.INVALID) stats.cookiesInvalid++;
    if (live !== undefined) live.source.hit(live.entries);
    e.used = true;
    this.lastHit = e;
    stats.udpQueries++;
    stats.responses++;
    stats.qtypes[e.qtype]!++;
    stats.rcodes[e.rcode]!++;
    if (--stats.sampleIn === 0) stats.sample(buf, len, address!);
    if (e.truncated) stats.truncated++;
    const v = e.variants;
    let r: Uint8Array;
    if (v.length === 1) {
      r = v[0]!;
      this.lastVariant = 0;
    } else {
      const i = e.next;
      e.next = i + 1 === v.length ? 0 : i + 1;
      r = v[i]!;
      this.lastVariant = i;
    }
    const rl = r.length;
    const out = Buffer.allocUnsafe(cookies === undefined ? rl : rl + COOKIE_OPTION);
    out.set(r);
    out[0] = buf[0]!;
    out[1] = buf[1]!;
    // The question as the client spelled it (RFC 1035 §7.3: resolvers compare it; 0x20 relies on it).
    buf.copy(out, 12, 12, ne[0]!);
    if (live !== undefined) live.patch(out, now);
    if (cookies !== undefined) {
      // RFC 7873 §5.2.2-5.2.4: the client cookie echoed and a fresh server cookie, as the OPT's last option.
      const n = cookies.writeOption(buf, ne[2]!, address!, out, rl);
      const rd = rl - e.optTail + 9;
      const rdlen = ((out[rd]! << 8) | out[rd + 1]!) + n;
      out[rd] = rdlen >>> 8;
      out[rd + 1] = rdlen & 0xff;
      return n === COOKIE_OPTION ? out : out.subarray(0, rl + n);
    }
    return out;
  }

  /**
   * A slipped response built from the query's bytes (RFC 1035 §4.1.1, as BIND slips): the
   * header with QR, AA and TC set (ID, opcode, RD, AD and CD kept), the question as the client
   * spelled it, no records, and an OPT of ours when the query had one (its DO kept). `nameEnd`
   * is where the question's name ends.
   */
  private slipBytes(buf: Buffer, nameEnd: number, rcode: number): Buffer {
    const stats = this.opts.stats;
    stats.udpQueries++;
    stats.responses++;
    stats.truncated++;
    stats.rcodes[rcode]!++;
    const qEnd = nameEnd + 4;
    const opt = buf[11] === 1;
    const out = Buffer.allocUnsafe(opt ? qEnd + 11 : qEnd);
    buf.copy(out, 0, 0, qEnd);
    out[2] = 0x80 | (buf[2]! & 0x79) | 0x04 | 0x02;
    out[3] = (buf[3]! & 0x30) | rcode;
    out[6] = 0;
    out[7] = 0;
    out[8] = 0;
    out[9] = 0;
    out[10] = 0;
    out[11] = opt ? 1 : 0;
    if (opt) {
      const size = this.opts.maxUdpSize;
      out[qEnd] = 0;
      out[qEnd + 1] = 0;
      out[qEnd + 2] = 41;
      out[qEnd + 3] = size >>> 8;
      out[qEnd + 4] = size & 0xff;
      out[qEnd + 5] = 0;
      out[qEnd + 6] = 0;
      out[qEnd + 7] = buf[qEnd + 7]! & 0x80; // DO (RFC 3225 §3)
      out[qEnd + 8] = 0;
      out[qEnd + 9] = 0;
      out[qEnd + 10] = 0;
    }
    return out;
  }

  /**
   * The rate-limiting kind of `reply` (src/policy/rrl.ts), -1 when it is not limited: answers,
   * referrals, NODATA and NXDOMAIN from the zones (`fromZones`), and error replies from anywhere
   * (BIND limits errors in ns_client_error). Classified as BIND's query_checkrrl does: records in
   * the answer -> an answer under the qname (also when a CNAME chain ends in NXDOMAIN); NXDOMAIN
   * -> under the zone's origin (the SOA owner); an empty NOERROR with AA -> NODATA under the qname;
   * without AA and with NS -> a referral under the zone cut. Sets `rrlName`.
   */
  private rrlKindOf(reply: Message, fromZones: boolean): number {
    const rcode = reply.rcode & 0xfff;
    const q = reply.question[0];
    if (q === undefined) return -1;
    if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) {
      if (rcode === Rcode.BADCOOKIE) return -1;
      this.rrlName = 0;
      return RrlKind.ERROR;
    }
    if (!fromZones) return -1;
    if (reply.answer.length > 0) {
      this.rrlName = nameHash(q.name.wire);
      return RrlKind.ANSWER;
    }
    const auth = reply.authority;
    if (rcode === Rcode.NXDOMAIN) {
      let origin = q.name;
      for (let i = 0; i < auth.length; i++) {
        if (auth[i]!.type === RRType.SOA) {
          origin = auth[i]!.name;
          break;
        }
      }
      this.rrlName = nameHash(origin.wire);
      return RrlKind.NXDOMAIN;
    }
    if (!reply.aa) {
      for (let i = 0; i < auth.length; i++) {
        if (auth[i]!.type === RRType.NS) {
          this.rrlName = nameHash(auth[i]!.name.wire);
          return RrlKind.REFERRAL;
        }
      }
    }
    this.rrlName = nameHash(q.name.wire);
    return RrlKind.NODATA;
  }

  /**
   * Response rate limiting on the slow path, after the reply (`len` octets) was written into `w`:
   * the same length when it goes out, -1 when dropped, or the length of the slipped reply written
   * over it. Notes the outcome on `ctx.policy`.
   */
  private limitResponse(ctx: QueryContext, reply: Message, w: Writer, len: number, rrl: ResponseRateLimiter): number {
    if (ctx.validCookie) return len; // RFC 7873 §5.4, BIND's HAVECOOKIE: proven clients are not limited
    const kind = this.rrlKindOf(reply, ctx.content !== undefined);
    if (kind < 0) return len;
    const q = ctx.request.question[0]!;
    const v = rrl.check(ctx.clientAddress, false, kind as RrlKind, q.type, q.class, this.rrlName);
    if (v === RrlVerdict.OK) {
      if (rrl.logOnly && rrl.lastWould !== RrlVerdict.OK) ctx.policy = rrl.lastWould === RrlVerdict.DROP ? 'rrl:log-only:drop' : 'rrl:log-only:slip';
      return len;
    }
    const stats = this.opts.stats;
    // The reply was counted when encoded; it is not sent after all.
    stats.responses--;
    stats.rcodes[reply.rcode & 0xfff]!--;
    if ((w.buf[2]! & (Flag.TC >> 8)) !== 0) stats.truncated--;
    // Errors never slip (BIND: "some error responses cannot be slipped").
    if (v === RrlVerdict.DROP || kind === RrlKind.ERROR) {
      ctx.policy = 'rrl:drop';
      return -1;
    }
    ctx.policy = 'rrl:slip';
    const slip = replyTo(ctx.request, Rcode.NOERROR, this.opts.maxUdpSize);
    slip.question = ctx.request.question;
    if (ctx.cookie !== undefined && this.cookies !== undefined) {
      // A client that sent a cookie: BADCOOKIE (RFC 7873 §5.2.3) with our cookie to retry with, AA and AD clear.
      slip.rcode = Rcode.BADCOOKIE;
    } else {
      slip.aa = true;
      slip.tc = true;
      slip.ad = ctx.request.ad;
      if (kind === RrlKind.NXDOMAIN) slip.rcode = Rcode.NXDOMAIN;
    }
    return this.encode(slip, ctx, w);
  }

  /**
   * True when `key` missed the full cache before (within the doorkeeper's window, which starts
   * again once it holds DOORKEEPER_KEYS keys); notes it otherwise.
   */
  private askedBefore(key: string): boolean {
    const d = this.doorkeeper;
    if (d.delete(key)) return true;
    if (d.size >= DOORKEEPER_KEYS) d.clear();
    d.add(key);
    return false;
  }

  /** Answers held by the UDP answer cache (for tests and stats). */
  get cachedAnswers(): number {
    return this.answers.size;
  }

  /**
   * Processes one query message. Returns the reply's length in `w.buf` (-1: send nothing) when
   * the chain answered synchronously, or a PendingReply to hand to `settle`.
   */
  process(buf: Uint8Array, len: number, transport: TransportKind, address: string, port: number, w: Writer, local?: string): number | PendingReply {
    const ql = this.queryLog;
    const r = ql !== undefined ? this.runLogged(ql, buf, len, transport, address, port, w, local)
      : --this.opts.stats.latencyIn !== 0 ? this.run(buf, len, transport, address, port, w, local)
        : this.runTimed(performance.now(), buf, len, transport, address, port, w, local);
    return r instanceof StreamReply ? -1 : r; // streams are for TCP only (see run)
  }

  /** `run` for a query whose answer latency is sampled (ServerStats.latencyIn); an asynchronous answer is timed by `settle`. */
  private runTimed(started: number, buf: Uint8Array, len: number, transport: TransportKind, address: string, port: number,
    w: Writer, local?: string): number | PendingReply | StreamReply {
    const r = this.run(buf, len, transport, address, port, w, local);
    this.timedRun(r, started);
    return r;
  }

  private timedRun(r: number | PendingReply | StreamReply, started: number): void {
    const stats = this.opts.stats;
    if (typeof r === 'number') {
      if (r >= 0) stats.observeAnswer(performance.now() - started);
      else stats.skipAnswer();
    } else if (r instanceof PendingReply) {
      r.timedMs = started; // timed when it settles
      stats.nextLatencySample();
    } else {
      stats.skipAnswer();
    }
  }

  /** `process` for TCP (and DoT), where a zone transfer may answer with a StreamReply for the transport to pump. */
  processTcp(buf: Uint8Array, len: number, address: string, port: number, w: Writer, transport: 'tcp' | 'tls' = 'tcp', local?: string): number | PendingReply | StreamReply {
    const ql = this.queryLog;
    return ql !== undefined ? this.runLogged(ql, buf, len, transport, address, port, w, local)
      : --this.opts.stats.latencyIn !== 0 ? this.run(buf, len, transport, address, port, w, local)
        : this.runTimed(performance.now(), buf, len, transport, address, port, w, local);
  }

  /**
   * `run` with the query log on: a synchronous reply is recorded at once; a pending one carries
   * its start time and a copy of the query (the transport reuses its buffer) to `settle`; a zone
   * transfer is recorded as it starts, without a reply.
   */
  private runLogged(ql: QueryLog, buf: Uint8Array, len: number, transport: TransportKind, address: string, port: number,
    w: Writer, local?: string): number | PendingReply | StreamReply {
    const started = performance.now();
    this.current = undefined;
    const r = this.run(buf, len, transport, address, port, w, local);
    if (--this.opts.stats.latencyIn === 0) this.timedRun(r, started);
    if (typeof r === 'number') {
      if (r >= 0) {
        const ctx = this.current as QueryContext | undefined;
        ql.record(started, transportCode(transport), address, port, buf, len, w.buf, r, ctx?.answeredBy, ctx?.policy,
          ctx?.live !== undefined ? CacheKind.RESOLVER : CacheKind.NONE, this.local);
      }
    } else if (r instanceof PendingReply) {
      r.startedMs = started;
      r.query = buf.slice(0, len);
      r.local = this.local;
    } else {
      ql.record(started, transportCode(transport), address, port, buf, len, w.buf, -1, 'transfer', undefined, CacheKind.NONE, this.local);
    }
    this.current = undefined;
    return r;
  }

  private run(buf: Uint8Array, len: number, transport: TransportKind, address: string, port: number, w: Writer, local?: string): number | PendingReply | StreamReply {
    const stats = this.opts.stats;
    const verdict = acceptHeader(buf, len);
    if (verdict === Verdict.DROP) {
      stats.dropped++;
      return -1;
    }
    let request: Message;
    if (verdict === Verdict.NOTIMP) {
      // Echo the question and an OPT when the message decodes (as Knot does), else the header only.
      try {
        request = Message.decode(len === buf.length ? buf : buf.subarray(0, len));
      } catch {
        return this.headerOnly(buf, w, Rcode.NOTIMP);
      }
      const nctx = new QueryContext(request, transport, address, port, this.opts.maxUdpSize);
      return this.encode(replyTo(request, Rcode.NOTIMP, this.opts.maxUdpSize), nctx, w);
    }
    try {
      request = Message.decode(len === buf.length ? buf : buf.subarray(0, len));
    } catch (err) {
      if (!(err instanceof WireFormatError)) this.logOnce('decode', err);
      return this.headerOnly(buf, w, Rcode.FORMERR);
    }
    if (request.question.length > 0) stats.qtypes[request.question[0]!.type]!++;
    if (--stats.sampleIn === 0) stats.sample(buf, len, address);
    if (transport === 'udp') stats.udpQueries++;
    else if (transport === 'tls') stats.tlsQueries++;
    else if (transport === 'https') stats.httpsQueries++;
    const ctx = new QueryContext(request, transport, address, port, this.opts.maxUdpSize);
    this.current = ctx;
    // A secondary forwards UPDATE as received (RFC 2136 §6, BIND's allow-update-forwarding).
    if (request.opcode === Opcode.UPDATE) ctx.wire = buf.slice(0, len);
    // Protocol checks every handler relies on.
    if (request.edns !== undefined && request.edns.version > 0) {
      // RFC 6891 §6.1.3: BADVERS, with an OPT of the highest version we do (0).
      return this.encode(replyTo(request, Rcode.BADVERS, this.opts.maxUdpSize), ctx, w);
    }
    if (request.opcode === Opcode.QUERY && request.question.length !== 1) {
      return this.encode(replyTo(request, Rcode.FORMERR, this.opts.maxUdpSize), ctx, w);
    }
    if (this.cookies !== undefined && request.edns !== undefined && request.edns.options.length > 0) {
      const bad = this.checkCookie(ctx, w);
      if (bad !== undefined) return bad;
    }
    const add = request.additional;
    if (add.length > 0 && add[add.length - 1]!.type === RRType.TSIG) {
      const bad = this.checkTsig(buf, len, ctx, w);
      if (bad !== undefined) return bad;
    }
    if (this.views !== undefined) {
      ctx.localAddress = local;
      const v = this.views.pick(address, local, ctx.tsig?.key.name);
      if (v < 0) {
        // BIND: a query no view matches is refused (and counted).
        stats.viewRefused++;
        return this.encode(replyTo(request, Rcode.REFUSED, this.opts.maxUdpSize), ctx, w);
      }
      ctx.view = v;
      ctx.policy = this.views.policies[v];
    }
    if (request.opcode === Opcode.UPDATE && this.updates !== undefined) {
      ctx.answeredBy = 'update';
      let u: Message | Promise<Message>;
      try {
        u = this.updates(ctx);
      } catch (err) {
        return this.encode(this.failure(ctx, err), ctx, w);
      }
      return u instanceof Message ? this.encode(u, ctx, w) : new PendingReply(ctx, u);
    }
    if (this.transfers !== undefined && request.opcode === Opcode.QUERY) {
      const qt = request.question[0]!.type;
      if (qt === RRType.AXFR || qt === RRType.IXFR) {
        let t: Message | ReplyStream | undefined;
        ctx.answeredBy = 'transfer';
        try {
          t = this.transfers(ctx);
        } catch (err) {
          return this.encode(this.failure(ctx, err), ctx, w);
        }
        if (t instanceof Message) return this.encode(t, ctx, w);
        if (t !== undefined) {
          // RFC 5936 §4.2: no transfer over UDP (the hook answers UDP IXFR with a Message).
          if (transport !== 'tcp') return this.encode(replyTo(request, Rcode.FORMERR, this.opts.maxUdpSize), ctx, w);
          return new StreamReply(ctx, t, stats, this.nowMs);
        }
      }
    }
    let result: Message | Promise<Message>;
    try {
      result = this.handler(ctx);
    } catch (err) {
      return this.encode(this.failure(ctx, err), ctx, w);
    }
    if (!(result instanceof Message)) return new PendingReply(ctx, result);
    // A client over its resolver limits, configured to get nothing (src/policy/client-limits.ts).
    if (ctx.policy === CLIENT_RATE_DROP || ctx.policy === CLIENT_RECURSION_DROP) return -1;
    let replyLen = this.encode(result, ctx, w);
    if (transport === 'udp' && ((ctx.cacheVariants > 0 && !ctx.clientDependent) || ctx.live !== undefined)) {
      replyLen = this.remember(buf, len, ctx, w, result);
    }
    const rrl = this.rrl;
    if (rrl !== undefined) {
      if (transport === 'udp') return this.limitResponse(ctx, result, w, replyLen, rrl);
      if (rrl.qpsScale > 0) rrl.check(address, true, RrlKind.TCP, 0, 0, 0);
    }
    return replyLen;
  }

  /**
   * Puts a synchronous, cacheable UDP answer in the answer cache: the reply just encoded in `w`,
   * and for a rotated RRset every other rotation, built by the same chain with a fixed offset.
   * Returns the length of the reply to send now (in `w`).
   */
  private remember(buf: Uint8Array, queryLen: number, ctx: QueryContext, w: Writer, reply: Message): number {
    const len = w.pos;
    const req = ctx.request;
    const hit = ctx.live;
    const n = hit !== undefined ? 1 : ctx.cacheVariants;
    if (n > MAX_VARIANTS || req.additional.length > 0 || ctx.tsig !== undefined) return len;
    // With a cookie: the reply in `w` ends with our COOKIE option (appendCookie), which is this
    // client's alone, so the cached copy is kept without it; a hit writes a fresh one (RFC 7873).
    const withCookie = ctx.cookie !== undefined && this.cookies !== undefined;
    const cookieAt = this.cookieOptAt;
    if (withCookie && cookieAt < 0) return len;
    const key = keyOf(buf, queryLen, this.keyScratch, this.nameEnd, ctx.view);
    if (key === undefined || this.answers.has(key)) return len;
    const truncated = (w.buf[2]! & (Flag.TC >> 8)) !== 0;
    // Cut for a room smaller by the cookie's octets, so not what a query without one gets.
    if (withCookie && truncated) return len;
    const variants: Uint8Array[] = [];
    if (n === 1) {
      if (withCookie) {
        const v = w.buf.slice(0, len - COOKIE_OPTION);
        const rdlen = ((v[cookieAt + 9]! << 8) | v[cookieAt + 10]!) - COOKIE_OPTION;
        v[cookieAt + 9] = rdlen >>> 8;
        v[cookieAt + 10] = rdlen & 0xff;
        variants.push(v);
      } else {
        variants.push(w.buf.slice(0, len));
      }
    } else {
      try {
        for (let i = 0; i < n; i++) {
          ctx.rotation = i;
          const r = this.handler(ctx);
          if (!(r instanceof Message)) return this.reencode(reply, ctx, w);
          const l = r.encodeInto(w, ctx.maxSize);
          variants.push(w.buf.slice(0, l));
        }
      } catch {
        // Not worth caching then; send what the first run produced.
        return this.reencode(reply, ctx, w);
      } finally {
        ctx.rotation = -1;
      }
      if (withCookie && ((variants[0]![2]! & (Flag.TC >> 8)) !== 0 || variants[0]!.length + COOKIE_OPTION > ctx.maxSize)) {
        return this.reencode(reply, ctx, w);
      }
      // Send the first rotation now (with this client's cookie); the cache continues with the second.
      w.reset();
      w.bytes(variants[0]!);
      if (withCookie) this.appendCookie(ctx, w, w.pos);
    }
    const opt = scanMessage(variants[0]!, variants[0]!.length);
    const optTail = opt < 0 ? -1 : variants[0]!.length - opt;
    let cookieFits = optTail >= 0 && !truncated;
    for (const v of variants) if (v.length + COOKIE_OPTION > ctx.maxSize || (v[2]! & (Flag.TC >> 8)) !== 0) cookieFits = false;
    let live: LiveAnswer | undefined;
    if (hit !== undefined) {
      live = captureLive(hit, variants[0]!, variants[0]!.length, hit.source.now());
      if (live === undefined) return w.pos;
    }
    let bytes = key.length + 64 + (live === undefined ? 0 : 64 + 16 * live.ttls.length); // key and the entry's own overhead, roughly
    for (const v of variants) bytes += v.length;
    if (bytes > this.answerBytesMax) return w.pos;
    if (this.answerBytes + bytes > this.answerBytesMax) {
      // Full: a newcomer may push others out only when asked for before (a doorkeeper, as in
      // TinyLFU), so one client sending endless new names never evicts what others ask for.
      if (!this.askedBefore(key)) return w.pos;
      this.evictFor(bytes);
      if (this.answerBytes + bytes > this.answerBytesMax) return w.pos;
    }
    const c = ctx.content;
    const e = new CachedAnswer(variants, req.question[0]!.type, reply.rcode & 0xfff, truncated, bytes, live, c, c === undefined ? 0 : c.version,
      optTail, cookieFits);
    e.handler = ctx.answeredBy;
    e.policy = ctx.policy;
    e.next = n === 1 ? 0 : 1;
    e.rrlKind = this.rrlKindOf(reply, c !== undefined);
    e.rrlName = this.rrlName;
    e.rrlClass = req.question[0]!.class;
    this.answers.set(key, e);
    this.answerBytes += bytes;
    return w.pos;
  }

  /**
   * Waits for a pending reply, then encodes it into `w` and calls `done` with the length in the
   * same tick (so nothing else can use `w` in between).
   */
  settle(p: PendingReply, w: Writer, done: (len: number) => void): void {
    p.promise.then(
      (reply) => done(this.logSettled(p, w, this.encode(reply, p.ctx, w))),
      (err: unknown) => done(this.logSettled(p, w, this.encode(this.failure(p.ctx, err), p.ctx, w))),
    );
  }

  /** Records a reply that came asynchronously (when the query log was on as it arrived); returns `len`. */
  private logSettled(p: PendingReply, w: Writer, len: number): number {
    if (p.timedMs >= 0 && len >= 0) this.opts.stats.addLatency(performance.now() - p.timedMs);
    const ql = this.queryLog;
    const q = p.query;
    if (ql !== undefined && q !== undefined && len >= 0) {
      const ctx = p.ctx;
      ql.record(p.startedMs, transportCode(ctx.transport), ctx.clientAddress, ctx.clientPort, q, q.length, w.buf, len,
        ctx.answeredBy, ctx.policy, ctx.live !== undefined ? CacheKind.RESOLVER : CacheKind.NONE, p.local);
    }
    return len;
  }

  /**
   * RFC 8945 §5.2: verifies the query's TSIG. A good one is noted on `ctx` (the reply will be
   * signed); otherwise the NOTAUTH reply is written into `w` and its length returned: BADKEY and
   * BADSIG unsigned (§5.3.2), BADTIME signed with our time in Other Data (§5.2.3). A TSIG that
   * is not the last record gets FORMERR (§5.1).
   */
  private checkTsig(buf: Uint8Array, len: number, ctx: QueryContext, w: Writer): number | undefined {
    const stats = this.opts.stats;
    const msg = len === buf.length ? buf : buf.subarray(0, len);
    let rec;
    try {
      rec = findTsig(msg, len);
    } catch {
      return this.encode(replyTo(ctx.request, Rcode.FORMERR, this.opts.maxUdpSize), ctx, w);
    }
    if (rec === undefined) return undefined;
    const now = epochSeconds(this.nowMs());
    const keys = this.keys;
    const v = keys === undefined ? { error: 17, key: undefined } : verifyMessage(msg, len, rec, keys, { now });
    if (v.error === 0 && v.key !== undefined) {
      stats.tsigVerified++;
      ctx.tsig = { key: v.key, requestMac: rec.mac };
      return undefined;
    }
    stats.tsigFailed++;
    const reply = replyTo(ctx.request, Rcode.NOTAUTH, this.opts.maxUdpSize);
    const n = this.encode(reply, ctx, w);
    const key = v.key ?? { name: rec.keyName, algorithm: { name: rec.algorithm, digestSize: 0, short: '', hash: '' }, secret: Buffer.alloc(0), label: '' };
    const badTime = v.error === 18;
    let other: Uint8Array | undefined;
    if (badTime) {
      // RFC 8945 §5.2.3: our current time, 48 bits, in Other Data.
      const hi = Math.floor(now / 0x100000000);
      other = Uint8Array.of(hi >>> 8, hi & 0xff, (now >>> 24) & 0xff, (now >>> 16) & 0xff, (now >>> 8) & 0xff, now & 0xff);
    }
    const { record } = signature(w.buf, n, key, {
      timeSigned: badTime ? rec.timeSigned : now, fudge: rec.fudge, priorMac: rec.mac, error: v.error,
      ...(other === undefined ? { unsigned: true } : { otherData: other }),
    });
    w.pos = n;
    w.bytes(record);
    w.setU16(10, ((w.buf[10]! << 8) | w.buf[11]!) + 1);
    return w.pos;
  }

  /**
   * RFC 7873 §5.2: a malformed COOKIE option gets FORMERR; otherwise the option is noted on
   * `ctx` (the reply will carry a fresh server cookie) and, when cookies are required, a UDP
   * query without a valid server cookie gets BADCOOKIE (§5.2.3, with our cookie to retry with).
   */
  private checkCookie(ctx: QueryContext, w: Writer): number | undefined {
    const options = ctx.request.edns!.options;
    for (let i = 0; i < options.length; i++) {
      const o = options[i]!;
      if (o.code !== COOKIE) continue;
      const state = this.cookies!.check(o.data, o.data.length, ctx.clientAddress);
      if (state === CookieState.MALFORMED) return this.encode(replyTo(ctx.request, Rcode.FORMERR, this.opts.maxUdpSize), ctx, w);
      ctx.cookie = o.data;
      ctx.validCookie = state === CookieState.VALID;
      const stats = this.opts.stats;
      if (ctx.validCookie) stats.cookiesValid++;
      else if (state === CookieState.INVALID) stats.cookiesInvalid++;
      if (!ctx.validCookie && this.requireCookies && ctx.transport === 'udp') {
        stats.badCookie++;
        return this.encode(replyTo(ctx.request, Rcode.BADCOOKIE, this.opts.maxUdpSize), ctx, w);
      }
      return undefined;
    }
    return undefined;
  }

  /**
   * The reply in `w` again, for when caching gave up after the rotations overwrote it: encoded
   * as `encode` would (room for the cookie, which is appended), without counting it twice.
   */
  private reencode(reply: Message, ctx: QueryContext, w: Writer): number {
    const withCookie = ctx.cookie !== undefined && this.cookies !== undefined && reply.edns !== undefined;
    const len = reply.encodeInto(w, ctx.maxSize - (withCookie ? COOKIE_OPTION : 0));
    return withCookie ? this.appendCookie(ctx, w, len) : len;
  }

  /** Appends our COOKIE option to the OPT record of the reply in `w` (it is the last record before any TSIG). */
  private appendCookie(ctx: QueryContext, w: Writer, len: number): number {
    const opt = scanMessage(w.buf, len);
    this.cookieOptAt = -1;
    if (opt < 0) return len;
    const n = this.cookies!.writeOption(ctx.cookie!, 0, ctx.clientAddress, w.buf, len);
    if (n > 0) this.cookieOptAt = opt;
    const rdlen = ((w.buf[opt + 9]! << 8) | w.buf[opt + 10]!) + n;
    w.buf[opt + 9] = rdlen >>> 8;
    w.buf[opt + 10] = rdlen & 0xff;
    w.pos = len + n;
    return len + n;
  }

  private encode(reply: Message, ctx: QueryContext, w: Writer): number {
    const stats = this.opts.stats;
    const raw = ctx.rawReply;
    // An empty rawReply: send nothing (RPZ's DROP action), counted as dropped.
    if (raw !== undefined && raw.length === 0) {
      stats.dropped++;
      return -1;
    }
    if (raw !== undefined && raw.length <= ctx.maxSize) {
      // Relayed unchanged (its TSIG is the primary's, made for the client's MAC).
      w.reset();
      w.bytes(raw);
      stats.responses++;
      stats.rcodes[raw[3]! & 0xf]!++;
      return w.pos;
    }
    let len: number;
    const t = ctx.tsig;
    const withCookie = ctx.cookie !== undefined && this.cookies !== undefined && reply.edns !== undefined;
    this.cookieOptAt = -1;
    const room = (t === undefined ? ctx.maxSize : ctx.maxSize - tsigSize(t.key)) - (withCookie ? COOKIE_OPTION : 0);
    try {
      len = reply.encodeInto(w, room);
    } catch (err) {
      len = this.failure(ctx, err).encodeInto(w, room);
    }
    if (withCookie) len = this.appendCookie(ctx, w, len);
    if (t !== undefined) {
      // RFC 8945 §4.3.2: the reply's MAC covers the request's MAC, then the reply.
      const { record } = signature(w.buf, len, t.key, { timeSigned: epochSeconds(this.nowMs()), priorMac: t.requestMac });
      w.pos = len;
      w.bytes(record);
      w.setU16(10, ((w.buf[10]! << 8) | w.buf[11]!) + 1);
      len = w.pos;
    }
    stats.responses++;
    stats.rcodes[reply.rcode & 0xfff]!++;
    if ((w.buf[2]! & (Flag.TC >> 8)) !== 0) stats.truncated++;
    return len;
  }

  /** The outermost guard: anything thrown becomes SERVFAIL (or the error's RCODE) with an EDE. */
  private failure(ctx: QueryContext, err: unknown): Message {
    this.opts.stats.internalErrors++;
    const rcode = err instanceof DnsError ? err.rcode : Rcode.SERVFAIL;
    const reply = replyTo(ctx.request, rcode, this.opts.maxUdpSize);
    if (reply.edns !== undefined) {
      const ede = err instanceof DnsError && err.ede !== undefined ? err.ede : EdeCode.OTHER;
      reply.edns.options.push(option.extendedError(ede, err instanceof DnsError ? err.message.slice(0, 200) : 'internal error'));
    }
    if (!(err instanceof DnsError) || err.rcode === Rcode.SERVFAIL) this.logOnce('handler', err, ctx);
    return reply;
  }

  /** A reply carrying only the header (ID, opcode, RD copied; counts zero): for FORMERR and NOTIMP. */
  private headerOnly(buf: Uint8Array, w: Writer, rcode: number): number {
    this.opts.stats.responses++;
    this.opts.stats.rcodes[rcode]!++;
    w.reset();
    w.u16((buf[0]! << 8) | buf[1]!);
    w.u16(Flag.QR | (buf[2]! & 0x79) << 8 | rcode); // keep opcode and RD
    w.u32(0);
    w.u32(0);
    return w.pos;
  }

  private logOnce(kind: string, err: unknown, ctx?: QueryContext): void {
    const key = `${kind}:${err instanceof Error ? err.message : String(err)}`;
    if (this.loggedErrors.has(key)) return;
    if (this.loggedErrors.size < 1000) this.loggedErrors.add(key);
    // The query that caused it, so the failure can be reproduced (`sovereign dig` it).
    const q = ctx?.request.question[0];
    const query = ctx === undefined ? undefined : {
      name: q?.name.toString(), type: q?.type, class: q?.class, client: `${ctx.clientAddress}#${ctx.clientPort}`, transport: ctx.transport,
    };
    this.opts.logger.error(query === undefined ? { err } : { err, query }, `query ${kind} failed`);
  }
}
