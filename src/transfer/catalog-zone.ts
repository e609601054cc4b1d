/**
 * Catalog zones (RFC 9432): a zone listing member zones as PTR records at
 * `<unique-id>.zones.<catalog>`, with `version.<catalog> TXT "2"` (§4.2.1).
 *
 * Producer: `generateCatalog` builds the zone from configured member names (the unique ID is a
 * hash of the member's name, so it is stable across restarts and generators, as Knot makes it).
 * Consumer: `catalogMembers` reads the member names out of a received catalog zone; the server
 * makes each one a secondary zone of the catalog's primaries (as BIND's default-primaries and
 * Knot's catalog template do).
 *
 * Invariants: a catalog of an unknown schema version is not consumed (§5.1: its members are
 * left as they were); a member ID with more than one PTR is ignored (§4.1, as BIND and Knot
 * do); a member equal to or below the catalog itself is ignored.
 */
import { createHash } from 'node:crypto';
import { Name } from '../wire/name.js';
import { parseRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { Zone } from '../zone/zone.js';

/** Schema versions we consume (§4.2.1: 2; BIND 9.18 also consumes 1). */
const VERSIONS = new Set(['1', '2']);

/** The unique ID of a member (§4.1: any label; ours: SHA-1 of its lowercased wire name, hex). */
export function memberId(member: Name): string {
  return createHash('sha1').update(Buffer.from(member.key, 'latin1')).digest('hex');
}

/**
 * The catalog zone `origin` listing `members` with `serial`. TTL 0 and `invalid.` as in the
 * RFC's examples (§7) and Knot's generated catalogs.
 */
export function generateCatalog(origin: Name, members: readonly Name[], serial: number): Zone {
  const zone = new Zone(origin);
  const o = origin.toString();
  zone.add(parseRecord(`${o} 0 IN SOA invalid. invalid. ${serial >>> 0} 3600 600 2147483646 0`));
  zone.add(parseRecord(`${o} 0 IN NS invalid.`));
  zone.add(parseRecord(`version.${o} 0 IN TXT "2"`));
  for (const m of members) zone.add(parseRecord(`${memberId(m)}.zones.${o} 0 IN PTR ${m.toString()}`));
  zone.finish();
  return zone;
}

/** The member names of `catalog` (sorted), or undefined when its schema version is not one we read. */
export function catalogMembers(catalog: Zone): Name[] | undefined {
  const origin = catalog.origin;
  const version = catalog.getRRset(Name.fromText(`version.${origin.toString()}`), RRType.TXT);
  const v = version?.rdata[0] as { data?: Uint8Array[] } | undefined;
  const text = v?.data === undefined ? undefined : v.data.map((s) => Buffer.from(s).toString('latin1')).join('');
  if (text === undefined || !VERSIONS.has(text)) return undefined;
  const zones = Name.fromText(`zones.${origin.toString()}`);
  const out = new Map<string, Name>();
  for (const node of catalog.allNodes()) {
    // Members are exactly one label below zones.<catalog> (§4.1).
    if (node.name.labelCount !== zones.labelCount + 1 || !node.name.isSubdomainOf(zones)) continue;
    const ptr = node.get(RRType.PTR);
    if (ptr === undefined || ptr.rdata.length !== 1) continue;
    const member = (ptr.rdata[0] as { ptrdname: Name }).ptrdname;
    if (member.isSubdomainOf(origin)) continue;
    out.set(member.key, member);
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
