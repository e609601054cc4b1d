/**
 * Client location from a MaxMind DB (the GeoIP2/GeoLite2 Country and City format, read with the
 * `mmdb-lib` package): the country's ISO code and the continent code of an address, and the
 * prefix length of the database network that holds it (the ECS SCOPE of a geographic answer,
 * RFC 7871 §7.2.1).
 *
 * The file is read once at start and at reload; lookups are in memory.
 */
import { readFileSync } from 'node:fs';
import { type CountryResponse, Reader } from 'mmdb-lib';
import { formatIPv4, formatIPv6 } from '../wire/rdata/addresses.js';
import { Family } from './addresses.js';

/** Where an address is: upper-case codes as the database spells them, or '' when unknown. */
export interface GeoResult {
  country: string;
  continent: string;
  /** Leading bits of the database network holding the address. */
  prefixLength: number;
}

export class GeoIp {
  private readonly reader: Reader<CountryResponse>;
  /** The result object, reused by every lookup (callers read it at once). */
  private readonly result: GeoResult = { country: '', continent: '', prefixLength: 0 };

  constructor(readonly path: string, bytes: Buffer = readFileSync(path)) {
    this.reader = new Reader<CountryResponse>(bytes);
  }

  /** The database's type as its metadata names it (e.g. "GeoLite2-Country"). */
  get databaseType(): string {
    return this.reader.metadata.databaseType;
  }

  /** Looks up `addr` (4 or 16 octets as `family` says); the returned object is reused. */
  lookup(family: number, addr: Uint8Array): GeoResult {
    const text = family === Family.IPV4 ? formatIPv4(addr.subarray(0, 4)) : formatIPv6(addr, 0);
    const [rec, prefixLength] = this.reader.getWithPrefixLength(text);
    const r = this.result;
    r.country = rec?.country?.iso_code ?? rec?.registered_country?.iso_code ?? '';
    r.continent = rec?.continent?.code ?? '';
    // mmdb-lib starts IPv4 lookups in an IPv6 tree at the ::/96 node, so the depth is in IPv4 bits.
    r.prefixLength = prefixLength;
    return r;
  }
}
