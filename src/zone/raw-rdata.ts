/**
 * The zone loader's direct-to-wire path for the types that make up most zones (A, AAAA, NS,
 * CNAME, PTR, DNAME, MX, TXT): RDATA text goes straight to the stored wire form (message form,
 * names uncompressed, case kept: what Zone stores), with no Name, string or data object per
 * record.
 *
 * Invariants: the bytes are exactly what encoding the generic parser's result would give. Any
 * input this path does not take plainly (RFC 3597 `\#`, wrong token count, a bad value) returns
 * undefined and the caller runs the generic parser, so errors and edge cases stay the table's.
 * The result lives in a shared buffer that the next call overwrites: the consumer (Zone.add)
 * copies it at once.
 */
import { type Name, nameTextInto } from '../wire/name.js';
import { ipv4Into, ipv6Into } from '../wire/rdata/addresses.js';
import { type Token, unescapeToScratch, unescapedBytes } from '../wire/rdata/text.js';
import { RRType } from '../wire/types.js';

/** RDATA already in stored wire form: `bytes[0 .. length)`. */
export class RawRData {
  bytes: Buffer;
  length: number;

  constructor(bytes: Buffer, length: number) {
    this.bytes = bytes;
    this.length = length;
  }
}

/** Longest RDATA taken here; longer (huge TXT) goes the generic way. */
const MAX_RAW = 4096;
const out = Buffer.allocUnsafeSlow(MAX_RAW + 512);
const result = new RawRData(out, 0);

/**
 * The stored wire form of `tokens[i..]` as RDATA of `type`, or undefined when this path does not
 * take the type or the text (the caller then parses it generically). The returned object and its
 * bytes are reused by the next call.
 */
export function parseRawRData(type: number, tokens: readonly Token[], i: number, origin: Name | undefined): RawRData | undefined {
  const n = tokens.length - i;
  if (n < 1) return undefined;
  const first = tokens[i]!;
  if (first.text === '\\#') return undefined;
  let len: number;
  switch (type) {
    case RRType.A:
      if (n !== 1 || !ipv4Into(first.text, out, 0)) return undefined;
      len = 4;
      break;
    case RRType.AAAA:
      if (n !== 1 || !ipv6Into(first.text, out, 0)) return undefined;
      len = 16;
      break;
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
    case RRType.DNAME:
      if (n !== 1) return undefined;
      len = nameInto(first.text, origin, 0);
      if (len < 0) return undefined;
      break;
    case RRType.MX: {
      if (n !== 2) return undefined;
      const pref = u16Of(first.text);
      if (pref < 0) return undefined;
      out[0] = pref >> 8;
      out[1] = pref & 0xff;
      const l = nameInto(tokens[i + 1]!.text, origin, 2);
      if (l < 0) return undefined;
      len = 2 + l;
      break;
    }
    case RRType.TXT:
      len = charStringsInto(tokens, i);
      if (len < 0) return undefined;
      break;
    default:
      return undefined;
  }
  result.length = len;
  return result;
}

/** Name.fromText's wire form at `off`, or -1 when it would throw (the generic path reports it). */
function nameInto(text: string, origin: Name | undefined, off: number): number {
  try {
    return nameTextInto(text, origin, out, off);
  } catch {
    return -1;
  }
}

/** parseUint(text, 0xffff) without throwing: -1 when it is not one. */
function u16Of(text: string): number {
  const n = text.length;
  if (n === 0 || n > 5) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = text.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v > 0xffff ? -1 : v;
}

/**
 * TXT (RFC 1035 §3.3.14) as the charStrings field parses it: each token one character-string,
 * an over-long one split into 255-octet pieces (as BIND does), an empty one kept. -1 when a
 * token is bad or the whole is longer than MAX_RAW.
 */
function charStringsInto(tokens: readonly Token[], i: number): number {
  let len = 0;
  for (let k = i; k < tokens.length; k++) {
    let m: number;
    try {
      m = unescapeToScratch(tokens[k]!.text, 'data');
    } catch {
      return -1;
    }
    const pieces = m === 0 ? 1 : Math.ceil(m / 255);
    if (len + m + pieces > MAX_RAW) return -1;
    const src = unescapedBytes();
    if (m === 0) {
      out[len++] = 0;
      continue;
    }
    for (let p = 0; p < m; p += 255) {
      const piece = m - p < 255 ? m - p : 255;
      out[len++] = piece;
      for (let q = 0; q < piece; q++) out[len++] = src[p + q]!;
    }
  }
  return len;
}
