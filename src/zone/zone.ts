/**
 * An in-memory zone: names interned once in nodes with parent links, RRsets per node, and the
 * RFC 1034 §4.3.2 lookup (exact match, closest encloser, wildcards per RFC 4592, delegation
 * cuts, DNAME per RFC 6672).
 *
 * Invariants: every ancestor of a name with data, up to the apex, has a node (empty
 * non-terminals get data-less nodes, RFC 4592 §2.2.2), so "no node" means "no such name".
 * Flags (delegation, below a cut, wildcard child) are decided once in finish(); after it the
 * zone is read-only and lookups allocate nothing but their result.
 */
import { type ResourceRecord } from '../wire/record.js';
import { Name } from '../wire/name.js';
import { Writer } from '../wire/writer.js';
import { EncodeMode, RRClass, RRType, encodeRData, rdataEquals, typeDef } from '../wire/types.js';

export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export interface RRset {
  name: Name;
  type: number;
  class: number;
  /** TTL of the RRset (the first record's; RFC 2181 §5.2 wants them equal). */
  ttl: number;
  /** Decoded RDATA, one per record, duplicates removed. */
  rdata: unknown[];
  /** Where the first record was read (for checks and error messages). */
  source?: SourcePos | undefined;
  /** Uncompressed RDATA per record, prepared by finish() for transfers and DNSSEC. */
  wire?: Uint8Array[] | undefined;
}

export class ZoneNode {
  readonly name: Name;
  readonly parent: ZoneNode | undefined;
  rrsets: RRset[] = [];
  /** NS here and not at the apex: a zone cut (RFC 1034 §4.2.1). */
  isDelegation = false;
  /** At or below a cut (other than the cut itself): glue or occluded data. */
  isBelowCut = false;
  /** Has a `*` child (RFC 4592 §2.1.1). */
  hasWildcardChild = false;
  /** Number of child nodes. */
  children = 0;

  constructor(name: Name, parent: ZoneNode | undefined) {
    this.name = name;
    this.parent = parent;
  }

  /** No RRsets: an empty non-terminal (or a node whose data was all occluded). */
  get isEmptyNonTerminal(): boolean {
    return this.rrsets.length === 0;
  }

  get(type: number): RRset | undefined {
    const sets = this.rrsets;
    for (let i = 0; i < sets.length; i++) if (sets[i]!.type === type) return sets[i];
    return undefined;
  }
}

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

export interface ZoneWarning {
  reason: string;
  name: Name;
  type: number;
  source?: SourcePos | undefined;
}

const WILDCARD_LABEL = '\x01*';
const SLAB_SIZE = 1 << 16;

function byType(x: RRset, y: RRset): number {
  return x.type - y.type;
}

/** Makes V8 store `s` as one flat string (in place) and returns it. */
function flatten(s: string): string {
  // Number() reads every character, which flattens a cons string in place.
  Number(s);
  return s;
}
const labelOffsets = new Int32Array(128);

export class Zone {
  readonly origin: Name;
  readonly class: number;
  readonly apex: ZoneNode;
  /** Problems noticed while adding (TTL mismatch within an RRset): for the checks. */
  readonly warnings: ZoneWarning[] = [];
  private readonly nodesByKey = new Map<string, ZoneNode>();
  private sorted: ZoneNode[] | undefined;
  private count = 0;
  private finished = false;
  private slab = new Uint8Array(SLAB_SIZE);
  private slabPos = 0;

  constructor(origin: Name, cls: number = RRClass.IN) {
    this.origin = origin;
    this.class = cls;
    this.apex = new ZoneNode(origin, undefined);
    this.nodesByKey.set(origin.key, this.apex);
  }

  /** Records held (duplicates not counted). */
  get recordCount(): number {
    return this.count;
  }

  get soa(): ResourceRecord | undefined {
    const s = this.apex.get(RRType.SOA);
    if (s === undefined) return undefined;
    return { name: s.name, type: s.type, class: s.class, ttl: s.ttl, data: s.rdata[0] };
  }

  get serial(): number | undefined {
    const s = this.apex.get(RRType.SOA);
    return s === undefined ? undefined : (s.rdata[0] as { serial: number }).serial;
  }

  /**
   * Adds a record while loading. Records with the same name, type and class form one RRset;
   * an identical record is dropped (as BIND does). Throws RangeError for a name outside the
   * zone or after finish().
   */
  add(rr: ResourceRecord, source?: SourcePos): void {
    if (this.finished) throw new RangeError('zone is finished; build a new one to change it');
    const node = this.nodeFor(rr.name);
    const sets = node.rrsets;
    let set: RRset | undefined;
    for (let i = 0; i < sets.length; i++) {
      const s = sets[i]!;
      if (s.type === rr.type && s.class === rr.class) {
        set = s;
        break;
      }
    }
    if (set === undefined) {
      const created: RRset = { name: node.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdata: [rr.data], source, wire: undefined };
      // An array literal is allocated at its exact size; push() on [] reserves 17 slots.
      if (sets.length === 0) node.rrsets = [created];
      else sets.push(created);
      this.count++;
      return;
    }
    for (const d of set.rdata) if (rdataEquals(rr.type, d, rr.data)) return;
    if (rr.ttl !== set.ttl) {
      this.warnings.push({ reason: `TTL ${rr.ttl} differs from the RRset's TTL ${set.ttl}; using ${set.ttl}`, name: node.name, type: rr.type, source });
    }
    set.rdata.push(rr.data);
    this.count++;
  }

  private nodeFor(name: Name): ZoneNode {
    const key = name.key;
    const existing = this.nodesByKey.get(key);
    if (existing !== undefined) return existing;
    if (!name.isSubdomainOf(this.origin)) throw new RangeError(`${name.toString()} is outside zone ${this.origin.toString()}`);
    // The parent's key is a suffix of ours: probe it before building a parent Name.
    const parentKey = key.slice(key.charCodeAt(0) + 1);
    const parent = this.nodesByKey.get(parentKey) ?? this.nodeFor(name.parent());
    const interned = this.intern(name);
    const node = new ZoneNode(interned, parent);
    parent.children++;
    if (name.isWildcard) parent.hasWildcardChild = true;
    this.nodesByKey.set(flatten(key), node);
    this.sorted = undefined;
    return node;
  }

  /**
   * Copies a node's name into a shared slab: one small view per name instead of an ArrayBuffer
   * each (the zone holds a million of them). Its key is flattened once (Name builds it by
   * concatenation, which V8 keeps as a chain of cons strings).
   */
  private intern(name: Name): Name {
    const w = name.wire;
    if (this.slabPos + w.length > this.slab.length) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.slabPos = 0;
    }
    const view = this.slab.subarray(this.slabPos, this.slabPos + w.length);
    view.set(w);
    this.slabPos += w.length;
    const interned = new Name(view);
    flatten(interned.key);
    return interned;
  }

  /** Decides the flags and prepares wire forms; the zone is read-only afterwards. */
  finish(): void {
    if (this.finished) return;
    // Cuts first (top-down order is not needed: a node is below a cut if any ancestor is one).
    for (const node of this.nodesByKey.values()) {
      node.isDelegation = node !== this.apex && node.get(RRType.NS) !== undefined;
    }
    for (const node of this.nodesByKey.values()) {
      for (let a = node.parent; a !== undefined; a = a.parent) {
        if (a.isDelegation) {
          node.isBelowCut = true;
          break;
        }
      }
      // Order RRsets by type so iteration (ANY, printing) is stable.
      const sets = node.rrsets;
      if (sets.length > 1) sets.sort(byType);
      for (let i = 0; i < sets.length; i++) {
        const set = sets[i]!;
        if (set.rdata.length > 1) set.rdata = set.rdata.slice(); // drop the spare capacity push() left
        this.shareNames(set);
      }
    }
    this.finished = true;
  }

  /**
   * Domain names inside RDATA that name a node of this zone (CNAME targets, NS hosts, MX
   * exchanges) are replaced by the node's own Name, so each such name is held once.
   */
  private shareNames(set: RRset): void {
    const fields = typeDef(set.type)?.fields;
    if (fields === undefined) return;
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      if (field.kind !== 'name') continue;
      const key = field.key;
      for (let i = 0; i < set.rdata.length; i++) {
        const d = set.rdata[i] as Record<string, Name>;
        const target = d[key];
        if (target === undefined) continue;
        const node = this.nodesByKey.get(target.key);
        if (node !== undefined) d[key] = node.name;
      }
    }
  }

  /** Every node, in the order names were first added (cheaper than nodes() when order does not matter). */
  allNodes(): IterableIterator<ZoneNode> {
    return this.nodesByKey.values();
  }

  /** Uncompressed RDATA of each record of `set` (computed on first use, then kept). */
  static wireOf(set: RRset): Uint8Array[] {
    if (set.wire === undefined) {
      const w = new Writer();
      set.wire = set.rdata.map((d) => {
        w.reset();
        encodeRData(set.type, w, d, EncodeMode.Canonical);
        return w.toBytes();
      });
    }
    return set.wire;
  }

  /** The node owning exactly `name`, if any (empty non-terminals included). */
  node(name: Name): ZoneNode | undefined {
    return this.nodesByKey.get(name.key);
  }

  getRRset(name: Name, type: number): RRset | undefined {
    return this.nodesByKey.get(name.key)?.get(type);
  }

  /** Every node in DNSSEC canonical order (RFC 4034 §6.1), apex first. */
  nodes(): ZoneNode[] {
    if (this.sorted === undefined) {
      this.sorted = [...this.nodesByKey.values()].sort((a, b) => a.name.compare(b.name));
    }
    return this.sorted;
  }

  /** RFC 1034 §4.3.2 step 3 for this zone (see LookupResult). */
  lookup(qname: Name, qtype: number): LookupResult {
    const nodes = this.nodesByKey;
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
      const child = nodes.get(d === 0 ? key : key.slice(labelOffsets[d]!));
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
      if (node.rrsets.length === 0) return wildcard === undefined ? { kind: 'nodata', node } : { kind: 'nodata', node, wildcard };
      const first = node.rrsets[0]!;
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
      const source = this.nodesByKey.get(WILDCARD_LABEL + closestEncloser.name.key)!;
      return this.fromNode(source, qtype, source.name);
    }
    return { kind: 'nxdomain', closestEncloser };
  }
}

function dsOf(node: ZoneNode): { ds?: RRset } {
  const ds = node.get(RRType.DS);
  return ds === undefined ? {} : { ds };
}
