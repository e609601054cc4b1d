/**
 * Addresses and prefixes of the load balancer as octets: parsed once at configuration time, and
 * client addresses parsed per query into a caller's scratch buffer (no allocation).
 *
 * Invariant: a Prefix's octets past its length are zero (RFC 7871 §6 asks the same of ECS).
 */
import { ipv4Into, ipv6Into } from '../wire/rdata/addresses.js';

/** IANA address family numbers, as ECS (RFC 7871 §6) uses them. */
export const Family = { IPV4: 1, IPV6: 2 } as const;

/** An address prefix such as 10.0.0.0/8 or 2001:db8::/32. */
export interface Prefix {
  family: number;
  /** 4 or 16 octets, zero past `length` bits. */
  bytes: Uint8Array;
  length: number;
  text: string;
}

/** Parses an address into 4 or 16 octets; undefined when it is neither. */
export function parseAddress(text: string): Uint8Array | undefined {
  const b4 = new Uint8Array(4);
  if (ipv4Into(text, b4, 0)) return b4;
  const b6 = new Uint8Array(16);
  if (ipv6Into(text, b6, 0)) return b6;
  return undefined;
}

/** Parses "ADDRESS/LENGTH" (or a bare address: a host prefix); throws an Error saying what is wrong. */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseAddress(addr);
  if (bytes === undefined) throw new Error(`"${addr}" is not an IPv4 or IPv6 address`);
  const max = bytes.length * 8;
  const length = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(length) || length < 0 || length > max || (slash >= 0 && text.slice(slash + 1).trim() === '')) {
    throw new Error(`"${text}" has a prefix length that is not 0 to ${max}`);
  }
  for (let bit = length; bit < max; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) {
      throw new Error(`"${text}" has bits set past /${length}; write the network address`);
    }
  }
  return { family: bytes.length === 4 ? Family.IPV4 : Family.IPV6, bytes, length, text };
}

/**
 * Parses a client address (as a socket gives it) into `out` (16 octets); returns its family, or
 * 0 when unparsable. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack socket) counts as
 * IPv4, as the client's address is the IPv4 one.
 */
export function clientAddressInto(text: string, out: Uint8Array): number {
  if (ipv4Into(text, out, 0)) return Family.IPV4;
  if (text.length > 7 && text.charCodeAt(0) === 0x3a && text.startsWith('::ffff:') && ipv4Into(text.slice(7), out, 0)) return Family.IPV4;
  if (ipv6Into(text, out, 0)) return Family.IPV6;
  return 0;
}

/** Leading bits `a` and `b` share, at most `max`. */
export function commonBits(a: Uint8Array, b: Uint8Array, max: number): number {
  let n = 0;
  for (let i = 0; n < max; i++) {
    const x = a[i]! ^ b[i]!;
    if (x === 0) {
      n += 8;
      continue;
    }
    n += Math.clz32(x) - 24;
    break;
  }
  return n < max ? n : max;
}
