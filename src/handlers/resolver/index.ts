/**
 * Chain element for full recursion and stub zones (a thin adapter over
 * `src/resolver/iterator.ts`). It sits after `authority` (names we serve are answered from our
 * zones) and after the forwarder's routes; everything else reaching it is resolved iteratively
 * from the root, or, when recursion is off, only names in stub zones (the rest go down the chain).
 *
 * - Clients outside the recursion ACL get REFUSED with EDE 18 (Prohibited): never an open
 *   resolver. RA is set on every answer to allowed clients.
 * - Local names (localhost, RFC 6303 reverse zones, RFC 6761 names) and cache hits are answered
 *   synchronously; only a cache miss returns a promise (the hot path has no async hop).
 * - RD=0 queries get cached data only (or a referral to the closest cached delegation), as
 *   BIND does: a client that did not ask for recursion does not trigger upstream queries.
 * - Failures: SERVFAIL with the Extended DNS Error of the ResolutionError.
 */
import type { Acl } from '../../resolver/acl.js';
import { answerReply, failureReply } from '../recursive-reply.js';
import type { Resolution, Resolver } from '../../resolver/iterator.js';
import type { Middleware } from '../../server/chain.js';
import { type QueryContext, replyTo } from '../../server/query-context.js';
import { EdeCode, Opcode, Rcode } from '../../wire/constants.js';
import { option } from '../../wire/edns.js';
import type { Message } from '../../wire/message.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRClass, RRType } from '../../wire/types.js';
import { ValidationState } from '../../resolver/cache.js';
import { CacheLiveSource } from '../live-source.js';
import type { ClientLimits } from '../../policy/client-limits.js';

export interface ResolverHandlerConfig {
  maxUdpSize: number;
  /** Who may ask for recursion. */
  acl: Acl;
  /** Per-client query rate and recursions in flight (resolver.clientQueryRate, maxClientRecursions). */
  limits?: ClientLimits | undefined;
}

const PROHIBITED = option.extendedError(EdeCode.PROHIBITED, 'recursion not allowed for this client');

/** RFC 4035 §3.2.1: without DO, RRSIG/NSEC/NSEC3 go only where the question asked for that type. */
function stripDnssec(rrs: readonly ResourceRecord[], qtype: number): ResourceRecord[] | undefined {
  let out: ResourceRecord[] | undefined;
  for (let i = 0; i < rrs.length; i++) {
    const t = rrs[i]!.type;
    const drop = (t === RRType.RRSIG || t === RRType.NSEC || t === RRType.NSEC3) && t !== qtype;
    if (drop && out === undefined) out = rrs.slice(0, i);
    else if (!drop && out !== undefined) out.push(rrs[i]!);
  }
  return out;
}

/** The shared answer reply, plus DNSSEC: AD and the DO=0 stripping when validation is on. */
function build(ctx: QueryContext, r: Resolution, maxUdpSize: number): Message {
  const reply = answerReply(ctx, r, maxUdpSize);
  if (r.dnssec !== undefined) {
    const req = ctx.request;
    const dnssecOk = req.edns?.dnssecOk === true;
    // RFC 6840 §5.7/§5.8: AD on validated data only, when the client asked with DO or AD (with CD=1 only for data validated before, as Unbound).
    reply.ad = r.dnssec === ValidationState.SECURE && (dnssecOk || req.ad);
    if (!dnssecOk) {
      const q = req.question[0]!.type;
      const a = stripDnssec(reply.answer, q);
      if (a !== undefined) reply.answer = a;
      const b = stripDnssec(reply.authority, q);
      if (b !== undefined) reply.authority = b;
    }
  }
  return reply;
}

/** RD=0: what the cache knows, else a referral to the closest cached delegation (no upstream traffic). */
function cacheOnly(ctx: QueryContext, resolver: Resolver, maxUdpSize: number): Message {
  const q = ctx.request.question[0]!;
  const local = resolver.answerLocally(q.name, q.type, q.class);
  if (local !== undefined) return build(ctx, local, maxUdpSize);
  const reply = replyTo(ctx.request, Rcode.NOERROR, maxUdpSize);
  reply.ra = true;
  const cut = resolver.cache.closestDelegation(q.name, q.class === RRClass.ANY ? RRClass.IN : q.class);
  if (cut !== undefined) reply.authority = cut.records as Message['authority'];
  return reply;
}

export function resolverHandler(resolver: Resolver, cfg: ResolverHandlerConfig): Middleware {
  const max = cfg.maxUdpSize;
  const acl = cfg.acl;
  // Cache hits answered here are served again from bytes by the engine until their entries change.
  const live = new CacheLiveSource(resolver.cache, acl, () => {
    resolver.stats.cacheHits++;
    resolver.cache.stats.hits++;
  }, cfg.limits);
  const limits = cfg.limits;
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    if (q.class === RRClass.CH || q.type === RRType.AXFR || q.type === RRType.IXFR) return next(ctx);
    if (!resolver.covers(q.name)) return next(ctx);
    if (!acl.allows(ctx.clientAddress)) {
      const reply = replyTo(req, Rcode.REFUSED, max);
      reply.edns?.options.push(PROHIBITED);
      return reply;
    }
    if (limits !== undefined) {
      const limited = limits.check(ctx, max);
      if (limited !== undefined) return limited;
    }
    if (!req.rd) return cacheOnly(ctx, resolver, max);
    live.start();
    let hit;
    try {
      hit = resolver.answerLocally(q.name, q.type, q.class, req.cd);
    } finally {
      live.stop(ctx, hit !== undefined && hit.cached && !hit.stale && hit.queries === 0);
    }
    if (hit !== undefined) return build(ctx, hit, max);
    const run = (): Promise<Message> => resolver.resolve(q.name, q.type, q.class, { cacheChecked: true, cd: req.cd }).then((r) => build(ctx, r, max), (err: unknown) => failureReply(ctx, err, max));
    return limits === undefined ? run() : limits.recurse(ctx, max, run);
  };
}
