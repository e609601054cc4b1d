/**
 * EDNS options a stream transport adds to an already encoded reply: TCP keepalive (RFC 7828)
 * and block-length padding (RFC 7830, RFC 8467), plus the walk over an encoded message that
 * finds its OPT record and its smallest TTL (DoH's Cache-Control, RFC 8484 §5.1).
 *
 * Invariants: the reply is changed only when its OPT record is the last record (a TSIG after it
 * would no longer verify), only by appending options to that OPT (its RDLENGTH and nothing
 * else is rewritten), and never past 65535 octets. Scanning reads only within `len`; a
 * malformed message is left as it is.
 */
import { EdnsOptionCode } from '../wire/constants.js';
import type { Writer } from '../wire/writer.js';

/** The query carried an edns-tcp-keepalive option (RFC 7828 §3.2.1). */
export const WANTS_KEEPALIVE = 1;
/** The query carried a Padding option (RFC 7830 §4: the reply is then padded). */
export const WANTS_PADDING = 2;
/** The query had an OPT record at all. */
export const HAS_EDNS = 4;

/** RFC 8467 §4.1: responders pad to a multiple of 468 octets. */
export const RESPONSE_BLOCK = 468;
const MAX_MESSAGE = 65535;

/** Offset just past the name at `p` (labels, then a zero or a pointer); -1 when it runs out. */
function skipName(b: Uint8Array, p: number, end: number): number {
  for (let hops = 0; p < end && hops < 128; hops++) {
    const l = b[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if (l > 63) return -1;
    p += l + 1;
  }
  return -1;
}

/**
 * Walks the records of the message in `b[0..len)`. Returns the offset of the OPT record's owner
 * octet when the OPT is the last record, else -1; when `ttl` is given, `ttl[0]` receives the
 * smallest TTL of the answer and authority records (0x7fffffff when there are none).
 */
export function scanMessage(b: Uint8Array, len: number, ttl?: Int32Array): number {
  if (len < 12) return -1;
  const qd = (b[4]! << 8) | b[5]!;
  const an = (b[6]! << 8) | b[7]!;
  const ns = (b[8]! << 8) | b[9]!;
  const ar = (b[10]! << 8) | b[11]!;
  let p = 12;
  for (let i = 0; i < qd; i++) {
    p = skipName(b, p, len);
    if (p < 0 || p + 4 > len) return -1;
    p += 4;
  }
  let min = 0x7fffffff;
  let lastOpt = -1;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const start = p;
    p = skipName(b, p, len);
    if (p < 0 || p + 10 > len) return -1;
    const type = (b[p]! << 8) | b[p + 1]!;
    if (i < an + ns) {
      const t = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
      // RFC 2181 §8: a TTL with the top bit set counts as 0.
      const v = t > 0x7fffffff ? 0 : t;
      if (v < min) min = v;
    }
    p += 10 + ((b[p + 8]! << 8) | b[p + 9]!);
    if (p > len) return -1;
    lastOpt = type === 41 && i === total - 1 ? start : -1;
  }
  if (ttl !== undefined) ttl[0] = min;
  return p === len ? lastOpt : -1;
}

/**
 * Which of the options above a query asks for, from its bytes (no decoding): its OPT is found
 * by the same walk. 0 for a query without EDNS or one that does not parse.
 */
export function queryWants(b: Uint8Array, len: number): number {
  const opt = scanMessage(b, len);
  if (opt < 0 || b[opt] !== 0) return 0;
  let flags = HAS_EDNS;
  const rdlen = (b[opt + 9]! << 8) | b[opt + 10]!;
  const end = opt + 11 + rdlen;
  for (let o = opt + 11; o + 4 <= end; ) {
    const code = (b[o]! << 8) | b[o + 1]!;
    if (code === EdnsOptionCode.TCP_KEEPALIVE) flags |= WANTS_KEEPALIVE;
    else if (code === EdnsOptionCode.PADDING) flags |= WANTS_PADDING;
    o += 4 + ((b[o + 2]! << 8) | b[o + 3]!);
  }
  return flags;
}

/**
 * Appends to the reply in `w.buf[0..len)` the keepalive option (timeout in units of 100 ms,
 * RFC 7828 §3.3.2: only when the query asked) and then, as the last option (RFC 7830 §3),
 * padding up to a multiple of `block` when the query was padded. Returns the new length.
 */
export function appendTail(w: Writer, len: number, wants: number, keepalive100ms: number, block = RESPONSE_BLOCK): number {
  if ((wants & (WANTS_KEEPALIVE | WANTS_PADDING)) === 0) return len;
  const b = w.buf;
  const opt = scanMessage(b, len);
  if (opt < 0) return len;
  let end = len;
  let added = 0;
  if ((wants & WANTS_KEEPALIVE) !== 0 && end + 6 <= MAX_MESSAGE) {
    const t = Math.min(keepalive100ms, 0xffff);
    b[end] = 0; b[end + 1] = EdnsOptionCode.TCP_KEEPALIVE; b[end + 2] = 0; b[end + 3] = 2;
    b[end + 4] = t >>> 8; b[end + 5] = t & 0xff;
    end += 6;
    added += 6;
  }
  if ((wants & WANTS_PADDING) !== 0) {
    // RFC 8467 §4.1: the padded message (option header included) is a multiple of the block.
    const rem = (end + 4) % block;
    const pad = rem === 0 ? 0 : block - rem;
    if (end + 4 + pad <= MAX_MESSAGE) {
      b[end] = 0; b[end + 1] = EdnsOptionCode.PADDING; b[end + 2] = pad >>> 8; b[end + 3] = pad & 0xff;
      b.fill(0, end + 4, end + 4 + pad);
      end += 4 + pad;
      added += 4 + pad;
    }
  }
  const rdlenAt = opt + 9;
  const rdlen = ((b[rdlenAt]! << 8) | b[rdlenAt + 1]!) + added;
  b[rdlenAt] = rdlen >>> 8;
  b[rdlenAt + 1] = rdlen & 0xff;
  w.pos = end;
  return end;
}
