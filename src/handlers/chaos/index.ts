/**
 * CH-class TXT queries for `version.bind`, `hostname.bind`, `id.server` and `version.server`
 * (the BIND convention; RFC 4892 for id.server): answered with the configured string, or
 * REFUSED when the operator switched the answer off. Other CH queries pass down the chain.
 */
import type { Middleware } from '../../server/chain.js';
import { replyTo } from '../../server/query-context.js';
import { Rcode } from '../../wire/constants.js';
import { RRClass, RRType } from '../../wire/types.js';

export interface ChaosConfig {
  version: string | false;
  hostname: string | false;
  id: string | false;
}

const enc = new TextEncoder();

export function chaos(cfg: ChaosConfig, maxUdpSize: number): Middleware {
  const answers = new Map<string, string | false>([
    ['version.bind.', cfg.version], ['version.server.', cfg.version],
    ['hostname.bind.', cfg.hostname], ['id.server.', cfg.id],
  ]);
  return (next) => (ctx) => {
    if (ctx.qclass !== RRClass.CH) return next(ctx);
    const q = ctx.request.question[0]!;
    const value = answers.get(q.name.toString().toLowerCase());
    if (value === undefined) return next(ctx);
    if (value === false || (q.type !== RRType.TXT && q.type !== RRType.ANY)) {
      return replyTo(ctx.request, value === false ? Rcode.REFUSED : Rcode.NOERROR, maxUdpSize);
    }
    const reply = replyTo(ctx.request, Rcode.NOERROR, maxUdpSize);
    reply.aa = true;
    const bytes = enc.encode(value);
    const strings: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 255) strings.push(bytes.subarray(i, i + 255));
    reply.answer.push({ name: q.name, type: RRType.TXT, class: RRClass.CH, ttl: 0, data: { data: strings } });
    return reply;
  };
}
