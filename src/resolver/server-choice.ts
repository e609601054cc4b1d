/**
 * Asking one zone's servers (the iterator's "send" step): which address next, with what EDNS,
 * in which letter case, and what the reply says about the server.
 *
 * - Choice: the infrastructure cache (`infra.ts`) picks the address (lowest smoothed RTT,
 *   untried ones first, a little exploration) and sets the per-attempt timeout; timeouts,
 *   RTTs and lameness are recorded back into it. When every server timed out once, one more
 *   round is tried with the longer timeouts the selector now gives.
 * - EDNS (RFC 6891 §7): a server that answers FORMERR/NOTIMP/BADVERS to EDNS is remembered as
 *   EDNS-less and asked again without it.
 * - EDNS buffer size (RFC 6891 §6.2.5): a timeout after offering a big UDP payload may be a big
 *   reply lost on the path (an MTU below it, IP fragments dropped), so the server is offered the
 *   next smaller size (1232, then 512) from then on, remembered in the infra cache; at 512 a big
 *   answer comes back with TC=1 and is fetched over TCP (RFC 7766 §5), as BIND and Unbound do.
 * - 0x20 (draft-vixie-dnsext-dns0x20, `case-0x20.ts`): the query name in random case, the
 *   reply required to echo it; the original spelling is put back before the reply is used.
 * - Limits of the client query (`Request`): its deadline and its upstream query budget, shared
 *   with every side lookup it starts.
 *
 * Invariants: every upstream query goes through the injected `exchange()` (crypto-random ID and
 * port, reply matched on source, ID and question); lame replies never reach the caller.
 */
import type { ExchangeOptions, ExchangeResult, ServerAddress } from '../client/exchange.js';
import { NetworkError, ResolutionError, TimeoutError } from '../errors.js';
import { observeMs } from '../histogram.js';
import type { Logger } from '../logging.js';
import { EdeCode, EdnsOptionCode, Rcode, rcodeToString } from '../wire/constants.js';
import { clientCookieFor, cookieOption, replyCookie } from '../client/client-cookie.js';
import { newEdns } from '../wire/edns.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { recordToString } from '../wire/record.js';
import { RRClass, RRType, typeToString } from '../wire/types.js';
import type { RRCache } from './cache.js';
import { randomCase, restoreCase } from './case-0x20.js';
import { type Classified, classify } from './classify.js';
import type { ServerSelector } from './infra.js';
import type { ResolverStats } from './stats.js';
import { attachDnssec } from './validate.js';

export type ExchangeFn = (query: Message, server: ServerAddress, opts?: ExchangeOptions) => Promise<ExchangeResult>;

/** The log message of the resolver's upstream trace lines (`sovereign lab trace` looks for it). */
export const RESOLVER_UPSTREAM_MSG = 'resolver upstream';

/**
 * One upstream exchange as the resolver made it (its own trace, like BIND's and Unbound's
 * resolver-query/resolver-response dnstap messages): what was asked of whom, how, and what the
 * reply meant to the resolver. Built only when `onUpstream` is set.
 */
export interface UpstreamEvent {
  /** Clock time (ms) the query was sent. */
  sentAtMs: number;
  qname: string;
  qtype: string;
  /** The zone cut whose server was asked. */
  zone: string;
  server: string;
  /** EDNS UDP size offered (0: no EDNS). */
  udpSize: number;
  dnssecOk: boolean;
  /** What the reply was to the resolver, or how the exchange failed. */
  outcome: Classified['kind'] | 'timeout' | 'network-error' | 'edns-rejected';
  rcode?: string;
  aa?: boolean;
  /** Transport of the accepted reply ('tcp' after TC=1). */
  transport?: 'udp' | 'tcp';
  rttMs: number;
  /** A referral's zone and NS TTL; an answer's first TTL. */
  next?: string;
  ttl?: number;
  /** The answer records (or a referral's NS), as zone-file lines; at most 8. */
  records?: string[];
  error?: string;
}

/** State of one client query, shared by its side lookups. */
export class Request {
  queries = 0;
  /** Clock time (ms) after which no further upstream query is sent. */
  deadline = 0;
  referrals = 0;
  /** name/type keys being resolved (loop detection for glueless NS chains). */
  readonly active = new Set<string>();
  /** Glueless NS lookups started per zone key. */
  readonly fanout = new Map<string, number>();
  /** The answer will be validated (DNSSEC): the keys of signed zones entered may be fetched early. */
  validating = false;
  constructor(readonly maxQueries: number) {}
}

/**
 * One zone cut being asked: its name and the NS names serving it, or (stub zones) fixed servers
 * by infrastructure-cache key.
 */
export interface ZoneCut {
  zone: Name;
  ns: Name[];
  servers?: ReadonlyMap<string, ServerAddress>;
}

/** A usable (not lame) reply from a server of the cut, classified. */
export interface Reply {
  message: Message;
  aa: boolean;
  c: Classified;
}

export interface ServerChoiceOptions {
  cache: RRCache;
  selector: ServerSelector;
  exchange: ExchangeFn;
  port: number;
  use0x20: boolean;
  ipv6: boolean;
  ednsUdpSize: number;
  maxChain: number;
  resolutionTimeoutMs: number;
  clock: () => number;
  stats: ResolverStats;
  logger: Logger;
  /** The server cookie each server (by address) gave us last (RFC 7873 §5.3); owned by the resolver. */
  serverCookies: Map<string, Uint8Array>;
  /**
   * Looks up addresses of a cut's NS names that have none cached (glueless delegation);
   * true when new ones were found. The resolution loop's business: it resolves names.
   */
  findAddresses: (cut: ZoneCut, req: Request, depth: number) => Promise<boolean>;
  /** Told about every upstream exchange (the resolver's trace); undefined: nothing is built. */
  onUpstream?: ((e: UpstreamEvent) => void) | undefined;
}

const A = RRType.A;
const AAAA = RRType.AAAA;

export class ServerChoice {
  constructor(private readonly o: ServerChoiceOptions) {}

  /** Known addresses of a zone's servers (cached at any rank). */
  addresses(ns: readonly Name[]): string[] {
    const { cache, ipv6 } = this.o;
    const out: string[] = [];
    for (const n of ns) {
      const a = cache.peek(n, A, RRClass.IN);
      if (a !== undefined) for (const r of a.records) out.push((r.data as { address: string }).address);
      if (ipv6) {
        const b = cache.peek(n, AAAA, RRClass.IN);
        if (b !== undefined) for (const r of b.records) out.push((r.data as { address: string }).address);
      }
    }
    return out;
  }

  /**
   * Asks the servers of `cut` about (qn, qt): best server first, next on timeout, lameness or
   * error; EDNS dropped for servers that reject it; a second round when only timeouts happened.
   * `dnssec`: DO=1 and the reply's DNSSEC records attached for validation.
   */
  async ask(cut: ZoneCut, qn: Name, qt: number, qclass: number, req: Request, depth: number, dnssec: boolean): Promise<Reply> {
    const o = this.o;
    const selector = o.selector;
    const st = o.stats;
    const zoneKey = cut.zone.key;
    const tried = new Set<string>();
    let timeouts = 0;
    let rounds = 0;
    /** A timeout in this round lowered a server's EDNS UDP size: worth another round (bounded: sizes only shrink). */
    let lowered = false;
    let lastError: unknown;
    for (;;) {
      let addrs = cut.servers !== undefined ? [...cut.servers.keys()] : this.addresses(cut.ns);
      let address = selector.choose(addrs, zoneKey, tried);
      if (address === undefined && (await o.findAddresses(cut, req, depth))) {
        addrs = this.addresses(cut.ns);
        address = selector.choose(addrs, zoneKey, tried);
      }
      if (address === undefined && timeouts > 0 && (rounds === 0 || (lowered && rounds < 3)) && addrs.length > 0) {
        // Every server timed out once: one more round with longer timeouts (backoff in the selector),
        // and again while timeouts keep lowering the EDNS size (4096 -> 1232 -> 512, RFC 6891 §6.2.5).
        rounds++;
        tried.clear();
        timeouts = 0;
        lowered = false;
        address = selector.choose(addrs, zoneKey, tried);
      }
      if (address === undefined) {
        const why = addrs.length === 0 ? `no address for any server of ${cut.zone.toString()}` : `no server of ${cut.zone.toString()} answered usefully`;
        const ede = lastError instanceof NetworkError ? EdeCode.NETWORK_ERROR : EdeCode.NO_REACHABLE_AUTHORITY;
        throw new ResolutionError(`${why} (resolving ${qn.toString()})`, ede, lastError);
      }
      tried.add(address);
      if (o.clock() > req.deadline) {
        st.limitHits++;
        throw new ResolutionError(`gave up on ${qn.toString()} after ${o.resolutionTimeoutMs} ms`, EdeCode.NO_REACHABLE_AUTHORITY, lastError);
      }
      if (++req.queries > req.maxQueries) {
        st.limitHits++;
        throw new ResolutionError(`more than ${req.maxQueries} upstream queries for one client query`, EdeCode.OTHER);
      }
      st.upstreamQueries++;
      const useEdns = selector.edns(address);
      const udpSize = selector.udpSizeFor(address, o.ednsUdpSize);
      const sendName = o.use0x20 ? randomCase(qn) : qn;
      const q = Message.query(sendName, qt, {
        rd: false, class: qclass, edns: useEdns ? newEdns({ udpSize, dnssecOk: dnssec }) : undefined,
      });
      const timeoutMs = selector.timeoutFor(address);
      const sentAt = o.onUpstream === undefined ? 0 : o.clock();
      let res: ExchangeResult;
      try {
        const server = cut.servers?.get(address) ?? { address, port: o.port };
        res = useEdns ? await this.exchangeWithCookie(q, server, address, timeoutMs) : await o.exchange(q, server, { timeoutMs, matchCase: o.use0x20 });
      } catch (err) {
        lastError = err;
        if (o.onUpstream !== undefined) {
          o.onUpstream({ ...this.eventBase(sentAt, qn, qt, cut, address, useEdns ? udpSize : 0, dnssec),
            outcome: err instanceof TimeoutError ? 'timeout' : 'network-error', rttMs: o.clock() - sentAt, error: (err as Error).message });
        }
        if (err instanceof TimeoutError || err instanceof NetworkError) {
          if (err instanceof TimeoutError) st.upstreamTimeouts++;
          else st.upstreamErrors++;
          selector.recordTimeout(address, timeoutMs);
          // RFC 6891 §6.2.5: the reply may have been too big for the path; offer less next time.
          if (err instanceof TimeoutError && useEdns && selector.recordUdpTimeout(address, udpSize) !== undefined) {
            st.ednsSizeFallbacks++;
            lowered = true;
          }
          timeouts++;
          continue;
        }
        throw err;
      }
      selector.recordRtt(address, res.rttMs);
      st.upstreamReplies++;
      st.upstreamRttMsSum += res.rttMs;
      observeMs(st.upstreamRttBuckets, res.rttMs);
      st.ignoredReplies += res.ignored;
      if (res.truncatedRetry) st.tcpRetries++;
      const m = res.message;
      if (o.use0x20) restoreCase(m, qn);
      if (useEdns && (m.rcode === Rcode.FORMERR || m.rcode === Rcode.NOTIMP || m.rcode === Rcode.BADVERS)) {
        if (o.onUpstream !== undefined) this.emitReply(sentAt, qn, qt, cut, address, udpSize, dnssec, res, 'edns-rejected', undefined);
        // RFC 6891 §7: a server that does not do EDNS answers FORMERR/NOTIMP; ask it again without.
        st.ednsFallbacks++;
        selector.recordNoEdns(address);
        tried.delete(address);
        continue;
      }
      const c = classify(m, cut.zone, qn, qt, qclass, o.maxChain, st);
      if (o.onUpstream !== undefined) this.emitReply(sentAt, qn, qt, cut, address, useEdns ? udpSize : 0, dnssec, res, c.kind, c);
      if (dnssec) attachDnssec(c, m, cut.zone);
      if (c.kind === 'lame') {
        st.lameServers++;
        o.logger.debug({ server: address, zone: cut.zone.toString(), why: c.why }, 'lame or broken server');
        selector.recordLame(address, zoneKey);
        lastError = new ResolutionError(`${address}: ${c.why}`, EdeCode.NOT_AUTHORITATIVE);
        continue;
      }
      return { message: m, aa: m.aa, c };
    }
  }

  private eventBase(time: number, qn: Name, qt: number, cut: ZoneCut, address: string, udpSize: number, dnssecOk: boolean):
    Pick<UpstreamEvent, 'sentAtMs' | 'qname' | 'qtype' | 'zone' | 'server' | 'udpSize' | 'dnssecOk'> {
    return { sentAtMs: time, qname: qn.toString(), qtype: typeToString(qt), zone: cut.zone.toString(), server: address, udpSize, dnssecOk };
  }

  private emitReply(sentAt: number, qn: Name, qt: number, cut: ZoneCut, address: string, udpSize: number, dnssec: boolean,
    res: ExchangeResult, outcome: UpstreamEvent['outcome'], c: Classified | undefined): void {
    const m = res.message;
    const e: UpstreamEvent = {
      ...this.eventBase(sentAt, qn, qt, cut, address, udpSize, dnssec),
      outcome, rcode: rcodeToString(m.rcode), aa: m.aa, transport: res.transport, rttMs: res.rttMs,
    };
    if (c?.kind === 'referral') {
      e.next = c.cut.toString();
      e.ttl = c.ns[0]?.ttl;
      e.records = c.ns.slice(0, 8).map((r) => recordToString(r));
    } else {
      e.ttl = m.answer[0]?.ttl;
      e.records = m.answer.slice(0, 8).map((r) => recordToString(r));
    }
    this.o.onUpstream!(e);
  }

  /**
   * One exchange with DNS Cookies (RFC 7873 §5.1, as the forwarder does): our client cookie for
   * this server and the server cookie it gave us last go along. A reply whose COOKIE option does
   * not carry our client cookie is a forgery (§5.3: discarded; counted as ignored, and a
   * NetworkError so the next server is tried); a new server cookie is kept; BADCOOKIE (§5.3) is
   * asked again once with the cookie it brought.
   */
  private async exchangeWithCookie(q: Message, server: ServerAddress, address: string, timeoutMs: number): Promise<ExchangeResult> {
    const edns = q.edns!;
    const client = clientCookieFor(address);
    for (let attempt = 0; ; attempt++) {
      edns.options = edns.options.filter((o) => o.code !== EdnsOptionCode.COOKIE);
      edns.options.push(cookieOption(client, this.o.serverCookies.get(address)));
      const r = await this.o.exchange(q, server, { timeoutMs, matchCase: this.o.use0x20 });
      const c = replyCookie(r.message, client);
      if (c === 'forged') {
        this.o.stats.ignoredReplies++;
        throw new NetworkError(address, 'reply carries a cookie that is not ours (RFC 7873 §5.3): discarded');
      }
      if (c !== 'none') {
        if (this.o.serverCookies.size >= 100_000) this.o.serverCookies.clear();
        this.o.serverCookies.set(address, c);
      }
      if (r.message.rcode !== Rcode.BADCOOKIE || attempt > 0 || c === 'none') return r;
    }
  }
}
