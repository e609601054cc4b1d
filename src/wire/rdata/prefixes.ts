/**
 * Address prefixes in RDATA: APL items (RFC 3123 §4) and the A6 address suffix and prefix name
 * (RFC 2874 §3.1), read and printed as BIND does (lib/dns/rdata/in_1/apl_42.c, a6_38.c).
 *
 * Invariants: an APL item's address part has no trailing zero octet (RFC 3123 §4, BIND's fromwire
 * refuses one) and is at most 4 (IPv4) or 16 (IPv6) octets; only families 1 and 2 are read.
 * An A6 suffix is exactly the 16 - floor(prefix/8) octets the prefix length leaves, its bits
 * under the prefix clear.
 */
import { TextFormatError } from '../../errors.js';
import { Name } from '../name.js';
import { formatIPv4, formatIPv6, ipv4Into, ipv6Into } from './addresses.js';
import { EncodeMode, type Field, type FieldContext } from './fields.js';

export interface AplItem {
  /** Address family (1 IPv4, 2 IPv6). */
  family: number;
  prefix: number;
  negation: boolean;
  /** The address with its trailing zero octets removed. */
  afdPart: Uint8Array;
}

function trimmed(addr: Uint8Array): Uint8Array {
  let n = addr.length;
  while (n > 0 && addr[n - 1] === 0) n--;
  return addr.slice(0, n);
}

function printItem(i: AplItem): string {
  const full = new Uint8Array(i.family === 1 ? 4 : 16);
  full.set(i.afdPart);
  return `${i.negation ? '!' : ''}${i.family}:${i.family === 1 ? formatIPv4(full) : formatIPv6(full)}/${i.prefix}`;
}

/** APL items to the end of the RDATA (`[!]family:address/prefix`, separated by spaces; none at all is allowed). */
export function aplItems<K extends string>(key: K): Field<K, AplItem[]> {
  return {
    key, kind: 'aplItems', rest: true,
    decode: (r, end) => {
      const out: AplItem[] = [];
      while (r.pos < end) {
        const at = r.pos;
        const family = r.u16(key);
        const prefix = r.u8(key);
        const b = r.u8(key);
        const len = b & 0x7f;
        const max = family === 1 ? 4 : family === 2 ? 16 : -1;
        if (max < 0) r.fail(key, `address family ${family} is not 1 or 2`, at);
        if (prefix > max * 8 || len > max) r.fail(key, `prefix /${prefix} or length ${len} too long for family ${family}`, at);
        const afdPart = r.bytes(len, key);
        if (len > 0 && afdPart[len - 1] === 0) r.fail(key, 'address part ends in a zero octet (RFC 3123 §4)', at);
        out.push({ family, prefix, negation: (b & 0x80) !== 0, afdPart });
      }
      return out;
    },
    encode: (w, v) => {
      for (const i of v) {
        w.u16(i.family);
        w.u8(i.prefix);
        w.u8((i.negation ? 0x80 : 0) | i.afdPart.length);
        w.bytes(i.afdPart);
      }
    },
    parse: (t) => t.rest().map((tok) => {
      const m = /^(!?)(\d+):([^/]+)\/(\d+)$/.exec(tok.text);
      if (m === null) throw new TextFormatError(key, `"${tok.text}" is not [!]family:address/prefix`);
      const family = Number(m[2]);
      const prefix = Number(m[4]);
      const addr = new Uint8Array(family === 1 ? 4 : 16);
      if (family === 1 ? !ipv4Into(m[3]!, addr, 0) : family === 2 ? !ipv6Into(m[3]!, addr, 0) : true) {
        throw new TextFormatError(key, family === 1 || family === 2 ? `"${m[3]}" is not an address of family ${family}` : `address family ${family} is not 1 or 2`);
      }
      if (prefix > addr.length * 8) throw new TextFormatError(key, `prefix /${prefix} too long`);
      return { family, prefix, negation: m[1] === '!', afdPart: trimmed(addr) };
    }),
    print: (v) => v.map(printItem).join(' '),
    equals: (a, b) => a.length === b.length && a.every((x, i) => {
      const y = b[i]!;
      return x.family === y.family && x.prefix === y.prefix && x.negation === y.negation &&
        x.afdPart.length === y.afdPart.length && x.afdPart.every((c, j) => c === y.afdPart[j]);
    }),
  };
}

const prefixOf = (o: FieldContext | undefined): number => o?.[PREFIX_KEY] as number;
const PREFIX_KEY = 'prefixLength';

/** A6 address suffix (RFC 2874 §3.1): the low 128 - prefix bits, kept as a full IPv6 address text. */
export function a6Suffix<K extends string>(key: K): Field<K, string> {
  return {
    key, kind: 'a6Suffix', rest: false,
    decode: (r, _end, o) => {
      const p = prefixOf(o);
      if (p > 128) r.fail(PREFIX_KEY, `prefix length ${p} exceeds 128`);
      const n = 16 - (p >> 3);
      const at = r.pos;
      const part = r.bytes(n, key);
      if (n > 0 && (part[0]! & ~(0xff >> (p & 7)) & 0xff) !== 0) r.fail(key, 'suffix has bits set under the prefix', at);
      const full = new Uint8Array(16);
      full.set(part, 16 - n);
      return formatIPv6(full);
    },
    encode: (w, v, _mode, o) => {
      const full = new Uint8Array(16);
      if (!ipv6Into(v, full, 0)) throw new TextFormatError(key, `"${v}" is not an IPv6 address`);
      w.bytes(full.subarray(prefixOf(o) >> 3));
    },
    parse: (t, _origin, o) => {
      const p = prefixOf(o);
      if (p > 128) throw new TextFormatError(PREFIX_KEY, `prefix length ${p} exceeds 128`);
      if (p === 128) return '::';
      const s = t.next(key).text;
      const full = new Uint8Array(16);
      if (!ipv6Into(s, full, 0)) throw new TextFormatError(key, `"${s}" is not an IPv6 address`);
      // BIND keeps only the bits after the prefix.
      full.fill(0, 0, p >> 3);
      if (p & 7) full[p >> 3]! &= 0xff >> (p & 7);
      return formatIPv6(full);
    },
    print: (v, o) => (prefixOf(o) === 128 ? '' : v),
    equals: (a, b) => a === b,
  };
}

/** A6 prefix name: present only when the prefix length is not 0; never compressed (RFC 2874 §3.1 as RFC 3597 §4 reads it). */
export function a6Prefix<K extends string>(key: K): Field<K, Name | undefined> {
  return {
    key, kind: 'a6Prefix', rest: false,
    decode: (r, _end, o) => (prefixOf(o) === 0 ? undefined : r.name(key)),
    encode: (w, v, mode) => {
      if (v === undefined) return;
      if (mode === EncodeMode.Canonical) w.bytes(v.wire);
      else w.name(v, false);
    },
    parse: (t, origin, o) => (prefixOf(o) === 0 ? undefined : Name.fromText(t.next(key).text, origin)),
    print: (v) => (v === undefined ? '' : v.toString()),
    equals: (a, b) => (a === undefined || b === undefined ? a === b : a.equals(b)),
  };
}
