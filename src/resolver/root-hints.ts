/**
 * Root hints: the names and addresses of the root name servers a resolver (and `dig +trace`)
 * starts from (RFC 1034 §5.3.2 "SBELT"; RFC 8109 priming).
 *
 * Invariants: hints hold only NS records owned by the root and A/AAAA records for those NS
 * names; anything else in a hints file is an error (a hints file pointing the resolver at the
 * wrong place is worse than none). Names are kept as `Name`; maps are keyed by `Name.key`.
 * The built-in set is IANA's named.root (last update May 28 2024, root zone 2024052801, which
 * has b.root-servers.net at its 2023 addresses); tests always load their own hints on 127.x.
 */
import { readFileSync } from 'node:fs';
import { ZoneSyntaxError } from '../errors.js';
import { parseZoneText } from '../zone/parser.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';

export interface RootHints {
  /** Root server names, in file order. */
  ns: Name[];
  /** Addresses (IPv4 then IPv6, file order within each) by `Name.key` of a server name. */
  addresses: Map<string, string[]>;
  /** TTL of the root NS set in the hints (seconds). */
  ttl: number;
}

/** One root server with one address, as a resolver iterates them. */
export interface HintServer {
  name: Name;
  address: string;
}

/** IANA named.root, a–m.root-servers.net (https://www.internic.net/domain/named.root). */
const IANA_ROOT_SERVERS: readonly [string, string, string][] = [
  ['a', '198.41.0.4', '2001:503:ba3e::2:30'],
  ['b', '170.247.170.2', '2801:1b8:10::b'],
  ['c', '192.33.4.12', '2001:500:2::c'],
  ['d', '199.7.91.13', '2001:500:2d::d'],
  ['e', '192.203.230.10', '2001:500:a8::e'],
  ['f', '192.5.5.241', '2001:500:2f::f'],
  ['g', '192.112.36.4', '2001:500:12::d0d'],
  ['h', '198.97.190.53', '2001:500:1::53'],
  ['i', '192.36.148.17', '2001:7fe::53'],
  ['j', '192.58.128.30', '2001:503:c27::2:30'],
  ['k', '193.0.14.129', '2001:7fd::1'],
  ['l', '199.7.83.42', '2001:500:9f::42'],
  ['m', '202.12.27.33', '2001:dc3::35'],
];

/** TTL named.root gives every record. */
const NAMED_ROOT_TTL = 3600000;

/** The built-in hints: the 13 IANA root servers with their IPv4 and IPv6 addresses. */
export function builtinRootHints(): RootHints {
  const ns: Name[] = [];
  const addresses = new Map<string, string[]>();
  for (const [letter, v4, v6] of IANA_ROOT_SERVERS) {
    const name = Name.fromText(`${letter}.root-servers.net.`);
    ns.push(name);
    addresses.set(name.key, [v4, v6]);
  }
  return { ns, addresses, ttl: NAMED_ROOT_TTL };
}

/** named.root-format text of the built-in hints (what `parseRootHints` reads back). */
export function builtinRootHintsText(): string {
  const lines: string[] = [];
  for (const [letter, v4, v6] of IANA_ROOT_SERVERS) {
    const n = `${letter.toUpperCase()}.ROOT-SERVERS.NET.`;
    lines.push(`.                        ${NAMED_ROOT_TTL}      NS    ${n}`);
    lines.push(`${n.padEnd(24)} ${NAMED_ROOT_TTL}      A     ${v4}`);
    lines.push(`${n.padEnd(24)} ${NAMED_ROOT_TTL}      AAAA  ${v6}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Parses a hints file in named.root (master-file) format:
 * `. 3600000 NS A.ROOT-SERVERS.NET.` plus A/AAAA lines for the named servers.
 * Throws ZoneSyntaxError (file, line, column) for bad syntax, a record that is not a root NS
 * or a server address, or a file without any root NS.
 */
export function parseRootHints(text: string, file = '(root hints)'): RootHints {
  const ns: Name[] = [];
  const nsKeys = new Set<string>();
  const addresses = new Map<string, string[]>();
  const glue: { rr: ResourceRecord; line: number; column: number }[] = [];
  let ttl: number | undefined;
  for (const e of parseZoneText(text, { origin: Name.ROOT, file, defaultTtl: NAMED_ROOT_TTL })) {
    const rr = e.record;
    const at = (reason: string): ZoneSyntaxError => new ZoneSyntaxError(file, e.line, e.column, reason);
    if (rr.class !== RRClass.IN) throw at(`root hints must be class IN, not class ${rr.class}`);
    if (rr.type === RRType.NS) {
      if (!rr.name.isRoot) throw at(`NS record for ${rr.name.toString()}: root hints hold only NS records for the root (.)`);
      const target = (rr.data as { nsdname: Name }).nsdname;
      if (!nsKeys.has(target.key)) {
        nsKeys.add(target.key);
        ns.push(target);
      }
      ttl = ttl === undefined ? rr.ttl : Math.min(ttl, rr.ttl);
    } else if (rr.type === RRType.A || rr.type === RRType.AAAA) {
      glue.push({ rr, line: e.line, column: e.column });
    } else {
      throw at(`unexpected type ${rr.type} record for ${rr.name.toString()}: root hints hold only NS, A and AAAA records`);
    }
  }
  if (ns.length === 0) throw new ZoneSyntaxError(file, 1, 1, 'no NS records for the root (.) in the root hints');
  // IPv4 first, then IPv6, as resolvers prefer to try them.
  for (const family of [RRType.A, RRType.AAAA]) {
    for (const g of glue) {
      if (g.rr.type !== family) continue;
      if (!nsKeys.has(g.rr.name.key)) {
        throw new ZoneSyntaxError(file, g.line, g.column, `address for ${g.rr.name.toString()}, which is not a root server named by an NS record`);
      }
      const address = (g.rr.data as { address: string }).address;
      const list = addresses.get(g.rr.name.key);
      if (list === undefined) addresses.set(g.rr.name.key, [address]);
      else if (!list.includes(address)) list.push(address);
    }
  }
  return { ns, addresses, ttl: ttl ?? NAMED_ROOT_TTL };
}

/** Reads and parses a hints file from disk (see `parseRootHints`). */
export function loadRootHints(path: string): RootHints {
  return parseRootHints(readFileSync(path, 'utf8'), path);
}

/**
 * Every (server, address) pair of the hints, servers in hint order, optionally one family only
 * (`4` or `6`). Servers without an address are left out.
 */
export function hintServers(hints: RootHints, family?: 4 | 6): HintServer[] {
  const out: HintServer[] = [];
  for (const name of hints.ns) {
    for (const address of hints.addresses.get(name.key) ?? []) {
      const v6 = address.includes(':');
      if (family === 4 && v6) continue;
      if (family === 6 && !v6) continue;
      out.push({ name, address });
    }
  }
  return out;
}
