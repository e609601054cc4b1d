/**
 * `lab trace CLIENT NAME [TYPE]`: one lookup followed along the whole path as seed 000 tells it.
 * The client asks the ISP resolver straight through the gateway (the NAT rewrite is what the seed
 * shows; `lab query` asks the gateway's forwarder instead). What is shown is read from the lab:
 * - the gateway's conntrack table before and after (original 192.168.1.100:P -> public WAN:P'),
 *   and a second client sending from the same source port (the NAT must pick another port);
 * - the resolver's own upstream flows (its namespace's conntrack): which root/TLD/authoritative
 *   servers it really asked for this query;
 * - the resolver's cache for the name before and after (control endpoint, `sovereign cache print`);
 * - a second query: answered from the cache when no new upstream flow appears;
 * - the delegation path root -> TLD -> authoritative walked from the resolver's namespace with
 *   each hop's time and TTLs.
 */
import { randomInt } from 'node:crypto';
import { execInNode, probeIn } from './lab.js';
import { type ConntrackEntry, conntrackDns, entryKey, translated } from './nat.js';
import type { SendResult, WalkHop } from './probe.js';
import { type LabState, SOVEREIGN_BIN, nsOf } from './services.js';

export interface NatMapping {
  client: string;
  original: { address: string; port: number };
  public: { address: string; port: number } | undefined;
  entry: string | undefined;
}

export interface SequenceStep {
  from: string;
  to: string;
  label: string;
  ms?: number;
}

export interface LabTraceResult {
  client: string;
  name: string;
  type: string;
  resolver: string;
  gatewayPublic: string;
  conntrackBefore: string[];
  conntrackAfter: string[];
  mapping: NatMapping;
  collision: NatMapping | undefined;
  first: SendResult;
  resolverFlows: { server: string; node: string; sport: number }[];
  cacheBefore: string[];
  cacheAfter: string[];
  second: SendResult;
  secondUpstreamFlows: number;
  cacheHit: boolean;
  hops: (WalkHop & { node: string })[];
  steps: SequenceStep[];
}

async function cacheLines(state: LabState, name: string, type: string): Promise<string[]> {
  const p = state.processes.find((x) => x.node === 'isp');
  if (p?.config === undefined) return [];
  const r = await execInNode(state, 'isp', [process.execPath, SOVEREIGN_BIN, 'cache', 'print', name, '--type', type, '-c', p.config]);
  return r.stdout.split('\n').filter((l) => l.trim().length > 0 && !l.startsWith(';') && !l.startsWith('NAME '));
}

function fresh(before: ConntrackEntry[], after: ConntrackEntry[]): ConntrackEntry[] {
  const seen = new Set(before.map(entryKey));
  return after.filter((e) => !seen.has(entryKey(e)));
}

function mappingOf(entries: ConntrackEntry[], client: string, address: string, port: number): NatMapping {
  const e = entries.find((x) => x.original.src === address && x.original.sport === port);
  return { client, original: { address, port }, public: e === undefined ? undefined : translated(e), entry: e?.line };
}

export async function labTrace(state: LabState, clientName: string, name: string, type = 'A'): Promise<LabTraceResult> {
  const t = state.topology;
  const client = t.clients.find((c) => c.name === clientName);
  if (client === undefined) throw new Error(`no lab client "${clientName}" (clients: ${t.clients.map((c) => c.name).join(', ')})`);
  const qname = name.endsWith('.') ? name : name + '.';
  const gwNs = nsOf(state.prefix, t.gateway.name);
  const ispNs = nsOf(state.prefix, 'isp');
  const resolver = t.isp.resolver;
  const nodeOf = (address: string): string => t.internet.servers.find((s) => s.address === address)?.name ?? address;

  const cacheBefore = await cacheLines(state, qname, type);
  const gwBefore = conntrackDns(gwNs);
  const ispBefore = conntrackDns(ispNs);
  const sport = randomInt(20000, 60000);
  const first = await probeIn<SendResult>(state, client.name, { op: 'send', name: qname, type, server: resolver, sport });
  const gwAfter = conntrackDns(gwNs);
  const ispAfter = conntrackDns(ispNs);
  const mapping = mappingOf(gwAfter, client.name, client.address, sport);
  const resolverFlows = fresh(ispBefore, ispAfter).filter((e) => e.original.src === resolver)
    .map((e) => ({ server: e.original.dst, node: nodeOf(e.original.dst), sport: e.original.sport }));

  // A second client from the same source port to the same server: the tuple is taken, so the
  // NAT must choose another public port (RFC 4787 §4.1 port preservation is best effort).
  const other = t.clients.find((c) => c.name !== client.name);
  let collision: NatMapping | undefined;
  if (other !== undefined) {
    await probeIn<SendResult>(state, other.name, { op: 'send', name: qname, type, server: resolver, sport });
    collision = mappingOf(conntrackDns(gwNs), other.name, other.address, sport);
  }

  const cacheAfter = await cacheLines(state, qname, type);
  const ispMid = conntrackDns(ispNs);
  const second = await probeIn<SendResult>(state, client.name, { op: 'send', name: qname, type, server: resolver, sport: randomInt(20000, 60000) });
  const secondUpstreamFlows = fresh(ispMid, conntrackDns(ispNs)).filter((e) => e.original.src === resolver).length;
  const cacheHit = second.status === 'NOERROR' && second.answers.length > 0 && cacheAfter.length > 0 && secondUpstreamFlows === 0;

  const root = t.internet.servers.find((s) => s.zones.some((z) => z.name === '.'))!;
  const walked = await probeIn<WalkHop[]>(state, 'isp', { op: 'walk', name: qname, type, root: root.address });
  const hops = walked.map((h) => ({ ...h, node: nodeOf(h.server) }));

  const pub = mapping.public === undefined ? '(no conntrack entry)' : `${mapping.public.address}:${mapping.public.port}`;
  const steps: SequenceStep[] = [
    { from: client.name, to: t.gateway.name, label: `${type} ${qname} from ${client.address}:${sport}` },
    { from: t.gateway.name, to: 'isp', label: `NAT: ${client.address}:${sport} -> ${pub}` },
  ];
  if (collision?.public !== undefined) {
    steps.push({ from: t.gateway.name, to: t.gateway.name, label: `${collision.client} from the same port ${sport} -> ${collision.public.address}:${collision.public.port}` });
  }
  for (const h of hops) {
    // A hop the resolver did not take for this query (its data was cached) is drawn as the path only.
    const asked = resolverFlows.some((f) => f.server === h.server);
    steps.push({ from: 'isp', to: h.node, label: `${type} ${qname}? (RD=0)${asked ? '' : ' [cached: not asked]'}` });
    steps.push({ from: h.node, to: 'isp', label: h.kind === 'referral' ? `referral ${h.next} (NS TTL ${h.ttl})` : `${h.kind}${h.ttl !== undefined ? ` TTL ${h.ttl}` : ''}`, ms: h.rttMs });
  }
  steps.push({ from: 'isp', to: t.gateway.name, label: `${first.status} ${first.answers[0] ?? ''} to ${pub}`, ms: first.rttMs });
  steps.push({ from: t.gateway.name, to: client.name, label: `un-NAT: to ${client.address}:${sport}` });
  steps.push({ from: client.name, to: 'isp', label: `again: ${cacheHit ? 'cache hit' : 'cache miss'}, TTL ${second.ttl ?? '-'}`, ms: second.rttMs });

  return {
    client: client.name, name: qname, type, resolver, gatewayPublic: t.gateway.wan,
    conntrackBefore: gwBefore.map((e) => e.line), conntrackAfter: gwAfter.map((e) => e.line),
    mapping, collision, first, resolverFlows, cacheBefore, cacheAfter, second, secondUpstreamFlows, cacheHit, hops, steps,
  };
}
