/**
 * Addresses for a delegation's NS names that came without glue ("glueless", RFC 1034 §5.3.3):
 * the iterator's side lookups, resolved through the same resolution loop and charged to the same
 * client query (its upstream query budget, nesting depth and per-zone fan-out: the NXNS defence).
 *
 * Invariants: names inside the delegated zone are never looked up (they need glue; asking would
 * loop); a name already being resolved up the stack is skipped; at most `maxNsFanout` names of one
 * zone per client query, nested at most `maxDepth` deep; lookups go one name at a time and stop
 * at the first that yields an address, so a delegation costs no more queries than it needs.
 */
import type { Logger } from '../logging.js';
import { Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { RRClass, RRType } from '../wire/types.js';
import type { RRCache } from './cache.js';
import { inBailiwick } from './classify.js';
import type { Resolution } from './resolution.js';
import type { Request, ZoneCut } from './server-choice.js';
import type { ResolverStats } from './stats.js';

export interface NsAddressesOptions {
  cache: RRCache;
  ipv6: boolean;
  /** Nesting of glueless NS lookups allowed. */
  maxDepth: number;
  /** Glueless NS names of one delegation resolved per client query. */
  maxNsFanout: number;
  stats: ResolverStats;
  logger: Logger;
  /** The resolution loop (CNAMEs followed, cache first), at `depth`, charged to `req`. */
  resolveName: (name: Name, type: number, req: Request, depth: number) => Promise<Resolution>;
}

const A = RRType.A;
const AAAA = RRType.AAAA;

function rrKey(name: Name, type: number): string {
  return name.key + '/' + type;
}

export class NsAddresses {
  constructor(private readonly o: NsAddressesOptions) {}

  /**
   * Resolves addresses of NS names that have none cached ("glueless" delegation), one name at a
   * time until one yields an address. Skips names inside the zone itself (they need glue: asking
   * would loop), names already being resolved up the stack, and stops at the fan-out limit.
   * Returns true when new addresses were found.
   */
  async find(cut: ZoneCut, req: Request, depth: number): Promise<boolean> {
    const o = this.o;
    if (depth + 1 > o.maxDepth) return false;
    const zk = cut.zone.key;
    for (const n of cut.ns) {
      if (inBailiwick(n, cut.zone)) continue;
      // What is cached for each address type: an entry (even NODATA) means that type needs no
      // lookup, but only addresses make the name usable. An IPv6-only server whose AAAA expired
      // before its A NODATA must still get its AAAA looked up.
      const a = o.cache.peek(n, A, RRClass.IN);
      const aaaa = o.ipv6 ? o.cache.peek(n, AAAA, RRClass.IN) : undefined;
      if ((a !== undefined && a.records.length > 0) || (aaaa !== undefined && aaaa.records.length > 0)) continue;
      const needA = a === undefined;
      const needAaaa = o.ipv6 && aaaa === undefined;
      if (!needA && !needAaaa) continue;
      if (req.active.has(rrKey(n, A))) continue;
      const used = req.fanout.get(zk) ?? 0;
      if (used >= o.maxNsFanout) {
        o.stats.limitHits++;
        return false;
      }
      req.fanout.set(zk, used + 1);
      req.active.add(rrKey(n, A));
      try {
        let rcode: number = Rcode.NOERROR;
        if (needA) {
          const r = await o.resolveName(n, A, req, depth + 1);
          if (r.rcode === Rcode.NOERROR && r.answer.some((x) => x.type === A)) return true;
          rcode = r.rcode;
        }
        if (needAaaa && rcode === Rcode.NOERROR) {
          const r6 = await o.resolveName(n, AAAA, req, depth + 1);
          if (r6.answer.some((x) => x.type === AAAA)) return true;
        }
      } catch (err) {
        if (req.queries >= req.maxQueries) throw err;
        o.logger.debug({ err, ns: n.toString() }, 'glueless NS lookup failed');
      } finally {
        req.active.delete(rrKey(n, A));
      }
    }
    return false;
  }
}
