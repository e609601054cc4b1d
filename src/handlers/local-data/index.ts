/**
 * Chain element answering `localData` records from the config (a thin adapter over
 * `src/resolver/local-data.ts`). Names local data does not cover go down the chain.
 */
import type { LocalData } from '../../resolver/local-data.js';
import type { Middleware } from '../../server/chain.js';
import { replyTo } from '../../server/query-context.js';
import { Opcode, Rcode } from '../../wire/constants.js';
import { RRClass } from '../../wire/types.js';
import { negativeSoa } from '../../wire/ttl.js';

export interface LocalDataHandlerConfig {
  maxUdpSize: number;
  recursionAvailable: boolean;
}


export function localData(data: LocalData, cfg: LocalDataHandlerConfig): Middleware {
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY || data.size === 0) return next(ctx);
    const q = req.question[0]!;
    if (q.class !== RRClass.IN && q.class !== RRClass.ANY) return next(ctx);
    const r = data.lookup(q.name, q.type);
    if (r.kind === 'none') return next(ctx);
    const reply = replyTo(req, r.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, cfg.maxUdpSize);
    reply.aa = true;
    reply.ra = cfg.recursionAvailable;
    if (r.kind === 'answer') {
      // Owner as asked (keeps the client's case, RFC 4343 §4.1; 0x20 randomisation survives).
      for (const rr of r.records) reply.answer.push(rr.name.equals(q.name) ? { ...rr, name: q.name } : rr);
    } else if (r.soa !== undefined) {
      reply.authority.push(negativeSoa(r.soa));
    }
    return reply;
  };
}
