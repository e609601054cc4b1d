/**
 * Message writer with RFC 1035 §4.1.4 name compression and rollback marks.
 *
 * Invariants: the buffer holds a whole maximum message plus one maximum RR, so a write never
 * runs out of room before the caller checks `pos` against its size limit after each RR.
 * Compression targets are remembered in a small open-addressing table keyed by a hash of each
 * name suffix (lowercased), so finding a target costs no allocation and no string building;
 * a hash hit is verified against the bytes already written, case included, so compression
 * never changes the case of a name. `mark()`/`rollback()` undo both
 * the bytes and the compression entries written since the mark (entries are removed in LIFO
 * order, which restores a linear-probing table exactly).
 */
import { EncodeError } from '../errors.js';
import type { Name } from './name.js';

/** Largest DNS message (TCP length prefix limit). */
export const MAX_MESSAGE_SIZE = 65535;
const BUFFER_SIZE = MAX_MESSAGE_SIZE + 65535 + 1024;
const TABLE_BITS = 11;
const TABLE_SIZE = 1 << TABLE_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
/** Offsets must fit the 14 bits of a pointer. */
const MAX_POINTER_TARGET = 0x3fff;

/**
 * Position to roll back to: bytes written and compression entries added, packed in one number
 * (`pos * 4096 + entries`) so taking a mark allocates nothing.
 */
export type WriterMark = number;
const MARK_SCALE = 4096;

function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

export class Writer {
  readonly buf: Uint8Array;
  pos: number;
  /** Compression table: hash per slot (0 = empty) and target offset per slot. */
  private readonly hashes: Int32Array;
  private readonly targets: Int32Array;
  /** Slots filled, in insertion order, for rollback. */
  private readonly log: Int32Array;
  private logLength: number;

  constructor(size = BUFFER_SIZE) {
    this.buf = new Uint8Array(size);
    this.pos = 0;
    this.hashes = new Int32Array(TABLE_SIZE);
    this.targets = new Int32Array(TABLE_SIZE);
    this.log = new Int32Array(TABLE_SIZE);
    this.logLength = 0;
  }

  /** Starts a new message at offset 0 with no compression targets. */
  reset(): void {
    this.pos = 0;
    const log = this.log;
    for (let i = 0; i < this.logLength; i++) this.hashes[log[i]!] = 0;
    this.logLength = 0;
  }

  mark(): WriterMark {
    return this.pos * MARK_SCALE + this.logLength;
  }

  rollback(m: WriterMark): void {
    const entries = m % MARK_SCALE;
    this.pos = (m - entries) / MARK_SCALE;
    const log = this.log;
    for (let i = this.logLength - 1; i >= entries; i--) this.hashes[log[i]!] = 0;
    this.logLength = entries;
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.length) throw new EncodeError(`message exceeds ${this.buf.length} octets`);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    const p = this.pos;
    this.buf[p] = v >>> 8;
    this.buf[p + 1] = v;
    this.pos = p + 2;
  }

  u32(v: number): void {
    this.room(4);
    const p = this.pos;
    const b = this.buf;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Overwrites a u16 already written (counts, RDLENGTH). */
  setU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes a name; with `compress`, points at the longest suffix already written and records
   * this name's new suffixes as targets. Without it the name is written whole and, like
   * BIND, still recorded as a target for later compressible names.
   */
  name(name: Name, compress: boolean): void {
    const w = name.wire;
    if (w.length === 1) {
      this.u8(0);
      return;
    }
    this.room(w.length);
    // [n, label offsets..., suffix hashes...], cached on the Name.
    const d = name.suffixData();
    const n = d[0]!;
    const buf = this.buf;
    const start = this.pos;
    let matchLabel = n; // first label index covered by a pointer (n = none)
    let matchTarget = 0;
    if (compress) {
      for (let i = 0; i < n; i++) {
        const t = this.find(d[1 + n + i]!, w, d[1 + i]!);
        if (t >= 0) {
          matchLabel = i;
          matchTarget = t;
          break;
        }
      }
    }
    // Copy the labels before the match, remembering each new suffix as a target.
    const copyEnd = matchLabel === n ? w.length - 1 : d[1 + matchLabel]!;
    for (let i = 0; i < copyEnd; i++) buf[start + i] = w[i]!;
    for (let i = 0; i < matchLabel; i++) {
      const off = start + d[1 + i]!;
      if (off > MAX_POINTER_TARGET) break;
      this.insert(d[1 + n + i]!, off);
    }
    let p = start + copyEnd;
    if (matchLabel === n) {
      buf[p++] = 0;
    } else {
      buf[p++] = 0xc0 | (matchTarget >>> 8);
      buf[p++] = matchTarget & 0xff;
    }
    this.pos = p;
  }

  /** Writes a name uncompressed and lowercased (RFC 4034 §6.2 canonical form). */
  nameLower(name: Name): void {
    const w = name.wire;
    this.room(w.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < w.length; i++) b[p++] = lower(w[i]!);
    this.pos = p;
  }

  private find(hash: number, w: Uint8Array, from: number): number {
    let slot = (hash ^ (hash >>> 15)) & TABLE_MASK;
    for (let probes = 0; probes < TABLE_SIZE; probes++) {
      const h = this.hashes[slot]!;
      if (h === 0) return -1;
      if (h === hash) {
        const t = this.targets[slot]!;
        if (this.matches(t, w, from)) return t;
      }
      slot = (slot + 1) & TABLE_MASK;
    }
    return -1;
  }

  private insert(hash: number, target: number): void {
    if (this.logLength >= (TABLE_SIZE * 3) >> 2) return; // table full: stop adding targets, still correct
    let slot = (hash ^ (hash >>> 15)) & TABLE_MASK;
    while (this.hashes[slot] !== 0) slot = (slot + 1) & TABLE_MASK;
    this.hashes[slot] = hash;
    this.targets[slot] = target;
    this.log[this.logLength++] = slot;
  }

  /** Does the written name at `o` (following pointers) equal `w` from offset `i`, byte for byte? */
  private matches(o: number, w: Uint8Array, i: number): boolean {
    const b = this.buf;
    for (let hops = 0; hops < 128; ) {
      let len = b[o]!;
      if ((len & 0xc0) === 0xc0) {
        o = ((len & 0x3f) << 8) | b[o + 1]!;
        hops++;
        continue;
      }
      if (len !== w[i]) return false;
      if (len === 0) return true;
      // Exact bytes: a pointer to a differently-cased suffix would change the name's case, and
      // decode -> encode -> decode must give the same names (BIND compresses case-sensitively too).
      for (let k = 1; k <= len; k++) if (b[o + k] !== w[i + k]) return false;
      o += len + 1;
      i += len + 1;
      len = 0;
    }
    return false;
  }

  /** Copy of the bytes written so far. */
  toBytes(): Uint8Array {
    const n = this.pos;
    const out = new Uint8Array(n);
    // A hand copy beats slice()/set() for the sizes most messages have.
    if (n <= 1024) {
      const b = this.buf;
      for (let i = 0; i < n; i++) out[i] = b[i]!;
    } else {
      out.set(this.buf.subarray(0, n));
    }
    return out;
  }
}
