/**
 * The recursion ACL: which client addresses may have questions resolved or forwarded for them
 * (BIND's allow-recursion, Unbound's access-control). An open resolver is an amplifier for
 * anyone on the Internet, so the default admits only loopback and private networks.
 *
 * Invariants: an `Acl`'s rules are immutable; first match wins (`!` prefixes deny). `allows`
 * remembers its verdict per client address (at most 4096, then it starts again), so the hot path
 * parses a client's address once; bad entries are AddressError.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { AddressError } from '../errors.js';
import { ipv6Nibbles } from './hosts.js';

/** BIND's "localhost; localnets;" spirit, without needing the interface list: loopback and private ranges. */
export const DEFAULT_RECURSION_ACL: readonly string[] = [
  '127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
  'fc00::/7', 'fe80::/10',
];

interface Rule {
  allow: boolean;
  /** 16 octets (IPv4 as ::ffff:a.b.c.d) and prefix length over those 16 octets. */
  bytes: Uint8Array;
  bits: number;
}

/** 16 octets of `text` (an IPv4 or IPv6 address), or undefined. */
export function addressBytes(text: string): Uint8Array | undefined {
  let a = text;
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  const out = new Uint8Array(16);
  if (isIPv4(a)) {
    out[10] = 0xff;
    out[11] = 0xff;
    let octet = 0;
    let at = 12;
    for (let i = 0; i < a.length; i++) {
      const c = a.charCodeAt(i);
      if (c === 46) {
        out[at++] = octet;
        octet = 0;
      } else {
        octet = octet * 10 + (c - 48);
      }
    }
    out[at] = octet;
    return out;
  }
  if (!isIPv6(a)) return undefined;
  const n = ipv6Nibbles(a);
  if (n === undefined) return undefined;
  for (let i = 0; i < 16; i++) out[i] = parseInt(n.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A list of `address[/prefix]` entries; `!` in front denies; `any` / `none` as BIND spells them. */
export class Acl {
  private readonly rules: Rule[] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      let text = raw.trim();
      let allow = true;
      if (text.startsWith('!')) {
        allow = false;
        text = text.slice(1).trim();
      }
      if (text === 'any') {
        this.rules.push({ allow, bytes: new Uint8Array(16), bits: 0 });
        continue;
      }
      if (text === 'none') {
        this.rules.push({ allow: !allow, bytes: new Uint8Array(16), bits: 0 });
        continue;
      }
      const slash = text.indexOf('/');
      const addr = slash >= 0 ? text.slice(0, slash) : text;
      const bytes = addressBytes(addr);
      if (bytes === undefined) throw new AddressError(raw, 'is not an address or address/prefix');
      const v4 = isIPv4(addr);
      const max = v4 ? 32 : 128;
      const len = slash >= 0 ? Number(text.slice(slash + 1)) : max;
      if (!Number.isInteger(len) || len < 0 || len > max || (slash >= 0 && text.slice(slash + 1) === '')) {
        throw new AddressError(raw, `has a bad prefix length (0 to ${max})`);
      }
      this.rules.push({ allow, bytes, bits: v4 ? 96 + len : len });
    }
  }

  /** Verdicts per client address (bounded): the same clients ask again and again. */
  private readonly memo = new Map<string, boolean>();

  /** True when the first matching entry allows `address` (no match: denied). Remembered per address. */
  allows(address: string): boolean {
    let v = this.memo.get(address);
    if (v === undefined) {
      v = this.decide(address);
      if (this.memo.size >= 4096) this.memo.clear();
      this.memo.set(address, v);
    }
    return v;
  }

  private decide(address: string): boolean {
    const b = addressBytes(address);
    if (b === undefined) return false;
    for (const r of this.rules) if (matches(r, b)) return r.allow;
    return false;
  }
}

function matches(r: Rule, b: Uint8Array): boolean {
  let bits = r.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & mask) !== (r.bytes[i]! & mask)) return false;
  }
  return true;
}
