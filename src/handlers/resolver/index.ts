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
import type { Resolver } from '../../resolver/iterator.js';
import type { Middleware } from '../../server/chain.js';
import { type QueryContext, replyTo } from '../../server/query-context.js';
import { EdeCode, Opcode, Rcode } from '../../wire/constants.js';
import { option } from '../../wire/edns.js';
import type { Message } from '../../wire/message.js';
import { RRClass, RRType } from '../../wire/types.js';

export interface ResolverHandlerConfig {
  maxUdpSize: number;
  /** Who may ask for recursion. */
  acl: Acl;
}

const PROHIBITED = option.extendedError(EdeCode.PROHIBITED, 'recursion not allowed for this client');

const build = answerReply;

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
    if (!req.rd) return cacheOnly(ctx, resolver, max);
    const hit = resolver.answerLocally(q.name, q.type, q.class);
    if (hit !== undefined) return build(ctx, hit, max);
    return resolver.resolve(q.name, q.type, q.class, { cacheChecked: true }).then((r) => build(ctx, r, max), (err: unknown) => failureReply(ctx, err, max));
  };
}
