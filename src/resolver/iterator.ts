/**
 * Iterative resolution (RFC 1034 §5.3.3): from the closest delegation in the cache (or the
 * root, primed from the hints per RFC 8109), ask the zone's servers with RD=0, follow referrals
 * down, chase CNAME and DNAME across zones, and cache what each reply proves.
 *
 * Invariants (the spoofing and amplification defences live here):
 * - Every upstream query goes through `exchange()` (crypto-random ID and source port; reply
 *   accepted only when source, port, ID and question match), optionally with 0x20 case
 *   randomisation checked byte for byte, and with DNS Cookies on EDNS queries (RFC 7873: our
 *   client cookie per server, its server cookie kept; a reply with a client cookie not ours is
 *   discarded as forged; BADCOOKIE asked again once).
 * - Bailiwick: a reply from the servers of zone Z is trusted only for names at or below Z.
 *   Referral glue is cached only when inside Z (the delegating zone); answer records outside Z
 *   are ignored and their names resolved afresh from their own zones.
 * - Credibility (RFC 2181 §5.4.1): authoritative answers outrank answer data without AA, which
 *   outrank authority data, which outrank glue and additional data (see `Credibility`).
 * - Limits, all per client query and shared by every side lookup it starts (NXNS defence):
 *   upstream queries, referrals followed, CNAME/DNAME chain length, nesting of glueless NS
 *   lookups, and how many glueless NS names of one delegation are resolved.
 * - QNAME minimisation (RFC 9156) is on by default: servers above the zone cut only see the
 *   next label (QTYPE A), with the §2.3 limits on the number of extra queries.
 * - Failures are ResolutionError (SERVFAIL + Extended DNS Error); NXDOMAIN/NODATA are results.
 * - Split by concern: reply classification and scrubbing in `classify.ts`, what replies may
 *   cache and at which rank in `cache-policy.ts`, asking a cut's servers (address choice, EDNS
 *   fallback, RTT and lameness recorded, 0x20) in `server-choice.ts` over the infrastructure
 *   cache in `infra.ts`, root priming (RFC 8109) in `priming.ts`, glueless NS address lookups in
 *   `ns-addresses.ts`, counters in `stats.ts`; this file holds the resolution loop itself:
 *   cache, referrals, limits.
 * - Stub zones (Unbound's stub-zone, BIND's `type stub`): for names at or below a stub zone,
 *   iteration starts from the configured servers as the zone's delegation (unless a deeper
 *   delegation learned below it is cached), so referrals below it are followed with the same
 *   limits and bailiwick rules. With `recursion: false` only stub-zone names are resolved.
 */
import { exchange as defaultExchange, type ServerAddress } from '../client/exchange.js';
import { DnsError, ResolutionError } from '../errors.js';
import { type Logger, silentLogger } from '../logging.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';
import { ANSWER_RANK, Credibility, ValidationState, type RRCache, type CacheHit } from './cache.js';
import { type Classified, inBailiwick } from './classify.js';
import { type CacheRule, CacheWalk } from './cache-walk.js';
import type { Resolution } from './resolution.js';
import { cacheAnswerExtras, cacheFinal, cacheReferral, withSigs } from './cache-policy.js';
import { dnssecOf, type ResolverValidation } from './validate.js';
import { ServerSelector } from './infra.js';
import { type ResolverStats, newResolverStats } from './stats.js';
import { observeMs } from '../histogram.js';
import { NsAddresses } from './ns-addresses.js';
import { RootPrimer } from './priming.js';
import type { RootHints } from './root-hints.js';
import { type ExchangeFn, type Reply, Request, ServerChoice, type UpstreamEvent, type ZoneCut } from './server-choice.js';
import { type SpecialAnswer, specialAnswer, specialZone } from './special-names.js';

export type { ExchangeFn, UpstreamEvent } from './server-choice.js';

export interface ResolverOptions {
  cache: RRCache;
  hints: RootHints;
  /** Upstream exchange (default: `exchange` from src/client). */
  exchange?: ExchangeFn;
  selector?: ServerSelector;
  /** Port the authoritative servers listen on (default 53). */
  port?: number;
  /** RFC 9156 QNAME minimisation (default true). */
  qnameMinimisation?: boolean;
  /**
   * Believe NXDOMAIN for a minimised name (RFC 8020) without asking the full name (default
   * false: relaxed, as Unbound's qname-minimisation-strict: no).
   */
  qnameMinimisationStrict?: boolean;
  /** Randomise the case of query names and require it back (default false). */
  use0x20?: boolean;
  /** Upstream queries allowed per client query, side lookups included (default 64). */
  maxQueries?: number;
  /** Referrals followed per resolution (default 30). */
  maxReferrals?: number;
  /** CNAME/DNAME links followed (default 12). */
  maxChain?: number;
  /** Nesting of glueless NS lookups (default 6). */
  maxDepth?: number;
  /** Glueless NS names of one delegation resolved per client query (default 4). */
  maxNsFanout?: number;
  /** Time allowed for one client query, side lookups included, ms (default 10 000). */
  resolutionTimeoutMs?: number;
  /**
   * How long a failed question answers SERVFAIL (EDE 13 Cached Error) without asking upstream
   * again, ms (default 5000; like BIND's servfail-ttl). 0 = off.
   */
  failureTtlMs?: number;
  /** Serve stale data (RFC 8767) when resolution fails (needs the cache's staleTtl > 0). */
  serveStale?: boolean;
  /**
   * RFC 8767 §5 client-response timer: with serveStale, a question still unresolved after this
   * long is answered from stale data (resolution goes on and refreshes the cache), ms (default
   * 1800, the RFC's suggestion; 0 = only after resolution failed).
   */
  staleClientTimeoutMs?: number;
  /** Milliseconds since some epoch for deadlines and the failure cache (default Date.now); tests inject their own. */
  clock?: () => number;
  /**
   * Stub zones: names at or below `zone` are resolved by iterating from `servers` (RD=0, referrals
   * followed), never from the root. The deepest stub zone containing a name wins.
   */
  stubZones?: readonly StubZone[];
  /** Resolve names outside every stub zone from the root (default true; false: stub zones only, no priming). */
  recursion?: boolean;
  /** Ask for IPv6 server addresses and use them (default true). */
  ipv6?: boolean;
  /** EDNS UDP payload size we advertise upstream (default 1232). */
  ednsUdpSize?: number;
  /** Told about every upstream exchange (the resolver's own trace: `sovereign lab trace` reads it from the log). */
  onUpstream?: (e: UpstreamEvent) => void;
  logger?: Logger;
  /** DNSSEC validation (src/resolver/validate.ts): DO=1 upstream, answers validated before use. */
  validation?: ResolverValidation;
}

/** The outcome of resolving one question (NXDOMAIN and NODATA are results, not errors). */
export type { Resolution } from './resolution.js';

/** A stub zone: its apex and the authoritative servers to iterate from. */
export interface StubZone {
  zone: Name;
  servers: readonly ServerAddress[];
}

export { groupRRsets, inBailiwick } from './classify.js';
export { type ResolverStats, newResolverStats } from './stats.js';

const A = RRType.A;
const CNAME = RRType.CNAME;

/** The iterator's cache rules: answer-rank checked data, DNAMEs followed; RRSIGs when validating; stale (RFC 8767). */
const FRESH: CacheRule = { minRank: ANSWER_RANK, unchecked: false, needDnssec: false, dname: true, sigs: false, stale: false };
const FRESH_WITH_SIGS: CacheRule = { ...FRESH, sigs: true };
const STALE: CacheRule = { minRank: ANSWER_RANK, unchecked: false, needDnssec: false, dname: false, sigs: false, stale: true };

/** RFC 9156 §2.3: at most this many minimised queries, the first few one label at a time. */
const MAX_MINIMISE_COUNT = 10;
const MINIMISE_ONE_LAB = 4;


export class Resolver {
  readonly cache: RRCache;
  readonly selector: ServerSelector;
  readonly stats: ResolverStats = newResolverStats();
  /** Root priming (RFC 8109). */
  private readonly primer: RootPrimer;
  /** Which server to ask and how (RTT, EDNS fallback, 0x20). */
  private readonly servers: ServerChoice;
  /** Addresses of glueless NS names (ns-addresses.ts). */
  private readonly nsAddresses: NsAddresses;
  private readonly port: number;
  private readonly qnameMin: boolean;
  private readonly qnameMinStrict: boolean;
  private readonly maxQueries: number;
  private readonly maxReferrals: number;
  private readonly maxChain: number;
  /** Walks the cache for answers (fresh and stale), reused for every question. */
  private readonly walk: CacheWalk;
  private readonly maxDepth: number;
  private readonly maxNsFanout: number;
  private readonly resolutionTimeoutMs: number;
  private readonly serveStale: boolean;
  private readonly staleClientTimeoutMs: number;
  private readonly clock: () => number;
  private readonly ipv6: boolean;
  private readonly logger: Logger;
  private readonly inflight = new Map<string, Promise<Resolution>>();
  private readonly failureTtlMs: number;
  /** Recently failed questions: key -> until (ms) and the error. Bounded. */
  private readonly failures = new Map<string, { until: number; err: ResolutionError; name: Name }>();
  /** Stub zones by name key, with their servers keyed as the selector knows them. */
  private readonly stubs = new Map<string, { zone: Name; servers: Map<string, ServerAddress> }>();
  /** False: only names in stub zones are resolved (no root, no priming). */
  readonly recursion: boolean;
  /** DNSSEC validation, when on. */
  validation: ResolverValidation | undefined;
  /** The server cookie each authoritative server (by address) gave us last (RFC 7873 §5.3). Bounded. */
  private readonly serverCookies = new Map<string, Uint8Array>();

  constructor(opts: ResolverOptions) {
    this.cache = opts.cache;
    this.selector = opts.selector ?? new ServerSelector();
    this.port = opts.port ?? 53;
    this.qnameMin = opts.qnameMinimisation ?? true;
    this.qnameMinStrict = opts.qnameMinimisationStrict ?? false;
    this.maxQueries = opts.maxQueries ?? 64;
    this.maxReferrals = opts.maxReferrals ?? 30;
    this.maxChain = opts.maxChain ?? 12;
    this.walk = new CacheWalk(opts.cache, this.maxChain);
    this.maxDepth = opts.maxDepth ?? 6;
    this.maxNsFanout = opts.maxNsFanout ?? 4;
    this.resolutionTimeoutMs = opts.resolutionTimeoutMs ?? 10_000;
    this.failureTtlMs = opts.failureTtlMs ?? 5000;
    this.serveStale = opts.serveStale ?? false;
    this.staleClientTimeoutMs = opts.staleClientTimeoutMs ?? 1800;
    this.clock = opts.clock ?? Date.now;
    this.ipv6 = opts.ipv6 ?? true;
    this.logger = opts.logger ?? silentLogger;
    this.nsAddresses = new NsAddresses({
      cache: this.cache, ipv6: this.ipv6, maxDepth: this.maxDepth, maxNsFanout: this.maxNsFanout, stats: this.stats, logger: this.logger,
      resolveName: (name, type, req, depth) => this.resolveName(name, type, RRClass.IN, req, depth),
    });
    this.servers = new ServerChoice({
      cache: this.cache, selector: this.selector, exchange: opts.exchange ?? defaultExchange, port: this.port,
      use0x20: opts.use0x20 ?? false, ipv6: this.ipv6, ednsUdpSize: opts.ednsUdpSize ?? 1232, maxChain: this.maxChain,
      resolutionTimeoutMs: this.resolutionTimeoutMs, clock: this.clock, stats: this.stats, logger: this.logger, onUpstream: opts.onUpstream,
      serverCookies: this.serverCookies,
      findAddresses: (cut, req, depth) => this.nsAddresses.find(cut, req, depth),
    });
    this.primer = new RootPrimer(this.cache, opts.hints, this.ipv6,
      (cut, qn, qt, qclass, req) => this.queryCut(cut, qn, qt, qclass, req, 0));
    this.recursion = opts.recursion ?? true;
    this.validation = opts.validation;
    this.validation?.attach(this);
    for (const z of opts.stubZones ?? []) {
      const servers = new Map<string, ServerAddress>();
      // The selector keys a server by address alone when it listens on the usual port.
      for (const srv of z.servers) servers.set(srv.port === this.port ? srv.address : `${srv.address}#${srv.port}`, srv);
      this.stubs.set(z.zone.key, { zone: z.zone, servers });
    }
    this.cache.onPrefetch = (name, type, cls) => {
      this.stats.prefetches++;
      this.resolve(name, type, cls, { refresh: true }).catch(() => { /* counted in failures */ });
    };
  }

  /** Replaces the root hints (e.g. after a config reload); the next resolution re-primes if needed. */
  setHints(hints: RootHints): void {
    this.primer.hints = hints;
  }

  private newRequest(validating = false): Request {
    const r = new Request(this.maxQueries);
    r.validating = validating && this.validation !== undefined;
    r.deadline = this.clock() + this.resolutionTimeoutMs;
    return r;
  }

  /** The deepest stub zone at or above `name`, if any. */
  stubFor(name: Name): { zone: Name; servers: ReadonlyMap<string, ServerAddress> } | undefined {
    if (this.stubs.size === 0) return undefined;
    for (let n = name; ; n = n.parent()) {
      const z = this.stubs.get(n.key);
      if (z !== undefined) return z;
      if (n.isRoot) return undefined;
    }
  }

  /**
   * The built-in answer for a special-use name, unless a stub zone at or below its special zone
   * was configured for it (e.g. `168.192.in-addr.arpa` -> the router's DNS), as for forwarding routes.
   */
  private specialAnswer(name: Name, qtype: number, qclass: number): SpecialAnswer | undefined {
    const a = specialAnswer(name, qtype, qclass);
    if (a === undefined || this.stubs.size === 0) return a;
    const stub = this.stubFor(name);
    const zone = specialZone(name);
    return stub !== undefined && zone !== undefined && stub.zone.labelCount >= zone.labelCount ? undefined : a;
  }

  /** True when this resolver answers for `name` (always with recursion; else only in stub zones). */
  covers(name: Name): boolean {
    return this.recursion || this.stubFor(name) !== undefined;
  }

  /** Stub zones with what the infrastructure cache knows of their servers (for stats). */
  stubZoneSnapshot(): { zone: string; servers: { server: string; srttMs: number; queries: number; timeouts: number }[] }[] {
    return [...this.stubs.values()].map((z) => ({
      zone: z.zone.toString(),
      servers: [...z.servers.keys()].map((key) => {
        const i = this.selector.known(key);
        return { server: key, srttMs: i === undefined || i.srtt < 0 ? -1 : Math.round(i.srtt * 10) / 10, queries: i?.queries ?? 0, timeouts: i?.timeouts ?? 0 };
      }),
    }));
  }

  /** RFC 8109 priming: ask the hinted servers for the root NS set. Resolves even on failure (logged). */
  async prime(): Promise<void> {
    if (!this.recursion) return;
    await this.primer.ensure(this.newRequest()).catch((err: unknown) => {
      this.logger.warn({ err }, 'priming the root failed; using the hints');
    });
  }

  /**
   * Answer from local names or the cache alone, synchronously: the hot path. Undefined when
   * upstream queries are needed.
   */
  answerLocally(qname: Name, qtype: number, qclass: number, cd = false): Resolution | undefined {
    const local = this.specialAnswer(qname, qtype, qclass);
    if (local !== undefined) {
      this.stats.localAnswers++;
      return { rcode: local.rcode, answer: local.answer, authority: local.authority, stale: false, queries: 0, cached: true };
    }
    let hit = this.fromCache(qname, qtype, qclass, true);
    // Validation on: data not yet validated (or bogus) takes the validating path (CD=1 takes it as it is).
    if (hit !== undefined && !cd && this.validation !== undefined && (hit.dnssec === ValidationState.UNCHECKED || hit.dnssec === ValidationState.BOGUS)) hit = undefined;
    if (hit !== undefined) this.stats.cacheHits++;
    else this.stats.cacheMisses++;
    return hit;
  }

  /**
   * Forgets cached failures (all, one name, or a subtree), as a cache flush does: `rndc flush`
   * drops BIND's SERVFAIL cache too, so a repaired zone is asked again at once.
   */
  forgetFailures(name?: Name, subtree = false): number {
    if (name === undefined) {
      const n = this.failures.size;
      this.failures.clear();
      return n;
    }
    let n = 0;
    for (const [key, f] of this.failures) {
      if (subtree ? f.name.isSubdomainOf(name) : f.name.equals(name)) {
        this.failures.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Resolves a question: local names, then cache, then iteration. Never rejects for DNS reasons it can express. */
  resolve(qname: Name, qtype: number, qclass: number = RRClass.IN,
    opts: { refresh?: boolean; cacheChecked?: boolean; cd?: boolean; forValidation?: boolean } = {}): Promise<Resolution> {
    // DNSSEC: resolve unchecked (CD), then validate; CD=1 clients get the data unchecked.
    if (this.validation !== undefined && opts.cd !== true) return this.validation.resolve(qname, qtype, qclass, opts);
    // `cacheChecked`: the caller just tried answerLocally (don't count a second miss).
    if (opts.refresh !== true && opts.cacheChecked !== true) {
      const local = this.answerLocally(qname, qtype, qclass, opts.cd);
      if (local !== undefined) return Promise.resolve(local);
    }
    const key = qname.key + '/' + qtype + '/' + qclass;
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    const failed = this.failures.get(key);
    if (failed !== undefined) {
      if (failed.until > this.clock()) {
        this.stats.cachedFailures++;
        return Promise.reject(new ResolutionError(`cached failure: ${failed.err.message}`, EdeCode.CACHED_ERROR, failed.err));
      }
      this.failures.delete(key);
    }
    const p = this.resolveTop(qname, qtype, qclass, opts.refresh === true, opts.forValidation === true).then(undefined, (err: unknown) => {
      if (this.failureTtlMs > 0 && err instanceof ResolutionError) {
        if (this.failures.size >= 10_000) this.failures.clear();
        this.failures.set(key, { until: this.clock() + this.failureTtlMs, err, name: qname });
      }
      throw err;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return opts.refresh === true ? p : this.staleAfterTimer(p, qname, qtype, qclass);
  }

  /**
   * RFC 8767 §5: when stale data is there, a client does not wait for the whole resolution (up to
   * `resolutionTimeoutMs`, longer than stubs wait): after `staleClientTimeoutMs` it gets the stale
   * answer (EDE 3), and the resolution goes on to refresh the cache.
   */
  private staleAfterTimer(p: Promise<Resolution>, qname: Name, qtype: number, qclass: number): Promise<Resolution> {
    if (!this.serveStale || this.staleClientTimeoutMs <= 0 || this.fromStale(qname, qtype, qclass, false) === undefined) return p;
    return new Promise<Resolution>((resolve, reject) => {
      const timer = setTimeout(() => {
        const stale = this.fromStale(qname, qtype, qclass, true, 'resolution is taking long; answered from stale cache data');
        if (stale === undefined) return;
        this.stats.staleAnswers++;
        resolve(stale);
      }, this.staleClientTimeoutMs);
      p.then((r) => {
        clearTimeout(timer);
        resolve(r);
      }, (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private async resolveTop(qname: Name, qtype: number, qclass: number, refresh: boolean, validating: boolean): Promise<Resolution> {
    this.stats.resolutions++;
    const req = this.newRequest(validating);
    const started = performance.now();
    try {
      const r = await this.resolveName(qname, qtype, qclass, req, 0, refresh);
      const ms = performance.now() - started;
      this.stats.resolutionMsSum += ms;
      observeMs(this.stats.resolutionBuckets, ms);
      return r;
    } catch (err) {
      const ms = performance.now() - started;
      this.stats.resolutionMsSum += ms;
      observeMs(this.stats.resolutionBuckets, ms);
      this.stats.failures++;
      if (this.serveStale) {
        const stale = this.fromStale(qname, qtype, qclass, true);
        if (stale !== undefined) {
          this.stats.staleAnswers++;
          return stale;
        }
      }
      if (err instanceof DnsError) {
        throw err instanceof ResolutionError ? err : new ResolutionError(err.message, err.ede ?? EdeCode.OTHER, err);
      }
      throw new ResolutionError(`resolving ${qname.toString()}: ${(err as Error).message}`, EdeCode.OTHER, err);
    }
  }

  /**
   * The cached answer for a question, following cached CNAMEs and DNAMEs; undefined unless
   * complete. `count` = the lookups count as client hits/misses.
   */
  private fromCache(qname: Name, qtype: number, qclass: number, count: boolean): Resolution | undefined {
    const walk = this.walk;
    const stats = this.cache.stats;
    if (!walk.run(qname, qtype, qclass, this.validation !== undefined ? FRESH_WITH_SIGS : FRESH)) {
      if (count) stats.misses++;
      return undefined;
    }
    if (count) stats.hits++;
    const hit = walk.hit!;
    const r = this.hitResolution(hit, walk.chain);
    if (this.validation !== undefined) r.dnssec = dnssecOf(hit, r, walk.status);
    return r;
  }

  /** A cached NXDOMAIN for an ancestor of `name` (RFC 8020), if any. */
  private nxdomainAbove(name: Name, qclass: number): CacheHit | undefined {
    let n = name;
    while (n.labelCount > 1) {
      n = n.parent();
      const hit = this.cache.peek(n, 0, qclass, ANSWER_RANK);
      if (hit !== undefined && hit.kind === 'nxdomain') return hit;
    }
    return undefined;
  }

  private hitResolution(hit: CacheHit, chain: ResourceRecord[] | undefined): Resolution {
    let answer: readonly ResourceRecord[];
    // DNSSEC records only when validating (the handler strips them for DO=0 clients); a forwarder's
    // DO=1 data in the shared cache never reaches a non-validating resolver's clients.
    const sec = this.validation !== undefined;
    if (chain === undefined) answer = !sec || hit.sigs.length === 0 || hit.kind !== 'positive' ? hit.records : [...hit.records, ...hit.sigs];
    else {
      for (const r of hit.records) chain.push(r);
      if (sec && hit.kind === 'positive') for (const r of hit.sigs) chain.push(r);
      answer = chain;
    }
    const rcode = hit.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR;
    const authority = hit.kind === 'positive' ? (sec ? hit.proof : hit.soa) : this.negativeAuthority(hit);
    return { rcode, answer, authority, stale: false, queries: 0, cached: true };
  }

  /** The authority section of a cached negative answer: the SOA, and when validating its RRSIGs and NSEC/NSEC3 proof. */
  private negativeAuthority(hit: CacheHit): readonly ResourceRecord[] {
    if (this.validation === undefined || (hit.sigs.length === 0 && hit.proof.length === 0)) return hit.soa;
    return [...hit.soa, ...hit.sigs, ...hit.proof];
  }

  /** Stale data for the question (RFC 8767), following stale CNAMEs; `use` = count it and touch the entries. */
  private fromStale(qname: Name, qtype: number, qclass: number, use: boolean,
    why = 'resolution failed; answered from stale cache data'): Resolution | undefined {
    const walk = this.walk;
    if (!walk.run(qname, qtype, qclass, STALE, use)) return undefined;
    const hit = walk.hit!;
    const answer = walk.chain ?? [];
    for (const r of hit.records) answer.push(r);
    const nx = hit.kind === 'nxdomain';
    return {
      rcode: nx ? Rcode.NXDOMAIN : Rcode.NOERROR, answer, authority: hit.soa, stale: true, queries: 0, cached: true,
      ede: { code: nx ? EdeCode.STALE_NXDOMAIN_ANSWER : EdeCode.STALE_ANSWER, text: why },
    };
  }

  /** Resolves `qname`, chasing CNAMEs/DNAMEs across zones. */
  private async resolveName(qname: Name, qtype: number, qclass: number, req: Request, depth: number,
    refresh = false): Promise<Resolution> {
    const answer: ResourceRecord[] = [];
    const seen = new Set<string>();
    let name = qname;
    const startQueries = req.queries;
    let chainLinks = 0;
    for (let links = 0; ; links++) {
      if (links > this.maxChain) {
        this.stats.limitHits++;
        throw new ResolutionError(`CNAME/DNAME chain from ${qname.toString()} longer than ${this.maxChain}`, EdeCode.OTHER);
      }
      if (seen.has(name.key)) throw new ResolutionError(`CNAME/DNAME loop at ${name.toString()}`, EdeCode.OTHER);
      seen.add(name.key);
      if (!(refresh && links === 0)) {
        const local = links === 0 ? undefined : this.specialAnswer(name, qtype, qclass);
        const cached = local !== undefined
          ? { rcode: local.rcode, answer: local.answer, authority: local.authority }
          : this.fromCache(name, qtype, qclass, false);
        if (cached !== undefined) {
          for (const r of cached.answer) answer.push(r);
          return { rcode: cached.rcode, answer, authority: cached.authority, stale: false, queries: req.queries - startQueries, cached: false };
        }
      }
      const cut = this.nxdomainAbove(name, qclass);
      if (cut !== undefined) {
        // RFC 8020: nothing exists below a name that does not exist. The cut's proof goes along:
        // the NSEC/NSEC3 denying the cut name denies every name below it (RFC 5155 §8.4, RFC 4035 §5.4).
        return { rcode: Rcode.NXDOMAIN, answer, authority: this.negativeAuthority(cut), stale: false, queries: req.queries - startQueries, cached: false };
      }
      const step = await this.iterate(name, qtype, qclass, req, depth);
      for (const r of step.answer) {
        answer.push(r);
        if (r.type === CNAME) chainLinks++;
      }
      // The limit is on the whole chain, not on how many replies it came in.
      if (chainLinks > this.maxChain) {
        this.stats.limitHits++;
        throw new ResolutionError(`CNAME/DNAME chain from ${qname.toString()} longer than ${this.maxChain}`, EdeCode.OTHER);
      }
      if (step.next === undefined) {
        return { rcode: step.rcode, answer, authority: step.authority, stale: false, queries: req.queries - startQueries, cached: false };
      }
      name = step.next;
    }
  }

  /**
   * Asks the authorities for one name: from the closest cached delegation down. Returns the
   * answer records proven by the zone that holds `name` and, when they end in a CNAME/DNAME
   * leading out of that zone, the name to continue with.
   */
  private async iterate(name: Name, qtype: number, qclass: number, req: Request, depth: number):
    Promise<{ rcode: number; answer: ResourceRecord[]; authority: ResourceRecord[]; next: Name | undefined }> {
    // DS lives in the parent zone (RFC 4035 §3.1.4.1): start above the name.
    const start = qtype === RRType.DS && !name.isRoot ? name.parent() : name;
    let cut = await this.startingCut(start, qclass, req);
    // Validating: the zone's keys are asked for while its servers answer the question (not for side lookups).
    const prefetch = req.validating && depth === 0 ? this.validation : undefined;
    prefetch?.prefetchKeys(cut.zone);
    let minimise = this.qnameMin;
    let minimiseCount = 0;
    let known = cut.zone.labelCount; // labels of `name` known to exist without a cut below
    for (;;) {
      let qn = name;
      let qt = qtype;
      if (minimise && known < name.labelCount) {
        // RFC 9156 §2.3: one label at a time for the first few, then in bigger steps.
        const remaining = name.labelCount - known;
        const step = minimiseCount < MINIMISE_ONE_LAB ? 1 : Math.max(1, Math.ceil(remaining / Math.max(1, MAX_MINIMISE_COUNT - minimiseCount)));
        const labels = Math.min(name.labelCount, known + step);
        if (labels < name.labelCount) {
          qn = name.suffix(labels);
          qt = A;
          minimiseCount++;
        }
      }
      // A DS query must not descend into the child zone.
      const reply = await this.queryCut(cut, qn, qt, qclass, req, depth);
      const c = reply.c;
      const minimised = qn !== name;
      if (c.kind === 'referral') {
        if (++req.referrals > this.maxReferrals) {
          this.stats.limitHits++;
          throw new ResolutionError(`more than ${this.maxReferrals} referrals resolving ${name.toString()}`, EdeCode.OTHER);
        }
        cacheReferral(this.cache, reply.message, cut.zone, c.ns, this.ipv6);
        if (qtype === RRType.DS && c.cut.equals(name)) {
          // The parent referred us to the child for DS: the parent is not answering for it.
          throw new ResolutionError(`parent of ${name.toString()} referred a DS query to the child`, EdeCode.NOT_AUTHORITATIVE);
        }
        prefetch?.prefetchNoDs(cut.zone, c.cut, reply.message);
        cut = { zone: c.cut, ns: c.ns.map((r) => (r.data as { nsdname: Name }).nsdname) };
        known = c.cut.labelCount;
        prefetch?.prefetchKeys(cut.zone);
        continue;
      }
      cacheAnswerExtras(this.cache, reply.message, cut.zone, qn);
      if (minimised) {
        if (c.kind === 'nxdomain' && !this.qnameMinStrict) {
          // Some servers answer NXDOMAIN for empty non-terminals: as Unbound does when not strict,
          // ask the full name before believing it (one more query, only on this path).
          minimise = false;
          continue;
        }
        if (c.kind === 'nxdomain') {
          // RFC 8020: nothing exists below an NXDOMAIN name.
          const rank = reply.aa ? Credibility.AUTH_ANSWER : Credibility.NONAUTH_ANSWER;
          this.cache.putNegative(qn, qt, qclass, 'nxdomain', c.soa, rank);
          const e = this.cache.putNegative(name, qtype, qclass, 'nxdomain', c.soa, rank);
          return { rcode: Rcode.NXDOMAIN, answer: [], authority: e !== undefined ? [...e.soa] : c.soa ? [c.soa] : [], next: undefined };
        }
        if (c.kind === 'lame') throw new ResolutionError('unreachable', EdeCode.NO_REACHABLE_AUTHORITY);
        if (c.kind === 'answer' || c.kind === 'nodata') {
          if (c.chain.length > 0) {
            // qn is an alias: names below it cannot be minimised through it.
            minimise = false;
            continue;
          }
          cacheFinal(this.cache, c, reply.aa);
          known = qn.labelCount;
          continue;
        }
        // A CNAME leading elsewhere: ask for the full name.
        minimise = false;
        continue;
      }
      return this.finish(c, name, qtype, qclass, reply.aa);
    }
  }

  /** Caches a final reply and turns it into the step result. */
  private finish(c: Classified, name: Name, qtype: number, qclass: number, aa: boolean):
    { rcode: number; answer: ResourceRecord[]; authority: ResourceRecord[]; next: Name | undefined } {
    switch (c.kind) {
      case 'answer': {
        const stored = cacheFinal(this.cache, c, aa);
        return { rcode: Rcode.NOERROR, answer: stored, authority: c.sec?.proof ?? [], next: undefined };
      }
      case 'cname': {
        const stored = cacheFinal(this.cache, c, aa);
        return { rcode: Rcode.NOERROR, answer: stored, authority: c.sec?.proof ?? [], next: c.tail };
      }
      case 'nxdomain':
      case 'nodata': {
        const stored = cacheFinal(this.cache, c, aa);
        const rank = aa ? Credibility.AUTH_ANSWER : Credibility.NONAUTH_ANSWER;
        const neg = c.sec !== undefined && c.soa !== undefined ? { sigs: withSigs(c.sec.sigs, [c.soa]), proof: c.sec.proof, dnssec: true } : undefined;
        const e = this.cache.putNegative(c.tail, qtype, qclass, c.kind, c.soa, rank, neg);
        const authority = e !== undefined ? [...e.soa, ...e.sigs, ...e.proof] : c.soa !== undefined ? [c.soa] : [];
        return { rcode: c.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: stored, authority, next: undefined };
      }
      default:
        throw new ResolutionError(`no usable answer for ${name.toString()}`, EdeCode.NO_REACHABLE_AUTHORITY);
    }
  }

  /**
   * The closest cached delegation for `name`, priming the root first when needed. Inside a stub
   * zone: the configured servers, unless a delegation below the stub zone is cached (learned by
   * following its referrals).
   */
  private async startingCut(name: Name, qclass: number, req: Request): Promise<ZoneCut> {
    const cls = qclass === RRClass.ANY ? RRClass.IN : qclass;
    const stub = this.stubFor(name);
    if (stub === undefined && !this.recursion) {
      throw new ResolutionError(`${name.toString()} is in no stub zone and recursion is off`, EdeCode.NOT_SUPPORTED);
    }
    for (let n = name; ;) {
      const hit = this.cache.closestDelegation(n, cls);
      if (hit === undefined) break;
      const zone = hit.records[0]!.name;
      if (stub !== undefined && zone.labelCount <= stub.zone.labelCount) break;
      const ns = hit.records.map((r) => (r.data as { nsdname: Name }).nsdname);
      if (this.servers.addresses(ns).length === 0 && ns.every((x) => inBailiwick(x, zone))) {
        // Every server needs glue we no longer hold (expired or flushed): start above, from the
        // parent's delegation, whose referral brings the glue again; at the root, the hints.
        if (!zone.isRoot) {
          n = zone.parent();
          continue;
        }
        return this.primer.hintsCut();
      }
      return { zone, ns };
    }
    if (stub !== undefined) return { zone: stub.zone, ns: [], servers: stub.servers };
    await this.primer.ensure(req);
    const hit = this.cache.closestDelegation(name, RRClass.IN);
    if (hit === undefined) throw new ResolutionError('no root servers known', EdeCode.NO_REACHABLE_AUTHORITY);
    return { zone: hit.records[0]!.name, ns: hit.records.map((r) => (r.data as { nsdname: Name }).nsdname) };
  }

  /** One query to the servers of `cut` (server-choice.ts), DO=1 when validating. */
  private queryCut(cut: ZoneCut, qn: Name, qt: number, qclass: number, req: Request, depth: number): Promise<Reply> {
    return this.servers.ask(cut, qn, qt, qclass, req, depth, this.validation !== undefined);
  }
}
