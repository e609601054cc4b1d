/**
 * `sovereign dig +trace`: walks the delegation chain from the root down, like BIND's dig
 * +trace, printing each hop's records and `;; Received N bytes from addr#port(name) in T ms`;
 * then (unlike dig) a compact summary of the path root -> TLD -> ... -> answer.
 *
 * The first query (`. NS`) goes to @server (or the resolv.conf server), as dig does; every
 * later hop is a non-recursive query to one server of the zone cut just learned. Addresses of
 * name servers come from glue, from the name itself when it is an address literal, or from an
 * A/AAAA query to the first server — never from the system resolver, so a trace only talks
 * to the servers it was given and learned. Hops are capped (MAX_HOPS) and a referral must
 * move strictly down the tree, so loops and lame delegations end the trace with a message.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { ExchangeResult, ServerAddress } from '../client/exchange.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, typeToString } from '../wire/types.js';
import { type DigLookup, type DigOptions } from './dig-args.js';
import { EXIT_NO_REPLY, EXIT_OK, type DigIO, buildQuery, sendWithRetries, version } from './dig.js';
import { formatRecord } from './dig-format.js';

/** Most hops a trace follows (root + TLD + a few levels is typical). */
export const MAX_HOPS = 30;

export interface TraceHop {
  /** Zone whose servers were asked (`.` for the first hop). */
  zone: Name;
  server: ServerAddress;
  /** Server name as printed (NS target without the final dot, or @server as given). */
  serverName: string;
  rttMs: number;
  size: number;
  transport: 'udp' | 'tcp';
  /** What the reply was: a referral to `next`, the answer, or a negative answer. */
  kind: 'root' | 'referral' | 'answer' | 'nxdomain' | 'nodata' | 'error';
  next: Name | undefined;
  rcode: number;
  answers: number;
  aa: boolean;
}

interface NsTarget {
  name: Name;
  addresses: string[];
}

function nameText(n: Name): string {
  const s = n.toString();
  return s === '.' ? '.' : s.slice(0, -1);
}

/** NS targets of `zone` in `rrs`, with glue addresses from `glue` of the wanted family. */
function nsTargets(zone: Name, rrs: ResourceRecord[], glue: ResourceRecord[], family: 4 | 6 | undefined): NsTarget[] {
  const out: NsTarget[] = [];
  for (const rr of rrs) {
    if (rr.type !== RRType.NS || !rr.name.equals(zone)) continue;
    const target = (rr.data as { nsdname: Name }).nsdname;
    if (out.some((t) => t.name.equals(target))) continue;
    const addresses: string[] = [];
    for (const g of glue) {
      if (!g.name.equals(target)) continue;
      if (g.type === RRType.A && family !== 6) addresses.push((g.data as { address: string }).address);
      if (g.type === RRType.AAAA && family !== 4) addresses.push((g.data as { address: string }).address);
    }
    // A name that is itself an address literal (as in test hierarchies) needs no lookup.
    const literal = nameText(target);
    const fam = isIP(literal);
    if (addresses.length === 0 && fam !== 0 && (family === undefined || fam === family)) addresses.push(literal);
    out.push({ name: target, addresses });
  }
  return out;
}

/** The zone cut a referral points to: owner of the authority NS set, if below `current`. */
function referralZone(m: Message, current: Name): Name | undefined {
  if (m.answer.length > 0 || m.aa) return undefined;
  for (const rr of m.authority) {
    if (rr.type === RRType.NS && rr.name.isSubdomainOf(current) && !rr.name.equals(current)) return rr.name;
  }
  return undefined;
}

/** Shuffles with crypto randomness (dig picks a random server of each zone). */
function shuffled<T>(xs: T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Resolves an NS name without glue by asking the first (recursive) server. */
async function addressesOf(target: Name, first: ServerAddress, o: DigOptions, io: DigIO): Promise<string[]> {
  const out: string[] = [];
  const types = o.family === 6 ? [RRType.AAAA] : o.family === 4 ? [RRType.A] : [RRType.A, RRType.AAAA];
  for (const type of types) {
    const l: DigLookup = { name: target.toString(), type, class: 1, typeSet: true };
    const { query } = buildQuery(l, { ...o, recurse: true, dnssec: false });
    const silent: DigIO = { out: () => {}, err: io.err };
    const r = await sendWithRetries(query, first, first.address, { ...o, tcp: false }, silent, target.toString());
    if (r === undefined) continue;
    for (const rr of r.message.answer) {
      if (rr.type === type) out.push((rr.data as { address: string }).address);
    }
  }
  return out;
}

function hopRecords(m: Message, o: DigOptions): ResourceRecord[] {
  const d = o.display;
  const rrs: ResourceRecord[] = [];
  if (d.answer) rrs.push(...m.answer);
  if (d.authority) rrs.push(...m.authority);
  if (d.additional) rrs.push(...m.additional);
  return rrs;
}

function printHop(r: ExchangeResult, serverName: string, o: DigOptions, io: DigIO): void {
  const lines = hopRecords(r.message, o).map((rr) => formatRecord(rr, o.display));
  // dig prints the Received line of each hop whatever +[no]stats says.
  {
    lines.push(`;; Received ${r.bytes.length} bytes from ${r.server.address}#${r.server.port}(${serverName}) in ${Math.round(r.rttMs)} ms`, '');
  }
  if (lines.length > 0) io.out(lines.join('\n') + '\n');
}

/** The summary dig does not print: one line per hop, then the outcome. */
export function formatTraceSummary(hops: TraceHop[], qname: Name, qtype: number): string[] {
  const out = [';; TRACE SUMMARY:'];
  let total = 0;
  for (const h of hops) {
    total += h.rttMs;
    const where = `${h.server.address}#${h.server.port}(${h.serverName})`;
    const ms = `${Math.round(h.rttMs)} ms`;
    let what: string;
    switch (h.kind) {
      case 'root': what = `root servers (. NS) from ${where}`; break;
      case 'referral': what = `${h.zone.toString()} -> referral to ${h.next!.toString()} from ${where}`; break;
      case 'answer': what = `${h.zone.toString()} -> answer: ${h.answers} record${h.answers === 1 ? '' : 's'}${h.aa ? ' (aa)' : ''} from ${where}`; break;
      case 'nxdomain': what = `${h.zone.toString()} -> NXDOMAIN from ${where}`; break;
      case 'nodata': what = `${h.zone.toString()} -> NODATA (${rcodeToString(h.rcode)}, no ${typeToString(qtype)} records) from ${where}`; break;
      default: what = `${h.zone.toString()} -> ${rcodeToString(h.rcode)} from ${where}`;
    }
    out.push(`;;   ${what} in ${ms}`);
  }
  const path = ['.', ...hops.filter((h) => h.kind === 'referral').map((h) => h.next!.toString())];
  const last = hops[hops.length - 1];
  const outcome = last === undefined ? 'no reply' : last.kind === 'answer' ? `${qname.toString()} ${typeToString(qtype)}`
    : last.kind === 'referral' || last.kind === 'root' ? 'incomplete' : last.kind.toUpperCase();
  out.push(`;; PATH: ${path.join(' -> ')} -> ${outcome} (${hops.length} queries, ${Math.round(total)} ms)`, '');
  return out;
}

/** Runs +trace for the first lookup; returns dig's exit code. */
export async function runTrace(o: DigOptions, first: ServerAddress, firstName: string, io: DigIO): Promise<number> {
  const l = o.lookups[0]!;
  const qname = Name.fromText(l.name.endsWith('.') ? l.name : l.name + '.');
  if (o.display.cmd) {
    const head = ['', `; <<>> Sovereign dig ${version()} <<>> ${o.argv.join(' ')}`];
    if (o.server !== undefined) head.push('; (1 server found)');
    head.push(';; global options: +cmd');
    io.out(head.join('\n') + '\n');
  }
  const hops: TraceHop[] = [];

  // Hop 0: the root NS set from the first server (recursion as the user asked it for this one).
  const rootQuery = buildQuery({ name: '.', type: RRType.NS, class: l.class, typeSet: true }, { ...o, recurse: true }).query;
  const r0 = await sendWithRetries(rootQuery, first, firstName, o, io, '.');
  if (r0 === undefined) {
    io.out(';; no servers could be reached\n');
    return EXIT_NO_REPLY;
  }
  printHop(r0, firstName, o, io);
  hops.push({
    zone: Name.ROOT, server: first, serverName: firstName, rttMs: r0.rttMs, size: r0.bytes.length, transport: r0.transport,
    kind: 'root', next: Name.ROOT, rcode: r0.message.rcode, answers: r0.message.answer.length, aa: r0.message.aa,
  });
  let zone = Name.ROOT;
  let servers = nsTargets(Name.ROOT, [...r0.message.answer, ...r0.message.authority], r0.message.additional, o.family);
  if (servers.length === 0) {
    io.out(';; no root NS records in the reply; cannot trace\n');
    return EXIT_OK;
  }

  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let reply: ExchangeResult | undefined;
    let usedName = '';
    for (const ns of shuffled(servers)) {
      const addrs = ns.addresses.length > 0 ? ns.addresses : await addressesOf(ns.name, first, o, io);
      for (const address of addrs) {
        const { query } = buildQuery(l, { ...o, recurse: false });
        usedName = nameText(ns.name);
        reply = await sendWithRetries(query, { address, port: o.port }, usedName, o, io, qname.toString());
        if (reply !== undefined) break;
      }
      if (reply !== undefined) break;
      io.out(`;; no reply from the servers of ${ns.name.toString()}\n`);
    }
    if (reply === undefined) {
      io.out(formatTraceSummary(hops, qname, l.type).join('\n') + '\n');
      return EXIT_NO_REPLY;
    }
    printHop(reply, usedName, o, io);
    const m = reply.message;
    const next = referralZone(m, zone);
    const base = {
      zone, server: reply.server, serverName: usedName, rttMs: reply.rttMs, size: reply.bytes.length, transport: reply.transport,
      rcode: m.rcode, answers: m.answer.length, aa: m.aa,
    };
    if (next !== undefined && m.rcode === 0) {
      hops.push({ ...base, kind: 'referral', next });
      zone = next;
      servers = nsTargets(next, m.authority, m.additional, o.family);
      if (servers.length === 0) break;
      continue;
    }
    const kind: TraceHop['kind'] = m.rcode === 3 ? 'nxdomain' : m.rcode !== 0 ? 'error' : m.answer.length > 0 ? 'answer' : 'nodata';
    hops.push({ ...base, kind, next: undefined });
    if (o.display.stats) io.out(formatTraceSummary(hops, qname, l.type).join('\n') + '\n');
    return EXIT_OK;
  }
  io.out(`;; trace stopped after ${hops.length} queries without an answer\n`);
  if (o.display.stats) io.out(formatTraceSummary(hops, qname, l.type).join('\n') + '\n');
  return EXIT_OK;
}
