/**
 * Message writer with RFC 1035 §4.1.4 name compression and rollback marks.
 *
 * Invariants: the buffer holds a whole maximum message plus one maximum RR, so a write never
 * runs out of room before the caller checks `pos` against its size limit after each RR.
 * Compression targets are remembered in a small open-addressing table keyed by a hash of each
 * name suffix (lowercased), so finding a target costs no allocation and no string building;
 * a hash hit is verified against the bytes already written. `mark()`/`rollback()` undo both
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

/** Position to roll back to: bytes written and compression entries added. */
export interface WriterMark {
  readonly pos: number;
  readonly entries: number;
}

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
  /** Per-name scratch: suffix hashes and label offsets within the name's wire form. */
  private readonly suffixHash: Int32Array;
  private readonly labelAt: Int32Array;

  constructor(size = BUFFER_SIZE) {
    this.buf = new Uint8Array(size);
    this.pos = 0;
    this.hashes = new Int32Array(TABLE_SIZE);
    this.targets = new Int32Array(TABLE_SIZE);
    this.log = new Int32Array(TABLE_SIZE);
    this.logLength = 0;
    this.suffixHash = new Int32Array(128);
    this.labelAt = new Int32Array(128);
  }

  /** Starts a new message at offset 0 with no compression targets. */
  reset(): void {
    this.pos = 0;
    const log = this.log;
    for (let i = 0; i < this.logLength; i++) this.hashes[log[i]!] = 0;
    this.logLength = 0;
  }

  mark(): WriterMark {
    return { pos: this.pos, entries: this.logLength };
  }

  rollback(m: WriterMark): void {
    this.pos = m.pos;
    const log = this.log;
    for (let i = this.logLength - 1; i >= m.entries; i--) this.hashes[log[i]!] = 0;
    this.logLength = m.entries;
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
    // Label offsets, then suffix hashes from the right (root suffix hash = 1).
    const at = this.labelAt;
    const sh = this.suffixHash;
    let n = 0;
    for (let p = 0; w[p]! !== 0; p += w[p]! + 1) at[n++] = p;
    let h = 1;
    for (let i = n - 1; i >= 0; i--) {
      const p = at[i]!;
      const len = w[p]!;
      h = Math.imul(h ^ len, 0x01000193);
      for (let k = 1; k <= len; k++) h = Math.imul(h ^ lower(w[p + k]!), 0x01000193);
      sh[i] = h === 0 ? 1 : h;
    }
    const buf = this.buf;
    const start = this.pos;
    let matchLabel = n; // first label index covered by a pointer (n = none)
    let matchTarget = 0;
    if (compress) {
      for (let i = 0; i < n; i++) {
        const t = this.find(sh[i]!, w, at[i]!);
        if (t >= 0) {
          matchLabel = i;
          matchTarget = t;
          break;
        }
      }
    }
    // Copy the labels before the match, remembering each new suffix as a target.
    const copyEnd = matchLabel === n ? w.length - 1 : at[matchLabel]!;
    buf.set(w.subarray(0, copyEnd), start);
    for (let i = 0; i < matchLabel; i++) {
      const off = start + at[i]!;
      if (off > MAX_POINTER_TARGET) break;
      this.insert(sh[i]!, off);
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

  /** Does the written name at `o` (following pointers) equal `w` from offset `i`, ignoring case? */
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
      for (let k = 1; k <= len; k++) {
        if (b[o + k] !== w[i + k] && lower(b[o + k]!) !== lower(w[i + k]!)) return false;
      }
      o += len + 1;
      i += len + 1;
      len = 0;
    }
    return false;
  }

  /** Copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
