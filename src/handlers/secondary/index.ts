/**
 * Chain element for the messages a secondary answers besides queries (a thin adapter over
 * src/transfer/secondaries.ts): NOTIFY for every zone (RFC 1996) and UPDATE for secondary
 * zones (REFUSED or forwarded, RFC 2136 §6). Queries and UPDATEs for other zones go on down
 * the chain untouched, so it is `pure` for everything the answer cache can hold.
 */
import type { Middleware } from '../../server/chain.js';
import type { SecondaryZones } from '../../transfer/secondaries.js';
import { Opcode } from '../../wire/constants.js';

export function secondary(zones: SecondaryZones, maxUdpSize: number): Middleware {
  return (next) => (ctx) => {
    const op = ctx.request.opcode;
    if (op === Opcode.QUERY) return next(ctx);
    if (op === Opcode.NOTIFY) return zones.notify(ctx, maxUdpSize);
    if (op === Opcode.UPDATE) return zones.update(ctx, maxUdpSize) ?? next(ctx);
    return next(ctx);
  };
}
