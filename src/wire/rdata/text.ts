/**
 * Presentation-format helpers shared by the field codecs: tokens, character-string escapes,
 * and the base16/32/64 encodings used by DNSSEC types. No Node built-ins (runs anywhere).
 *
 * A token keeps its escapes (`\.`, `\DDD`) undecoded: what an escape means depends on the
 * field (a name keeps `\.` inside a label; a character-string turns it into a byte).
 */
import { TextFormatError } from '../../errors.js';
import { decimalEscape } from '../escape.js';

export interface Token {
  /** Token text without surrounding quotes, escapes not yet decoded. */
  readonly text: string;
  /** True when the token was written in double quotes. */
  readonly quoted: boolean;
}

/** Reads tokens of one record's RDATA in order. */
export class TokenCursor {
  readonly tokens: readonly Token[];
  index: number;

  constructor(tokens: readonly Token[], index = 0) {
    this.tokens = tokens;
    this.index = index;
  }

  get done(): boolean {
    return this.index >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.index];
  }

  next(field: string): Token {
    const t = this.tokens[this.index];
    if (t === undefined) throw new TextFormatError(field, 'missing value');
    this.index++;
    return t;
  }

  /** Remaining tokens' texts, consumed. */
  rest(): Token[] {
    const out = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return out;
  }
}

/**
 * End (exclusive) of the unquoted token starting at `i`, at most `end`: it stops at whitespace,
 * `;`, `(`, `)` or `"`; a backslash takes the next character with it (RFC 1035 §5.1). The one
 * token rule of tokenize() and the zone lexer (zone/lexer.ts).
 */
export function tokenEnd(text: string, i: number, end: number): number {
  let j = i;
  while (j < end) {
    const d = text.charCodeAt(j);
    if (d === 0x5c) {
      j += 2;
      continue;
    }
    if (d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d || d === 0x3b || d === 0x28 || d === 0x29 || d === 0x22) break;
    j++;
  }
  return j > end ? end : j;
}

/** Index of the `"` closing the quoted string opened at `i` (escaped quotes skipped), or -1 before `end`. */
export function closingQuote(text: string, i: number, end: number): number {
  let j = i + 1;
  while (j < end) {
    const d = text.charCodeAt(j);
    if (d === 0x5c) j += 2;
    else if (d === 0x22) return j;
    else j++;
  }
  return -1;
}

/**
 * Splits one line of RR text into tokens: whitespace separates, `"..."` quotes, `;` starts a
 * comment, parentheses group lines (and are dropped), backslash escapes the next character.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x28 || c === 0x29) {
      i++;
      continue;
    }
    if (c === 0x3b) {
      while (i < n && text.charCodeAt(i) !== 0x0a) i++;
      continue;
    }
    if (c === 0x22) {
      const j = closingQuote(text, i, n);
      if (j < 0) throw new TextFormatError('text', 'unterminated quoted string');
      out.push({ text: text.slice(i + 1, j), quoted: true });
      i = j + 1;
      continue;
    }
    const j = tokenEnd(text, i, n);
    out.push({ text: text.slice(i, j), quoted: false });
    i = j;
  }
  return out;
}

/** Decodes `\X` and `\DDD` escapes into bytes (characters above 0xff are UTF-8 encoded). */
export function unescapeBytes(text: string, field: string): Uint8Array {
  const len = unescapeToScratch(text, field);
  return unescapeScratch.slice(0, len);
}

/** Where unescapeToScratch() writes; grown as needed (UTF-8 takes at most 3 octets per UTF-16 unit). */
let unescapeScratch = new Uint8Array(1024);

/** @internal The buffer unescapeToScratch() last wrote to (valid until its next call). */
export function unescapedBytes(): Uint8Array {
  return unescapeScratch;
}

/**
 * @internal unescapeBytes() without allocating: writes the octets to the shared buffer
 * unescapedBytes() returns and gives their count. Same rules and errors.
 */
export function unescapeToScratch(text: string, field: string): number {
  const n = text.length;
  if (n * 3 > unescapeScratch.length) unescapeScratch = new Uint8Array(Math.max(n * 3, unescapeScratch.length * 2));
  const out = unescapeScratch;
  let o = 0;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= n) throw new TextFormatError(field, 'dangling backslash');
      const d1 = text.charCodeAt(i + 1);
      if (d1 >= 0x30 && d1 <= 0x39) {
        c = decimalEscape(text, i + 1);
        if (c < 0) throw new TextFormatError(field, '\\DDD escape needs three decimal digits');
        if (c > 255) throw new TextFormatError(field, `\\DDD escape ${c} exceeds 255`);
        out[o++] = c;
        i += 3;
        continue;
      }
      c = d1;
      i++;
    }
    if (c < 0x80) {
      out[o++] = c;
    } else {
      // Unicode in zone text is taken as UTF-8, as BIND and Knot do.
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      if (cp < 0x800) {
        out[o++] = 0xc0 | (cp >> 6);
        out[o++] = 0x80 | (cp & 63);
      } else if (cp < 0x10000) {
        out[o++] = 0xe0 | (cp >> 12);
        out[o++] = 0x80 | ((cp >> 6) & 63);
        out[o++] = 0x80 | (cp & 63);
      } else {
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 63);
        out[o++] = 0x80 | ((cp >> 6) & 63);
        out[o++] = 0x80 | (cp & 63);
      }
    }
  }
  return o;
}

/** A character-string as BIND prints it: quoted, `"` and `\` escaped, non-printables as `\DDD`. */
export function quoteBytes(b: Uint8Array): string {
  let s = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) s += '\\' + (c < 10 ? '00' : c < 100 ? '0' : '') + c;
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** Bytes printed unquoted with BIND's escapes (spaces and specials escaped), for CAA tags and the like. */
export function escapeBytesUnquoted(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x22 || c === 0x5c || c === 0x3b || c === 0x28 || c === 0x29) s += '\\' + String.fromCharCode(c);
    else if (c <= 0x20 || c >= 0x7f) s += '\\' + (c < 10 ? '00' : c < 100 ? '0' : '') + c;
    else s += String.fromCharCode(c);
  }
  return s;
}

const HEX = '0123456789ABCDEF';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

export function fromHex(s: string, field: string): Uint8Array {
  if (s.length % 2 !== 0) throw new TextFormatError(field, 'hex needs an even number of digits');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexVal(s.charCodeAt(2 * i));
    const lo = hexVal(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new TextFormatError(field, `"${s}" is not hex`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_REV = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_REV[B64.charCodeAt(i)] = i;

export function toBase64(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  if (i < b.length) {
    const v = (b[i]! << 16) | ((i + 1 < b.length ? b[i + 1]! : 0) << 8);
    s += B64[v >> 18]! + B64[(v >> 12) & 63]!;
    s += i + 1 < b.length ? B64[(v >> 6) & 63]! + '=' : '==';
  }
  return s;
}

export function fromBase64(s: string, field: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d) {
      pad++;
      continue;
    }
    const v = c < 128 ? B64_REV[c]! : -1;
    if (v < 0 || pad > 0) throw new TextFormatError(field, 'invalid base64');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if ((s.length - 0) % 4 !== 0 || pad > 2) throw new TextFormatError(field, 'invalid base64 length');
  return Uint8Array.from(out);
}

const B32 = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** RFC 4648 §7 base32hex without padding, as NSEC3 uses (RFC 5155 §3.3). */
export function toBase32Hex(b: Uint8Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = ((acc << 8) | b[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(acc >> bits) & 31]!;
    }
  }
  if (bits > 0) s += B32[(acc << (5 - bits)) & 31]!;
  return s;
}

export function fromBase32Hex(s: string, field: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x3d) break;
    c |= 0x20;
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x76) v = c - 0x61 + 10;
    else throw new TextFormatError(field, `"${s}" is not base32hex`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Parses a decimal integer within [0, max]. */
export function parseUint(text: string, max: number, field: string): number {
  if (text.length === 0 || text.length > 15) throw new TextFormatError(field, `"${text}" is not a number`);
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) throw new TextFormatError(field, `"${text}" is not a number`);
    v = v * 10 + c;
  }
  if (v > max) throw new TextFormatError(field, `${v} exceeds ${max}`);
  return v;
}

/** TTL with BIND units (`1w2d3h4m5s`, case-insensitive) or plain seconds (RFC 2308, BIND). */
export function parseTtl(text: string, field: string): number {
  let total = 0;
  let cur = -1;
  let sawUnit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      cur = (cur < 0 ? 0 : cur) * 10 + (c - 0x30);
      if (cur > 0xffffffff) throw new TextFormatError(field, `"${text}" is too large`);
      continue;
    }
    if (cur < 0) throw new TextFormatError(field, `"${text}" is not a TTL`);
    let mult: number;
    switch (c | 0x20) {
      case 0x73: mult = 1; break; // s
      case 0x6d: mult = 60; break; // m
      case 0x68: mult = 3600; break; // h
      case 0x64: mult = 86400; break; // d
      case 0x77: mult = 604800; break; // w
      default:
        throw new TextFormatError(field, `"${text}" is not a TTL`);
    }
    total += cur * mult;
    cur = -1;
    sawUnit = true;
  }
  if (cur >= 0) total += cur;
  else if (!sawUnit) throw new TextFormatError(field, `"${text}" is not a TTL`);
  if (total > 0xffffffff) throw new TextFormatError(field, `"${text}" exceeds 4294967295`);
  return total;
}
