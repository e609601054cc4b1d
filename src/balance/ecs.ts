/**
 * EDNS Client Subnet (RFC 7871) on the authoritative side: reading the query's option, choosing
 * the answer's SCOPE PREFIX-LENGTH, and echoing the option in the reply.
 *
 * Rules (RFC 7871 §6, §7.2.1), as BIND's server side applies them:
 * - FAMILY 1 (IPv4) or 2 (IPv6); SOURCE PREFIX-LENGTH at most 32/128; ADDRESS exactly
 *   ceil(SOURCE/8) octets with no bits set past SOURCE; SCOPE PREFIX-LENGTH 0 in queries; one ECS
 *   option per query. Anything else is FORMERR.
 * - The reply echoes FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as received and sets SCOPE to the
 *   leading bits of the address the answer was chosen by (§7.2.1). SOURCE 0 means the client
 *   wants no tailoring: the default answer with SCOPE 0 (§7.1.2), and its own address is not used.
 */
import { WireFormatError } from '../errors.js';
import type { EdnsOption } from '../wire/edns.js';
import { Family, type Prefix, commonBits } from './addresses.js';

export const ECS_OPTION = 8;

/** The query's ECS, decoded into reused storage (the element is synchronous: one query at a time). */
export class EcsQuery {
  family = 0;
  source = 0;
  /** The address, zero-padded to 4 or 16 octets. */
  readonly bytes = new Uint8Array(16);
  /** The option as received (echoed with the scope filled in). */
  option: EdnsOption | undefined = undefined;
}

function bad(reason: string): never {
  throw new WireFormatError(0, 'EDNS Client Subnet', reason);
}

/**
 * Finds and checks the ECS option in `options`; false when there is none. Throws
 * WireFormatError (FORMERR) for a malformed one or a second one.
 */
export function readEcs(options: readonly EdnsOption[], into: EcsQuery): boolean {
  let found = false;
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o.code !== ECS_OPTION) continue;
    if (found) bad('more than one ECS option');
    found = true;
    const d = o.data;
    if (d.length < 4) bad('shorter than 4 octets');
    const family = (d[0]! << 8) | d[1]!;
    if (family !== Family.IPV4 && family !== Family.IPV6) bad(`unknown FAMILY ${family}`);
    const size = family === Family.IPV4 ? 4 : 16;
    const source = d[2]!;
    if (source > size * 8) bad(`SOURCE PREFIX-LENGTH ${source} is longer than the address`);
    // RFC 7871 §6: "SCOPE PREFIX-LENGTH ... In queries, it MUST be set to 0" (BIND: FORMERR otherwise).
    if (d[3] !== 0) bad('SCOPE PREFIX-LENGTH is not 0 in a query');
    const octets = (source + 7) >> 3;
    if (d.length - 4 !== octets) bad(`ADDRESS is ${d.length - 4} octets, SOURCE PREFIX-LENGTH ${source} needs ${octets}`);
    if ((source & 7) !== 0 && (d[4 + octets - 1]! & (0xff >> (source & 7))) !== 0) bad('ADDRESS has bits set past SOURCE PREFIX-LENGTH');
    into.family = family;
    into.source = source;
    into.bytes.fill(0);
    for (let j = 0; j < octets; j++) into.bytes[j] = d[4 + j]!;
    into.option = o;
  }
  return found;
}

/** The reply's ECS option (RFC 7871 §7.2.1): the query's FAMILY, SOURCE and ADDRESS, our SCOPE. */
export function ecsReply(query: EdnsOption, scope: number): EdnsOption {
  const data = query.data.slice();
  data[3] = scope;
  return { code: ECS_OPTION, data };
}

/**
 * The longest of `prefixes` (of `family`) containing the first `known` bits of `addr`, no longer
 * than `known`; -1 when none does. `scope[0]` receives the SCOPE PREFIX-LENGTH that answer holds
 * for: enough bits to tell the client's network from every more specific prefix that would have
 * answered differently (RFC 7871 §7.2.1; beyond `known` when a longer prefix overlaps it, telling
 * the resolver its SOURCE was too short to choose).
 */
export function longestMatch(prefixes: readonly Prefix[], family: number, addr: Uint8Array, known: number, scope: Int32Array): number {
  let best = -1;
  let bestLen = -1;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (p.family !== family || p.length > known || p.length <= bestLen) continue;
    if (commonBits(p.bytes, addr, p.length) === p.length) {
      best = i;
      bestLen = p.length;
    }
  }
  let s = bestLen < 0 ? 0 : bestLen;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (p.family !== family || p.length <= bestLen) continue;
    // A more specific prefix than the match: the answer holds only for addresses outside it.
    const c = commonBits(p.bytes, addr, Math.min(p.length, known));
    const need = c >= known ? p.length : c + 1;
    if (need > s) s = need;
  }
  scope[0] = s;
  return best;
}
