/**
 * Field kinds: the building blocks every record type in `../types.ts` is made of.
 *
 * A field knows how to decode itself from wire (never past the RDATA end), encode itself
 * (compressed, or in RFC 4034 §6.2 canonical form), parse presentation tokens and print.
 * "Rest" kinds consume everything up to the RDATA end / the last token, so they come last.
 * Kinds mirror Knot's descriptors and miekg's struct tags.
 */
import { TextFormatError } from '../../errors.js';
import { Name } from '../name.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';
import {
  TokenCursor, fromBase32Hex, fromBase64, fromHex, parseTtl, parseUint, quoteBytes,
  toBase32Hex, toBase64, toHex, unescapeBytes,
} from './text.js';
import { formatIPv4, formatIPv6, ipv4Into, ipv6Into, writeIPv4, writeIPv6 } from './addresses.js';

/** How a record is being encoded. */
export const EncodeMode = {
  /** Message form: names compressed where the type allows it (RFC 3597 §4). */
  Message: 0,
  /** RFC 4034 §6.2 canonical form: no compression, names lowercased where the type says so. */
  Canonical: 1,
} as const;
export type EncodeMode = (typeof EncodeMode)[keyof typeof EncodeMode];

/** One field of a record type's RDATA. `V` is the decoded value type. */
export interface Field<K extends string = string, V = unknown> {
  readonly key: K;
  /** Kind name, for docs and the generic walkers (`u16`, `name`, `base64Rest`, ...). */
  readonly kind: string;
  /** Consumes the rest of the RDATA / tokens. */
  readonly rest: boolean;
  /*
   * `o` is the record's data so far (decode, parse) or whole (encode, print): a field whose form
   * depends on an earlier field reads it there (IPSECKEY's gateway by gateway type, A6's suffix
   * by prefix length, a DS digest's length by digest type).
   */
  decode(r: Reader, end: number, o?: FieldContext): V;
  encode(w: Writer, v: V, mode: EncodeMode, o?: FieldContext): void;
  parse(t: TokenCursor, origin: Name | undefined, o?: FieldContext): V;
  print(v: V, o?: FieldContext): string;
  /** Equality used by RRset comparisons. */
  equals(a: V, b: V): boolean;
  /** A domain name whose addresses an answer carries in its additional section (see NameFieldOptions). */
  readonly additional?: boolean;
}

type AnyField = Field<string, any>;

/** The other fields of the record a field belongs to (see Field). */
export type FieldContext = Readonly<Record<string, unknown>>;

function eqPrimitive<V>(a: V, b: V): boolean {
  return a === b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function uint<K extends string>(key: K, bytes: 1 | 2 | 4, kind: string): Field<K, number> {
  const max = bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff;
  return {
    key, kind, rest: false,
    decode: bytes === 1 ? (r) => r.u8(key) : bytes === 2 ? (r) => r.u16(key) : (r) => r.u32(key),
    encode: bytes === 1 ? (w, v) => w.u8(v) : bytes === 2 ? (w, v) => w.u16(v) : (w, v) => w.u32(v),
    parse: (t) => parseUint(t.next(key).text, max, key),
    print: (v) => String(v),
    equals: eqPrimitive,
  };
}

export const u8 = <K extends string>(key: K): Field<K, number> => uint(key, 1, 'u8');
export const u16 = <K extends string>(key: K): Field<K, number> => uint(key, 2, 'u16');
export const u32 = <K extends string>(key: K): Field<K, number> => uint(key, 4, 'u32');

/** 48-bit unsigned (TSIG time signed), kept as a number (exact up to 2^53). */
export function u48<K extends string>(key: K): Field<K, number> {
  return {
    key, kind: 'u48', rest: false,
    decode: (r) => r.u16(key) * 0x100000000 + r.u32(key),
    encode: (w, v) => {
      w.u16(Math.floor(v / 0x100000000));
      w.u32(v >>> 0);
    },
    parse: (t) => parseUint(t.next(key).text, 0xffffffffffff, key),
    print: (v) => String(v),
    equals: eqPrimitive,
  };
}

/** A 32-bit duration: printed in seconds, parsed with BIND units (`1h`). */
export function ttl<K extends string>(key: K): Field<K, number> {
  return { ...u32(key), kind: 'ttl', parse: (t) => parseTtl(t.next(key).text, key) };
}

/** A 16-bit RR type, printed as its mnemonic (RRSIG type covered). */
export function rrtype<K extends string>(
  key: K, toText: (code: number) => string, fromText: (text: string) => number | undefined,
): Field<K, number> {
  return {
    ...u16(key), kind: 'type',
    parse: (t) => {
      const s = t.next(key).text;
      const v = fromText(s);
      if (v === undefined) throw new TextFormatError(key, `unknown type "${s}"`);
      return v;
    },
    print: toText,
  };
}

/** Where text parsers put an address before printing it canonically (no allocation per record). */
const addressScratch = new Uint8Array(16);

export function ipv4<K extends string>(key: K): Field<K, string> {
  return {
    key, kind: 'ipv4', rest: false,
    decode: (r) => {
      r.need(4, key);
      const b = r.buf;
      const p = r.pos;
      r.pos = p + 4;
      return b[p] + '.' + b[p + 1] + '.' + b[p + 2] + '.' + b[p + 3];
    },
    encode: (w, v) => writeIPv4(w, v, key),
    parse: (t) => {
      // Parsed into a scratch buffer and printed back: the same string as the token for a valid
      // address, but a fresh one (a token's text is a slice that keeps the file's chunk alive).
      const s = t.next(key).text;
      if (!ipv4Into(s, addressScratch, 0)) throw new TextFormatError(key, `"${s}" is not an IPv4 address`);
      return formatIPv4(addressScratch);
    },
    print: (v) => v,
    equals: eqPrimitive,
  };
}

export function ipv6<K extends string>(key: K): Field<K, string> {
  return {
    key, kind: 'ipv6', rest: false,
    decode: (r) => {
      r.need(16, key);
      const s = formatIPv6(r.buf, r.pos);
      r.pos += 16;
      return s;
    },
    encode: (w, v) => writeIPv6(w, v, key),
    parse: (t) => {
      const s = t.next(key).text;
      if (!ipv6Into(s, addressScratch, 0)) throw new TextFormatError(key, `"${s}" is not an IPv6 address`);
      return formatIPv6(addressScratch, 0);
    },
    print: (v) => v,
    equals: eqPrimitive,
  };
}

export interface NameFieldOptions {
  /** RFC 1035 types only (RFC 3597 §4): compress when encoding a message. */
  compress?: boolean;
  /** Listed in RFC 4034 §6.2 (as amended by RFC 6840 §5.1): lowercase in canonical form. */
  lower?: boolean;
  /**
   * RFC 1034 §3.6.2 / RFC 1035 §3.3 "additional section processing": an answer holding this
   * record also carries the name's A/AAAA records when the server has them.
   */
  additional?: boolean;
}

export function name<K extends string>(key: K, opts: NameFieldOptions = {}): Field<K, Name> {
  const compress = opts.compress === true;
  const lowerCanonical = opts.lower === true;
  return {
    key, kind: 'name', rest: false, additional: opts.additional === true,
    decode: (r) => r.name(key),
    encode: (w, v, mode) => {
      if (mode === EncodeMode.Canonical) {
        if (lowerCanonical) w.nameLower(v);
        else w.bytes(v.wire);
      } else {
        w.name(v, compress);
      }
    },
    parse: (t, origin) => Name.fromText(t.next(key).text, origin),
    print: (v) => v.toString(),
    equals: (a, b) => a.equals(b),
  };
}

function readCharString(r: Reader, end: number, key: string): Uint8Array {
  if (r.pos >= end) r.fail(key, 'missing character-string');
  const len = r.buf[r.pos]!;
  if (r.pos + 1 + len > end) r.fail(key, `character-string of ${len} octets runs past RDATA end`);
  r.pos++;
  return r.bytes(len, key);
}

function writeCharString(w: Writer, v: Uint8Array, key: string): void {
  if (v.length > 255) throw new TextFormatError(key, 'character-string exceeds 255 octets');
  w.u8(v.length);
  w.bytes(v);
}

function parseCharString(text: string, key: string): Uint8Array {
  const b = unescapeBytes(text, key);
  if (b.length > 255) throw new TextFormatError(key, 'character-string exceeds 255 octets');
  return b;
}

/** One `<character-string>` (RFC 1035 §3.3): a length octet and up to 255 octets. */
export function charString<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'charString', rest: false,
    decode: (r, end) => readCharString(r, end, key),
    encode: (w, v) => writeCharString(w, v, key),
    parse: (t) => parseCharString(t.next(key).text, key),
    print: quoteBytes,
    equals: bytesEqual,
  };
}

/** One or more character-strings to the end (TXT, SPF). */
export function charStrings<K extends string>(key: K): Field<K, Uint8Array[]> {
  return {
    key, kind: 'charStrings', rest: true,
    decode: (r, end) => {
      const out: Uint8Array[] = [];
      do out.push(readCharString(r, end, key));
      while (r.pos < end);
      return out;
    },
    encode: (w, v) => {
      for (const s of v) writeCharString(w, s, key);
    },
    parse: (t) => {
      if (t.done) throw new TextFormatError(key, 'missing value');
      const out: Uint8Array[] = [];
      // BIND splits an over-long unquoted or quoted string into 255-octet pieces.
      for (const tok of t.rest()) {
        const b = unescapeBytes(tok.text, key);
        if (b.length === 0) out.push(b);
        for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
      }
      return out;
    },
    print: (v) => v.map(quoteBytes).join(' '),
    equals: (a, b) => a.length === b.length && a.every((x, i) => bytesEqual(x, b[i]!)),
  };
}

function restBytes<K extends string>(
  key: K, kind: string, print: (b: Uint8Array) => string, parse: (s: string, key: string) => Uint8Array, allowEmpty: boolean,
): Field<K, Uint8Array> {
  return {
    key, kind, rest: true,
    decode: (r, end) => r.bytes(end - r.pos, key),
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      if (t.done) {
        if (allowEmpty) return new Uint8Array(0);
        throw new TextFormatError(key, 'missing value');
      }
      let s = '';
      for (const tok of t.rest()) s += tok.text;
      return parse(s, key);
    },
    print,
    equals: bytesEqual,
  };
}

/*
 * The wire allows these to be empty (a DNSKEY without key, a TLSA without data); such RDATA
 * prints with the field absent, and the text parser accepts it absent (as BIND does), so every
 * RDATA that decodes also round-trips through text.
 */
/** Base64 to the end of RDATA; printed unbroken (DNSKEY public key, RRSIG signature). */
export const base64Rest = <K extends string>(key: K): Field<K, Uint8Array> =>
  restBytes(key, 'base64Rest', toBase64, fromBase64, true);
/** Hex to the end of RDATA (DS digest, TLSA data); `-`-free, may be split across tokens. */
export const hexRest = <K extends string>(key: K): Field<K, Uint8Array> =>
  restBytes(key, 'hexRest', toHex, fromHex, true);

/** Hex with a length octet; `-` means empty (NSEC3 salt, RFC 5155 §3.3). */
export function hexLen8<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'hexLen8', rest: false,
    decode: (r, end) => readCharString(r, end, key),
    encode: (w, v) => writeCharString(w, v, key),
    parse: (t) => {
      const s = t.next(key).text;
      if (s === '-') return new Uint8Array(0);
      const b = fromHex(s, key);
      if (b.length > 255) throw new TextFormatError(key, 'exceeds 255 octets');
      return b;
    },
    print: (v) => (v.length === 0 ? '-' : toHex(v)),
    equals: bytesEqual,
  };
}

/** Base32hex with a length octet (NSEC3 next hashed owner name). */
export function base32Len8<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'base32Len8', rest: false,
    decode: (r, end) => {
      const b = readCharString(r, end, key);
      if (b.length === 0) r.fail(key, 'empty hash');
      return b;
    },
    encode: (w, v) => writeCharString(w, v, key),
    parse: (t) => {
      const b = fromBase32Hex(t.next(key).text, key);
      if (b.length === 0 || b.length > 255) throw new TextFormatError(key, 'hash must be 1..255 octets');
      return b;
    },
    print: toBase32Hex,
    equals: bytesEqual,
  };
}

/** Bytes with a 16-bit length, printed as base64 (TSIG MAC) or, empty, as nothing. */
export function base64Len16<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'base64Len16', rest: false,
    decode: (r) => r.bytes(r.u16(key), key),
    encode: (w, v) => {
      w.u16(v.length);
      w.bytes(v);
    },
    // Presentation (BIND): the length, then the base64 data unless empty.
    parse: (t) => {
      const n = parseUint(t.next(key).text, 0xffff, key);
      if (n === 0) return new Uint8Array(0);
      const b = fromBase64(t.next(key).text, key);
      if (b.length !== n) throw new TextFormatError(key, `length ${n} does not match ${b.length} octets of data`);
      return b;
    },
    print: (v) => (v.length === 0 ? '0' : `${v.length} ${toBase64(v)}`),
    equals: bytesEqual,
  };
}

/** RRSIG time (RFC 4034 §3.2): u32 seconds, printed YYYYMMDDHHmmSS; serial arithmetic is the caller's. */
export function rrsigTime<K extends string>(key: K): Field<K, number> {
  return {
    ...u32(key), kind: 'rrsigTime',
    parse: (t) => {
      const s = t.next(key).text;
      if (s.length === 14 && /^\d{14}$/.test(s)) {
        const ms = Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14));
        // RFC 4034 §3.1.5: the value is the time modulo 2^32.
        return (ms / 1000) % 0x100000000;
      }
      return parseUint(s, 0xffffffff, key);
    },
    print: (v) => {
      const d = new Date(v * 1000);
      const p2 = (n: number): string => (n < 10 ? '0' : '') + n;
      return String(d.getUTCFullYear()).padStart(4, '0') + p2(d.getUTCMonth() + 1) + p2(d.getUTCDate()) +
        p2(d.getUTCHours()) + p2(d.getUTCMinutes()) + p2(d.getUTCSeconds());
    },
  };
}

/**
 * NSEC/NSEC3/CSYNC type bit maps (RFC 4034 §4.1.2): windows in order, no empty or over-long
 * window, as the RFC requires of a receiver checking the format.
 */
export function typeBitmap<K extends string>(
  key: K, toText: (code: number) => string, fromText: (text: string) => number | undefined,
): Field<K, number[]> {
  return {
    key, kind: 'typeBitmap', rest: true,
    decode: (r, end) => {
      const types: number[] = [];
      let lastWindow = -1;
      while (r.pos < end) {
        const at = r.pos;
        const win = r.u8(key);
        const len = r.u8(key);
        if (win <= lastWindow) r.fail(key, 'type bit map windows out of order', at);
        if (len < 1 || len > 32) r.fail(key, `type bit map window length ${len} not in 1..32`, at);
        if (r.pos + len > end) r.fail(key, 'type bit map runs past RDATA end', at);
        lastWindow = win;
        const b = r.buf;
        for (let i = 0; i < len; i++) {
          const octet = b[r.pos + i]!;
          if (octet === 0) continue;
          for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >> bit)) types.push(win * 256 + i * 8 + bit);
        }
        r.pos += len;
      }
      return types;
    },
    encode: (w, v) => w.bytes(encodeTypeBitmap(v)),
    parse: (t) => {
      const out: number[] = [];
      for (const tok of t.rest()) {
        const code = fromText(tok.text);
        if (code === undefined) throw new TextFormatError(key, `unknown type "${tok.text}"`);
        out.push(code);
      }
      return normaliseTypes(out);
    },
    print: (v) => v.map(toText).join(' '),
    equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  };
}

function normaliseTypes(types: number[]): number[] {
  return [...new Set(types)].sort((a, b) => a - b);
}

export function encodeTypeBitmap(typesIn: readonly number[]): Uint8Array {
  const types = normaliseTypes([...typesIn]);
  const out: number[] = [];
  let i = 0;
  while (i < types.length) {
    const win = types[i]! >> 8;
    const bits = new Uint8Array(32);
    let maxOctet = 0;
    while (i < types.length && types[i]! >> 8 === win) {
      const low = types[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      if ((low >> 3) + 1 > maxOctet) maxOctet = (low >> 3) + 1;
      i++;
    }
    out.push(win, maxOctet, ...bits.subarray(0, maxOctet));
  }
  return Uint8Array.from(out);
}

/** CAA tag (RFC 8659 §4.1.1): a length-prefixed token of letters and digits, printed bare. */
export function caaTag<K extends string>(key: K): Field<K, string> {
  return {
    key, kind: 'caaTag', rest: false,
    decode: (r, end) => {
      const at = r.pos;
      const b = readCharString(r, end, key);
      if (b.length === 0) r.fail(key, 'empty CAA tag', at);
      // RFC 8659 §4.1.1: letters and digits only (BIND refuses anything else on the wire too)
      for (let i = 0; i < b.length; i++) {
        const c = b[i]! | 0x20;
        if (!((c >= 0x61 && c <= 0x7a) || (b[i]! >= 0x30 && b[i]! <= 0x39))) r.fail(key, 'CAA tag is not letters and digits', at);
      }
      return String.fromCharCode(...b);
    },
    encode: (w, v) => {
      w.u8(v.length);
      for (let i = 0; i < v.length; i++) w.u8(v.charCodeAt(i));
    },
    parse: (t) => {
      const s = t.next(key).text;
      if (!/^[A-Za-z0-9]{1,255}$/.test(s)) throw new TextFormatError(key, `"${s}" is not a CAA tag (letters and digits)`);
      return s;
    },
    print: (v) => v,
    equals: eqPrimitive,
  };
}

/** Bytes to the end of RDATA, printed as one quoted string (CAA value, URI target). */
export function quotedRest<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'quotedRest', rest: true,
    decode: (r, end) => r.bytes(end - r.pos, key),
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const tok = t.next(key);
      if (!t.done) throw new TextFormatError(key, 'expected one (quoted) string');
      return unescapeBytes(tok.text, key);
    },
    print: quoteBytes,
    equals: bytesEqual,
  };
}

/** WKS bit map (RFC 1035 §3.4.2): ports as numbers (or service names BIND knows). */
export function wksBitmap<K extends string>(key: K): Field<K, number[]> {
  return {
    key, kind: 'wksBitmap', rest: true,
    decode: (r, end) => {
      const ports: number[] = [];
      const start = r.pos;
      const b = r.buf;
      for (let i = start; i < end; i++) {
        const octet = b[i]!;
        for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >> bit)) ports.push((i - start) * 8 + bit);
      }
      r.pos = end;
      return ports;
    },
    encode: (w, v) => {
      const max = v.length === 0 ? -1 : Math.max(...v);
      const bits = new Uint8Array((max >> 3) + 1);
      for (const p of v) bits[p >> 3]! |= 0x80 >> (p & 7);
      w.bytes(max < 0 ? new Uint8Array(0) : bits);
    },
    parse: (t) => {
      const out: number[] = [];
      for (const tok of t.rest()) {
        const port = WELL_KNOWN_SERVICES[tok.text.toLowerCase()] ?? parseUint(tok.text, 0xffff, key);
        out.push(port);
      }
      return [...new Set(out)].sort((a, b) => a - b);
    },
    print: (v) => v.join(' '),
    equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  };
}

/** Service names accepted in WKS text (from /etc/services, the ones zone files use). */
const WELL_KNOWN_SERVICES: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, http: 80, pop3: 110, nntp: 119, ntp: 123,
  imap: 143, snmp: 161, ldap: 389, https: 443, imaps: 993, pop3s: 995,
};

/** Protocol field of WKS: a number, or `tcp`/`udp`. */
export function protocol<K extends string>(key: K): Field<K, number> {
  return {
    ...u8(key), kind: 'protocol',
    parse: (t) => {
      const s = t.next(key).text.toLowerCase();
      if (s === 'tcp') return 6;
      if (s === 'udp') return 17;
      return parseUint(s, 0xff, key);
    },
  };
}

/** EUI-48 / EUI-64 (RFC 7043): hex pairs joined by dashes. */
export function eui<K extends string>(key: K, octets: 6 | 8): Field<K, Uint8Array> {
  return {
    key, kind: octets === 6 ? 'eui48' : 'eui64', rest: false,
    decode: (r) => r.bytes(octets, key),
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const s = t.next(key).text;
      const parts = s.split('-');
      if (parts.length !== octets || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
        throw new TextFormatError(key, `"${s}" is not ${octets} dash-separated hex pairs`);
      }
      return fromHex(parts.join(''), key);
    },
    print: (v) => toHex(v).toLowerCase().replace(/(..)(?!$)/g, '$1-'),
    equals: bytesEqual,
  };
}

export type { AnyField };

/**
 * An unsigned integer printed as a mnemonic when it has one (CERT type and algorithm, TSIG
 * error), as BIND prints them; parsed from either form.
 */
export function mnemonicUint<K extends string>(key: K, bytes: 1 | 2, names: Readonly<Record<string, number>>,
  kind = 'mnemonic'): Field<K, number> {
  const byValue = new Map<number, string>();
  for (const [k, v] of Object.entries(names)) if (!byValue.has(v)) byValue.set(v, k);
  const max = bytes === 1 ? 0xff : 0xffff;
  return {
    ...(bytes === 1 ? u8(key) : u16(key)), kind,
    parse: (t) => {
      const s = t.next(key).text;
      const v = names[s.toUpperCase()];
      return v !== undefined ? v : parseUint(s, max, key);
    },
    print: (v) => byValue.get(v) ?? String(v),
  };
}
