/**
 * Layer "edns", check "path-mtu": does this host's own path to the Internet carry big UDP answers?
 * The resolver check (edns.ts) only sees the hop to the resolver, and a resolver that falls back
 * to small EDNS sizes and TCP (as BIND, Unbound and Sovereign do) hides a broken uplink. Here we
 * go to the source ourselves: from the root hints, follow referrals (RD=0, small SOA questions)
 * to an authoritative server of the large question, then ask it that question over UDP with a
 * 4096-octet buffer and DO=1. When that big reply never comes while the small UDP questions to the
 * same server were answered and TCP carries the big answer, datagrams above the path MTU (or their
 * IP fragments) are dropped on the way: the "path MTU / fragments dropped" finding.
 *
 * Invariants: at most MAX_STEPS referrals and MAX_SERVERS per zone; every query has a deadline;
 * network trouble becomes a finding (or nothing when the walk itself cannot proceed: the
 * delegation layer reports that), never an exception.
 */
import type { ServerAddress } from '../client/exchange.js';
import { type RootHints, hintServers } from '../resolver/root-hints.js';
import { Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { type AData, RRType } from '../wire/types.js';
import { SAFE_UDP_SIZE } from './edns.js';
import { type Finding, finding } from './report.js';
import { type ProbeResult, describe, label, probe, question } from './probe.js';

const MAX_STEPS = 16;
const MAX_SERVERS = 4;

export interface PathMtuOptions {
  /** The question expected to give a large answer (with DO=1). */
  large: { name: Name; type: number };
  hints: RootHints;
  timeoutMs: number;
  /** Port of every authoritative server (default 53). */
  port?: number;
}

/** Follows referrals for `name` from the root hints; the first server answering authoritatively, or why not. */
async function authoritativeFor(name: Name, o: PathMtuOptions): Promise<{ server: ServerAddress; soa: ProbeResult } | { why: string }> {
  const port = o.port ?? 53;
  let servers: ServerAddress[] = hintServers(o.hints, 4).map((h) => ({ address: h.address, port }));
  for (let step = 0; step < MAX_STEPS; step++) {
    let next: ServerAddress[] | undefined;
    for (const s of servers.slice(0, MAX_SERVERS)) {
      const p = await probe(s, name, RRType.SOA, { rd: false, edns: { udpSize: SAFE_UDP_SIZE, dnssecOk: false }, ignoreTruncation: false, timeoutMs: o.timeoutMs });
      if (p.kind !== 'reply' || (p.message.rcode !== Rcode.NOERROR && p.message.rcode !== Rcode.NXDOMAIN)) continue;
      if (p.message.aa) return { server: s, soa: p };
      const ns = p.message.authority.filter((r) => r.type === RRType.NS && name.isSubdomainOf(r.name));
      // Glue only: a glueless delegation is followed by the delegation layer, not here.
      const glue = p.message.additional.filter((r) => r.type === RRType.A && ns.some((n) => (n.data as { nsdname: Name }).nsdname.equals(r.name)));
      if (glue.length > 0) {
        next = glue.map((r) => ({ address: (r.data as AData).address, port }));
        break;
      }
    }
    if (next === undefined) return { why: `no referral with glue towards ${name.toString()} from ${servers.slice(0, MAX_SERVERS).map(label).join(', ') || 'the root hints'}` };
    servers = next;
  }
  return { why: `more than ${MAX_STEPS} referrals for ${name.toString()}` };
}

export async function examinePathMtu(o: PathMtuOptions): Promise<Finding[]> {
  const q = question(o.large.name, o.large.type);
  const auth = await authoritativeFor(o.large.name, o);
  if ('why' in auth) return [finding('edns', 'path-mtu', 'warn', `could not reach an authoritative server for ${q} to test this host's path (${auth.why})`, 'see the delegation findings', o.large.name.toString())];
  const s = auth.server;
  const who = `path to ${label(s)}`;
  const big = await probe(s, o.large.name, o.large.type, { rd: false, transport: 'udp', edns: { udpSize: 4096, dnssecOk: true }, timeoutMs: o.timeoutMs });
  if (big.kind === 'reply') {
    if (big.message.tc) {
      return [finding('edns', 'path-mtu', 'ok', `${q} from ${label(s)}: TC=1 at ${big.size} octets (the server caps its UDP answers; the path was not tested with a big datagram)`, '', who)];
    }
    const note = big.size > SAFE_UDP_SIZE ? '' : ` (not above ${SAFE_UDP_SIZE} octets: pass --large NAME/TYPE with a bigger answer to test the path fully)`;
    return [finding('edns', 'path-mtu', 'ok', `${q} with DO=1: ${big.size} octets arrived over UDP straight from ${label(s)}${note}`, '', who)];
  }
  const tcp = await probe(s, o.large.name, o.large.type, { rd: false, transport: 'tcp', edns: { udpSize: 4096, dnssecOk: true }, timeoutMs: o.timeoutMs });
  if (tcp.kind !== 'reply') {
    return [finding('edns', 'path-mtu', 'warn', `${q} from ${label(s)}: no answer over UDP (${big.why}) nor TCP (${tcp.why}), while its small answers arrive`,
      'check the firewall between this host and the Internet for TCP port 53 and large UDP datagrams', who)];
  }
  return [finding('edns', 'path-mtu', 'fail',
    `path MTU / fragments dropped: ${q} with DO=1 from ${label(s)} is lost over UDP (${big.why}) while TCP carries it (${tcp.size} octets) and small UDP answers arrive (SOA: ${describe(auth.soa)}): ` +
    'datagrams above the path MTU, or their IP fragments, are dropped between this host and the Internet',
    `fix the MTU of the uplink (gateway WAN, VPN, PPPoE) or the firewall that drops IP fragments; resolvers work around it by offering at most ${SAFE_UDP_SIZE} octets ` +
    '(DNS Flag Day 2020; BIND edns-udp-size, Unbound edns-buffer-size) and falling back to 512 and TCP after a timeout', who)];
}
