/**
 * Chain element answering load-balanced names (a thin adapter over `src/balance`): A/AAAA of a
 * configured record set get the balancer's choice, authoritative (AA), with the query's EDNS
 * Client Subnet echoed and its SCOPE set (RFC 7871 §7.2.1); other names and types go down the
 * chain (a balanced name's other types are the zone's).
 *
 * The element is `pure` for the chain (whether it answers depends only on the question), and marks
 * each answer it gives client-dependent: the engine never serves one client's pick to another.
 */
import { WireFormatError } from '../../errors.js';
import type { Balancer } from '../../balance/balancer.js';
import { ecsReply, readEcs } from '../../balance/ecs.js';
import type { Middleware } from '../../server/chain.js';
import { replyTo } from '../../server/query-context.js';
import { Opcode, Rcode } from '../../wire/constants.js';
import { RRClass } from '../../wire/types.js';

export interface BalanceHandlerConfig {
  maxUdpSize: number;
}

export function balance(b: Balancer, cfg: BalanceHandlerConfig): Middleware {
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    if (q.class !== RRClass.IN) return next(ctx);
    const set = b.find(q.name, q.type);
    if (set === undefined) return next(ctx);
    ctx.clientDependent = true;
    let hasEcs = false;
    const edns = req.edns;
    if (set.ecs && edns !== undefined && edns.options.length > 0) {
      try {
        hasEcs = readEcs(edns.options, b.ecs);
      } catch (err) {
        if (!(err instanceof WireFormatError)) throw err;
        // RFC 7871 §6: a malformed ECS option is answered with FORMERR.
        b.ecsFormErrors++;
        return replyTo(req, Rcode.FORMERR, cfg.maxUdpSize);
      }
      if (hasEcs) b.ecsQueries++;
    }
    const c = b.choose(set, hasEcs, ctx.clientAddress);
    const reply = replyTo(req, Rcode.NOERROR, cfg.maxUdpSize);
    reply.aa = true;
    const recs = c.records;
    for (let i = 0; i < c.count; i++) reply.answer.push(recs[i]!);
    if (hasEcs && reply.edns !== undefined) reply.edns.options.push(ecsReply(b.ecs.option!, c.scope));
    ctx.policy = c.policy;
    return reply;
  };
}
