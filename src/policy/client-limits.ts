/**
 * Per-client limits of the resolver and the forwarder, against one client (or a spoofed prefix)
 * using up the recursive service:
 *
 * - `clientQueryRate`: queries per second per client prefix (/24, /56) that reach the resolver
 *   or forwarder, cache hits included (as Unbound's `ip-ratelimit`, which counts per address;
 *   here per prefix, as RRL does, so one spoofing host cannot spread itself over a /24). Over the
 *   rate: dropped (Unbound's behaviour) or REFUSED. Counted with the token rules of
 *   src/policy/rrl.ts (rate tokens a second, a window of 1 s), keyed by the prefix alone.
 * - `maxClientRecursions`: cache misses being resolved at once for one prefix (BIND's
 *   `recursive-clients` is one bound for the whole server; per prefix, one client cannot take
 *   every slot). Over it: SERVFAIL (what BIND answers when recursive-clients is reached) or dropped.
 *
 * Invariants: a dropped query is marked on `ctx.policy` with CLIENT_RATE_DROP or
 * CLIENT_RECURSION_DROP, which the engine does not answer; every limited query is counted once
 * (ServerStats.clientQueriesLimited / clientRecursionsLimited), also when the engine's fast path
 * for cached answers saw it first (`peek`).
 */
import { type QueryContext, replyTo } from '../server/query-context.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import type { Message } from '../wire/message.js';
import { prefixText, parseClientAddress } from './client-address.js';
import { ResponseRateLimiter, RrlKind, RrlVerdict } from './rrl.js';

/** `ctx.policy` of a query dropped for its client's query rate. */
export const CLIENT_RATE_DROP = 'client-rate:drop';
/** `ctx.policy` of a query dropped for its client's recursions in flight. */
export const CLIENT_RECURSION_DROP = 'client-recursions:drop';

export interface ClientLimitOptions {
  /** Queries per second per prefix; 0: unlimited. */
  queryRate: number;
  queryRateAction: 'drop' | 'refuse';
  /** Recursions in flight per prefix; 0: unlimited. */
  maxRecursions: number;
  recursionAction: 'servfail' | 'drop';
  ipv4PrefixLength?: number | undefined;
  ipv6PrefixLength?: number | undefined;
  /** Whole seconds (tests inject it). */
  nowS?: (() => number) | undefined;
  /** Where limited queries are counted (ServerStats). */
  stats: { clientQueriesLimited: number; clientRecursionsLimited: number };
}

const RATE_EDE = option.extendedError(EdeCode.PROHIBITED, 'query rate limit exceeded');
const RECURSION_EDE = option.extendedError(EdeCode.OTHER, 'too many recursions in flight for this client');

export class ClientLimits {
  private readonly rate: ResponseRateLimiter | undefined;
  /** Recursions in flight by prefix text (touched on cache misses only). */
  private readonly inFlight = new Map<string, number>();
  /** The client the fast path just turned away (its slow-path check must not take a second token). */
  private lastDenied: string | undefined = undefined;
  private readonly addr = new Uint8Array(16);
  private readonly v4: number;
  private readonly v6: number;

  constructor(readonly opts: ClientLimitOptions) {
    this.v4 = opts.ipv4PrefixLength ?? 24;
    this.v6 = opts.ipv6PrefixLength ?? 56;
    this.rate = opts.queryRate > 0
      ? new ResponseRateLimiter({ responsesPerSecond: 0, errorsPerSecond: opts.queryRate, window: 1, slip: 0, ipv4PrefixLength: this.v4,
        ipv6PrefixLength: this.v6, nowS: opts.nowS, minTableSize: 100, maxTableSize: 20_000 })
      : undefined;
  }

  /** True when either limit is on. */
  get active(): boolean {
    return this.rate !== undefined || this.opts.maxRecursions > 0;
  }

  /**
   * The engine's fast path (a cached answer about to be sent from bytes): false when the client is
   * over its rate, and then the slow path answers (or drops) and counts the query.
   */
  peek(address: string): boolean {
    const r = this.rate;
    if (r === undefined) return true;
    if (r.check(address, false, RrlKind.ERROR, 0, 0, 0) === RrlVerdict.OK) return true;
    this.lastDenied = address;
    return false;
  }

  /** The chain element's check: undefined when the query may go on; else the reply (marked dropped when so configured). */
  check(ctx: QueryContext, maxUdpSize: number): Message | undefined {
    const r = this.rate;
    if (r === undefined) return undefined;
    if (this.lastDenied === ctx.clientAddress) {
      this.lastDenied = undefined;
    } else if (r.check(ctx.clientAddress, false, RrlKind.ERROR, 0, 0, 0) === RrlVerdict.OK) {
      return undefined;
    }
    this.opts.stats.clientQueriesLimited++;
    const reply = replyTo(ctx.request, Rcode.REFUSED, maxUdpSize);
    reply.ra = true;
    if (this.opts.queryRateAction === 'drop') ctx.policy = CLIENT_RATE_DROP;
    else {
      ctx.policy = 'client-rate:refuse';
      reply.edns?.options.push(RATE_EDE);
    }
    return reply;
  }

  /** Runs a recursion (`run`) for the query's client unless its prefix has maxRecursions in flight. */
  recurse(ctx: QueryContext, maxUdpSize: number, run: () => Promise<Message>): Message | Promise<Message> {
    const max = this.opts.maxRecursions;
    if (max <= 0) return run();
    const family = parseClientAddress(ctx.clientAddress, this.addr);
    if (family === 0) return run();
    const bits = family === 4 ? this.v4 : this.v6;
    const a = this.addr;
    for (let i = 0; i < (family === 4 ? 4 : 16); i++) {
      const b = bits - i * 8;
      a[i] = a[i]! & (b >= 8 ? 0xff : b <= 0 ? 0 : (0xff << (8 - b)) & 0xff);
    }
    const key = prefixText(a, family, bits);
    const n = this.inFlight.get(key) ?? 0;
    if (n >= max) {
      this.opts.stats.clientRecursionsLimited++;
      const reply = replyTo(ctx.request, Rcode.SERVFAIL, maxUdpSize);
      reply.ra = true;
      if (this.opts.recursionAction === 'drop') ctx.policy = CLIENT_RECURSION_DROP;
      else {
        ctx.policy = 'client-recursions:servfail';
        reply.edns?.options.push(RECURSION_EDE);
      }
      return reply;
    }
    this.inFlight.set(key, n + 1);
    const done = (): void => {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
    const p = run();
    p.then(done, done);
    return p;
  }

  /** Recursions in flight for all prefixes (tests, stats). */
  get recursionsInFlight(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }
}
