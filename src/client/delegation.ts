/**
 * Reading a delegation out of a reply, for the walks that follow one by hand from the root
 * (`dig +trace`, the API's trace): which servers a zone cut names and where the next cut is.
 */
import { isIP } from 'node:net';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';

/** A name server of a zone cut and the addresses known for it so far. */
export interface NsTarget {
  name: Name;
  addresses: string[];
}

/**
 * NS targets of `zone` in `rrs`, each with its glue addresses from `glue` (only of `family`
 * when given). A target that is itself an address literal (as in test hierarchies) needs no lookup.
 */
export function nsTargets(zone: Name, rrs: readonly ResourceRecord[], glue: readonly ResourceRecord[], family?: 4 | 6): NsTarget[] {
  const out: NsTarget[] = [];
  for (const rr of rrs) {
    if (rr.type !== RRType.NS || !rr.name.equals(zone)) continue;
    const target = (rr.data as { nsdname: Name }).nsdname;
    if (out.some((t) => t.name.equals(target))) continue;
    const addresses: string[] = [];
    for (const g of glue) {
      if (!g.name.equals(target)) continue;
      if (g.type === RRType.A && family !== 6) addresses.push((g.data as { address: string }).address);
      if (g.type === RRType.AAAA && family !== 4) addresses.push((g.data as { address: string }).address);
    }
    const text = target.toString();
    const literal = text === '.' ? text : text.slice(0, -1);
    const fam = isIP(literal);
    if (addresses.length === 0 && fam !== 0 && (family === undefined || fam === family)) addresses.push(literal);
    out.push({ name: target, addresses });
  }
  return out;
}

/** The zone cut a referral points to: owner of the authority NS set, if strictly below `current`. */
export function referralZone(m: Message, current: Name): Name | undefined {
  if (m.answer.length > 0 || m.aa) return undefined;
  for (const rr of m.authority) {
    if (rr.type === RRType.NS && rr.name.isSubdomainOf(current) && !rr.name.equals(current)) return rr.name;
  }
  return undefined;
}
