/**
 * Chain element that forwards questions for its routes (`forwarders` = the root route,
 * `forwardZones`) through `src/resolver/forwarder.ts`. Names no route covers, or whose deepest
 * match is a `stubZones` domain, go down the chain (to the resolver element: full recursion
 * when it is on, and the stub zones, iterated from their servers).
 *
 * - Clients outside the recursion ACL get REFUSED with EDE 18 (Prohibited), as Unbound does.
 * - A cache hit is answered synchronously; only a miss returns a promise.
 * - Special-use names (RFC 6761 localhost/invalid/test..., RFC 6303 private reverse zones) are
 *   answered here and never leak upstream, unless a forwardZones route deeper than
 *   their zone was configured for them (e.g. `168.192.in-addr.arpa` -> the router's DNS).
 * - When no upstream answers: SERVFAIL with the Extended DNS Error saying why (RFC 8914 §4.23:
 *   22 No Reachable Authority, 23 Network Error).
 */
import type { Acl } from '../../resolver/acl.js';
import { answerReply, failureReply } from '../recursive-reply.js';
import type { ForwardQuestion, ForwardResult, Forwarder } from '../../resolver/forwarder.js';
import type { ForwarderValidation } from '../../resolver/forward-validate.js';
import { specialAnswer, specialZone } from '../../resolver/special-names.js';
import type { Middleware } from '../../server/chain.js';
import { type QueryContext, replyTo } from '../../server/query-context.js';
import { EdeCode, Opcode, Rcode } from '../../wire/constants.js';
import { option } from '../../wire/edns.js';
import type { Message } from '../../wire/message.js';
import { RRClass, RRType } from '../../wire/types.js';
import { CacheLiveSource } from '../live-source.js';
import type { ClientLimits } from '../../policy/client-limits.js';

export interface ForwarderHandlerConfig {
  maxUdpSize: number;
  acl: Acl;
  /** DNSSEC validation of forwarded answers (`forwarding.dnssec`): CD=0 cache misses go through it. */
  validation?: ForwarderValidation | undefined;
  /** Per-client query rate and recursions in flight (resolver.clientQueryRate, maxClientRecursions). */
  limits?: ClientLimits | undefined;
}

function build(ctx: QueryContext, r: ForwardResult, maxUdpSize: number): Message {
  const reply = answerReply(ctx, r, maxUdpSize);
  // RFC 4035 §3.2.3: AD only for a client that showed it understands it (DO or AD in the query).
  // Cached answers carry AD only when our own validator proved them (the entry's state).
  reply.ad = r.ad && (ctx.dnssecOk || ctx.request.ad);
  return reply;
}

export function forwarder(fwd: Forwarder, cfg: ForwarderHandlerConfig): Middleware {
  const max = cfg.maxUdpSize;
  // Cache hits answered here are served again from bytes by the engine until their entries change.
  const live = new CacheLiveSource(fwd.cache, cfg.acl, () => {
    fwd.cacheAnswers++;
    fwd.cache.stats.hits++;
  }, cfg.limits);
  const limits = cfg.limits;
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    if (q.class === RRClass.CH || q.type === RRType.AXFR || q.type === RRType.IXFR) return next(ctx);
    const route = fwd.route(q.name);
    if (route === undefined) return next(ctx);
    const special = specialZone(q.name);
    if (special !== undefined && special.labelCount > route.zone.labelCount) {
      const a = specialAnswer(q.name, q.type, q.class);
      if (a !== undefined) {
        const reply = replyTo(req, a.rcode, max);
        reply.aa = true;
        reply.ra = true;
        reply.answer = a.answer as Message['answer'];
        reply.authority = a.authority as Message['authority'];
        return reply;
      }
    }
    if (!cfg.acl.allows(ctx.clientAddress)) {
      const reply = replyTo(req, Rcode.REFUSED, max);
      reply.edns?.options.push(option.extendedError(EdeCode.PROHIBITED, 'recursion not allowed for this client'));
      return reply;
    }
    if (limits !== undefined) {
      const limited = limits.check(ctx, max);
      if (limited !== undefined) return limited;
    }
    const fq: ForwardQuestion = { name: q.name, type: q.type, class: q.class, dnssecOk: ctx.dnssecOk, checkingDisabled: req.cd };
    live.start();
    let hit;
    try {
      hit = fwd.fromCache(fq);
    } finally {
      live.stop(ctx, hit !== undefined);
    }
    if (hit !== undefined) {
      fwd.cacheAnswers++;
      return build(ctx, hit, max);
    }
    const run = (): Promise<Message> => {
      const p = cfg.validation !== undefined && !fq.checkingDisabled ? cfg.validation.resolve(fq, route) : fwd.resolveUpstream(fq, route);
      return p.then((r) => build(ctx, r, max), (err: unknown) => failureReply(ctx, err, max));
    };
    return limits === undefined ? run() : limits.recurse(ctx, max, run);
  };
}
