/**
 * The zones this server is authoritative for, found by longest match on the query name.
 *
 * Invariant: keyed by `Name.key` (lowercased wire form), so the suffix of a key at a label
 * boundary is the key of that ancestor: finding the closest zone costs one map probe per label
 * and no Name allocation.
 */
import type { Name } from '../wire/name.js';
import { Zone } from '../zone/zone.js';
import { SignedZone } from './dnssec.js';

/**
 * A configured zone that failed to load and has no earlier version to serve. It stays in the
 * catalog so that names in it are answered SERVFAIL (as BIND does for a zone "not loaded due to
 * errors") instead of falling through to REFUSED or, worse, to the resolver.
 */
export class UnloadedZone {
  constructor(readonly origin: Name, readonly reason: string) {}
}

export class Catalog {
  /**
   * The content version: bumped whenever a zone is added or replaced here, and by `changed()`
   * after a zone's content changed in place (dynamic update, incoming transfer). Answers kept
   * by the server's answer cache remember the version they were built at and are not served
   * once it moved on, whoever changed the zone and whether or not the chain was rebuilt.
   */
  version = 0;
  private readonly zones = new Map<string, Zone | UnloadedZone>();
  /** DNSSEC indexes of the signed zones, built when the zone is added (at load and reload). */
  private readonly signedZones = new Map<Zone, SignedZone>();

  add(zone: Zone | UnloadedZone): void {
    this.version++;
    const old = this.zones.get(zone.origin.key);
    if (old instanceof Zone) this.signedZones.delete(old);
    this.zones.set(zone.origin.key, zone);
    if (!(zone instanceof Zone)) return;
    const signed = SignedZone.build(zone);
    if (signed !== undefined) this.signedZones.set(zone, signed);
  }

  /** Stops serving the zone at `name` (a catalog member removed). */
  remove(name: Name): void {
    const old = this.zones.get(name.key);
    if (old instanceof Zone) this.signedZones.delete(old);
    this.zones.delete(name.key);
  }

  /** A copy (the same zones) that later `add`s to this catalog leave unchanged: the "before" of a swap. */
  clone(): Catalog {
    const c = new Catalog();
    for (const [k, z] of this.zones) c.zones.set(k, z);
    for (const [z, s] of this.signedZones) c.signedZones.set(z, s);
    return c;
  }

  /** Tells answer caches that a zone's content changed in place (see `version`). */
  changed(): void {
    this.version++;
  }

  /** The DNSSEC index of `zone` when it is signed. */
  signed(zone: Zone): SignedZone | undefined {
    return this.signedZones.get(zone);
  }

  get size(): number {
    return this.zones.size;
  }

  /** The zones loaded and served (not the ones that failed). */
  *all(): IterableIterator<Zone> {
    for (const z of this.zones.values()) if (z instanceof Zone) yield z;
  }

  /** The zone with the longest origin that `qname` is at or below, if any. */
  find(qname: Name): Zone | UnloadedZone | undefined {
    const key = qname.key;
    const zones = this.zones;
    for (let p = 0; p < key.length; ) {
      const z = zones.get(p === 0 ? key : key.slice(p));
      if (z !== undefined) return z;
      const len = key.charCodeAt(p);
      if (len === 0) break;
      p += len + 1;
    }
    return undefined;
  }

  /** The loaded zone whose origin is exactly `name`. */
  get(name: Name): Zone | undefined {
    const z = this.zones.get(name.key);
    return z instanceof Zone ? z : undefined;
  }
}
