/**
 * Bounds-checked cursor over a message buffer.
 *
 * Invariants: every read checks `end` first and throws WireFormatError with the offset and the
 * field being read; nothing reads past `end`. Compression pointers are followed only backwards
 * (RFC 1035 §4.1.4 says "prior occurrence"), which also makes loops impossible; the hop count is
 * capped anyway.
 */
import { WireFormatError } from '../errors.js';
import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH, Name } from './name.js';

const MAX_POINTER_HOPS = 127;
const nameScratch = new Uint8Array(MAX_NAME_LENGTH + MAX_LABEL_LENGTH + 2);

/*
 * Names already decoded in the current message, by the offset their labels start at. A pointer
 * to such an offset reuses the Name (they are immutable): most names in a response point at the
 * question or at an earlier owner, so this saves most name allocations. Shared by all readers,
 * owned by the most recently created one (a new message starts a new cache).
 */
const CACHE_SIZE = 64;
const cacheOffsets = new Int32Array(CACHE_SIZE);
const cacheNames: (Name | undefined)[] = new Array<Name | undefined>(CACHE_SIZE).fill(undefined);
let cacheCount = 0;
let cacheOwner: Reader | undefined;

function cached(offset: number): Name | undefined {
  const n = cacheCount < CACHE_SIZE ? cacheCount : CACHE_SIZE;
  for (let i = 0; i < n; i++) if (cacheOffsets[i] === offset) return cacheNames[i];
  return undefined;
}

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  /** Reads stop here (end of message, or of the current RDATA). */
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    cacheOwner = this;
    cacheCount = 0;
  }

  fail(field: string, reason: string, at = this.pos): never {
    throw new WireFormatError(at, field, reason);
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.end) this.fail(field, `needs ${n} octets, ${this.end - this.pos} left`);
  }

  u8(field: string): number {
    if (this.pos + 1 > this.end) this.fail(field, 'needs 1 octet, none left');
    return this.buf[this.pos++]!;
  }

  u16(field: string): number {
    const p = this.pos;
    if (p + 2 > this.end) this.fail(field, `needs 2 octets, ${this.end - p} left`);
    this.pos = p + 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u32(field: string): number {
    const p = this.pos;
    if (p + 4 > this.end) this.fail(field, `needs 4 octets, ${this.end - p} left`);
    this.pos = p + 4;
    const b = this.buf;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** Copy of the next `n` octets. */
  bytes(n: number, field: string): Uint8Array {
    const p = this.pos;
    if (p + n > this.end) this.fail(field, `needs ${n} octets, ${this.end - p} left`);
    this.pos = p + n;
    // Small copies by hand: slice() costs more than the copy itself in V8.
    if (n > 48) return this.buf.slice(p, p + n);
    const out = new Uint8Array(n);
    const b = this.buf;
    for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    return out;
  }

  /**
   * Reads a possibly compressed name. Pointers may target anywhere earlier in the whole
   * message (not limited by `end`, which bounds only the in-place part).
   */
  name(field: string): Name {
    const buf = this.buf;
    // The root (every OPT owner, many RDATA targets): the shared immutable instance.
    if (this.pos < this.end && buf[this.pos] === 0) {
      this.pos++;
      return Name.ROOT;
    }
    const out = nameScratch;
    const useCache = cacheOwner === this;
    const start = this.pos;
    let p = start;
    let limit = this.end;
    let w = 0;
    let hops = 0;
    let jumped = false;
    let lowest = p; // pointers must go strictly below every offset already visited
    let labelsStart = -1; // offset where this name's own labels begin (for the cache)
    for (;;) {
      if (p >= limit) this.fail(field, 'name runs past the end', p);
      const len = buf[p]!;
      if (len === 0) {
        out[w++] = 0;
        p++;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (p + 2 > limit) this.fail(field, 'truncated compression pointer', p);
        const target = ((len & 0x3f) << 8) | buf[p + 1]!;
        if (target >= lowest) this.fail(field, `compression pointer to ${target} is not backwards`, p);
        if (++hops > MAX_POINTER_HOPS) this.fail(field, 'too many compression pointers', p);
        if (!jumped) {
          this.pos = p + 2;
          jumped = true;
        }
        const hit = useCache ? cached(target) : undefined;
        if (hit !== undefined) {
          if (w === 0) return hit;
          const hw = hit.wire;
          if (w + hw.length > MAX_NAME_LENGTH) this.fail(field, 'name exceeds 255 octets', p);
          for (let k = 0; k < hw.length; k++) out[w++] = hw[k]!;
          break;
        }
        lowest = target;
        p = target;
        limit = buf.length;
        continue;
      }
      if (kind !== 0) this.fail(field, `unknown label type 0x${kind.toString(16)}`, p);
      if (p + 1 + len > limit) this.fail(field, 'label runs past the end', p);
      if (w + len + 2 > MAX_NAME_LENGTH) this.fail(field, 'name exceeds 255 octets', p);
      if (labelsStart < 0) labelsStart = p;
      out[w++] = len;
      for (let k = 1; k <= len; k++) out[w++] = buf[p + k]!;
      p += len + 1;
    }
    if (!jumped) this.pos = p;
    const wire = new Uint8Array(w);
    for (let k = 0; k < w; k++) wire[k] = out[k]!;
    const name = new Name(wire);
    // Cache only names whose labels start where this name starts (their first label is ours).
    if (useCache && labelsStart === start) {
      const slot = cacheCount % CACHE_SIZE;
      cacheOffsets[slot] = start;
      cacheNames[slot] = name;
      cacheCount++;
    }
    return name;
  }

  /** Skips a possibly compressed name without building it (used to size and scan). */
  skipName(field: string): void {
    const buf = this.buf;
    let p = this.pos;
    let total = 0;
    for (;;) {
      if (p >= this.end) this.fail(field, 'name runs past the end', p);
      const len = buf[p]!;
      if (len === 0) {
        this.pos = p + 1;
        return;
      }
      if ((len & 0xc0) === 0xc0) {
        if (p + 2 > this.end) this.fail(field, 'truncated compression pointer', p);
        this.pos = p + 2;
        return;
      }
      if ((len & 0xc0) !== 0) this.fail(field, 'unknown label type', p);
      total += len + 1;
      if (total + 1 > MAX_NAME_LENGTH) this.fail(field, 'name exceeds 255 octets', p);
      p += len + 1;
    }
  }
}
