/**
 * SOA serial number arithmetic (RFC 1982, SERIAL_BITS = 32).
 */

const HALF = 0x80000000;

/**
 * Compares serials: -1 when `a` is before `b`, 1 when after, 0 when equal, undefined when they
 * are exactly 2^31 apart (RFC 1982 §3.2 leaves that undefined).
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  a >>>= 0;
  b >>>= 0;
  if (a === b) return 0;
  const diff = (b - a + 0x100000000) % 0x100000000;
  if (diff === HALF) return undefined;
  return diff < HALF ? -1 : 1;
}

/** `s + n` (RFC 1982 §3.1): n must be 0..2^31-1. */
export function serialAdd(s: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > HALF - 1) throw new RangeError(`serial increment ${n} not in 0..2^31-1`);
  return ((s >>> 0) + n) % 0x100000000;
}
