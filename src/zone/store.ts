/**
 * Building and holding a zone's data (the storage half of a Zone; zone.ts adds the RFC 1034
 * §4.3.2 lookup): names interned once in nodes with parent links, RRsets per node in wire form,
 * flags decided once in finish().
 *
 * Invariants: every ancestor of a name with data, up to the apex, has a node (empty
 * non-terminals get data-less nodes, RFC 4592 §2.2.2), so "no node" means "no such name".
 * Flags (delegation, below a cut, wildcard child) are decided once in finish(); after it the
 * stored data is read-only. Everything a store keeps (key scratch, file-name table, slabs) is its
 * own: no module-level mutable state (add()'s scratch writer keeps nothing between calls), so zones
 * built one after the other (reloads) share nothing.
 */
import { Name, compareNameKeys } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import type { ResourceRecord } from '../wire/record.js';
import { EncodeMode, RRClass, RRType, decodeRData, encodeRData, rdataEquals, typeDef } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { KeyBuilder, hashKey, isLabelBoundary } from './keys.js';
import { NodeTable, ZoneNode, ZoneRRset, rdataCount } from './node.js';
import { RawRData } from './raw-rdata.js';
import type { RRset, SourcePos } from './rrset.js';

/** One name's change for ZoneStore.deriveFrom: the RRset types replaced (dropped) and the new records (of those types). */
export interface NodeChange {
  name: Name;
  types: readonly number[];
  records: readonly ResourceRecord[];
}

export interface ZoneWarning {
  reason: string;
  name: Name;
  type: number;
  source?: SourcePos | undefined;
}

/** Shared byte storage: many small pieces in a few large buffers (one view would cost ~100 bytes). */
class Slabs {
  /** Empty until the first put: a version derived by a dynamic update stores a few records only. */
  buf: Buffer = EMPTY;
  pos = 0;
  /** Start with a small slab (derived versions). */
  small = false;

  private room(len: number): void {
    if (this.pos + len > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(this.buf === EMPTY && this.small ? Math.max(SMALL_SLAB, len) : Math.max(SLAB_SIZE, len));
      this.pos = 0;
    }
  }

  /** Copies `src[0..len)` in (native copy) and returns the buffer it went to; its offset is `pos - len`. */
  putBuffer(src: Buffer, len: number): Buffer {
    this.room(len);
    const b = this.buf;
    if (len <= 32) {
      // A loop beats Buffer#copy's argument checks for the short RDATA most records have.
      const p = this.pos;
      for (let i = 0; i < len; i++) b[p + i] = src[i]!;
    } else {
      src.copy(b, this.pos, 0, len);
    }
    this.pos += len;
    return b;
  }

  /** Same for a short Uint8Array (a name). */
  putBytes(src: Uint8Array): Buffer {
    const len = src.length;
    this.room(len);
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < len; i++) b[p + i] = src[i]!;
    this.pos += len;
    return b;
  }
}

/**
 * Scratch for add(): a record's stored RDATA is encoded here and copied into the slabs before
 * add() returns, so nothing of it outlives the call (the one exception to "no module-level
 * state": it holds no zone's data between calls). Shared because a Writer is ~150 KiB and
 * every dynamic update derives a new store: one per store was most of an update's CPU and
 * garbage. Made on first use.
 */
let scratch: Writer | undefined;
/** scratch's buffer as a Buffer, for native copies into the slabs. */
let scratchBytes: Buffer | undefined;
function scratchWriter(): Writer {
  if (scratch === undefined) {
    scratch = new Writer();
    scratchBytes = Buffer.from(scratch.buf.buffer, scratch.buf.byteOffset, scratch.buf.length);
  }
  return scratch;
}

const SLAB_SIZE = 1 << 20;
const SMALL_SLAB = 4096;
const EMPTY = Buffer.alloc(0);

/** RFC 4034 §6.1 order on node keys (lowercased wire form as Latin-1); no Name objects are built. */
function byCanonicalKey(x: ZoneNode, y: ZoneNode): number {
  return compareNameKeys(x.key, y.key);
}

/** Types whose RDATA is one domain name, and that field's key (from the type table). */
const NAME_ONLY = new Map<number, string>(
  [RRType.NS, RRType.CNAME, RRType.PTR, RRType.DNAME].map((t) => [t, typeDef(t)!.fields[0]!.key]),
);
const MX_PREFERENCE = typeDef(RRType.MX)!.fields[0]!.key;
const MX_EXCHANGE = typeDef(RRType.MX)!.fields[1]!.key;

/**
 * Writes a record's RDATA in stored form (message form, case kept). The one-name types and MX,
 * a third of a typical zone, copy the name's bytes directly: the general encoder prepares
 * compression data for every name it writes, which storing does not need.
 */
function storeRData(w: Writer, type: number, data: unknown): void {
  const key = NAME_ONLY.get(type);
  if (key !== undefined) {
    const name = (data as Record<string, Name>)[key]!;
    w.bytes(name.wire);
    return;
  }
  if (type === RRType.MX) {
    const d = data as Record<string, unknown>;
    w.u16(d[MX_PREFERENCE] as number);
    w.bytes((d[MX_EXCHANGE] as Name).wire);
    return;
  }
  encodeRData(type, w, data, EncodeMode.Message);
}

/**
 * rdataEquals() on stored forms of the types the loader's raw path takes (see raw-rdata.ts):
 * names ignore ASCII case (label length octets are < 0x40, so lowercasing whole name bytes is
 * safe), everything else is exact; MX's preference is not a name.
 */
function rawEquals(type: number, a: Uint8Array, b: Uint8Array, len: number): boolean {
  if (a.length !== len) return false;
  let from = len;
  if (type === RRType.NS || type === RRType.CNAME || type === RRType.PTR || type === RRType.DNAME) from = 0;
  else if (type === RRType.MX) from = 2;
  for (let i = 0; i < len; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (i < from) return false;
    if ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a) return false;
  }
  return true;
}

/** A zone's names and records (see the module comment); Zone extends it with the lookup. */
export class ZoneStore {
  readonly origin: Name;
  readonly class: number;
  readonly apex: ZoneNode;
  /** Problems noticed while adding (TTL mismatch within an RRset): for the checks. */
  readonly warnings: ZoneWarning[] = [];
  protected readonly table = new NodeTable();
  /** Builds node keys with their hashes (the scratch and last results are this zone's own). */
  protected readonly keys = new KeyBuilder();
  /** File names of source positions, interned (a zone has a handful; every RRset keeps an index). */
  private fileNames: string[] = [];
  private readonly fileIndexes = new Map<string, number>();
  private lastFile: string | undefined;
  private lastFileIndex = 0;
  private lastParent: ZoneNode;
  private sorted: ZoneNode[] | undefined;
  private count = 0;
  private finished = false;
  /** Set by finish(): nodes owning NS records (apex included), and whether any owns a DNAME. */
  private nsNodes: ZoneNode[] | undefined;
  private dnamePresent = false;
  private readonly slabs = new Slabs();
  /** addStored's last owner (wire form) and its node. */
  private readonly lastOwner = new Uint8Array(256);
  private lastOwnerLen = 0;
  private lastOwnerNode: ZoneNode | undefined;
  /**
   * Set in a version derived from another (derive()): the nodes this version made (copies of
   * the base's it changed, and new ones). Every other node is shared with the base and is
   * never changed here.
   */
  private owned: Set<ZoneNode> | undefined;

  constructor(origin: Name, cls: number = RRClass.IN) {
    this.origin = origin;
    this.class = cls;
    this.apex = new ZoneNode(origin, undefined, this.keys.key(origin.wire));
    this.table.insert(this.apex, this.keys.hash);
    this.lastParent = this.apex;
  }

  /** Records held (duplicates not counted). */
  get recordCount(): number {
    return this.count;
  }



  /**
   * Adds a record while loading. Records with the same name, type and class form one RRset;
   * an identical record is dropped (as BIND does). Throws RangeError for a name outside the
   * zone or after finish().
   */
  add(rr: ResourceRecord, source?: SourcePos): void {
    if (this.finished) throw new RangeError('zone is finished; build a new one to change it');
    const node = this.nodeFor(rr.name);
    let set: RRset | undefined;
    for (let i = 0, n = node.setCount; i < n; i++) {
      const s = node.setAt(i);
      if (s.type === rr.type && s.class === rr.class) {
        set = s;
        break;
      }
    }
    let data = rr.data;
    let src: Buffer;
    let len: number;
    if (data instanceof RawRData) {
      // The loader's direct-to-wire path: already the stored form.
      src = data.bytes;
      len = data.length;
    } else {
      const w = scratchWriter();
      w.reset();
      storeRData(w, rr.type, data);
      src = scratchBytes!;
      len = w.pos;
    }
    if (set === undefined) {
      const buf = this.slabs.putBuffer(src, len);
      const where = source === undefined ? -1 : Math.min(source.column, 0xffff) + 0x10000 * this.fileIndex(source.file);
      const created = new ZoneRRset(node, rr.type, rr.class, rr.ttl, buf, this.slabs.pos - len, len, source?.line ?? 0, where);
      node.addSet(created);
      this.count++;
      return;
    }
    if (data instanceof RawRData) {
      if (set instanceof ZoneRRset) {
        // Compared as stored bytes, as rdataEquals would compare the values: no decoded copy
        // of the set is made (it would live until finish() and then be garbage in old space).
        for (let i = 0, n = set.count; i < n; i++) if (rawEquals(rr.type, set.storedAt(i), src, len)) return;
        data = undefined;
      } else {
        data = decodeRData(rr.type, new Reader(src.subarray(0, len)), len);
      }
    }
    if (data !== undefined) {
      // Duplicates compare as RDATA values (names ignore case), as BIND's do.
      for (const d of set.rdata) if (rdataEquals(rr.type, d, data)) return;
    }
    // RFC 4034 §3: RRSIGs at one owner cover different RRsets, each with its own TTL; they are no RRset of their own.
    if (rr.ttl !== set.ttl && rr.type !== RRType.RRSIG) {
      this.warnings.push({ reason: `TTL ${rr.ttl} differs from the RRset's TTL ${set.ttl}; using ${set.ttl}`, name: node.name, type: rr.type, source });
    }
    if (set instanceof ZoneRRset) {
      const buf = this.slabs.putBuffer(src, len);
      set.append(buf.subarray(this.slabs.pos - len, this.slabs.pos), data);
    } else {
      set.rdata.push(data);
    }
    this.count++;
  }

  /**
   * @internal add() for a record already in stored form (an inbound transfer built from the
   * wire, src/transfer/axfr-in.ts): owner `owner[0..ownerLen)` in wire form, RDATA
   * `src[0..len)`; `same(stored, src, len)` tells a duplicate (rdataEquals on stored forms).
   * No Name or data object is made unless a name is new (its node) or a warning is due.
   * Throws RangeError for an owner outside the zone.
   */
  addStored(owner: Uint8Array, ownerLen: number, type: number, cls: number, ttl: number, src: Buffer, len: number,
    same: (stored: Uint8Array, src: Uint8Array, len: number) => boolean): void {
    if (this.finished) throw new RangeError('zone is finished; build a new one to change it');
    // Records of one name arrive together: the last owner's node is checked first.
    const last = this.lastOwner;
    let node = this.lastOwnerNode;
    let hit = node !== undefined && this.lastOwnerLen === ownerLen;
    for (let i = 0; hit && i < ownerLen; i++) if (last[i] !== owner[i]) hit = false;
    if (!hit) {
      const keys = this.keys;
      const key = keys.key(owner, ownerLen);
      const hash = keys.hash;
      node = this.table.find(key, 0, hash) ?? this.newNode(undefined, owner, key, hash, keys.hadUpper, ownerLen);
      for (let i = 0; i < ownerLen; i++) last[i] = owner[i]!;
      this.lastOwnerLen = ownerLen;
      this.lastOwnerNode = node;
    }
    let set: RRset | undefined;
    for (let i = 0, n = node!.setCount; i < n; i++) {
      const s = node!.setAt(i);
      if (s.type === type && s.class === cls) {
        set = s;
        break;
      }
    }
    if (set === undefined) {
      const buf = this.slabs.putBuffer(src, len);
      node!.addSet(new ZoneRRset(node!, type, cls, ttl, buf, this.slabs.pos - len, len, 0, -1));
      this.count++;
      return;
    }
    const zs = set as ZoneRRset;
    for (let i = 0, n = zs.count; i < n; i++) if (same(zs.storedAt(i), src, len)) return;
    // RFC 4034 §3: RRSIGs at one owner cover different RRsets, each with its own TTL; they are no RRset of their own.
    if (ttl !== set.ttl && type !== RRType.RRSIG) {
      this.warnings.push({ reason: `TTL ${ttl} differs from the RRset's TTL ${set.ttl}; using ${set.ttl}`, name: node!.name, type, source: undefined });
    }
    const buf = this.slabs.putBuffer(src, len);
    zs.append(buf.subarray(this.slabs.pos - len, this.slabs.pos), undefined);
    this.count++;
  }

  private nodeFor(name: Name): ZoneNode {
    const wire = name.wire;
    const keys = this.keys;
    const key = keys.key(wire);
    const hash = keys.hash;
    const existing = this.table.find(key, 0, hash);
    if (existing !== undefined) return existing;
    return this.newNode(name, wire, key, hash, keys.hadUpper);
  }

  /**
   * `hash` is hashKey(key, 0); `upper` says `wire` has uppercase letters (so is not the key's
   * bytes). The name is `wire[0..wireLen)` (a scratch buffer may be longer; nothing keeps it).
   */
  private newNode(name: Name | undefined, wire: Uint8Array, key: string, hash: number, upper: boolean, wireLen = wire.length): ZoneNode {
    const originKey = this.apex.key;
    if (key.length < originKey.length || !key.endsWith(originKey) || (key.length > originKey.length && !isLabelBoundary(key, key.length - originKey.length))) {
      throw new RangeError(`${(name ?? new Name(wire.slice(0, wireLen))).toString()} is outside zone ${this.origin.toString()}`);
    }
    // The parent's key and wire are suffixes of ours: no parent Name is built.
    const skip = key.charCodeAt(0) + 1;
    // Names in a zone file come grouped: the last new node's parent is usually this one's too.
    const last = this.lastParent;
    let parent = last.key.length === key.length - skip && key.endsWith(last.key) ? last : undefined;
    if (parent === undefined) {
      const parentHash = hashKey(key, skip);
      parent = this.table.find(key, skip, parentHash);
      if (parent === undefined) {
        const parentWire = wire.subarray(skip, wireLen);
        const parentKey = this.keys.key(parentWire);
        parent = this.newNode(undefined, parentWire, parentKey, parentHash, this.keys.hadUpper);
      }
    }
    // Copy-on-write: the parent's child count and flags change, so a shared parent is copied.
    if (this.owned !== undefined) parent = this.own(parent);
    this.lastParent = parent;
    // A name with uppercase letters keeps its bytes in a shared slab; an all-lowercase one is
    // its key's bytes. Either way its Name is rebuilt when first asked for.
    let node: ZoneNode;
    if (upper) {
      const buf = this.slabs.putBytes(wireLen === wire.length ? wire : wire.subarray(0, wireLen));
      node = new ZoneNode(undefined, parent, key, buf, this.slabs.pos - wireLen, wireLen);
    } else {
      node = new ZoneNode(undefined, parent, key);
    }
    parent.children++;
    if (wire[0] === 1 && wire[1] === 0x2a) parent.hasWildcardChild = true;
    this.table.insert(node, hash);
    this.owned?.add(node);
    this.sorted = undefined;
    return node;
  }

  /**
   * Makes this (new, empty) store the next version of `base` with `changes` applied, sharing
   * every node and RRset the changes do not touch (copy-on-write): a touched node is copied
   * (and so its ancestors whose child counts change), its replaced RRsets are dropped from the
   * copy and the new records added as add() does. `base` is not changed, so a reader holding it
   * sees the old version whole. The result is finished.
   *
   * Precondition (the caller falls back to building a whole zone otherwise): no change leaves a
   * node without RRsets, adds or removes NS below the apex, or touches DNAME — those move zone
   * cuts or node existence, which finish() decides over the whole tree.
   */
  protected deriveFrom(base: ZoneStore, changes: readonly NodeChange[]): void {
    if (this.finished || !base.finished) throw new RangeError('derive: needs a finished base and a new store');
    this.table.copyFrom(base.table);
    this.owned = new Set();
    this.fileNames = base.fileNames;
    this.count = base.count;
    this.dnamePresent = base.dnamePresent;
    this.slabs.small = true;
    const apex = base.apex.cloneFor(undefined);
    this.table.replace(apex);
    this.owned.add(apex);
    (this as { apex: ZoneNode }).apex = apex;
    this.lastParent = apex;
    // Shallow names first: a parent is copied before its children look it up.
    const ordered = [...changes].sort((a, b) => a.name.labelCount - b.name.labelCount);
    for (const c of ordered) {
      const found = this.table.find(c.name.key, 0, hashKey(c.name.key, 0));
      if (found === undefined) continue;
      const node = this.own(found);
      for (const t of c.types) {
        const gone = node.removeSet(t);
        if (gone !== undefined) this.count -= rdataCount(gone);
      }
    }
    for (const c of ordered) for (const rr of c.records) this.add(rr);
    // finish() for the nodes this version made; the shared ones keep their flags.
    const nsNodes: ZoneNode[] = [];
    const seen = new Set<string>();
    for (const n of base.nsNodes ?? []) {
      const cur = this.table.find(n.key, 0, hashKey(n.key, 0));
      if (cur !== undefined && cur.get(RRType.NS) !== undefined) {
        nsNodes.push(cur);
        seen.add(cur.key);
      }
    }
    for (const node of this.owned) {
      const hasNs = node.get(RRType.NS) !== undefined;
      node.isDelegation = node !== apex && hasNs;
      if (hasNs && !seen.has(node.key)) nsNodes.push(node);
      if (node.get(RRType.DNAME) !== undefined) this.dnamePresent = true;
      const p = node.parent;
      node.isBelowCut = p !== undefined && (p.isDelegation || p.isBelowCut);
      node.sortSets();
    }
    this.nsNodes = nsNodes;
    this.sorted = undefined;
    this.finished = true;
  }

  /** This version's own copy of `node` (see deriveFrom), made on first need. */
  private own(node: ZoneNode): ZoneNode {
    const owned = this.owned!;
    if (owned.has(node)) return node;
    const cur = this.table.find(node.key, 0, hashKey(node.key, 0));
    if (cur !== undefined && cur !== node && owned.has(cur)) return cur;
    const p = node.parent;
    const parent = p === undefined ? undefined : this.table.find(p.key, 0, hashKey(p.key, 0)) ?? p;
    const copy = node.cloneFor(parent);
    this.table.replace(copy);
    owned.add(copy);
    return copy;
  }

  /** Decides the flags; the zone is read-only afterwards. */
  finish(): void {
    if (this.finished) return;
    // One pass in insertion order: a node's parent was always added before it (newNode makes
    // the parent first), so the parent's flags are already decided. Below a cut = some
    // ancestor is a delegation = the parent is one or is itself below one.
    const nsNodes: ZoneNode[] = [];
    let dname = false;
    for (const node of this.table.all()) {
      const hasNs = node.get(RRType.NS) !== undefined;
      node.isDelegation = node !== this.apex && hasNs;
      if (hasNs) nsNodes.push(node);
      if (!dname && node.get(RRType.DNAME) !== undefined) dname = true;
      const p = node.parent;
      node.isBelowCut = p !== undefined && (p.isDelegation || p.isBelowCut);
      // Order RRsets by type so iteration (ANY, printing) is stable.
      node.sortSets();
      // Decoded forms made while loading (duplicate checks) are dropped: bytes are the store.
      for (let i = 0, n = node.setCount; i < n; i++) {
        const set = node.setAt(i);
        if (set instanceof ZoneRRset) set.dropCache();
      }
    }
    this.nsNodes = nsNodes;
    this.dnamePresent = dname;
    this.finished = true;
  }

  /**
   * @internal For the checks, after finish() (undefined before): the nodes owning NS records,
   * apex included, in the order they were added; and whether any node owns a DNAME.
   */
  get nsOwners(): readonly ZoneNode[] | undefined {
    return this.nsNodes;
  }

  /** @internal See nsOwners. */
  get hasDname(): boolean {
    return this.dnamePresent;
  }

  /** Every node, in the order names were first added (cheaper than nodes() when order does not matter). */
  allNodes(): IterableIterator<ZoneNode> {
    return this.table.all();
  }

  /** Uncompressed canonical RDATA of each record of `set` (RFC 4034 §6.2; computed on first use, then kept). */
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

  /** True when `key` (see flatKey) is this zone's origin or below it. */
  containsKey(key: string): boolean {
    const originKey = this.apex.key;
    return key.length >= originKey.length && key.endsWith(originKey) &&
      (key.length === originKey.length || isLabelBoundary(key, key.length - originKey.length));
  }

  /** The node whose key (see flatKey) is `key`. */
  nodeByKey(key: string): ZoneNode | undefined {
    return this.table.find(key, 0, hashKey(key, 0));
  }

  /** The node owning exactly `name`, if any (empty non-terminals included). */
  node(name: Name): ZoneNode | undefined {
    const key = name.key;
    return this.table.find(key, 0, hashKey(key, 0));
  }

  getRRset(name: Name, type: number): RRset | undefined {
    const key = name.key;
    return this.table.find(key, 0, hashKey(key, 0))?.get(type);
  }

  /** Every node in DNSSEC canonical order (RFC 4034 §6.1), apex first. */
  nodes(): ZoneNode[] {
    if (this.sorted === undefined) {
      this.sorted = [...this.table.all()].sort(byCanonicalKey);
    }
    return this.sorted;
  }

  /** RFC 1034 §4.3.2 step 3 for this zone (see LookupResult). */

  /** Where the first record of `set` was read (undefined for records added without a position). */
  sourceOf(set: RRset): SourcePos | undefined {
    return set instanceof ZoneRRset ? set.sourceIn(this.fileNames) : set.source;
  }

  /** The key (see Name.key; built flat, for fast probes) of a name in wire form. */
  keyOfWire(wire: Uint8Array): string {
    return this.keys.key(wire);
  }

  /** The key of `name`, flat (see keyOfWire). */
  flatKey(name: Name): string {
    return this.keys.key(name.wire);
  }

  private fileIndex(file: string): number {
    if (file === this.lastFile) return this.lastFileIndex;
    let i = this.fileIndexes.get(file);
    if (i === undefined) {
      i = this.fileNames.length;
      this.fileNames.push(file);
      this.fileIndexes.set(file, i);
    }
    this.lastFile = file;
    this.lastFileIndex = i;
    return i;
  }
}
