/**
 * IPv4 and IPv6 addresses as text and octets: strict parsing (no leading zeros in dotted quads,
 * RFC 4291 §2.2 forms with embedded IPv4), RFC 5952 canonical printing. Used by the A/AAAA
 * field codecs, APL and SVCB hints, EDNS Client Subnet, the zone loader's direct-to-wire path
 * and dig's -x. Parsers fill caller-given buffers so the hot paths allocate nothing.
 */
import { TextFormatError } from '../../errors.js';
import type { Writer } from '../writer.js';

/**
 * Parses dotted-quad IPv4 text into `out` at `off`; false when it is not one (strict: no leading zeros).
 * @internal Also used by the zone loader's direct-to-wire path.
 */
export function ipv4Into(s: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let val = -1;
  let digits = 0;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (val < 0 || part > 3) return false;
      out[off + part++] = val;
      val = -1;
      digits = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9 || digits === 3 || (digits > 0 && val === 0)) return false;
    val = (val < 0 ? 0 : val) * 10 + d;
    digits++;
    if (val > 255) return false;
  }
  return part === 4;
}

export function parseIPv4(s: string, field: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!ipv4Into(s, out, 0)) throw new TextFormatError(field, `"${s}" is not an IPv4 address`);
  return out;
}

export function writeIPv4(w: Writer, s: string, field: string): void {
  w.u32(0);
  if (!ipv4Into(s, w.buf, w.pos - 4)) throw new TextFormatError(field, `"${s}" is not an IPv4 address`);
}

export function formatIPv4(b: Uint8Array): string {
  return b[0] + '.' + b[1] + '.' + b[2] + '.' + b[3];
}

const ipv6Groups = new Int32Array(8);

/**
 * Parses IPv6 text (RFC 4291 §2.2, with `::` and a trailing dotted quad) into 16 octets of
 * `out` at `off`, without allocating; false when it is not an address.
 * @internal Also used by the zone loader's direct-to-wire path.
 */
export function ipv6Into(s: string, out: Uint8Array, off: number): boolean {
  const g = ipv6Groups;
  const n = s.length;
  let count = 0;
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (n < 2) return false;
  if (s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < n) {
    if (count === 8) return false;
    // A dotted quad may end the address.
    let j = i;
    let v = 0;
    let digits = 0;
    let dot = false;
    while (j < n) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x57;
      else if (c === 0x2e) {
        dot = true;
        break;
      } else break;
      v = (v << 4) | d;
      digits++;
      j++;
    }
    if (dot) {
      if (count > 6) return false;
      const tmp = new Uint8Array(4);
      if (!ipv4Into(s.slice(i), tmp, 0)) return false;
      g[count++] = (tmp[0]! << 8) | tmp[1]!;
      g[count++] = (tmp[2]! << 8) | tmp[3]!;
      i = n;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    g[count++] = v;
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) {
      return false; // trailing single colon
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  let o = off;
  const tail = gap < 0 ? 0 : count - gap;
  const head = count - tail;
  for (let k = 0; k < head; k++) {
    out[o++] = g[k]! >>> 8;
    out[o++] = g[k]! & 0xff;
  }
  for (let k = 0; k < 8 - count; k++) {
    out[o++] = 0;
    out[o++] = 0;
  }
  for (let k = head; k < count; k++) {
    out[o++] = g[k]! >>> 8;
    out[o++] = g[k]! & 0xff;
  }
  return true;
}

export function parseIPv6(s: string, field: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!ipv6Into(s, out, 0)) throw new TextFormatError(field, `"${s}" is not an IPv6 address`);
  return out;
}

export function writeIPv6(w: Writer, s: string, field: string): void {
  const at = w.pos;
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.u32(0);
  if (!ipv6Into(s, w.buf, at)) throw new TextFormatError(field, `"${s}" is not an IPv6 address`);
}

const HEX_DIGITS = '0123456789abcdef';

/** RFC 5952 text of 16 octets at `off`: lowercase, longest run (>1) of zero groups as `::`. */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const g = ipv6Groups;
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // ::ffff:a.b.c.d (RFC 5952 §5)
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) {
    return '::ffff:' + b[off + 12] + '.' + b[off + 13] + '.' + b[off + 14] + '.' + b[off + 15];
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    const v = g[i]!;
    if (v >= 0x1000) s += HEX_DIGITS[v >> 12]!;
    if (v >= 0x100) s += HEX_DIGITS[(v >> 8) & 15]!;
    if (v >= 0x10) s += HEX_DIGITS[(v >> 4) & 15]!;
    s += HEX_DIGITS[v & 15]!;
    if (i < 7) s += ':';
  }
  return s;
}
