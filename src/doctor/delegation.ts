/**
 * Layer "delegation": the checks Zonemaster and DNSViz make for a domain, done from the root
 * down with our own queries (RD=0, src/client):
 * - walk: from the root hints follow referrals to the zone holding the name; the last referral is
 *   the parent's view (NS set, glue, and the servers that gave it);
 * - every delegated NS answers the zone's SOA authoritatively (AA=1, RFC 1034 §4.3.1), else it is
 *   lame (Zonemaster DELEGATION/NAMESERVER); their SOA serials agree (RFC 1996 §2: secondaries
 *   in sync);
 * - the child's NS set equals the parent's (RFC 1034 §4.2.2, RFC 2181 §5.4.1), and in-bailiwick
 *   glue equals the child's own A/AAAA records;
 * - no authoritative server recurses for strangers (RA=1 with data for a name outside its zones)
 *   or hands the zone out by AXFR to anyone (RFC 5936 §6);
 * - a DS at the parent matches a DNSKEY of the child (RFC 4034 §5.1.4 digest), and that key signs
 *   the DNSKEY RRset (RFC 4035 §5.2).
 * Invariants: at most MAX_STEPS referrals; every query has a deadline; nothing throws for DNS
 * trouble, it becomes a finding.
 */
import type { ServerAddress } from '../client/exchange.js';
import { TcpConnection } from '../client/exchange.js';
import { canonicalRdata } from '../dnssec/canonical.js';
import { dsDigest, isSupportedDigest } from '../dnssec/digest.js';
import { Budget, DEFAULT_LIMITS, checkRrset, zoneKeysOf } from '../dnssec/validator/verify.js';
import { RRCache } from '../resolver/cache.js';
import { Resolver } from '../resolver/iterator.js';
import { type RootHints, hintServers } from '../resolver/root-hints.js';
import { Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { type AAAAData, type AData, type DNSKEYData, type DSData, type NSData, RRClass, RRType, type SOAData } from '../wire/types.js';
import { type Finding, finding } from './report.js';
import { type ProbeResult, describe, probe } from './probe.js';

const MAX_STEPS = 16;
/** Servers of one zone asked during the walk before giving up on it. */
const MAX_SERVERS_TRIED = 6;

export interface DelegationOptions {
  name: Name;
  hints: RootHints;
  timeoutMs: number;
  /** Port of every authoritative server (default 53). */
  port?: number;
  /** Milliseconds since the epoch, for signature times (default Date.now). */
  clock?: () => number;
}

interface Cut {
  zone: Name;
  /** The parent zone and the servers that gave the referral; undefined for the root. */
  parent?: Name;
  parentServers: ServerAddress[];
  /** NS names in the parent's referral. */
  parentNs: Name[];
  /** Glue from the referral: NS name key -> addresses. */
  glue: Map<string, string[]>;
}

type Reply = Extract<ProbeResult, { kind: 'reply' }>;

function addressesOf(records: readonly ResourceRecord[], owner: Name): string[] {
  return records.filter((r) => (r.type === RRType.A || r.type === RRType.AAAA) && r.name.equals(owner))
    .map((r) => (r.data as AData | AAAAData).address).sort();
}

function nsNames(records: readonly ResourceRecord[], owner: Name): Name[] {
  return records.filter((r) => r.type === RRType.NS && r.name.equals(owner)).map((r) => (r.data as NSData).nsdname);
}

function sortedText(names: readonly Name[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase().toString()))].sort();
}

/** Runs the delegation checks for the zone holding `o.name`. */
export async function examineDelegation(o: DelegationOptions): Promise<Finding[]> {
  const port = o.port ?? 53;
  const clock = o.clock ?? Date.now;
  const resolver = new Resolver({ cache: new RRCache({ clock }), hints: o.hints, clock, failureTtlMs: 0, port,
    resolutionTimeoutMs: Math.max(o.timeoutMs * 4, 5000) });
  const at = (address: string): ServerAddress => ({ address, port });
  const ask = (s: ServerAddress, name: Name, type: number, extra: { dnssec?: boolean; rd?: boolean } = {}): Promise<ProbeResult> =>
    probe(s, name, type, { rd: extra.rd ?? false, edns: { udpSize: 1232, dnssecOk: extra.dnssec === true }, ignoreTruncation: false, timeoutMs: o.timeoutMs });
  /** Addresses of a server name: glue when given, else resolved from the root by our iterator. */
  const addressesFor = async (ns: Name, glue: Map<string, string[]>): Promise<string[]> => {
    const g = glue.get(ns.key);
    if (g !== undefined && g.length > 0) return g;
    const out: string[] = [];
    for (const t of [RRType.A, RRType.AAAA]) {
      try {
        const r = await resolver.resolve(ns, t, RRClass.IN);
        out.push(...addressesOf(r.answer, r.answer.find((x) => x.type === t)?.name ?? ns));
      } catch { /* no address of this family */ }
    }
    return out;
  };

  // 1. The walk: referrals from the root down to the zone holding the name.
  let cut: Cut = { zone: Name.fromText('.'), parentServers: [], parentNs: [...o.hints.ns], glue: new Map() };
  let servers = hintServers(o.hints).map((h) => at(h.address));
  let zone: Name | undefined;
  for (let step = 0; step < MAX_STEPS && zone === undefined; step++) {
    let referral: { reply: Reply; server: ServerAddress } | undefined;
    let answered = false;
    let anyReply = false;
    // A few servers per zone bound the time a dead path costs (26 root addresses x the timeout otherwise).
    for (const s of servers.slice(0, MAX_SERVERS_TRIED)) {
      const p = await ask(s, o.name, RRType.SOA);
      if (p.kind === 'reply') anyReply = true;
      if (p.kind !== 'reply' || (p.message.rcode !== Rcode.NOERROR && p.message.rcode !== Rcode.NXDOMAIN)) continue;
      const m = p.message;
      if (m.aa) {
        const soa = m.answer.find((r) => r.type === RRType.SOA) ?? m.authority.find((r) => r.type === RRType.SOA);
        zone = soa?.name ?? cut.zone;
        answered = true;
        break;
      }
      const ns = m.authority.find((r) => r.type === RRType.NS);
      if (ns !== undefined && ns.name.isSubdomainOf(cut.zone) && !ns.name.equals(cut.zone) && o.name.isSubdomainOf(ns.name)) {
        referral = { reply: p, server: s };
        break;
      }
    }
    if (answered) break;
    if (referral === undefined) {
      const list = servers.slice(0, 4).map((s) => s.address).join(', ') + (servers.length > 4 ? ` and ${servers.length - 4} more` : '');
      const fix = !anyReply && cut.zone.isRoot ? 'this host cannot reach the root servers: check its route to the Internet and firewalls (or give --root-hints)'
        : `make the servers of ${cut.zone.toString()} answer authoritatively for it`;
      return [finding('delegation', 'walk', 'fail', `no server of ${cut.zone.toString()} (${list || 'none'}) ${anyReply ? 'gave an answer or a referral' : 'answered at all'} for ${o.name.toString()}`,
        fix, cut.zone.toString())];
    }
    const m = referral.reply.message;
    const child = m.authority.find((r) => r.type === RRType.NS)!.name;
    const parentNs = nsNames(m.authority, child);
    const glue = new Map<string, string[]>();
    for (const n of parentNs) {
      const a = addressesOf(m.additional, n);
      if (a.length > 0) glue.set(n.key, a);
    }
    const parentServers = servers;
    cut = { zone: child, parent: cut.zone, parentServers, parentNs, glue };
    const next: ServerAddress[] = [];
    for (const n of parentNs) for (const a of await addressesFor(n, glue)) next.push(at(a));
    servers = next;
  }
  if (zone === undefined) return [finding('delegation', 'walk', 'fail', `more than ${MAX_STEPS} referrals for ${o.name.toString()}`, 'fix the referral loop in the delegation chain')];
  const z = zone;
  const subject = z.toString();
  const out: Finding[] = [];
  if (!z.equals(cut.zone)) {
    // The same servers answer for the parent and the child: no referral to compare with.
    out.push(finding('delegation', 'walk', 'ok', `${subject} is served by the same servers as ${cut.zone.toString()}; parent-side checks use those servers`, '', subject));
    cut = { zone: z, parent: cut.zone, parentServers: servers, parentNs: [], glue: new Map() };
    const p = await firstReply(servers, (s) => ask(s, z, RRType.NS));
    if (p !== undefined) cut.parentNs = nsNames(p.message.answer, z);
  } else {
    out.push(finding('delegation', 'walk', 'ok', `${o.name.toString()} is in zone ${subject}${cut.parent === undefined ? '' : `, delegated from ${cut.parent.toString()} to ${sortedText(cut.parentNs).join(' ')}`}`, '', subject));
  }

  // 2. Every delegated NS, each address: authoritative SOA, serial.
  const nsAddr: { ns: Name; address: string }[] = [];
  for (const n of cut.parentNs) for (const a of await addressesFor(n, cut.glue)) nsAddr.push({ ns: n, address: a });
  if (nsAddr.length === 0) {
    out.push(finding('delegation', 'lame', 'fail', `no address found for any NS of ${subject} (${sortedText(cut.parentNs).join(' ')})`,
      'give the name servers addresses (glue for in-zone names)', subject));
    return out;
  }
  const soas = await Promise.all(nsAddr.map((x) => ask(at(x.address), z, RRType.SOA)));
  const good: ServerAddress[] = [];
  const serials = new Map<number, string[]>();
  for (let i = 0; i < nsAddr.length; i++) {
    const who = `${nsAddr[i]!.ns.toString()} ${nsAddr[i]!.address}`;
    const p = soas[i]!;
    const soa = p.kind === 'reply' ? p.message.answer.find((r) => r.type === RRType.SOA && r.name.equals(z)) : undefined;
    if (p.kind === 'reply' && p.message.aa && p.message.rcode === Rcode.NOERROR && soa !== undefined) {
      good.push(at(nsAddr[i]!.address));
      const serial = (soa.data as SOAData).serial;
      serials.set(serial, [...(serials.get(serial) ?? []), who]);
      continue;
    }
    out.push(finding('delegation', 'lame', 'fail',
      `${who} is delegated ${subject} but answers ${subject} SOA with ${describe(p)}${p.kind === 'reply' && !p.message.aa ? ' (not authoritative)' : ''}: lame delegation`,
      `load the zone ${subject} on that server, or remove it from the NS set at the parent and in the zone`, who));
  }
  if (good.length === 0) return out;
  out.push(finding('delegation', 'authoritative', good.length === nsAddr.length ? 'ok' : 'warn',
    `${good.length} of ${nsAddr.length} name server addresses answer ${subject} authoritatively`,
    'fix the lame servers above', subject));
  if (serials.size > 1) {
    out.push(finding('delegation', 'serial', 'fail',
      `SOA serials differ between the name servers: ${[...serials].map(([s, w]) => `${s} at ${w.join(', ')}`).join('; ')}`,
      'the secondaries are not in sync with the primary: check NOTIFY and zone transfers (allow-transfer, TSIG keys) from the primary', subject));
  } else {
    out.push(finding('delegation', 'serial', 'ok', `every name server has serial ${[...serials.keys()][0]}`, '', subject));
  }

  // 3. The child's NS set against the parent's; glue against the child's addresses.
  const childNsReply = await firstReply(good, (s) => ask(s, z, RRType.NS));
  if (cut.parent !== undefined && childNsReply !== undefined) {
    const childNs = sortedText(nsNames(childNsReply.message.answer, z));
    const parentNs = sortedText(cut.parentNs);
    if (childNs.join(' ') !== parentNs.join(' ')) {
      out.push(finding('delegation', 'ns-match', 'fail',
        `the parent ${cut.parent.toString()} delegates to ${parentNs.join(' ')} but the zone lists ${childNs.join(' ')}`,
        'make the NS records in the zone and the delegation at the parent the same (update one at the registrar or in the zone)', subject));
    } else {
      out.push(finding('delegation', 'ns-match', 'ok', `parent and child NS sets agree: ${childNs.join(' ')}`, '', subject));
    }
    for (const [key, glue] of cut.glue) {
      const ns = cut.parentNs.find((n) => n.key === key)!;
      if (!ns.isSubdomainOf(z)) continue;
      const own: string[] = [];
      for (const t of [RRType.A, RRType.AAAA]) {
        const p = await firstReply(good, (s) => ask(s, ns, t));
        if (p !== undefined) own.push(...addressesOf(p.message.answer, ns));
      }
      own.sort();
      if (own.join(' ') !== [...glue].sort().join(' ')) {
        out.push(finding('delegation', 'glue', 'fail',
          `glue for ${ns.toString()} at ${cut.parent.toString()} is ${glue.join(', ')} but the zone says ${own.join(', ') || 'nothing'}`,
          `update the glue at the parent (the registrar) to the server's real address, or the zone's ${ns.toString()} record`, subject));
      } else {
        out.push(finding('delegation', 'glue', 'ok', `glue for ${ns.toString()} matches the zone (${own.join(', ')})`, '', subject));
      }
    }
  }

  // 4. No open recursion, no open AXFR on the authoritative servers.
  const outside = cut.parent ?? Name.fromText('.');
  await Promise.all(good.map(async (s) => {
    const p = await ask(s, outside, RRType.SOA, { rd: true });
    if (p.kind === 'reply' && p.message.ra && !p.message.aa && p.message.answer.length > 0) {
      out.push(finding('delegation', 'open-recursion', 'fail',
        `${s.address} (authoritative for ${subject}) recursed for us: ${outside.toString()} SOA with RD=1 -> ${describe(p)}`,
        'turn recursion off on authoritative servers (BIND: recursion no; or allow-recursion for your own clients only): open resolvers are used for amplification attacks', s.address));
    }
    const axfr = await tryAxfr(s, z, o.timeoutMs);
    if (axfr !== undefined) {
      out.push(finding('delegation', 'open-axfr', 'fail', `${s.address} hands out the whole zone ${subject} by AXFR to anyone (${axfr})`,
        'restrict zone transfers to the secondaries (BIND allow-transfer, NSD provide-xfr, Sovereign allowTransfer), ideally with TSIG', s.address));
    }
  }));
  if (!out.some((f) => f.check === 'open-recursion' || f.check === 'open-axfr')) {
    out.push(finding('delegation', 'exposure', 'ok', 'no authoritative server recurses for us or allows AXFR', '', subject));
  }

  // 5. DS at the parent against the child's DNSKEYs.
  if (cut.parent !== undefined) out.push(...await checkDs(z, cut.parentServers, good, ask, Math.floor(clock() / 1000)));
  return out;
}

async function firstReply(servers: readonly ServerAddress[], q: (s: ServerAddress) => Promise<ProbeResult>): Promise<Reply | undefined> {
  for (const s of servers) {
    const p = await q(s);
    if (p.kind === 'reply' && p.message.rcode === Rcode.NOERROR) return p;
  }
  return undefined;
}

/** The first AXFR message's summary when the server starts a transfer; undefined when it refuses or says nothing. */
async function tryAxfr(s: ServerAddress, zone: Name, timeoutMs: number): Promise<string | undefined> {
  let conn: TcpConnection | undefined;
  try {
    conn = await TcpConnection.connect(s, { timeoutMs });
    for await (const { message } of conn.stream(Message.query(zone, RRType.AXFR, { rd: false }), { idleTimeoutMs: timeoutMs })) {
      if (message.rcode === Rcode.NOERROR && message.answer[0]?.type === RRType.SOA) return `the first message holds ${message.answer.length} records`;
      return undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    conn?.close();
  }
}

type Ask = (s: ServerAddress, name: Name, type: number, extra?: { dnssec?: boolean; rd?: boolean }) => Promise<ProbeResult>;

async function checkDs(z: Name, parentServers: readonly ServerAddress[], childServers: readonly ServerAddress[], ask: Ask, now: number): Promise<Finding[]> {
  const subject = z.toString();
  const dsReply = await firstReply(parentServers, (s) => ask(s, z, RRType.DS, { dnssec: true }));
  const keyReply = await firstReply(childServers, (s) => ask(s, z, RRType.DNSKEY, { dnssec: true }));
  const ds = (dsReply?.message.answer ?? []).filter((r): r is ResourceRecord<DSData> => r.type === RRType.DS && r.name.equals(z));
  const keys = (keyReply?.message.answer ?? []).filter((r): r is ResourceRecord<DNSKEYData> => r.type === RRType.DNSKEY && r.name.equals(z));
  const keySigs = (keyReply?.message.answer ?? []).filter((r) => r.type === RRType.RRSIG && r.name.equals(z));
  if (ds.length === 0 && keys.length === 0) return [finding('delegation', 'ds', 'ok', `${subject} is not signed (no DS at the parent, no DNSKEY)`, '', subject)];
  if (ds.length === 0) {
    return [finding('delegation', 'ds', 'warn', `${subject} has DNSKEYs but the parent holds no DS: validators treat it as unsigned`,
      'publish the DS of the KSK at the parent (sovereign dnssec ds, then the registrar)', subject)];
  }
  if (keys.length === 0) {
    return [finding('delegation', 'ds', 'fail', `the parent holds DS ${ds.map((d) => d.data.keyTag).join(', ')} but ${subject} serves no DNSKEY: validation fails`,
      'sign the zone with the key the DS names, or remove the DS at the parent', subject)];
  }
  const matched: ResourceRecord<DNSKEYData>[] = [];
  for (const d of ds) {
    if (!isSupportedDigest(d.data.digestType)) continue;
    for (const k of keys) {
      if (k.data.algorithm !== d.data.algorithm) continue;
      const digest = dsDigest(z, canonicalRdata(k), d.data.digestType);
      if (Buffer.from(digest).equals(Buffer.from(d.data.digest)) && !matched.includes(k)) matched.push(k);
    }
  }
  const dsText = ds.map((d) => `${d.data.keyTag}/${d.data.algorithm}/${d.data.digestType}`).join(', ');
  const keyText = zoneKeysOf(keys).map((k) => `${k.tag}/${k.rr.data.algorithm}${(k.rr.data.flags & 1) !== 0 ? ' (KSK)' : ''}`).join(', ');
  if (matched.length === 0) {
    return [finding('delegation', 'ds-match', 'fail', `no DNSKEY of ${subject} (${keyText}) matches the DS at the parent (${dsText}): the chain of trust is broken, validating resolvers answer SERVFAIL`,
      'replace the DS at the parent with the DS of the zone\'s current KSK (sovereign dnssec ds / dnssec-dsfromkey), or re-sign with the key the DS names', subject)];
  }
  const out = [finding('delegation', 'ds-match', 'ok', `DS ${dsText} at the parent matches DNSKEY ${matched.map((k) => zoneKeysOf([k])[0]?.tag).join(', ')}`, '', subject)];
  const check = checkRrset(keys, keySigs, z, zoneKeysOf(matched), now, new Budget(DEFAULT_LIMITS));
  if (check.ok) out.push(finding('delegation', 'dnskey-signed', 'ok', 'the key the DS names signs the DNSKEY RRset', '', subject));
  else {
    out.push(finding('delegation', 'dnskey-signed', 'fail', `the DNSKEY RRset is not signed by the key the DS names: ${check.why}`,
      'sign the DNSKEY RRset with the KSK the DS points at (and check the signatures\' validity dates)', subject));
  }
  return out;
}
