/**
 * Address prefixes for RPZ's IP triggers (rpz-client-ip, rpz-ip, rpz-nsip): parsing the
 * reversed-label form draft-vixie-dnsop-dns-rpz §4.1-4.3 writes them in, and longest-prefix
 * lookups.
 *
 * Invariants: every address is 16 octets (IPv4 as ::ffff:a.b.c.d, its prefix length + 96), so
 * one table holds both families. A lookup probes one Map per distinct prefix length, longest
 * first (a few lengths in practice), with the address masked to that length as the key: no scan
 * over the rules, whatever their number.
 */
import { isIPv6 } from 'node:net';
import { addressBytes } from '../resolver/acl.js';

export { addressBytes };


/** A prefix: 16 octets and a length over them (IPv4 /24 is 120). */
export interface Prefix {
  bytes: Uint8Array;
  bits: number;
  /** As written in config and logs: `192.0.2.0/24`, `2001:db8::/32`. */
  text: string;
}

/**
 * The prefix an RPZ IP trigger's labels (below `rpz-ip` etc., first label first) encode, or a
 * reason it is malformed. draft-vixie-dnsop-dns-rpz §4.1: `prefixlength.B4.B3.B2.B1` for IPv4
 * (all four octets, prefix 1-32); `prefixlength.W8.W7...W1` for IPv6 (hex words, `zz` once for
 * the longest run of zero words, prefix 1-128).
 */
export function parseIpTrigger(labels: readonly string[]): Prefix | string {
  if (labels.length < 2) return 'needs a prefix length and an address';
  const len = Number(labels[0]);
  if (!/^\d+$/.test(labels[0]!)) return `"${labels[0]}" is not a prefix length`;
  const rest = labels.slice(1).reverse();
  if (rest.length === 4 && rest.every((l) => /^\d{1,3}$/.test(l) && Number(l) <= 255)) {
    if (len < 1 || len > 32) return `IPv4 prefix length ${len} is outside 1-32`;
    const text = rest.join('.');
    const bytes = addressBytes(text)!;
    return { bytes: mask(bytes, 96 + len), bits: 96 + len, text: `${text}/${len}` };
  }
  const words = rest.map((w) => (w.toLowerCase() === 'zz' ? '' : w));
  if (words.filter((w) => w === '').length > 1) return '"zz" may stand for one run of zero words only';
  let text = words.join(':');
  if (words[0] === '') text = ':' + text;
  if (words[words.length - 1] === '') text = text + ':';
  const bytes = addressBytes(text);
  if (bytes === undefined || !isIPv6(text)) return `"${rest.join('.')}" is not an IPv4 or IPv6 address in RPZ form`;
  if (len < 1 || len > 128) return `IPv6 prefix length ${len} is outside 1-128`;
  return { bytes: mask(bytes, len), bits: len, text: `${text}/${len}` };
}

function mask(b: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const left = bits - i * 8;
    out[i] = left >= 8 ? b[i]! : left <= 0 ? 0 : b[i]! & ((0xff << (8 - left)) & 0xff);
  }
  return out;
}

/** The map key of `b` masked to `bits` (Latin-1 string of the octets that count). */
function keyOf(b: Uint8Array, bits: number): string {
  let s = '';
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) s += String.fromCharCode(b[i]!);
  const part = bits & 7;
  if (part !== 0) s += String.fromCharCode(b[whole]! & ((0xff << (8 - part)) & 0xff));
  return s;
}

/** Longest-prefix match over a set of prefixes, each with a value. */
export class PrefixTable<T> {
  private readonly byLength = new Map<number, Map<string, T>>();
  /** Distinct prefix lengths, longest first. */
  private lengths: number[] = [];

  get size(): number {
    let n = 0;
    for (const m of this.byLength.values()) n += m.size;
    return n;
  }

  /** Adds `p` (a later add of the same prefix keeps the first). */
  add(p: Prefix, value: T): void {
    let m = this.byLength.get(p.bits);
    if (m === undefined) {
      m = new Map();
      this.byLength.set(p.bits, m);
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    }
    const k = keyOf(p.bytes, p.bits);
    if (!m.has(k)) m.set(k, value);
  }

  /** The value of the longest prefix containing `address` (16 octets), or undefined. */
  match(address: Uint8Array): T | undefined {
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const bits = lengths[i]!;
      const v = this.byLength.get(bits)!.get(keyOf(address, bits));
      if (v !== undefined) return v;
    }
    return undefined;
  }
}
