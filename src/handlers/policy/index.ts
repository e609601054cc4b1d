/**
 * Chain element for plain blocklists (a thin adapter over src/policy/blocklist-fetch.ts): a
 * recursive query (RD=1, client allowed recursion) for a listed name gets the configured block
 * answer at once, without recursion, as Pi-hole answers from gravity; everything else goes on
 * down the chain (where RPZ may still rewrite it).
 *
 * Block answers (Pi-hole's blocking modes): `null-ip` (default; Pi-hole's NULL: 0.0.0.0 for A,
 * :: for AAAA, no data for other types), `nxdomain`, `nodata`, `refused`. Each carries EDE 15
 * (Blocked, RFC 8914 §4.16) for EDNS clients, is counted per list and per client, and is never
 * kept in the engine's answer cache (so each one is counted).
 */
import type { Blocklists } from '../../policy/blocklist-fetch.js';
import type { PolicyStats } from '../../policy/stats.js';
import type { Middleware } from '../../server/chain.js';
import { type QueryContext, replyTo } from '../../server/query-context.js';
import { EdeCode, Opcode, Rcode } from '../../wire/constants.js';
import { option } from '../../wire/edns.js';
import type { Message } from '../../wire/message.js';
import { RRClass, RRType } from '../../wire/types.js';

export type BlockAction = 'nxdomain' | 'nodata' | 'null-ip' | 'refused';

export interface BlocklistHandlerConfig {
  action: BlockAction;
  /** TTL of block answers, seconds (Pi-hole's blockTTL, 2). */
  ttl: number;
  maxUdpSize: number;
  stats: PolicyStats;
  recursive(ctx: QueryContext): boolean;
}

const BLOCKED = option.extendedError(EdeCode.BLOCKED);

export function blocklistHandler(lists: Blocklists, cfg: BlocklistHandlerConfig): Middleware {
  const { action, ttl, stats } = cfg;
  const max = cfg.maxUdpSize;
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY) return next(ctx);
    const q = req.question[0]!;
    if (q.class !== RRClass.IN || q.type === RRType.AXFR || q.type === RRType.IXFR) return next(ctx);
    const list = lists.lookup(q.name.key);
    if (list === undefined) return next(ctx);
    if (!cfg.recursive(ctx)) {
      // Listed but not blocked for this client: its answer must not be served to one it would be blocked
      // for (RD=0 answers are cached apart: the flags are part of the answer cache's key).
      if (req.rd) ctx.clientDependent = true;
      return next(ctx);
    }
    stats.list(list).blocked++;
    stats.blockClients.add(ctx.clientAddress);
    ctx.policy = 'blocklist:' + list;
    ctx.live = undefined;
    ctx.cacheVariants = 0;
    return blockReply(ctx, action, ttl, max);
  };
}

function blockReply(ctx: QueryContext, action: BlockAction, ttl: number, max: number): Message {
  const req = ctx.request;
  const q = req.question[0]!;
  const rcode = action === 'nxdomain' ? Rcode.NXDOMAIN : action === 'refused' ? Rcode.REFUSED : Rcode.NOERROR;
  const r = replyTo(req, rcode, max);
  r.ra = true;
  if (action === 'null-ip') {
    if (q.type === RRType.A || q.type === RRType.ANY) r.answer.push({ name: q.name, type: RRType.A, class: RRClass.IN, ttl, data: { address: '0.0.0.0' } });
    if (q.type === RRType.AAAA || q.type === RRType.ANY) r.answer.push({ name: q.name, type: RRType.AAAA, class: RRClass.IN, ttl, data: { address: '::' } });
  }
  r.edns?.options.push(BLOCKED);
  return r;
}
