/**
 * A zone's semantics over its storage (store.ts): the RFC 1034 §4.3.2 lookup — exact match,
 * closest encloser, wildcards per RFC 4592, delegation cuts, DNAME per RFC 6672, CNAME,
 * NXDOMAIN and NODATA — as one discriminated result.
 *
 * Invariants: the zone is read-only after finish(); lookups allocate their result and, the first
 * time a node or RRset is reached, its Name or decoded RDATA (kept from then on). The only state
 * a lookup changes is the zone's own scratch (label offsets); nothing is shared between zones.
 */
import type { Name } from '../wire/name.js';
import { DnsRecord, type ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { WILDCARD_LABEL, hashKey } from './keys.js';
import type { ZoneNode } from './node.js';
import type { RRset } from './rrset.js';
import { type NodeChange, ZoneStore } from './store.js';

export { NodeTable, ZoneNode, ZoneRRset, peekRData, rdataCount } from './node.js';
export type { RRset, SourcePos } from './rrset.js';
export { type NodeChange, ZoneStore, type ZoneWarning } from './store.js';

export type LookupResult =
  /** `rrset` answers the question; `wildcard` is the source of synthesis when one was used. */
  | { kind: 'answer'; node: ZoneNode; rrset: RRset; wildcard?: Name }
  /** The name (or its wildcard) owns a CNAME and the question is for another type. */
  | { kind: 'cname'; node: ZoneNode; rrset: RRset; wildcard?: Name }
  /** A DNAME at an ancestor of the name (RFC 6672 §3.3). */
  | { kind: 'dname'; node: ZoneNode; rrset: RRset }
  /** The name is at or below a zone cut: refer to the child's servers. */
  | { kind: 'referral'; cut: ZoneNode; ns: RRset; ds?: RRset }
  /** The name exists (maybe via wildcard) but has no data of the type. */
  | { kind: 'nodata'; node: ZoneNode; wildcard?: Name }
  | { kind: 'nxdomain'; closestEncloser: ZoneNode }
  | { kind: 'outside' };

export class Zone extends ZoneStore {
  /** Offsets of each label in the query name's key (lookup's scratch: an ancestor's key is a suffix). */
  private readonly labelOffsets = new Int32Array(128);
  /** Round-robin position for answers that do not fix one (see authority/answer.ts). */
  private rotor = 0;

  get soa(): ResourceRecord | undefined {
    const s = this.apex.get(RRType.SOA);
    if (s === undefined) return undefined;
    return new DnsRecord(s.name, s.type, s.class, s.ttl, s.rdata[0]);
  }

  get serial(): number | undefined {
    const s = this.apex.get(RRType.SOA);
    return s === undefined ? undefined : (s.rdata[0] as { serial: number }).serial;
  }

  /**
   * The next version of this zone with `changes` applied, sharing everything they do not touch
   * (copy-on-write; this zone stays as it is for readers holding it). See ZoneStore.deriveFrom
   * for what changes qualify.
   */
  derive(changes: readonly NodeChange[]): Zone {
    const next = new Zone(this.origin, this.class);
    next.deriveFrom(this, changes);
    return next;
  }

  /** The next round-robin offset of this zone (answers rotated without a fixed offset take turns). */
  nextRotation(): number {
    const r = this.rotor;
    this.rotor = (r + 1) & 0x3fffffff;
    return r;
  }

  /** RFC 1034 §4.3.2 step 3 for this zone (see LookupResult). */
  lookup(qname: Name, qtype: number): LookupResult {
    const table = this.table;
    const labelOffsets = this.labelOffsets;
    const key = qname.key;
    const depth = qname.labelCount - this.origin.labelCount;
    if (depth < 0) return { kind: 'outside' };
    // Offsets of each label in the key: an ancestor's key is a suffix of ours (no allocation
    // beyond the slices the map probes need).
    let n = 0;
    for (let p = 0; key.charCodeAt(p) !== 0; p += key.charCodeAt(p) + 1) labelOffsets[n++] = p;
    if (depth === 0 ? key !== this.origin.key : key.slice(depth < n ? labelOffsets[depth]! : key.length - 1) !== this.origin.key) {
      return { kind: 'outside' };
    }
    // Walk down from the apex: the first cut or DNAME on the way decides.
    let encloser = this.apex;
    for (let d = depth - 1; d >= 0; d--) {
      const start = d === 0 ? 0 : labelOffsets[d]!;
      const child = table.find(key, start, hashKey(key, start));
      if (child === undefined) return this.noSuchName(qname, qtype, encloser);
      if (child.isDelegation && (d > 0 || qtype !== RRType.DS)) {
        return { kind: 'referral', cut: child, ns: child.get(RRType.NS)!, ...dsOf(child) };
      }
      if (d > 0) {
        const dname = child.get(RRType.DNAME);
        if (dname !== undefined) return { kind: 'dname', node: child, rrset: dname };
      }
      encloser = child;
    }
    return this.fromNode(encloser, qtype, undefined);
  }

  private fromNode(node: ZoneNode, qtype: number, wildcard: Name | undefined): LookupResult {
    if (qtype === RRType.ANY) {
      if (node.setCount === 0) return wildcard === undefined ? { kind: 'nodata', node } : { kind: 'nodata', node, wildcard };
      const first = node.setAt(0);
      return wildcard === undefined ? { kind: 'answer', node, rrset: first } : { kind: 'answer', node, rrset: first, wildcard };
    }
    const set = node.get(qtype);
    if (set !== undefined) return wildcard === undefined ? { kind: 'answer', node, rrset: set } : { kind: 'answer', node, rrset: set, wildcard };
    const cname = node.get(RRType.CNAME);
    if (cname !== undefined) return wildcard === undefined ? { kind: 'cname', node, rrset: cname } : { kind: 'cname', node, rrset: cname, wildcard };
    return wildcard === undefined ? { kind: 'nodata', node } : { kind: 'nodata', node, wildcard };
  }

  /** The name does not exist below `closestEncloser`: wildcard (RFC 4592 §3.3.1) or NXDOMAIN. */
  private noSuchName(_qname: Name, qtype: number, closestEncloser: ZoneNode): LookupResult {
    if (closestEncloser.hasWildcardChild) {
      const k = WILDCARD_LABEL + closestEncloser.key;
      const source = this.table.find(k, 0, hashKey(k, 0))!;
      return this.fromNode(source, qtype, source.name);
    }
    return { kind: 'nxdomain', closestEncloser };
  }
}

function dsOf(node: ZoneNode): { ds?: RRset } {
  const ds = node.get(RRType.DS);
  return ds === undefined ? {} : { ds };
}
