/**
 * An in-memory zone: names interned once in nodes with parent links, RRsets per node, and the
 * RFC 1034 §4.3.2 lookup (exact match, closest encloser, wildcards per RFC 4592, delegation
 * cuts, DNAME per RFC 6672).
 *
 * Invariants: every ancestor of a name with data, up to the apex, has a node (empty
 * non-terminals get data-less nodes, RFC 4592 §2.2.2), so "no node" means "no such name".
 * Flags (delegation, below a cut, wildcard child) are decided once in finish(); after it the
 * zone is read-only. Lookups allocate their result and, the first time a node or RRset is
 * reached, its Name or decoded RDATA (kept from then on).
 *
 * Memory (a zone may hold millions of records): owner names and RDATA are kept as wire bytes in
 * shared 1 MiB slabs; a node's Name and an RRset's decoded `rdata` are built on first use and
 * then kept, so only what is actually queried or printed turns into objects.
 */
import { type ResourceRecord } from '../wire/record.js';
import { Name, compareNameKeys } from '../wire/name.js';
import { Writer } from '../wire/writer.js';
import { Reader } from '../wire/reader.js';
import { RawRData } from './raw-rdata.js';
import { EncodeMode, RRClass, RRType, decodeRData, encodeRData, rdataEquals, typeDef } from '../wire/types.js';

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
  /** Canonical (RFC 4034 §6.2) RDATA per record for transfers and DNSSEC: see Zone.wireOf. */
  wire?: Uint8Array[] | undefined;
}

/** Shared byte storage: many small pieces in a few large buffers (one view would cost ~100 bytes). */
class Slabs {
  buf: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
  pos = 0;

  private room(len: number): void {
    if (this.pos + len > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, len));
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

const keyScratch = Buffer.allocUnsafeSlow(256);
/** Buffer#latin1Slice: what Buffer#toString('latin1') calls, without its argument handling. */
interface LatinSlice {
  latin1Slice(start: number, end: number): string;
}

/**
 * The same string as `Name.key` (lowercased wire form, one Latin-1 character per octet), built
 * natively as one flat string: Name.key is built by concatenation, which V8 keeps as a chain of
 * small strings that every Map probe must flatten and hash.
 */
export function flatKey(name: Name): string {
  return keyOf(name.wire);
}

/** Hash of the key keyOf() last built (returned beside it without allocating a pair). */
let lastHash = 0;
/** Whether the wire form keyOf() last read had an uppercase letter (so differs from its key). */
let lastHadUpper = false;

function keyOf(wire: Uint8Array): string {
  const n = wire.length;
  let h = FNV_OFFSET;
  let upper = false;
  for (let i = 0; i < n; i++) {
    let b = wire[i]!;
    if (b >= 0x41 && b <= 0x5a) {
      b |= 0x20;
      upper = true;
    }
    keyScratch[i] = b;
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  lastHash = h & HASH_MASK;
  lastHadUpper = upper;
  return (keyScratch as unknown as LatinSlice).latin1Slice(0, n);
}

/** FNV-1a of `key[start..]`, the same as keyOf() computes over the bytes (kept a small integer). */
function hashKey(key: string, start: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  return h & HASH_MASK;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const HASH_MASK = 0x3fffffff;

/**
 * Open-addressing table of the zone's nodes by key (linear probing over an Int32Array of node
 * indices). A JavaScript Map costs about four times the memory per entry and its growth and
 * probing dominated loading a million names; probing here also works on a suffix of a longer
 * key without slicing it (lookups walk the query name's ancestors).
 */
class NodeTable {
  readonly nodes: ZoneNode[] = [];
  /** Pairs (hash, node index + 1); index 0 means empty. The hash is kept beside the index so a
   * probe that misses never touches the node (a cache miss per probe in a large zone). */
  private slots = new Int32Array(2048);
  private mask = 1023;

  /** The node whose key equals `key.slice(start)`; `hash` is hashKey(key, start). */
  find(key: string, start: number, hash: number): ZoneNode | undefined {
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
  /** Source position of the first record: line, and column + 65536 * file index (see fileNames). */
  private readonly line: number;
  private readonly where: number;

  constructor(node: ZoneNode, type: number, cls: number, ttl: number, buf: Uint8Array, off: number, len: number, source: SourcePos | undefined) {
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
    this.line = source?.line ?? 0;
    this.where = source === undefined ? -1 : Math.min(source.column, 0xffff) + 0x10000 * fileIndex(source.file);
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

  get source(): SourcePos | undefined {
    if (this.where < 0) return undefined;
    return { file: fileNames[Math.floor(this.where / 0x10000)]!, line: this.line, column: this.where % 0x10000 };
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
   * Key (see flatKey) of the domain name at byte `offset` of record `i`'s stored RDATA, without
   * decoding the record. Only for the first name of a type (NS/CNAME at 0, MX at 2, SRV at 6):
   * it was written before any other name, so it holds no compression pointer.
   */
  nameKeyAt(i: number, offset: number): string {
    const b = this.storedAt(i);
    let end = offset;
    while (end < b.length && b[end] !== 0) end += b[end]! + 1;
    return keyOf(b.subarray(offset, end + 1));
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

/** File names of source positions, interned (a zone has a handful; every RRset points at one). */
const fileNames: string[] = [];
const fileIndexes = new Map<string, number>();
let lastFile: string | undefined;
let lastFileIndex = 0;

function fileIndex(file: string): number {
  if (file === lastFile) return lastFileIndex;
  let i = fileIndexes.get(file);
  if (i === undefined) {
    i = fileNames.length;
    fileNames.push(file);
    fileIndexes.set(file, i);
  }
  lastFile = file;
  lastFileIndex = i;
  return i;
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
    let n: Name;
    if (r === undefined) {
      const k = this.key;
      const w = new Uint8Array(k.length);
      for (let i = 0; i < k.length; i++) w[i] = k.charCodeAt(i);
      n = new Name(w);
    } else {
      n = new Name(r);
    }
    this.nameRef = n;
    return n;
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

  /** @internal Orders the RRsets by type (Zone.finish()). */
  sortSets(): void {
    const sets = this.sets;
    if (!Array.isArray(sets) || sets.length < 2) return;
    sets.sort(byType);
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
const SLAB_SIZE = 1 << 20;

function byType(x: RRset, y: RRset): number {
  return x.type - y.type;
}

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

/** True when `key[at]` starts a label (walking label lengths from the start). */
function isLabelBoundary(key: string, at: number): boolean {
  let p = 0;
  while (p < at) p += key.charCodeAt(p) + 1;
  return p === at;
}
const labelOffsets = new Int32Array(128);

export class Zone {
  readonly origin: Name;
  readonly class: number;
  readonly apex: ZoneNode;
  /** Problems noticed while adding (TTL mismatch within an RRset): for the checks. */
  readonly warnings: ZoneWarning[] = [];
  private readonly table = new NodeTable();
  private lastParent: ZoneNode;
  private sorted: ZoneNode[] | undefined;
  private count = 0;
  private finished = false;
  /** Set by finish(): nodes owning NS records (apex included), and whether any owns a DNAME. */
  private nsNodes: ZoneNode[] | undefined;
  private dnamePresent = false;
  private readonly slabs = new Slabs();
  private readonly writer = new Writer();
  /** The writer's buffer as a Buffer, for native copies into the slabs. */
  private readonly writerBytes = Buffer.from(this.writer.buf.buffer, this.writer.buf.byteOffset, this.writer.buf.length);

  constructor(origin: Name, cls: number = RRClass.IN) {
    this.origin = origin;
    this.class = cls;
    this.apex = new ZoneNode(origin, undefined, keyOf(origin.wire));
    this.table.insert(this.apex, lastHash);
    this.lastParent = this.apex;
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
      const w = this.writer;
      w.reset();
      storeRData(w, rr.type, data);
      src = this.writerBytes;
      len = w.pos;
    }
    if (set === undefined) {
      const buf = this.slabs.putBuffer(src, len);
      const created = new ZoneRRset(node, rr.type, rr.class, rr.ttl, buf, this.slabs.pos - len, len, source);
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

  private nodeFor(name: Name): ZoneNode {
    const wire = name.wire;
    const key = keyOf(wire);
    const hash = lastHash;
    const existing = this.table.find(key, 0, hash);
    if (existing !== undefined) return existing;
    return this.newNode(name, wire, key, hash, lastHadUpper);
  }

  /** `hash` is hashKey(key, 0); `upper` says `wire` has uppercase letters (so is not the key's bytes). */
  private newNode(name: Name | undefined, wire: Uint8Array, key: string, hash: number, upper: boolean): ZoneNode {
    const originKey = this.apex.key;
    if (key.length < originKey.length || !key.endsWith(originKey) || (key.length > originKey.length && !isLabelBoundary(key, key.length - originKey.length))) {
      throw new RangeError(`${(name ?? new Name(wire)).toString()} is outside zone ${this.origin.toString()}`);
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
        const parentWire = wire.subarray(skip);
        parent = this.newNode(undefined, parentWire, keyOf(parentWire), parentHash, lastHadUpper);
      }
    }
    this.lastParent = parent;
    // A name with uppercase letters keeps its bytes in a shared slab; an all-lowercase one is
    // its key's bytes. Either way its Name is rebuilt when first asked for.
    let node: ZoneNode;
    if (upper) {
      const buf = this.slabs.putBytes(wire);
      node = new ZoneNode(undefined, parent, key, buf, this.slabs.pos - wire.length, wire.length);
    } else {
      node = new ZoneNode(undefined, parent, key);
    }
    parent.children++;
    if (wire[0] === 1 && wire[1] === 0x2a) parent.hasWildcardChild = true;
    this.table.insert(node, hash);
    this.sorted = undefined;
    return node;
  }

  /** Decides the flags; the zone is read-only afterwards. */
  finish(): void {
    if (this.finished) return;
    // One pass in insertion order: a node's parent was always added before it (newNode makes
    // the parent first), so the parent's flags are already decided. Below a cut = some
    // ancestor is a delegation = the parent is one or is itself below one.
    const nsNodes: ZoneNode[] = [];
    let dname = false;
    for (const node of this.table.nodes) {
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
    return this.table.nodes.values();
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
      this.sorted = [...this.table.nodes].sort(byCanonicalKey);
    }
    return this.sorted;
  }

  /** RFC 1034 §4.3.2 step 3 for this zone (see LookupResult). */
  lookup(qname: Name, qtype: number): LookupResult {
    const table = this.table;
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
