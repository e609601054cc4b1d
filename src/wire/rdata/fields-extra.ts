/**
 * Field kinds of the less common types (BIND 9.18 reads and writes all of them): optional
 * trailing fields, KEY flags, the NXT bit map, NSAP and ATMA addresses, ILNP 64-bit locators,
 * gateways chosen by a type field (IPSECKEY, AMTRELAY), DS digests checked against their digest
 * type, and RDATA that BIND only knows in RFC 3597 form.
 *
 * Fields whose form depends on an earlier field read it from the record's context (`o`, see
 * Field in fields.ts). Printing follows BIND's totext functions exactly (dig and
 * `named-checkzone -D` print the same).
 */
import { TextFormatError } from '../../errors.js';
import { Name } from '../name.js';
import {
  EncodeMode, bytesEqual, ipv4, ipv6, u16, u8, type Field, type FieldContext,
} from './fields.js';
import { fromBase64, fromHex, parseUint, toBase64, toHex } from './text.js';

/** A field that may be absent at the end of the RDATA and of the text (ISDN subaddress). */
export function optional<K extends string, V>(f: Field<K, V>): Field<K, V | undefined> {
  return {
    key: f.key, kind: `optional ${f.kind}`, rest: f.rest,
    decode: (r, end, o) => (r.pos >= end ? undefined : f.decode(r, end, o)),
    encode: (w, v, mode, o) => {
      if (v !== undefined) f.encode(w, v, mode, o);
    },
    parse: (t, origin, o) => (t.done ? undefined : f.parse(t, origin, o)),
    print: (v, o) => (v === undefined ? '' : f.print(v, o)),
    equals: (a, b) => (a === undefined || b === undefined ? a === b : f.equals(a, b)),
  };
}

/** A number whose text may also be a mnemonic (DNSSEC algorithm, key protocol); printed as the number, as BIND does. */
export function numberOrMnemonic<K extends string>(key: K, bytes: 1 | 2, names: Readonly<Record<string, number>>): Field<K, number> {
  const max = bytes === 1 ? 0xff : 0xffff;
  return {
    ...(bytes === 1 ? u8(key) : u16(key)), kind: 'numberOrMnemonic',
    parse: (t) => {
      const s = t.next(key).text;
      const v = names[s.toUpperCase()];
      return v !== undefined ? v : parseUint(s, max, key);
    },
  };
}

/** Key protocol mnemonics (RFC 2535 §3.1.3), as BIND's dns_secproto_fromtext reads them. */
export const KEY_PROTOCOLS: Readonly<Record<string, number>> = { NONE: 0, TLS: 1, EMAIL: 2, DNSSEC: 3, IPSEC: 4, ALL: 255 };

/** KEY flag mnemonics (RFC 2535 §3.1.2, RFC 3445, RFC 5011), as BIND's dns_keyflags_fromtext reads them. */
const KEY_FLAGS: Readonly<Record<string, number>> = {
  NOCONF: 0x4000, NOAUTH: 0x8000, NOKEY: 0xc000, FLAG2: 0x2000, EXTEND: 0x1000, FLAG4: 0x0800, FLAG5: 0x0400,
  USER: 0x0000, ZONE: 0x0100, HOST: 0x0200, NTYP3: 0x0300, FLAG8: 0x0080, FLAG9: 0x0040, FLAG10: 0x0020,
  FLAG11: 0x0010, SIG0: 0x0000, SIG1: 0x0001, SIG2: 0x0002, SIG3: 0x0003, SIG4: 0x0004, SIG5: 0x0005, SIG6: 0x0006,
  SIG7: 0x0007, SIG8: 0x0008, SIG9: 0x0009, SIG10: 0x000a, SIG11: 0x000b, SIG12: 0x000c, SIG13: 0x000d, SIG14: 0x000e,
  SIG15: 0x000f, KSK: 0x0001, REVOKE: 0x0080,
};

/** Key flags (KEY, DNSKEY, RKEY): a number (decimal or 0x hex) or mnemonics joined by `|`; printed as the number. */
export function keyFlags<K extends string>(key: K): Field<K, number> {
  return {
    ...u16(key), kind: 'keyFlags',
    parse: (t) => {
      const s = t.next(key).text;
      if (/^0x[0-9a-f]{1,4}$/i.test(s)) return parseInt(s.slice(2), 16);
      if (/^\d+$/.test(s)) return parseUint(s, 0xffff, key);
      let v = 0;
      for (const part of s.split('|')) {
        const f = KEY_FLAGS[part.toUpperCase()];
        if (f === undefined) throw new TextFormatError(key, `"${part}" is not a key flag`);
        v |= f;
      }
      return v;
    },
  };
}

/** Key material after the flags, protocol and algorithm (RFC 2535 §3.1): base64 to the end, may be absent (NOKEY). */
export function keyData<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'keyData', rest: true,
    decode: (r, end) => r.bytes(end - r.pos, key),
    encode: (w, v) => w.bytes(v),
    // (With both NOKEY bits BIND writes no key and reads none; data there anyway is kept, so that
    // every RDATA that decodes also round-trips through text.)
    parse: (t) => {
      if (t.done) return new Uint8Array(0);
      let s = '';
      for (const tok of t.rest()) s += tok.text;
      return fromBase64(s, key);
    },
    print: toBase64,
    equals: bytesEqual,
  };
}

/** NXT type bit map (RFC 2535 §5.2): types 1..127, bit 0 of the first octet clear, no trailing zero octet. */
export function nxtBitmap<K extends string>(
  key: K, toText: (code: number) => string, fromText: (text: string) => number | undefined,
): Field<K, number[]> {
  return {
    key, kind: 'nxtBitmap', rest: true,
    decode: (r, end) => {
      const at = r.pos;
      const n = end - r.pos;
      const b = r.buf;
      if (n > 0 && ((b[at]! & 0x80) !== 0 || n > 16 || b[end - 1] === 0)) r.fail(key, 'bad NXT type bit map', at);
      const types: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let bit = 0; bit < 8; bit++) if (b[at + i]! & (0x80 >> bit)) types.push(i * 8 + bit);
      }
      r.pos = end;
      return types;
    },
    encode: (w, v) => {
      if (v.length === 0) return;
      const bits = new Uint8Array((Math.max(...v) >> 3) + 1);
      for (const c of v) bits[c >> 3]! |= 0x80 >> (c & 7);
      w.bytes(bits);
    },
    parse: (t) => {
      const out = new Set<number>();
      for (const tok of t.rest()) {
        const c = fromText(tok.text);
        if (c === undefined) throw new TextFormatError(key, `unknown type "${tok.text}"`);
        if (c < 1 || c > 127) throw new TextFormatError(key, `type ${tok.text} cannot be in an NXT bit map (1..127)`);
        out.add(c);
      }
      return [...out].sort((a, b) => a - b);
    },
    print: (v) => v.map(toText).join(' '),
    equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  };
}

/** NSAP address (RFC 1706 §5): `0x` then hex digits, dots allowed anywhere; printed `0x` + lowercase hex. */
export function nsapAddress<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'nsap', rest: true,
    decode: (r, end) => {
      if (end === r.pos) r.fail(key, 'empty NSAP address');
      return r.bytes(end - r.pos, key);
    },
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const s = t.next(key).text;
      if (!/^0x/i.test(s)) throw new TextFormatError(key, `"${s}" is not an NSAP address (0x...)`);
      const hex = s.slice(2).replace(/\./g, '');
      if (hex.length === 0) throw new TextFormatError(key, 'empty NSAP address');
      return fromHex(hex, key);
    },
    print: (v) => '0x' + toHex(v).toLowerCase(),
    equals: bytesEqual,
  };
}

/**
 * ATMA format (ATM Forum af-saa-0069.000): taken from the address text (`+` = E.164, else NSAP
 * hex), so it has no token of its own.
 */
export function atmaFormat<K extends string>(key: K): Field<K, number> {
  return {
    ...u8(key), kind: 'atmaFormat',
    decode: (r) => {
      const v = r.u8(key);
      // Only these two have a text form (BIND refuses others as it cannot print them).
      if (v > 1) r.fail(key, `ATMA format ${v} is not 0 (NSAP) or 1 (E.164)`, r.pos - 1);
      return v;
    },
    parse: (t) => {
      const tok = t.peek();
      if (tok === undefined) throw new TextFormatError('address', 'missing value');
      return tok.text.startsWith('+') ? 1 : 0;
    },
    print: () => '',
  };
}

/** ATMA address: hex for format 0 (NSAP), `+digits` for format 1 (E.164); dots in the text are ignored. */
export function atmaAddress<K extends string>(key: K, formatKey: string): Field<K, Uint8Array> {
  const fmt = (o: FieldContext | undefined): number => o?.[formatKey] as number;
  return {
    key, kind: 'atmaAddress', rest: true,
    decode: (r, end, o) => {
      const at = r.pos;
      const b = r.bytes(end - r.pos, key);
      if (b.length === 0) r.fail(key, 'empty ATMA address', at);
      if (fmt(o) === 1 && b.some((c) => c < 0x30 || c > 0x39)) r.fail(key, 'E.164 ATMA address is not digits', at);
      return b;
    },
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const s = t.next(key).text.replace(/\./g, '');
      if (s.startsWith('+')) {
        if (!/^\+\d+$/.test(s)) throw new TextFormatError(key, `"${s}" is not an E.164 address`);
        return Uint8Array.from(s.slice(1), (c) => c.charCodeAt(0));
      }
      return fromHex(s, key);
    },
    print: (v, o) => (fmt(o) === 1 ? '+' + String.fromCharCode(...v) : toHex(v).toLowerCase()),
    equals: bytesEqual,
  };
}

/** ILNP 64-bit Node ID / Locator (RFC 6742 §2.1): four 16-bit groups of 1-4 hex digits; printed without leading zeros. */
export function ilnp64<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'ilnp64', rest: false,
    decode: (r) => r.bytes(8, key),
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const s = t.next(key).text;
      const groups = s.split(':');
      if (groups.length !== 4 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) {
        throw new TextFormatError(key, `"${s}" is not four colon-separated groups of hex digits`);
      }
      const out = new Uint8Array(8);
      groups.forEach((g, i) => {
        const v = parseInt(g, 16);
        out[2 * i] = v >> 8;
        out[2 * i + 1] = v & 0xff;
      });
      return out;
    },
    print: (v) => {
      let s = '';
      for (let i = 0; i < 8; i += 2) s += (i ? ':' : '') + ((v[i]! << 8) | v[i + 1]!).toString(16);
      return s;
    },
    equals: bytesEqual,
  };
}

/** A gateway or relay whose form is given by a type field: 0 none (`.`), 1 IPv4, 2 IPv6, 3 a domain name (never compressed). */
export type Gateway = string | Name | undefined;

/** IPSECKEY gateway (RFC 4025 §2.5) and AMTRELAY relay (RFC 8777 §4.2), by the type in `typeKey`. */
export function gateway<K extends string>(key: K, typeKey: string): Field<K, Gateway> {
  const v4 = ipv4(key);
  const v6 = ipv6(key);
  const kind = (o: FieldContext | undefined): number => o?.[typeKey] as number;
  return {
    key, kind: 'gateway', rest: false,
    decode: (r, end, o) => {
      switch (kind(o)) {
        case 0: return undefined;
        case 1: return v4.decode(r, end);
        case 2: return v6.decode(r, end);
        case 3: return r.name(key);
        default: return r.fail(typeKey, `gateway type ${kind(o)} is not 0..3`);
      }
    },
    encode: (w, v, mode, o) => {
      switch (kind(o)) {
        case 0: return;
        case 1: return v4.encode(w, v as string, mode);
        case 2: return v6.encode(w, v as string, mode);
        case 3: return w.bytes((v as Name).wire);
        default: throw new TextFormatError(typeKey, `gateway type ${kind(o)} is not 0..3`);
      }
    },
    parse: (t, origin, o) => {
      switch (kind(o)) {
        case 0: {
          const s = t.next(key).text;
          if (s !== '.') throw new TextFormatError(key, `gateway type 0 takes "." (no gateway), not "${s}"`);
          return undefined;
        }
        case 1: return v4.parse(t, origin);
        case 2: return v6.parse(t, origin);
        case 3: return Name.fromText(t.next(key).text, origin);
        default: throw new TextFormatError(typeKey, `gateway type ${kind(o)} is not 0..3`);
      }
    },
    print: (v) => (v === undefined ? '.' : typeof v === 'string' ? v : v.toString()),
    equals: (a, b) => (a instanceof Name && b instanceof Name ? a.equals(b) : a === b),
  };
}

/** AMTRELAY discovery-optional bit (RFC 8777 §4.2.2): the top bit of the octet the relay type shares. */
export function amtDiscovery<K extends string>(key: K): Field<K, boolean> {
  return {
    key, kind: 'amtDiscovery', rest: false,
    decode: (r) => {
      r.need(1, key);
      return (r.buf[r.pos]! & 0x80) !== 0;
    },
    encode: () => {},
    parse: (t) => {
      const s = t.next(key).text;
      if (s !== '0' && s !== '1') throw new TextFormatError(key, `"${s}" is not 0 or 1`);
      return s === '1';
    },
    print: (v) => (v ? '1' : '0'),
    equals: (a, b) => a === b,
  };
}

/** AMTRELAY relay type (RFC 8777 §4.2.3): the low 7 bits of the octet whose top bit is `dKey`. */
export function amtRelayType<K extends string>(key: K, dKey: string): Field<K, number> {
  return {
    ...u8(key), kind: 'amtRelayType',
    decode: (r) => r.u8(key) & 0x7f,
    encode: (w, v, _mode, o) => w.u8((o?.[dKey] === true ? 0x80 : 0) | v),
    parse: (t) => {
      const v = parseUint(t.next(key).text, 0x7f, key);
      if (v > 3) throw new TextFormatError(key, `relay type ${v} is not 0..3`);
      return v;
    },
  };
}

/** Digest lengths of the DS digest types (RFC 4034 §5.1.4, RFC 4509, RFC 6605), which BIND checks. */
const DIGEST_LENGTHS: Readonly<Record<number, number>> = { 1: 20, 2: 32, 4: 48 };

/** DS/CDS/DLV/TA digest: hex to the end, its length checked against the digest type's (as BIND does, text and wire). */
export function dsDigest<K extends string>(key: K, typeKey: string): Field<K, Uint8Array> {
  const check = (b: Uint8Array, o: FieldContext | undefined): string | undefined => {
    const want = DIGEST_LENGTHS[o?.[typeKey] as number];
    return want !== undefined && b.length !== want
      ? `digest type ${o?.[typeKey] as number} takes ${want} octets, not ${b.length}` : undefined;
  };
  return {
    key, kind: 'dsDigest', rest: true,
    decode: (r, end, o) => {
      const at = r.pos;
      const b = r.bytes(end - r.pos, key);
      const bad = check(b, o);
      if (bad !== undefined) r.fail(key, bad, at);
      return b;
    },
    encode: (w, v) => w.bytes(v),
    parse: (t, _origin, o) => {
      let s = '';
      for (const tok of t.rest()) s += tok.text;
      const b = fromHex(s, key);
      const bad = check(b, o);
      if (bad !== undefined) throw new TextFormatError(key, bad);
      return b;
    },
    print: toHex,
    equals: bytesEqual,
  };
}

/** Base64 to the end, `-` when empty (DOA data, draft-durand-doa-over-dns §3). */
export function base64OrDash<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'base64OrDash', rest: true,
    decode: (r, end) => r.bytes(end - r.pos, key),
    encode: (w, v) => w.bytes(v),
    parse: (t) => {
      const toks = t.rest();
      if (toks.length === 0) throw new TextFormatError(key, 'missing value ("-" for none)');
      if (toks.length === 1 && toks[0]!.text === '-') return new Uint8Array(0);
      return fromBase64(toks.map((x) => x.text).join(''), key);
    },
    print: (v) => (v.length === 0 ? '-' : toBase64(v)),
    equals: bytesEqual,
  };
}

/**
 * RDATA that BIND knows by name but reads and writes only in RFC 3597 form (NULL, UINFO, UID,
 * GID, UNSPEC): the bytes, printed `\# len HEX`.
 */
export function opaque<K extends string>(key: K, mnemonic: string): Field<K, Uint8Array> {
  return {
    key, kind: 'opaque', rest: true,
    decode: (r, end) => r.bytes(end - r.pos, key),
    encode: (w, v) => w.bytes(v),
    parse: () => {
      throw new TextFormatError(mnemonic, `${mnemonic} has no text form; write its RDATA as \\# LENGTH HEX (RFC 3597)`);
    },
    print: (v) => (v.length === 0 ? '\\# 0' : `\\# ${v.length} ${toHex(v)}`),
    equals: bytesEqual,
  };
}

/** One hex token with a length octet before it on the wire, printed uppercase (HIP HIT). */
export function hexToken<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'hexToken', rest: false,
    decode: (r) => r.bytes(r.u8(key), key),
    encode: (w, v) => {
      w.u8(v.length);
      w.bytes(v);
    },
    parse: (t) => {
      const b = fromHex(t.next(key).text, key);
      if (b.length === 0 || b.length > 255) throw new TextFormatError(key, 'must be 1..255 octets');
      return b;
    },
    print: toHex,
    equals: bytesEqual,
  };
}

/** One base64 token (HIP public key). */
export function base64Token<K extends string>(key: K): Field<K, Uint8Array> {
  return {
    key, kind: 'base64Token', rest: false,
    decode: (r) => r.bytes(r.u16(key), key),
    encode: (w, v) => {
      w.u16(v.length);
      w.bytes(v);
    },
    parse: (t) => fromBase64(t.next(key).text, key),
    print: toBase64,
    equals: bytesEqual,
  };
}

/** Domain names to the end of the RDATA (HIP rendezvous servers), never compressed. */
export function names<K extends string>(key: K): Field<K, Name[]> {
  return {
    key, kind: 'names', rest: true,
    decode: (r, end) => {
      const out: Name[] = [];
      while (r.pos < end) out.push(r.name(key));
      return out;
    },
    encode: (w, v, mode) => {
      for (const n of v) {
        if (mode === EncodeMode.Canonical) w.bytes(n.wire);
        else w.name(n, false);
      }
    },
    parse: (t, origin) => t.rest().map((tok) => Name.fromText(tok.text, origin)),
    print: (v) => v.map((n) => n.toString()).join(' '),
    equals: (a, b) => a.length === b.length && a.every((n, i) => n.equals(b[i]!)),
  };
}
