/**
 * The zone tree's storage: nodes (one per name, with parent links and packed flags), the RRsets
 * they own with RDATA kept as wire bytes, and the open-addressing table that finds a node by key.
 *
 * Memory (a zone may hold millions of records): owner names and RDATA are kept as wire bytes in
 * shared slabs (store.ts); a node's Name and an RRset's decoded `rdata` are built on first use and
 * then kept, so only what is actually queried or printed turns into objects.
 */
import { Name } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { EncodeMode, decodeRData, encodeRData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { hashKey } from './keys.js';
import type { RRset, SourcePos } from './rrset.js';

/**
 * Own nodes of a layered table (NodeTable.copyFrom) before the next version is flattened: each
 * version copies its overlay (cost ~ overlay size), a flatten copies the whole base (~ zone
 * size, once per limit versions), so the limit grows as the square root of the zone's size
 * (the sum is least there), between 64 and 4096.
 */
function overlayLimit(baseNodes: number): number {
  return Math.max(64, Math.min(4096, Math.floor(Math.sqrt(baseNodes * OVERLAY_FACTOR))));
}
const OVERLAY_FACTOR = 32;

/**
 * Open-addressing table of the zone's nodes by key (linear probing over an Int32Array of node
 * indices). A JavaScript Map costs about four times the memory per entry and its growth and
 * probing dominated loading a million names; probing here also works on a suffix of a longer
 * key without slicing it (lookups walk the query name's ancestors).
 */
export class NodeTable {
  /** This table's own nodes (with `base`: the ones added or replaced since it; see copyFrom). */
  nodes: ZoneNode[] = [];
  /**
   * A finished table this one layers over (a derived zone version): probes look here first,
   * then in `base`, which is never changed. Undefined for a table that holds every node itself.
   */
  private base: NodeTable | undefined;
  /** Pairs (hash, node index + 1); index 0 means empty. The hash is kept beside the index so a
   * probe that misses never touches the node (a cache miss per probe in a large zone). */
  private slots = new Int32Array(128);
  private mask = 63;

  /** The node whose key equals `key.slice(start)`; `hash` is hashKey(key, start). */
  find(key: string, start: number, hash: number): ZoneNode | undefined {
    const own = this.findOwn(key, start, hash);
    return own !== undefined || this.base === undefined ? own : this.base.findOwn(key, start, hash);
  }

  private findOwn(key: string, start: number, hash: number): ZoneNode | undefined {
    const slots = this.slots;
    const mask = this.mask;
    const len = key.length - start;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const s = slots[2 * i + 1]!;
      if (s === 0) return undefined;
      if (slots[2 * i] !== hash) continue;
      const n = this.nodes[s - 1]!;
      if (n.key.length === len && (start === 0 ? n.key === key : key.endsWith(n.key))) return n;
    }
  }

  /**
   * Becomes a copy of `other` that shares its nodes (a zone version derived from another,
   * ZoneStore.derive): two array copies, no node is touched. Later inserts and replaces here
   * leave `other` as it was.
   */
  copyFrom(other: NodeTable): void {
    if (other.base === undefined) {
      // Layer over it: nothing is copied.
      this.base = other;
      this.nodes = [];
      this.slots = new Int32Array(64);
      this.mask = 31;
    } else if (other.nodes.length <= overlayLimit(other.base.nodes.length)) {
      // Its (small) overlay is copied, its base shared.
      this.base = other.base;
      this.nodes = other.nodes.slice();
      this.slots = other.slots.slice();
      this.mask = other.mask;
    } else {
      // The overlay has grown: one full copy (every OVERLAY_LIMIT changed names), no layers.
      this.base = undefined;
      this.nodes = [];
      this.slots = new Int32Array(2048);
      this.mask = 1023;
      for (const n of other.all()) this.insert(n, hashKey(n.key, 0));
    }
  }

  /** Every node: the own ones, and the base's not replaced here (base order first). */
  *all(): Generator<ZoneNode> {
    const base = this.base;
    if (base === undefined) {
      yield* this.nodes;
      return;
    }
    for (const n of base.nodes) {
      const h = hashKey(n.key, 0);
      yield this.findOwn(n.key, 0, h) ?? n;
    }
    for (const n of this.nodes) if (base.findOwn(n.key, 0, hashKey(n.key, 0)) === undefined) yield n;
  }

  /** Puts `node` where the node with the same key is (copy-on-write of one node); false when there is none. */
  replace(node: ZoneNode): boolean {
    const slots = this.slots;
    const mask = this.mask;
    const key = node.key;
    const hash = hashKey(key, 0);
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const s = slots[2 * i + 1]!;
      if (s === 0) {
        // Not ours: a base node is shadowed by an own entry for the same key.
        if (this.base?.findOwn(key, 0, hash) === undefined) return false;
        this.insert(node, hash);
        return true;
      }
      if (slots[2 * i] !== hash || this.nodes[s - 1]!.key !== key) continue;
      this.nodes[s - 1] = node;
      return true;
    }
  }

  /** Adds `node`; `hash` is hashKey(node.key, 0) (kept here only, not on the node). */
  insert(node: ZoneNode, hash: number): void {
    this.nodes.push(node);
    if (this.nodes.length * 4 > this.slots.length) this.grow();
    this.place(hash, this.nodes.length);
  }

  private place(hash: number, slot: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = hash;
    slots[2 * i + 1] = slot;
  }

  /** Doubles the table, re-placing the (hash, index) pairs it holds (no node is touched). */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.slots.length / 2 - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}

/**
 * An RRset as the zone stores it: each record's RDATA in wire form (case kept) in shared slabs,
 * decoded into `rdata` objects only when asked for. The decoded array is cached; the loader drops
 * the caches at finish(), so a loaded zone holds bytes, not objects, for records nobody asked for.
 */
export class ZoneRRset implements RRset {
  readonly node: ZoneNode;
  /** Class * 65536 + type: one field for both (see the getters). */
  private readonly typeClass: number;
  ttl: number;
  /**
   * First record's RDATA: `buf0[off .. off + len)` with `pos0` = off * 2048 + len (one small
   * integer instead of two fields; a zone holds a million of these), or, when it does not fit
   * (pos0 < 0), exactly `buf0`.
   */
  private buf0: Uint8Array;
  private pos0: number;
  /** Further records, decoded and canonical forms: only for the RRsets that have them. */
  private x: RRsetExtra | undefined;
  /** Source position of the first record: line, and column + 65536 * file index (ZoneStore's file table), or -1. */
  private readonly line: number;
  private readonly where: number;

  /** `where` is column + 65536 * file index in the owning zone's file table, or -1 (see sourceIn). */
  constructor(node: ZoneNode, type: number, cls: number, ttl: number, buf: Uint8Array, off: number, len: number, line: number, where: number) {
    this.node = node;
    this.typeClass = cls * 0x10000 + type;
    this.ttl = ttl;
    if (len < POS_LEN_LIMIT && off < POS_OFF_LIMIT) {
      this.buf0 = buf;
      this.pos0 = off * POS_LEN_LIMIT + len;
    } else {
      this.buf0 = buf.subarray(off, off + len);
      this.pos0 = -1;
    }
    this.x = undefined;
    this.line = line;
    this.where = where;
  }

  // typeClass < 2^32: the low 16 bits survive ToInt32, and >>> reads it as unsigned.
  get type(): number {
    return this.typeClass & 0xffff;
  }

  get class(): number {
    return this.typeClass >>> 16;
  }

  get name(): Name {
    return this.node.name;
  }

  /** Number of records. */
  get count(): number {
    const more = this.x?.more;
    return more === undefined ? 1 : 1 + more.length;
  }

  /**
   * @internal Where the first record was read, given the owning zone's file table (the zone
   * interns file names; an RRset keeps an index, not a string). See ZoneStore.sourceOf.
   */
  sourceIn(files: readonly string[]): SourcePos | undefined {
    if (this.where < 0) return undefined;
    return { file: files[Math.floor(this.where / 0x10000)]!, line: this.line, column: this.where % 0x10000 };
  }

  private extra(): RRsetExtra {
    let x = this.x;
    if (x === undefined) {
      x = { more: undefined, cache: undefined, canonical: undefined };
      this.x = x;
    }
    return x;
  }

  /** Decoded RDATA (decoded on first use, then kept). */
  get rdata(): unknown[] {
    const x = this.x;
    if (x?.cache !== undefined) return x.cache;
    const c = this.decode();
    this.extra().cache = c;
    return c;
  }

  set rdata(v: unknown[]) {
    // Callers that replace the data get exactly what they set; the stored bytes follow it.
    const w = new Writer();
    const parts = v.map((d) => {
      w.reset();
      encodeRData(this.type, w, d, EncodeMode.Message);
      return w.buf.slice(0, w.pos);
    });
    this.buf0 = parts[0] ?? new Uint8Array(0);
    this.pos0 = -1;
    this.x = { more: parts.length > 1 ? parts.slice(1) : undefined, cache: v, canonical: undefined };
  }

  get wire(): Uint8Array[] {
    const x = this.x;
    if (x?.canonical !== undefined) return x.canonical;
    const w = new Writer();
    const c = this.decode().map((d) => {
      w.reset();
      encodeRData(this.type, w, d, EncodeMode.Canonical);
      return w.toBytes();
    });
    this.extra().canonical = c;
    return c;
  }

  set wire(v: Uint8Array[] | undefined) {
    if (v !== undefined || this.x !== undefined) this.extra().canonical = v;
  }

  /** Record `i`'s stored RDATA (message form without compression pointers outside it). */
  storedAt(i: number): Uint8Array {
    if (i !== 0) return this.x!.more![i - 1]!;
    const p = this.pos0;
    if (p < 0) return this.buf0;
    const off = (p - (p % POS_LEN_LIMIT)) / POS_LEN_LIMIT;
    return this.buf0.subarray(off, off + (p % POS_LEN_LIMIT));
  }

  /**
   * Wire form (case kept) of the domain name at byte `offset` of record `i`'s stored RDATA,
   * without decoding the record (ZoneStore.keyOfWire makes its key). Only for the first name of a
   * type (NS/CNAME at 0, MX at 2, SRV at 6): it was written before any other name, so it holds
   * no compression pointer.
   */
  nameWireAt(i: number, offset: number): Uint8Array {
    const b = this.storedAt(i);
    let end = offset;
    while (end < b.length && b[end] !== 0) end += b[end]! + 1;
    return b.subarray(offset, end + 1);
  }

  /** Decodes every record without caching (checks, printing a large zone). */
  decode(): unknown[] {
    const cached = this.x?.cache;
    if (cached !== undefined) return cached;
    const n = this.count;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const b = this.storedAt(i);
      out[i] = decodeRData(this.type, new Reader(b), b.length);
    }
    return out;
  }

  /**
   * @internal Appends a record's stored form (the loader checked it is not a duplicate);
   * `data` is its decoded form, or undefined to have it decoded when asked for.
   */
  append(view: Uint8Array, data: unknown): void {
    const x = this.extra();
    if (x.more === undefined) x.more = [view];
    else x.more.push(view);
    if (x.cache !== undefined) {
      if (data === undefined) x.cache = undefined;
      else x.cache.push(data);
    }
    x.canonical = undefined;
  }

  /** @internal Forgets the decoded form (it is rebuilt on demand). */
  dropCache(): void {
    const x = this.x;
    if (x === undefined) return;
    x.cache = undefined;
    if (x.more === undefined && x.canonical === undefined) this.x = undefined;
  }
}

/** Limits of ZoneRRset.pos0's packing: offset * 2048 + length stays a small integer (< 2^31). */
const POS_LEN_LIMIT = 2048;
const POS_OFF_LIMIT = 1 << 20;

interface RRsetExtra {
  more: Uint8Array[] | undefined;
  cache: unknown[] | undefined;
  canonical: Uint8Array[] | undefined;
}

/** Records of `set` decoded, without keeping them on a stored RRset (for one-off walks). */
export function peekRData(set: RRset): unknown[] {
  return set instanceof ZoneRRset ? set.decode() : set.rdata;
}

/** Number of records in `set`, without decoding them. */
export function rdataCount(set: RRset): number {
  return set instanceof ZoneRRset ? set.count : set.rdata.length;
}

export class ZoneNode {
  /** Lowercased wire form as a Latin-1 string (the zone's map key; see Name.key). */
  readonly key: string;
  /**
   * The parent node. In a version derived from another (ZoneStore.derive) an untouched node
   * keeps its parent from the version it was built in: the same name and flags, maybe not the
   * same object as this version's node for it, so compare parents by key, not identity.
   */
  readonly parent: ZoneNode | undefined;
  /**
   * The node's RRsets: the only one (most nodes have one), or an array of all of them once
   * there are several or `rrsets` was asked for: a million nodes would otherwise each carry an
   * array. (Fields are few on purpose: a zone holds a node per name.)
   */
  private sets: RRset | RRset[] | undefined;
  /** Flags (bits 0-2) and the number of children (bits 3 and up), packed: see the accessors. */
  private bits: number;
  /**
   * The owner name: the Name once built; or a view of its bytes (case kept) in a slab, for
   * the few names with uppercase letters; or undefined when the name is all lowercase, so its
   * bytes are the key's (nothing else is stored).
   */
  private nameRef: Name | Uint8Array | undefined;

  constructor(name: Name | undefined, parent: ZoneNode | undefined, key?: string, buf?: Uint8Array, off = 0, len = 0) {
    this.key = key ?? name!.key;
    this.parent = parent;
    this.sets = undefined;
    this.bits = 0;
    this.nameRef = name ?? buf?.subarray(off, off + len);
  }

  /** hashKey(key, 0), the node table's hash of this node. */
  get hash(): number {
    return hashKey(this.key, 0);
  }

  get name(): Name {
    const r = this.nameRef;
    if (r instanceof Name) return r;
    const n = this.peekName();
    this.nameRef = n;
    return n;
  }

  /**
   * The owner name without keeping it on the node: what a walk over the whole zone (a transfer
   * out, the copy written to disk) uses, so that it does not leave a Name on every node of a
   * large zone (hundreds of MiB for a million names).
   */
  peekName(): Name {
    const r = this.nameRef;
    if (r instanceof Name) return r;
    if (r !== undefined) return new Name(r);
    const k = this.key;
    const w = new Uint8Array(k.length);
    for (let i = 0; i < k.length; i++) w[i] = k.charCodeAt(i);
    return new Name(w);
  }

  /** NS here and not at the apex: a zone cut (RFC 1034 §4.2.1). */
  get isDelegation(): boolean {
    return (this.bits & 1) !== 0;
  }

  set isDelegation(v: boolean) {
    this.bits = v ? this.bits | 1 : this.bits & ~1;
  }

  /** At or below a cut (other than the cut itself): glue or occluded data. */
  get isBelowCut(): boolean {
    return (this.bits & 2) !== 0;
  }

  set isBelowCut(v: boolean) {
    this.bits = v ? this.bits | 2 : this.bits & ~2;
  }

  /** Has a `*` child (RFC 4592 §2.1.1). */
  get hasWildcardChild(): boolean {
    return (this.bits & 4) !== 0;
  }

  set hasWildcardChild(v: boolean) {
    this.bits = v ? this.bits | 4 : this.bits & ~4;
  }

  /** Number of child nodes. */
  get children(): number {
    return this.bits >>> 3;
  }

  set children(v: number) {
    this.bits = (this.bits & 7) | (v << 3);
  }

  /** RRsets ordered by type (after Zone.finish()). Treat as read-only. */
  get rrsets(): RRset[] {
    const s = this.sets;
    if (Array.isArray(s)) return s;
    const sets = s === undefined ? [] : [s];
    this.sets = sets;
    return sets;
  }

  set rrsets(v: RRset[]) {
    this.sets = v;
  }

  /** Number of RRsets, without making the array. */
  get setCount(): number {
    const s = this.sets;
    return s === undefined ? 0 : Array.isArray(s) ? s.length : 1;
  }

  /** RRset `i` (0 <= i < setCount), without making the array. */
  setAt(i: number): RRset {
    const s = this.sets!;
    return Array.isArray(s) ? s[i]! : s;
  }

  /** No RRsets: an empty non-terminal (or a node whose data was all occluded). */
  get isEmptyNonTerminal(): boolean {
    return this.setCount === 0;
  }

  get(type: number): RRset | undefined {
    const sets = this.sets;
    if (sets === undefined) return undefined;
    if (!Array.isArray(sets)) return sets.type === type ? sets : undefined;
    for (let i = 0; i < sets.length; i++) if (sets[i]!.type === type) return sets[i];
    return undefined;
  }

  /** @internal Adds an RRset while loading. */
  addSet(set: RRset): void {
    const s = this.sets;
    if (s === undefined) this.sets = set;
    else if (Array.isArray(s)) s.push(set);
    else this.sets = [s, set];
  }

  /**
   * @internal A copy for a new zone version (copy-on-write, ZoneStore.derive): the same name,
   * flags, child count and RRset objects, in a list of its own, so the copy can be edited while
   * readers of the old version keep seeing this node unchanged.
   */
  cloneFor(parent: ZoneNode | undefined): ZoneNode {
    const n = new ZoneNode(undefined, parent, this.key);
    n.nameRef = this.nameRef;
    n.bits = this.bits;
    const s = this.sets;
    n.sets = Array.isArray(s) ? s.slice() : s;
    return n;
  }

  /** @internal Removes the RRset of `type` (from a copy being edited); the removed set, if any. */
  removeSet(type: number): RRset | undefined {
    const s = this.sets;
    if (s === undefined) return undefined;
    if (!Array.isArray(s)) {
      if (s.type !== type) return undefined;
      this.sets = undefined;
      return s;
    }
    const i = s.findIndex((x) => x.type === type);
    if (i < 0) return undefined;
    const [removed] = s.splice(i, 1);
    return removed;
  }

  /** @internal Orders the RRsets by type (Zone.finish()). */
  sortSets(): void {
    const sets = this.sets;
    if (!Array.isArray(sets) || sets.length < 2) return;
    sets.sort(byType);
  }
}

function byType(x: RRset, y: RRset): number {
  return x.type - y.type;
}
