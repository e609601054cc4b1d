/**
 * Node keys of the zone tree: a name's lowercased wire form as a flat Latin-1 string (the same
 * string as `Name.key`) and its FNV-1a hash, built in one pass over the wire bytes.
 *
 * Invariant: no module-level mutable state; a KeyBuilder owns its scratch buffer and hands back
 * the hash and case facts of the key it last built on itself (each zone has its own).
 */
import type { Name } from '../wire/name.js';

/** Buffer#latin1Slice: what Buffer#toString('latin1') calls, without its argument handling. */
interface LatinSlice {
  latin1Slice(start: number, end: number): string;
}

/**
 * Builds keys (see flatKey) natively as one flat string: Name.key is built by concatenation,
 * which V8 keeps as a chain of small strings that every Map probe must flatten and hash.
 */
export class KeyBuilder {
  private readonly scratch = Buffer.allocUnsafeSlow(256);
  /** Hash (hashKey) of the key key() last built (returned beside it without allocating a pair). */
  hash = 0;
  /** Whether the wire form key() last read had an uppercase letter (so differs from its key). */
  hadUpper = false;

  /** The key of a name in wire form (its first `n` octets); sets `hash` and `hadUpper`. */
  key(wire: Uint8Array, n: number = wire.length): string {
    const scratch = this.scratch;
    let h = FNV_OFFSET;
    let upper = false;
    for (let i = 0; i < n; i++) {
      let b = wire[i]!;
      if (b >= 0x41 && b <= 0x5a) {
        b |= 0x20;
        upper = true;
      }
      scratch[i] = b;
      h = Math.imul(h ^ b, FNV_PRIME);
    }
    this.hash = h & HASH_MASK;
    this.hadUpper = upper;
    return (scratch as unknown as LatinSlice).latin1Slice(0, n);
  }

  /** The key of `name` (the same string as `name.key`, flat). */
  flatKey(name: Name): string {
    return this.key(name.wire);
  }
}

/** FNV-1a of `key[start..]`, the same as KeyBuilder.key() computes over the bytes (kept a small integer). */
export function hashKey(key: string, start: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  return h & HASH_MASK;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const HASH_MASK = 0x3fffffff;

/** True when `key[at]` starts a label (walking label lengths from the start). */
export function isLabelBoundary(key: string, at: number): boolean {
  let p = 0;
  while (p < at) p += key.charCodeAt(p) + 1;
  return p === at;
}

/** Key of the wildcard label `*` (prefixed to a node's key gives its wildcard child's). */
export const WILDCARD_LABEL = '\x01*';
