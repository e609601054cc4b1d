/**
 * Chain element answering from the zones we are authoritative for (a thin adapter over
 * `src/authority`). Names outside every zone go down the chain.
 */
import { answerFromZone } from '../../authority/answer.js';
import { type Catalog, UnloadedZone } from '../../authority/catalog.js';
import type { Middleware } from '../../server/chain.js';
import { replyTo } from '../../server/query-context.js';
import { Opcode, Rcode } from '../../wire/constants.js';
import { RRClass, RRType } from '../../wire/types.js';

export interface AuthorityConfig {
  rotate: boolean;
  maxUdpSize: number;
}

export function authority(catalog: Catalog, cfg: AuthorityConfig): Middleware {
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    let zone = catalog.find(q.name);
    if (zone instanceof UnloadedZone) {
      // Configured but not loaded (missing file, syntax error): SERVFAIL, as BIND answers;
      // never cached (cacheVariants stays 0), so the answer changes as soon as a reload fixes it.
      return q.class === RRClass.IN || q.class === RRClass.ANY ? replyTo(req, Rcode.SERVFAIL, cfg.maxUdpSize) : next(ctx);
    }
    if (zone === undefined || (q.class !== zone.class && q.class !== RRClass.ANY)) return next(ctx);
    if (q.type === RRType.DS && zone.origin.equals(q.name) && !q.name.isRoot) {
      // RFC 4035 §3.1.4.1: DS lives in the parent; answer from it if we host it too.
      const parent = catalog.find(q.name.parent());
      if (parent !== undefined && !(parent instanceof UnloadedZone)) zone = parent;
    }
    if (q.type === RRType.AXFR || q.type === RRType.IXFR) {
      // Transfers need TCP (RFC 5936 §4.2) and are not offered yet: refuse them plainly.
      return replyTo(req, ctx.transport === 'udp' ? Rcode.FORMERR : Rcode.REFUSED, cfg.maxUdpSize);
    }
    const reply = replyTo(req, Rcode.NOERROR, cfg.maxUdpSize);
    // A cached copy of this answer is good while the catalog's content version stays (see Catalog.version).
    ctx.content = catalog;
    // RFC 8482 §4.1: ANY gets one RRset (the lowest type at the name), over UDP and TCP alike,
    // as Knot answers; BIND's default gives every RRset.
    // The answer depends only on the query's bytes: the engine may cache it (per rotation).
    ctx.cacheVariants = answerFromZone(zone, reply, q.name, q.type, {
      rotate: cfg.rotate, anyAll: false, rotation: ctx.rotation, signed: catalog.signed(zone), dnssecOk: ctx.dnssecOk,
    });
    return reply;
  };
}
