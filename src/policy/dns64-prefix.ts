/**
 * RFC 6052 §2.2 IPv4-embedded IPv6 addresses: an IPv4 address written into a /32, /40, /48, /56,
 * /64 or /96 prefix, skipping bits 64-71 (the "u" octet, always zero), and read back out.
 *
 * Invariants: a Dns64Prefix is immutable; its bytes past the prefix length are zero; octet 8
 * is zero (RFC 6052 §2.2: "bits 64 to 71 ... MUST be set to zero", the prefix included for /96).
 */
import { ConfigError } from '../errors.js';
import { formatIPv6, ipv6Into } from '../wire/rdata/addresses.js';

/** Prefix lengths RFC 6052 §2.2 defines. */
export const DNS64_PREFIX_LENGTHS: readonly number[] = [32, 40, 48, 56, 64, 96];

export class Dns64Prefix {
  /** 16 octets, zero past `length`. */
  readonly bytes: Uint8Array;
  /** Prefix length in bits: 32, 40, 48, 56, 64 or 96. */
  readonly length: number;
  /** Where the four IPv4 octets go (octet 8, the u octet, skipped). */
  readonly positions: readonly number[];

  constructor(bytes: Uint8Array, length: number) {
    this.bytes = bytes;
    this.length = length;
    const pos: number[] = [];
    for (let i = length / 8; pos.length < 4; i++) if (i !== 8) pos.push(i);
    this.positions = pos;
  }

  /** The IPv6 address (16 octets) embedding `v4` (4 octets), as RFC 6052 §2.2's table lays it out. */
  embed(v4: Uint8Array): Uint8Array {
    const out = this.bytes.slice();
    const p = this.positions;
    for (let i = 0; i < 4; i++) out[p[i]!] = v4[i]!;
    return out;
  }

  /** True when `v6` (16 octets) lies in this prefix. */
  contains(v6: Uint8Array): boolean {
    const full = this.length >>> 3;
    for (let i = 0; i < full; i++) if (v6[i] !== this.bytes[i]) return false;
    return true;
  }

  /** The IPv4 octets embedded in `v6` (which `contains` accepted). */
  extract(v6: Uint8Array): Uint8Array {
    const p = this.positions;
    return Uint8Array.of(v6[p[0]!]!, v6[p[1]!]!, v6[p[2]!]!, v6[p[3]!]!);
  }

  toString(): string {
    return `${formatIPv6(this.bytes)}/${this.length}`;
  }
}

/** Parses `64:ff9b::/96`; a ConfigError names what is wrong and the fix. */
export function parseDns64Prefix(text: string): Dns64Prefix {
  const slash = text.indexOf('/');
  const fix = 'an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052 §2.2), e.g. 64:ff9b::/96';
  if (slash < 0) throw new ConfigError('dns64.prefix', `"${text}" has no prefix length`, fix);
  const bytes = new Uint8Array(16);
  if (!ipv6Into(text.slice(0, slash), bytes, 0)) throw new ConfigError('dns64.prefix', `"${text}" is not an IPv6 prefix`, fix);
  const lenText = text.slice(slash + 1);
  const length = Number(lenText);
  if (lenText === '' || !DNS64_PREFIX_LENGTHS.includes(length)) {
    throw new ConfigError('dns64.prefix', `"${text}": /${lenText} is not a DNS64 prefix length`, fix);
  }
  for (let i = length >>> 3; i < 16; i++) {
    if (bytes[i] !== 0) throw new ConfigError('dns64.prefix', `"${text}" has bits set past /${length}`, `write the prefix with zeros after its ${length} bits, e.g. 64:ff9b::/96`);
  }
  if (bytes[8] !== 0) throw new ConfigError('dns64.prefix', `"${text}" sets bits 64-71, which RFC 6052 §2.2 reserves (must be zero)`, fix);
  return new Dns64Prefix(bytes, length);
}
