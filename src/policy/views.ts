/**
 * Views (split horizon): which view a query belongs to, as BIND's `view` with `match-clients`,
 * `match-destinations` and key matching, and Unbound's access-control-view.
 *
 * Rules: a query signed with a TSIG key (verified) picks the first view listing that key among
 * its `keys` (whose destinations match); otherwise the first view whose `clients` and
 * `destinations` address match lists both admit it. No view: the query is REFUSED. In BIND
 * terms a key view behaves as if every earlier view began its match-clients with `!key NAME;`
 * (what BIND configurations write by hand so that a key selects its view).
 *
 * Invariants: a ViewTable is immutable once built (rebuilt on reload). Lookups are a Map probe
 * per client address and per destination address (bit masks of the views they match, one bit
 * per view, so at most 31 views), remembered up to 4096 addresses, then started afresh: the hot
 * path never walks the views' prefix lists for a client it has seen.
 */
import { Acl } from '../resolver/acl.js';
import type { Name } from '../wire/name.js';

export interface ViewMatch {
  name: string;
  /** Address match list of client sources ("!" denies); empty: none (a key-only view). */
  clients: readonly string[];
  /** Address match list of our addresses the query came to; ["any"]: every one. */
  destinations: readonly string[];
  /** TSIG key names (as configured, `key` or `key.`). */
  keys: readonly Name[];
}

/** Bound of the per-address memos. */
const MEMO = 4096;

export class ViewTable {
  readonly names: readonly string[];
  /** "view:NAME" per view, for ctx.policy (built once, not per query). */
  readonly policies: readonly string[];
  private readonly clients: Acl[];
  private readonly destinations: (Acl | undefined)[];
  /** Views every destination matches (those with destinations: any). */
  private readonly anyDestination: number;
  private readonly keyMasks = new Map<string, number>();
  private readonly clientMemo = new Map<string, number>();
  private readonly destMemo = new Map<string, number>();

  constructor(views: readonly ViewMatch[]) {
    if (views.length > 31) throw new RangeError('at most 31 views');
    this.names = views.map((v) => v.name);
    this.policies = views.map((v) => 'view:' + v.name);
    this.clients = views.map((v) => new Acl(v.clients));
    let any = 0;
    this.destinations = views.map((v, i) => {
      if (v.destinations.length === 1 && v.destinations[0] === 'any') {
        any |= 1 << i;
        return undefined;
      }
      return new Acl(v.destinations);
    });
    this.anyDestination = any;
    views.forEach((v, i) => {
      for (const k of v.keys) this.keyMasks.set(k.key, (this.keyMasks.get(k.key) ?? 0) | (1 << i));
    });
  }

  get size(): number {
    return this.names.length;
  }

  /**
   * The view index for a query from `client` to `local` (undefined: the transport does not know
   * our address; only views with `destinations: any` match), signed with `key` if any; -1: none.
   */
  pick(client: string, local: string | undefined, key: Name | undefined): number {
    const dest = local === undefined ? this.anyDestination : this.destMask(local);
    if (key !== undefined) {
      const m = (this.keyMasks.get(key.key) ?? 0) & dest;
      if (m !== 0) return lowestBit(m);
    }
    let c = this.clientMemo.get(client);
    if (c === undefined) {
      c = 0;
      for (let i = 0; i < this.clients.length; i++) if (this.clients[i]!.allows(client)) c |= 1 << i;
      if (this.clientMemo.size >= MEMO) this.clientMemo.clear();
      this.clientMemo.set(client, c);
    }
    const m = c & dest;
    return m === 0 ? -1 : lowestBit(m);
  }

  private destMask(local: string): number {
    let d = this.destMemo.get(local);
    if (d === undefined) {
      d = this.anyDestination;
      for (let i = 0; i < this.destinations.length; i++) if (this.destinations[i]?.allows(local) === true) d |= 1 << i;
      if (this.destMemo.size >= MEMO) this.destMemo.clear();
      this.destMemo.set(local, d);
    }
    return d;
  }
}

/** Index of the lowest set bit (the first matching view). */
function lowestBit(m: number): number {
  return 31 - Math.clz32(m & -m);
}
