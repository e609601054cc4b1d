/**
 * Zone files of the lab, derived from the topology: every zone gets its SOA, its NS (`ns1.ZONE`,
 * or `a.root-servers.lab.` for the root) with the server's address, and the delegations (NS +
 * glue, RFC 1034 §4.2.1) of the lab zones directly below it; the topology adds its own records.
 * Root hints (named.root format) point at the lab's root servers only.
 */
import { type LabServer, type Topology, fqdn } from './topology.js';

export interface LabZone {
  name: string;
  server: LabServer;
  records: string[];
}

/** The name server name of a zone. */
export function nsName(zone: string): string {
  return zone === '.' ? 'a.root-servers.lab.' : `ns1.${zone}`;
}

export function labZones(t: Topology): LabZone[] {
  return t.internet.servers.flatMap((s) => s.zones.map((z) => ({ name: fqdn(z.name), server: s, records: z.records })));
}

/** The closest enclosing lab zone of `name` other than itself ("." when none). */
export function parentZone(zones: LabZone[], name: string): string {
  let best = '.';
  for (const z of zones) {
    if (z.name !== name && z.name !== '.' && name.endsWith('.' + z.name) && z.name.length > best.length) best = z.name;
  }
  return best;
}

export interface ZoneTextOptions {
  /** Delegations to point elsewhere (zone -> address): `lab break lame-delegation`. */
  delegateTo?: Map<string, string>;
  /** DS RDATA text of the signed child zones (dnssec.ts). */
  ds?: Map<string, string>;
}

/** The master-file text of `zone`. */
export function zoneText(zones: LabZone[], zone: LabZone, opts: ZoneTextOptions = {}): string {
  const o = zone.name;
  const ns = nsName(o);
  const lines = [
    `$ORIGIN ${o}`, '$TTL 300',
    `@ 86400 IN SOA ${ns} hostmaster.${o === '.' ? 'root-servers.lab.' : o} 1 3600 600 86400 300`,
    `@ 86400 IN NS ${ns}`,
    `${ns} 86400 IN A ${zone.server.address}`,
  ];
  for (const child of zones) {
    if (child.name === o || parentZone(zones, child.name) !== o) continue;
    const cns = nsName(child.name);
    lines.push(`${child.name} 86400 IN NS ${cns}`, `${cns} 86400 IN A ${opts.delegateTo?.get(child.name) ?? child.server.address}`);
    const ds = opts.ds?.get(child.name);
    if (ds !== undefined) lines.push(`${child.name} 86400 IN DS ${ds}`);
  }
  lines.push(...zone.records);
  return lines.join('\n') + '\n';
}

/** Root hints (named.root format) naming the lab's root servers. */
export function rootHintsText(zones: LabZone[]): string {
  return zones.filter((z) => z.name === '.')
    .map((z) => `.\t3600000\tIN\tNS\t${nsName('.')}\n${nsName('.')}\t3600000\tIN\tA\t${z.server.address}\n`).join('');
}
