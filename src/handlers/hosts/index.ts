/**
 * Chain element answering from the hosts file (a thin adapter over `src/resolver/hosts.ts`).
 *
 * - A name in the file: A and AAAA from it; any other type (including the family the file has
 *   no address for) gets NOERROR with no data, as systemd-resolved and dnsmasq answer, so the
 *   name never leaks to upstream resolvers. ANY gets both families.
 * - A reverse name (in-addr.arpa / ip6.arpa) of one of its addresses: PTR to the first name
 *   written for it.
 * - Everything else goes down the chain.
 * Answers carry AA (we are the source of this data, as dnsmasq marks hosts answers).
 */
import type { HostsFile } from '../../resolver/hosts.js';
import type { Middleware } from '../../server/chain.js';
import { replyTo } from '../../server/query-context.js';
import { Opcode, Rcode } from '../../wire/constants.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRClass, RRType } from '../../wire/types.js';

export interface HostsHandlerConfig {
  /** TTL of synthesised records, seconds (dnsmasq's local-ttl; default 0). */
  ttl: number;
  maxUdpSize: number;
  /** Set RA in replies (true when this server offers recursion). */
  recursionAvailable: boolean;
}

export function hosts(file: HostsFile, cfg: HostsHandlerConfig): Middleware {
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    if (q.class !== RRClass.IN && q.class !== RRClass.ANY) return next(ctx);
    const table = file.table;
    if (table.size === 0) return next(ctx);
    const entry = table.lookup(q.name);
    if (entry === undefined) {
      if (q.type !== RRType.PTR && q.type !== RRType.ANY) return next(ctx);
      const target = table.reverse(q.name);
      if (target === undefined) return next(ctx);
      const reply = replyTo(req, Rcode.NOERROR, cfg.maxUdpSize);
      reply.aa = true;
      reply.ra = cfg.recursionAvailable;
      reply.answer.push({ name: q.name, type: RRType.PTR, class: RRClass.IN, ttl: cfg.ttl, data: { ptrdname: target } });
      return reply;
    }
    const reply = replyTo(req, Rcode.NOERROR, cfg.maxUdpSize);
    reply.aa = true;
    reply.ra = cfg.recursionAvailable;
    const out: ResourceRecord[] = reply.answer;
    if (q.type === RRType.A || q.type === RRType.ANY) {
      for (const address of entry.ipv4) out.push({ name: q.name, type: RRType.A, class: RRClass.IN, ttl: cfg.ttl, data: { address } });
    }
    if (q.type === RRType.AAAA || q.type === RRType.ANY) {
      for (const address of entry.ipv6) out.push({ name: q.name, type: RRType.AAAA, class: RRClass.IN, ttl: cfg.ttl, data: { address } });
    }
    return reply;
  };
}
