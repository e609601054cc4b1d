/**
 * `lab trace CLIENT NAME [TYPE]`: one lookup followed along the whole path as seed 000 tells it.
 * The client asks the ISP resolver straight through the gateway (the NAT rewrite is what the seed
 * shows; `lab query` asks the gateway's forwarder instead). What is shown is read from the lab:
 * - the gateway's conntrack table before and after (original 192.168.1.100:P -> public WAN:P'),
 *   and a second client sending from the same source port (the NAT must pick another port);
 * - the resolver's own upstream flows (its namespace's conntrack): which root/TLD/authoritative
 *   servers it really asked for this query;
 * - the resolver's cache for the name before and after (control endpoint, `sovereign cache print`);
 * - the resolver's own trace of the resolution: every upstream query it made while answering
 *   (server, zone cut, question as sent — QNAME minimisation and DNSSEC lookups included —, EDNS
 *   size, transport, outcome, TTLs, time), read from its debug log (RESOLVER_UPSTREAM_MSG lines),
 *   so the hops are what happened, not a separate walk; `cold` flushes its cache first so the
 *   whole path from the root is taken;
 * - a second query: answered from the cache when no new upstream flow appears.
 */
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RESOLVER_UPSTREAM_MSG, type UpstreamEvent } from '../resolver/server-choice.js';
import { execInNode, probeIn } from './lab.js';
import { type ConntrackEntry, conntrackDns, entryKey, translated } from './nat.js';
import type { SendResult } from './probe.js';
import { type LabState, SOVEREIGN_BIN, nsOf } from './services.js';

/** One upstream query of the resolver, as its trace logged it, with the lab node it went to. */
export interface ResolverHop extends Omit<UpstreamEvent, 'sentAtMs'> {
  node: string;
  /** When it was sent, ms after the client's query left (the resolver's clock). */
  atMs: number;
}

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
  /** The resolver's upstream queries for the first query, in order (its own trace). */
  hops: ResolverHop[];
  steps: SequenceStep[];
}

/** The resolver's log file (its process's output) and its current size. */
function resolverLog(state: LabState): { file: string; size: number } {
  const p = state.processes.find((x) => x.node === 'isp');
  const file = join(p?.dir ?? join(state.dir, 'isp'), 'log');
  return { file, size: existsSync(file) ? statSync(file).size : 0 };
}

/** The resolver's upstream trace lines written to `file` after `offset`. */
export function readResolverTrace(file: string, offset: number): UpstreamEvent[] {
  if (!existsSync(file)) return [];
  const size = statSync(file).size;
  if (size <= offset) return [];
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  const out: UpstreamEvent[] = [];
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.includes(RESOLVER_UPSTREAM_MSG)) continue;
    try {
      const o = JSON.parse(line) as UpstreamEvent & { msg?: string };
      if (o.msg === RESOLVER_UPSTREAM_MSG && typeof o.server === 'string') out.push(o);
    } catch { /* a line cut short or not ours */ }
  }
  return out;
}

async function flushResolverCache(state: LabState): Promise<void> {
  const p = state.processes.find((x) => x.node === 'isp');
  if (p?.config === undefined) return;
  const r = await execInNode(state, 'isp', [process.execPath, SOVEREIGN_BIN, 'cache', 'flush', '-c', p.config]);
  if (r.status !== 0) throw new Error(`flushing the resolver's cache failed: ${r.stderr.trim()}`);
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

export async function labTrace(state: LabState, clientName: string, name: string, type = 'A', opts: { cold?: boolean } = {}): Promise<LabTraceResult> {
  const t = state.topology;
  const client = t.clients.find((c) => c.name === clientName);
  if (client === undefined) throw new Error(`no lab client "${clientName}" (clients: ${t.clients.map((c) => c.name).join(', ')})`);
  const qname = name.endsWith('.') ? name : name + '.';
  const gwNs = nsOf(state.prefix, t.gateway.name);
  const ispNs = nsOf(state.prefix, 'isp');
  const resolver = t.isp.resolver;
  const nodeOf = (address: string): string => t.internet.servers.find((s) => s.address === address)?.name ?? address;

  if (opts.cold === true) await flushResolverCache(state);
  const cacheBefore = await cacheLines(state, qname, type);
  const gwBefore = conntrackDns(gwNs);
  const ispBefore = conntrackDns(ispNs);
  const log = resolverLog(state);
  const sport = randomInt(20000, 60000);
  const first = await probeIn<SendResult>(state, client.name, { op: 'send', name: qname, type, server: resolver, sport });
  const events = readResolverTrace(log.file, log.size);
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

  // Hop times from the resolver's first upstream query (its clock).
  const t0 = events[0]?.sentAtMs ?? 0;
  const hops: ResolverHop[] = events.map(({ sentAtMs, ...e }) => ({ ...e, node: nodeOf(e.server), atMs: sentAtMs - t0 }));

  const pub = mapping.public === undefined ? '(no conntrack entry)' : `${mapping.public.address}:${mapping.public.port}`;
  const steps: SequenceStep[] = [
    { from: client.name, to: t.gateway.name, label: `${type} ${qname} from ${client.address}:${sport}` },
    { from: t.gateway.name, to: 'isp', label: `NAT: ${client.address}:${sport} -> ${pub}` },
  ];
  if (collision?.public !== undefined) {
    steps.push({ from: t.gateway.name, to: t.gateway.name, label: `${collision.client} from the same port ${sport} -> ${collision.public.address}:${collision.public.port}` });
  }
  if (hops.length === 0) steps.push({ from: 'isp', to: 'isp', label: 'no upstream query: answered from the cache' });
  for (const h of hops) {
    steps.push({ from: 'isp', to: h.node, label: `${h.qname} ${h.qtype}? (RD=0, ${h.udpSize === 0 ? 'no EDNS' : `EDNS ${h.udpSize}${h.dnssecOk ? ' DO' : ''}`}) at +${h.atMs} ms` });
    steps.push({ from: h.node, to: 'isp', label: hopLabel(h), ms: h.rttMs });
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

/** What a hop's reply meant, in a few words (a referral's zone and NS TTL, an answer's TTL, TC/TCP). */
export function hopLabel(h: ResolverHop): string {
  const via = h.transport === 'tcp' ? ' over TCP (TC=1 first)' : '';
  switch (h.outcome) {
    case 'referral': return `referral to ${h.next} (NS TTL ${h.ttl})${via}`;
    case 'timeout': case 'network-error': return `${h.outcome}: ${h.error ?? ''}`;
    default: return `${h.outcome}${h.aa === true ? ' aa' : ''}${h.rcode !== undefined && h.rcode !== 'NOERROR' ? ` ${h.rcode}` : ''}${h.ttl !== undefined ? ` TTL ${h.ttl}` : ''}${via}`;
  }
}
