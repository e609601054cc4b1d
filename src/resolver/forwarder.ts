/**
 * Forwarding: questions sent to upstream resolvers (RD=1), with the answers kept in the shared
 * resolver cache (`src/resolver/cache.ts`), as dnsmasq, systemd-resolved and Unbound's
 * forward-zone do. Stub zones are not forwarded: the iterator (`iterator.ts`) resolves them
 * from their configured servers; `passZones` keeps their names out of the routes here.
 *
 * Invariants:
 * - Upstream traffic goes through `exchange()` only: crypto-random IDs and source ports, and a
 *   reply is accepted only from the server asked, with our ID and question (RFC 5452 §9).
 * - Only records on the path of the answer are cached: RRsets owned by the query name or by a
 *   CNAME target reached from it in the same answer section; nothing from authority or
 *   additional sections except the SOA of a negative answer (RFC 2308 §5). An upstream cannot
 *   plant data for unrelated names.
 * - CD and DO (RFC 4035 §3.2): an answer fetched with CD=1 may have failed validation upstream;
 *   it is kept in the cache's UNCHECKED space and answers only CD=1 clients (checked data answers
 *   both). RRSIGs are kept with the RRset they cover (and the proof with a negative answer) and
 *   given to DO=1 clients only; an entry fetched with DO=0 does not answer a DO=1 client (it
 *   knows no RRSIGs), as Unbound keeps them with the RRset.
 * - TTLs handed out are those stored (RFC 2181 §8 top bit = 0, the cache's caps), on a miss too.
 * - Upstreams are ordered by smoothed RTT; those not asked decay towards being asked again
 *   (as BIND does), so a recovered fast server is found. After `maxFailures` timeouts or network
 *   errors in a row an upstream is down: skipped until a probe (sent every `probeIntervalMs`)
 *   gets any reply from it. When every upstream is down they are all tried anyway.
 * - One client question costs at most one upstream exchange at a time: identical questions in
 *   flight share it.
 * - Every wait is bounded: `timeoutMs` per attempt, at most `maxAttempts` attempts per question.
 * - EDNS buffer size (RFC 6891 §6.2.5): a plain-DNS upstream that timed out after we offered a
 *   big UDP payload is offered the next smaller size (1232, then 512) for `EDNS_SIZE_MEMORY_MS`,
 *   so answers too big for the path come back with TC=1 and over TCP instead of being lost (the
 *   per-server fallback BIND and Unbound make; `infra.ts` `nextUdpSize`).
 */
import { randomInt } from 'node:crypto';
import { DohPool, DotPool } from '../client/pool.js';
import { clientCookieFor, cookieOption, replyCookie } from '../client/client-cookie.js';
import { type ExchangeOptions, type ExchangeResult, type ServerAddress, exchange, serverLabel } from '../client/exchange.js';
import type { UpstreamAddress } from '../client/upstream.js';
import { AbortedError, DnsError, NetworkError, ResolutionError, TimeoutError } from '../errors.js';
import type { Logger } from '../logging.js';
import { EdeCode, EdnsOptionCode, Rcode } from '../wire/constants.js';
import { newEdns } from '../wire/edns.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { ANSWER_RANK, CacheSpace, Credibility, type RRCache, ValidationState } from './cache.js';
import { type CacheRule, CacheWalk } from './cache-walk.js';
import { negativeSoa, ttlValue } from '../wire/ttl.js';
import { newLatencyBuckets, observeMs } from '../histogram.js';
import { nextUdpSize } from './infra.js';

/** How long a smaller EDNS UDP size is kept for an upstream after a timeout (Unbound's infra-host-ttl: 900 s). */
export const EDNS_SIZE_MEMORY_MS = 15 * 60_000;

/** The outcome of a forwarded question, ready to put in a reply. */
export interface ForwardResult {
  rcode: number;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
  /** Served from the cache (no upstream asked). */
  cached: boolean;
  /** The upstream that answered (undefined when cached). */
  upstream: string | undefined;
  /** AD bit from the upstream (only meaningful when the upstream validates). */
  ad: boolean;
  /** Extended DNS Error to attach (RFC 8914), e.g. a stale answer. */
  ede?: { code: number; text: string };
  /** The upstream's reply as it came (set on upstream answers only): what the validating forwarder checks. */
  raw?: ReplyParts;
}

/** Signature of the exchange function (tests and DoT/DoH transports plug in others). */
export type ExchangeFn = (query: Message, server: ServerAddress, opts: ExchangeOptions) => Promise<ExchangeResult>;

export type { UpstreamAddress } from '../client/upstream.js';
/** Moved to src/client (dig, the config check and the server use it too); re-exported for existing importers. */
export { parseUpstream } from '../client/upstream.js';

/** Health and counters of one upstream. */
export class Upstream {
  readonly server: UpstreamAddress;
  readonly label: string;
  /** Smoothed RTT (ms); starts small and random so every upstream gets tried early. */
  srttMs: number;
  up = true;
  consecutiveFailures = 0;
  queries = 0;
  answers = 0;
  /** Timeouts and network errors. */
  failures = 0;
  timeouts = 0;
  /** SERVFAIL/REFUSED/other error replies (the upstream answered, but not usefully). */
  errorReplies = 0;
  rttSumMs = 0;
  rttCount = 0;
  /** Round-trip times as a latency histogram (src/histogram.ts). */
  readonly rttBuckets = newLatencyBuckets();
  probes = 0;
  /** Messages received that were not the reply (wrong source, ID or question): spoofing attempts or junk. */
  ignored = 0;
  downSince = 0;
  /** The server cookie this upstream gave us last (RFC 7873 §5.3), sent back with our client cookie. */
  serverCookie: Uint8Array | undefined = undefined;
  /** DoT/DoH: the reused connection (src/client/pool.ts), opened on first use. */
  pool: DotPool | DohPool | undefined = undefined;
  /** EDNS UDP size offered after a timeout (0: the configured one), until `udpSizeUntil` (ms). */
  udpSize = 0;
  udpSizeUntil = 0;
  /** Times a timeout lowered the EDNS UDP size offered to it. */
  ednsSizeFallbacks = 0;

  constructor(server: UpstreamAddress) {
    this.server = server;
    const name = server.tls?.servername ?? server.https?.servername;
    const suffix = name !== undefined ? `(${name})` : '';
    this.label = server.tls !== undefined ? `tls://${serverLabel(server)}${suffix}`
      : server.https !== undefined ? `https://${serverLabel(server)}${server.https.path}${suffix}` : serverLabel(server);
    this.srttMs = 1 + randomInt(0, 32);
  }

  /** Counters as plain data (for `sovereign stats` and /metrics). */
  snapshot(): UpstreamSnapshot {
    return {
      upstream: this.label, up: this.up, srttMs: Math.round(this.srttMs * 10) / 10, queries: this.queries,
      answers: this.answers, failures: this.failures, timeouts: this.timeouts, errorReplies: this.errorReplies,
      rttSumMs: Math.round(this.rttSumMs * 1000) / 1000, rttCount: this.rttCount, probes: this.probes, ignored: this.ignored,
      rttBuckets: [...this.rttBuckets], ednsSizeFallbacks: this.ednsSizeFallbacks,
    };
  }
}

export interface UpstreamSnapshot {
  upstream: string;
  up: boolean;
  srttMs: number;
  queries: number;
  answers: number;
  failures: number;
  timeouts: number;
  errorReplies: number;
  rttSumMs: number;
  rttCount: number;
  rttBuckets: number[];
  probes: number;
  ignored: number;
  /** Times a timeout lowered the EDNS UDP size offered to it (RFC 6891 §6.2.5). */
  ednsSizeFallbacks?: number;
}

export interface UpstreamSetOptions {
  /** Timeouts/network errors in a row before an upstream counts as down (default 3). */
  maxFailures?: number;
  /** How often down upstreams are probed, ms (default 5000; 0 = never, they come back only by luck). */
  probeIntervalMs?: number;
  /** Timeout of a probe, ms (default 1000). */
  probeTimeoutMs?: number;
  /** Name asked in probes (default the route's zone) and whether RD is set. */
  probeName: Name;
  probeRd: boolean;
  exchange: ExchangeFn;
  /** PEM CA certificate(s) DoT upstreams must chain to (default: the system store). */
  tlsCa?: string | undefined;
  logger?: Logger;
  clock?: () => number;
}

/** Sends `q` to `u` over its transport: DNS over TLS, or UDP with TCP on truncation. */
function sendTo(u: Upstream, q: Message, timeoutMs: number, ex: ExchangeFn, tlsCa: string | undefined): Promise<ExchangeResult> {
  // DoT and DoH reuse one connection per upstream (pipelined queries, HTTP/2 streams).
  if (u.server.https !== undefined) {
    u.pool ??= new DohPool(u.server, { path: u.server.https.path, servername: u.server.https.servername, ca: tlsCa });
    return u.pool.exchange(q, timeoutMs);
  }
  if (u.server.tls !== undefined) {
    u.pool ??= new DotPool(u.server, { servername: u.server.tls.servername, ca: tlsCa });
    return u.pool.exchange(q, timeoutMs);
  }
  return sendWithCookie(u, q, timeoutMs, ex, false);
}

/**
 * Plain DNS to an upstream with DNS Cookies (RFC 7873 §5.1): our client cookie and its last
 * server cookie go along; a reply with somebody else's client cookie is a forgery (NetworkError,
 * so the next upstream is tried); a new server cookie is kept; BADCOOKIE is retried once with
 * the cookie it brought (§5.3).
 */
async function sendWithCookie(u: Upstream, q: Message, timeoutMs: number, ex: ExchangeFn, retried: boolean): Promise<ExchangeResult> {
  const edns = q.edns;
  if (edns === undefined) return ex(q, u.server, { timeoutMs });
  const client = clientCookieFor(u.server.address);
  edns.options = edns.options.filter((o) => o.code !== EdnsOptionCode.COOKIE);
  edns.options.push(cookieOption(client, u.serverCookie));
  const r = await ex(q, u.server, { timeoutMs });
  const c = replyCookie(r.message, client);
  if (c === 'forged') throw new NetworkError(u.label, 'reply carries a cookie that is not ours (RFC 7873 §5.3): discarded');
  if (c !== 'none') u.serverCookie = c;
  if (r.message.rcode === Rcode.BADCOOKIE && !retried && c !== 'none') return sendWithCookie(u, q, timeoutMs, ex, true);
  return r;
}

/** The upstreams of one route, with selection by health and latency, and probing of dead ones. */
export class UpstreamSet {
  readonly upstreams: Upstream[];
  private readonly maxFailures: number;
  private readonly opts: UpstreamSetOptions;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(servers: readonly UpstreamAddress[], opts: UpstreamSetOptions) {
    this.upstreams = servers.map((s) => new Upstream(s));
    this.maxFailures = Math.max(1, opts.maxFailures ?? 3);
    this.opts = opts;
    const every = opts.probeIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => void this.probe(), every);
      this.timer.unref();
    }
  }

  /** Upstreams to try, best first: those up by smoothed RTT; all of them when none is up. */
  order(): Upstream[] {
    const up = this.upstreams.filter((u) => u.up);
    const list = up.length > 0 ? up : [...this.upstreams];
    list.sort((a, b) => a.srttMs - b.srttMs);
    return list;
  }

  /** An answer arrived from `u` after `rttMs`. */
  success(u: Upstream, rttMs: number): void {
    u.answers++;
    u.rttSumMs += rttMs;
    u.rttCount++;
    observeMs(u.rttBuckets, rttMs);
    // RFC 6298-style smoothing (alpha 1/8), as resolvers keep their SRTT.
    u.srttMs = u.srttMs + (rttMs - u.srttMs) / 8;
    u.consecutiveFailures = 0;
    if (!u.up) this.markUp(u);
    // Upstreams not asked drift towards being tried again (BIND lowers their SRTT the same way).
    for (const o of this.upstreams) if (o !== u && o.up) o.srttMs *= 0.98;
  }

  /** `u` timed out or failed at the network level. */
  failure(u: Upstream, err: unknown): void {
    u.failures++;
    if (err instanceof TimeoutError) u.timeouts++;
    u.consecutiveFailures++;
    // A failure costs like a slow answer, so the next question prefers another upstream.
    u.srttMs = Math.min(u.srttMs * 2 + 100, 10_000);
    if (u.up && u.consecutiveFailures >= this.maxFailures) {
      u.up = false;
      u.downSince = (this.opts.clock ?? Date.now)();
      this.opts.logger?.warn({ upstream: u.label, failures: u.consecutiveFailures }, 'upstream down; skipping it until it answers a probe');
    }
  }

  /** The EDNS UDP size to offer `u`: `configured`, or less after timeouts (RFC 6891 §6.2.5). */
  udpSizeFor(u: Upstream, configured: number): number {
    if (u.udpSize === 0 || u.udpSizeUntil <= (this.opts.clock ?? Date.now)()) return configured;
    return Math.min(u.udpSize, configured);
  }

  /** A plain-DNS query to `u` offering `sent` octets timed out: offer the next smaller size for a while. */
  udpTimeout(u: Upstream, sent: number): void {
    if (u.server.tls !== undefined || u.server.https !== undefined) return;
    const next = nextUdpSize(sent);
    if (next === undefined) return;
    u.udpSize = next;
    u.udpSizeUntil = (this.opts.clock ?? Date.now)() + EDNS_SIZE_MEMORY_MS;
    u.ednsSizeFallbacks++;
    this.opts.logger?.info({ upstream: u.label, udpSize: next }, 'upstream timed out: offering a smaller EDNS UDP size (large replies may be lost on the path)');
  }

  private markUp(u: Upstream): void {
    u.up = true;
    u.consecutiveFailures = 0;
    this.opts.logger?.info({ upstream: u.label }, 'upstream answers again');
  }

  /** Sends one probe to every down upstream; any well-formed matching reply brings it back. */
  async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await Promise.all(this.upstreams.filter((u) => !u.up).map(async (u) => {
        u.probes++;
        const q = Message.query(this.opts.probeName, RRType.NS, { rd: this.opts.probeRd, edns: newEdns({ udpSize: 1232 }) });
        try {
          const r = await sendTo(u, q, this.opts.probeTimeoutMs ?? 1000, this.opts.exchange, this.opts.tlsCa);
          u.srttMs = r.rttMs;
          this.markUp(u);
        } catch {
          // still down
        }
      }));
    } finally {
      this.probing = false;
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const u of this.upstreams) u.pool?.close();
  }
}

/** Where questions for a domain go. */
export interface ForwardRoute {
  /** The domain (`.` for the default forwarder). */
  zone: Name;
  kind: 'forward';
  upstreams: UpstreamSet;
}

export interface ForwarderOptions {
  cache: RRCache;
  /** Per-attempt timeout, ms (default 1500). */
  timeoutMs?: number;
  /** Upstream attempts per question, across upstreams (default 3). */
  maxAttempts?: number;
  /** EDNS UDP size offered upstream (default 1232). */
  udpSize?: number;
  logger?: Logger;
  /** Transport for upstream questions (default `exchange`: UDP, TCP on truncation). */
  exchange?: ExchangeFn;
  /** PEM CA certificate(s) DoT upstreams must chain to (default: the system store). */
  tlsCa?: string | undefined;
  /** RFC 8767: when no upstream answers, answer from expired data (within the cache's staleTtl). */
  serveStale?: boolean;
  /**
   * Zones resolved elsewhere (stub zones, iterated by the resolver): a name whose deepest match
   * is one of these has no route here, even below a forwarded domain.
   */
  passZones?: readonly Name[];
}

/** The parts of a reply `store` reads. */
export type ReplyParts = Pick<Message, 'aa' | 'ad' | 'rcode' | 'answer' | 'authority'>;

/** What the client asked, as far as forwarding cares. */
export interface ForwardQuestion {
  name: Name;
  type: number;
  class: number;
  dnssecOk: boolean;
  checkingDisabled: boolean;
}

function pushAll(dst: ResourceRecord[], src: readonly ResourceRecord[]): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}

/** Most CNAMEs followed in one answer (a loop or a long chain is cut here). */
const MAX_CNAME_CHAIN = 12;

/**
 * What a client may get from the shared cache, by its CD and DO bits (index: CD * 2 + DO): checked
 * data, then (CD=1 only) unchecked data; for DO=1 only entries fetched with DO=1 (their RRSIGs
 * are known), as Unbound keeps validated, unchecked and DO-relevant data apart.
 */
const FORWARD_RULES: readonly CacheRule[] = [false, true].flatMap((cd) => [false, true].map((dnssecOk) => ({
  minRank: ANSWER_RANK, unchecked: cd, needDnssec: dnssecOk, dname: false, sigs: dnssecOk, stale: false,
})));

/**
 * Answers questions for its routes from the cache or the upstreams. Routes are matched by the
 * longest zone that contains the name.
 */
export class Forwarder {
  private readonly routes = new Map<string, ForwardRoute>();
  /** The RRset cache (shared with the resolver when both run). */
  readonly cache: RRCache;
  private readonly opts: ForwarderOptions;
  private readonly inflight = new Map<string, Promise<ForwardResult>>();
  private readonly passZones: Set<string>;
  private readonly walk: CacheWalk;
  /** Questions answered from the cache / from upstreams / not at all. */
  cacheAnswers = 0;
  upstreamAnswers = 0;
  failures = 0;

  constructor(routes: readonly ForwardRoute[], opts: ForwarderOptions) {
    for (const r of routes) this.routes.set(r.zone.key, r);
    this.passZones = new Set((opts.passZones ?? []).map((z) => z.key));
    this.cache = opts.cache;
    this.walk = new CacheWalk(opts.cache, MAX_CNAME_CHAIN);
    this.opts = opts;
  }

  get routeCount(): number {
    return this.routes.size;
  }

  allRoutes(): ForwardRoute[] {
    return [...this.routes.values()];
  }

  /** The route for `name`: the deepest configured zone at or above it, if any (and not a pass zone). */
  route(name: Name): ForwardRoute | undefined {
    if (this.routes.size === 0) return undefined;
    const pass = this.passZones.size > 0;
    for (let n = name; ; n = n.parent()) {
      const r = this.routes.get(n.key);
      if (r !== undefined) return r;
      if (pass && this.passZones.has(n.key)) return undefined;
      if (n.isRoot) return undefined;
    }
  }

  /**
   * The answer from the cache alone (following CNAMEs cached along the way), or undefined when
   * some part is missing. Counts one cache hit or miss.
   */
  fromCache(q: ForwardQuestion): ForwardResult | undefined {
    if (q.type === RRType.ANY) return undefined;
    const cache = this.cache;
    const walk = this.walk;
    if (!walk.run(q.name, q.type, q.class, FORWARD_RULES[(q.checkingDisabled ? 2 : 0) + (q.dnssecOk ? 1 : 0)]!)) {
      cache.stats.misses++;
      return undefined;
    }
    cache.stats.hits++;
    const hit = walk.hit!;
    let answer = walk.chain;
    // AD from the entries' validation state (only a validating forwarder sets SECURE; RFC 4035 §3.2.3).
    const ad = walk.status === ValidationState.SECURE && hit.entry.status === ValidationState.SECURE;
    if (hit.kind === 'positive') {
      if (answer === undefined && (!q.dnssecOk || hit.sigs.length === 0)) {
        return { rcode: Rcode.NOERROR, answer: hit.records, authority: [], cached: true, upstream: undefined, ad };
      }
      answer ??= [];
      pushAll(answer, hit.records);
      if (q.dnssecOk) pushAll(answer, hit.sigs);
      return { rcode: Rcode.NOERROR, answer, authority: [], cached: true, upstream: undefined, ad };
    }
    let authority = hit.soa;
    if (q.dnssecOk && hit.sigs.length > 0) authority = [...hit.soa, ...hit.sigs];
    return {
      rcode: hit.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: answer ?? [], authority, cached: true,
      upstream: undefined, ad,
    };
  }

  /** Cache first, then the route's upstreams. Rejects with ResolutionError (SERVFAIL + EDE). */
  async resolve(q: ForwardQuestion, route: ForwardRoute): Promise<ForwardResult> {
    const cached = this.fromCache(q);
    if (cached !== undefined) {
      this.cacheAnswers++;
      return cached;
    }
    return this.resolveUpstream(q, route);
  }

  /** Asks the route's upstreams (after the caller found nothing in the cache). */
  resolveUpstream(q: ForwardQuestion, route: ForwardRoute): Promise<ForwardResult> {
    const key = `${q.name.key}/${q.type}/${q.class}/${q.dnssecOk ? 1 : 0}${q.checkingDisabled ? 1 : 0}`;
    let p = this.inflight.get(key);
    if (p === undefined) {
      p = this.ask(q, route).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Asks upstreams in order until one gives a usable answer. */
  private async ask(q: ForwardQuestion, route: ForwardRoute): Promise<ForwardResult> {
    const set = route.upstreams;
    const order = set.order();
    const maxAttempts = this.opts.maxAttempts ?? 3;
    let lastError: unknown;
    let lastRcode: number | undefined;
    for (let i = 0; i < maxAttempts && order.length > 0; i++) {
      const u = order[i % order.length]!;
      const udpSize = set.udpSizeFor(u, this.opts.udpSize ?? 1232);
      const query = Message.query(q.name, q.type, {
        rd: true, class: q.class, edns: newEdns({ udpSize, dnssecOk: q.dnssecOk }),
      });
      query.cd = q.checkingDisabled;
      u.queries++;
      let r: ExchangeResult;
      try {
        r = await sendTo(u, query, this.opts.timeoutMs ?? 1500, this.opts.exchange ?? exchange, this.opts.tlsCa);
      } catch (err) {
        if (err instanceof AbortedError) throw err;
        if (!(err instanceof TimeoutError || err instanceof NetworkError || err instanceof DnsError)) throw err;
        set.failure(u, err);
        if (err instanceof TimeoutError) set.udpTimeout(u, udpSize);
        lastError = err;
        this.opts.logger?.debug({ upstream: u.label, err: (err as Error).message }, 'upstream failed');
        continue;
      }
      set.success(u, r.rttMs);
      u.ignored += r.ignored;
      const m = r.message;
      if (m.rcode !== Rcode.NOERROR && m.rcode !== Rcode.NXDOMAIN) {
        // SERVFAIL, REFUSED, FORMERR...: this upstream cannot help; another may.
        u.errorReplies++;
        lastRcode = m.rcode;
        continue;
      }
      this.upstreamAnswers++;
      const res = this.store(q, m, u.label);
      res.raw = m;
      return res;
    }
    if (this.opts.serveStale === true && q.type !== RRType.ANY) {
      const stale = this.cache.getStale(q.name, q.type, q.class, ANSWER_RANK, CacheSpace.CHECKED) ??
        (q.checkingDisabled ? this.cache.getStale(q.name, q.type, q.class, ANSWER_RANK, CacheSpace.UNCHECKED) : undefined);
      if (stale !== undefined) {
        const nx = stale.kind === 'nxdomain';
        return {
          rcode: nx ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: stale.records, authority: stale.soa, cached: true, upstream: undefined,
          ad: false, ede: { code: nx ? EdeCode.STALE_NXDOMAIN_ANSWER : EdeCode.STALE_ANSWER, text: 'no upstream answered; answered from stale cache data' },
        };
      }
    }
    this.failures++;
    const what = lastRcode !== undefined
      ? `upstreams answered ${lastRcode === Rcode.REFUSED ? 'REFUSED' : lastRcode === Rcode.SERVFAIL ? 'SERVFAIL' : `RCODE ${lastRcode}`}`
      : `no upstream answered (${lastError instanceof Error ? lastError.message : 'none configured'})`;
    const ede = lastRcode !== undefined ? EdeCode.NO_REACHABLE_AUTHORITY
      : lastError instanceof NetworkError ? EdeCode.NETWORK_ERROR : EdeCode.NO_REACHABLE_AUTHORITY;
    throw new ResolutionError(`forwarding ${route.zone.toString()}: ${what}`, ede, lastError);
  }

  /**
   * Caches what the reply says about the question and returns the part of it for the client,
   * with the TTLs as cached (RFC 2181 §8, the cache's caps).
   */
  private store(q: ForwardQuestion, m: ReplyParts, upstream: string): ForwardResult {
    const rank = m.aa ? Credibility.AUTH_ANSWER : Credibility.NONAUTH_ANSWER;
    const space = q.checkingDisabled ? CacheSpace.UNCHECKED : CacheSpace.CHECKED;
    // Walk the CNAME chain from the question name; keep only the records on it.
    let name = q.name;
    const onPath = new Set<string>([name.key]);
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      let cname: Name | undefined;
      for (const rr of m.answer) {
        if (rr.class !== q.class || !rr.name.equals(name)) continue;
        if (rr.type === RRType.CNAME && q.type !== RRType.CNAME) cname = (rr.data as { cname: Name }).cname;
      }
      if (cname === undefined || onPath.has(cname.key)) break;
      name = cname;
      onPath.add(name.key);
    }
    const onChain: ResourceRecord[] = [];
    for (const rr of m.answer) if (onPath.has(rr.name.key) && rr.class === q.class) onChain.push(rr);
    let soa: ResourceRecord | undefined;
    const proof: ResourceRecord[] = [];
    for (const rr of m.authority) {
      // RFC 2308 §5: the SOA must be of a zone enclosing the name it denies.
      if (rr.type === RRType.SOA && soa === undefined && name.isSubdomainOf(rr.name)) soa = rr;
    }
    if (soa !== undefined && q.dnssecOk) {
      // RFC 4035 §3.1.3: the denial proof (NSEC/NSEC3 and RRSIGs) from the same zone, for DO=1 clients.
      for (const rr of m.authority) {
        if ((rr.type === RRType.RRSIG || rr.type === RRType.NSEC || rr.type === RRType.NSEC3) && rr.name.isSubdomainOf(soa.name)) proof.push(rr);
      }
    }
    if (q.type === RRType.ANY) {
      // Not cached (RFC 8482 answers vary); TTLs still read per RFC 2181 §8.
      const answer = onChain.map((rr) => (ttlValue(rr.ttl) === rr.ttl ? rr : { ...rr, ttl: ttlValue(rr.ttl) }));
      const authority = soa !== undefined ? [soa, ...proof] : [];
      return { rcode: m.rcode, answer, authority, cached: false, upstream, ad: m.ad };
    }
    // RRsets by owner and type; RRSIGs go with the set they cover (RFC 4034 §3: typeCovered).
    const sets = new Map<string, { records: ResourceRecord[]; sigs: ResourceRecord[] }>();
    const setFor = (key: string): { records: ResourceRecord[]; sigs: ResourceRecord[] } => {
      let e = sets.get(key);
      if (e === undefined) sets.set(key, e = { records: [], sigs: [] });
      return e;
    };
    for (const rr of onChain) {
      if (rr.type === RRType.RRSIG && q.type !== RRType.RRSIG) {
        setFor(`${rr.name.key}/${(rr.data as { typeCovered: number }).typeCovered}`).sigs.push(rr);
      } else {
        setFor(`${rr.name.key}/${rr.type}`).records.push(rr);
      }
    }
    const answer: ResourceRecord[] = [];
    let finalAnswered = false;
    for (const s of sets.values()) {
      if (s.records.length === 0) continue; // RRSIGs without their set: nothing to serve them with
      const e = this.cache.put(s.records, rank, { sigs: s.sigs, dnssec: q.dnssecOk, space });
      if (e !== undefined) {
        pushAll(answer, e.records);
        if (q.dnssecOk) pushAll(answer, e.sigs);
      } else {
        pushAll(answer, this.cache.capped(s.records));
        if (q.dnssecOk) pushAll(answer, this.cache.capped(s.sigs));
      }
      const first = s.records[0]!;
      if (first.name.equals(name) && (first.type === q.type || q.type === RRType.CNAME)) finalAnswered = true;
    }
    let authority: ResourceRecord[] = [];
    if (m.rcode === Rcode.NXDOMAIN || !finalAnswered) {
      const kind = m.rcode === Rcode.NXDOMAIN ? 'nxdomain' : 'nodata';
      const e = this.cache.putNegative(name, q.type, q.class, kind, soa, rank, { sigs: proof, dnssec: q.dnssecOk, space });
      if (e !== undefined) authority = q.dnssecOk ? [...e.soa, ...e.sigs] : [...e.soa];
      else if (soa !== undefined) authority = [negativeSoa(soa), ...proof];
    }
    return { rcode: m.rcode, answer, authority, cached: false, upstream, ad: m.ad };
  }

  /**
   * Caches a reply's parts for `q` as `store` does for an upstream reply (the validating
   * forwarder puts validated answers into the checked space this way).
   */
  keep(q: ForwardQuestion, m: ReplyParts, upstream: string): ForwardResult {
    return this.store(q, m, upstream);
  }

  /**
   * Takes over health, SRTT and counters of the same upstreams (same route and address) from
   * the forwarder this one replaces at reload, so a reload neither forgets a dead upstream
   * nor resets the statistics.
   */
  adopt(old: Forwarder): void {
    for (const r of this.routes.values()) {
      const o = old.routes.get(r.zone.key);
      if (o === undefined || o.kind !== r.kind) continue;
      for (const u of r.upstreams.upstreams) {
        const prev = o.upstreams.upstreams.find((x) => x.label === u.label);
        if (prev !== undefined) Object.assign(u, { ...prev, server: u.server, label: u.label });
      }
    }
    this.cacheAnswers = old.cacheAnswers;
    this.upstreamAnswers = old.upstreamAnswers;
    this.failures = old.failures;
  }

  /** Health and counters of every upstream, per route. */
  snapshot(): { zone: string; kind: string; upstreams: UpstreamSnapshot[] }[] {
    return this.allRoutes().map((r) => ({ zone: r.zone.toString(), kind: r.kind, upstreams: r.upstreams.upstreams.map((u) => u.snapshot()) }));
  }

  close(): void {
    for (const r of this.routes.values()) r.upstreams.close();
  }
}
