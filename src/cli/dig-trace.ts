/**
 * `sovereign dig +trace`: walks the delegation chain from the root down, like BIND's dig
 * +trace, printing each hop's records and `;; Received N bytes from addr#port(name) in T ms`;
 * then (unlike dig) a compact summary of the path root -> TLD -> ... -> answer.
 *
 * The first query (`. NS`) goes to @server as dig does, or — without @server — to a root
 * server of the root hints (built in, or `+hints=FILE`); every later hop is a non-recursive
 * query to one server of the zone cut just learned. Addresses of name servers come from glue,
 * from the name itself when it is an address literal, or from an A/AAAA lookup: through
 * @server when there is one, else by iterating from the root hints (depth-capped) — never from
 * the system resolver, so a trace only talks to the servers it was given and learned. Hops are capped (MAX_HOPS) and a referral must
 * move strictly down the tree, so loops and lame delegations end the trace with a message.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { ExchangeResult, ServerAddress } from '../client/exchange.js';
import { type RootHints, builtinRootHints, loadRootHints } from '../resolver/root-hints.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, typeToString } from '../wire/types.js';
import { type DigLookup, type DigOptions } from './dig-args.js';
import { version } from './command.js';
import { EXIT_NO_REPLY, EXIT_OK, type DigIO, buildQuery, sendWithRetries } from './dig-query.js';
import { formatRecord } from './dig-format.js';
import { type NsTarget, nsTargets, referralZone } from '../client/delegation.js';

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

function nameText(n: Name): string {
  const s = n.toString();
  return s === '.' ? '.' : s.slice(0, -1);
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

/** How to find addresses of name servers that came without glue. */
interface Resolver {
  /** @server (recursive), when the trace started there. */
  first: ServerAddress | undefined;
  /** Root servers, when the trace started from the hints. */
  roots: NsTarget[];
}

/** Most nested glueless lookups (an NS name whose NS names need lookups, ...). */
const MAX_GLUELESS_DEPTH = 3;

function addressTypes(o: DigOptions): number[] {
  return o.family === 6 ? [RRType.AAAA] : o.family === 4 ? [RRType.A] : [RRType.A, RRType.AAAA];
}

/** Sends one query without printing anything; undefined when no server answered. */
async function quietAsk(name: Name, type: number, server: ServerAddress, o: DigOptions, io: DigIO, recurse: boolean): Promise<ExchangeResult | undefined> {
  const l: DigLookup = { name: name.toString(), type, class: 1, typeSet: true };
  const { query } = buildQuery(l, { ...o, recurse, dnssec: false });
  const silent: DigIO = { out: () => {}, err: io.err };
  return sendWithRetries(query, server, server.address, { ...o, tcp: false, tries: 1 }, silent, name.toString());
}

/** Addresses of an NS name without glue: via @server, or by iterating from the root hints. */
async function addressesOf(target: Name, res: Resolver, o: DigOptions, io: DigIO, depth = 0): Promise<string[]> {
  const out: string[] = [];
  for (const type of addressTypes(o)) {
    if (res.first !== undefined) {
      const r = await quietAsk(target, type, res.first, o, io, true);
      for (const rr of r?.message.answer ?? []) if (rr.type === type) out.push((rr.data as { address: string }).address);
      continue;
    }
    if (depth >= MAX_GLUELESS_DEPTH) break;
    let servers = res.roots;
    let zone = Name.ROOT;
    for (let hop = 0; hop < MAX_HOPS && servers.length > 0; hop++) {
      let reply: ExchangeResult | undefined;
      for (const ns of servers) {
        const addrs = ns.addresses.length > 0 ? ns.addresses : await addressesOf(ns.name, res, o, io, depth + 1);
        for (const address of addrs) {
          reply = await quietAsk(target, type, { address, port: o.port }, o, io, false);
          if (reply !== undefined) break;
        }
        if (reply !== undefined) break;
      }
      if (reply === undefined) break;
      const answers = reply.message.answer.filter((rr) => rr.type === type);
      if (answers.length > 0) {
        for (const rr of answers) out.push((rr.data as { address: string }).address);
        break;
      }
      const next = referralZone(reply.message, zone);
      if (next === undefined) break;
      zone = next;
      servers = nsTargets(next, reply.message.authority, reply.message.additional, o.family);
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

/** Root servers from the hints, as NS targets with their addresses of the wanted family. */
function hintTargets(hints: RootHints, family: 4 | 6 | undefined): NsTarget[] {
  return hints.ns.map((name) => ({
    name,
    addresses: (hints.addresses.get(name.key) ?? []).filter((a) => family === undefined || isIP(a) === family),
  })).filter((t) => t.addresses.length > 0);
}

/**
 * Runs +trace for the first lookup; returns dig's exit code. `first` is @server; undefined
 * starts from the root hints (`hintsFile`, or the built-in IANA set).
 */
export async function runTrace(o: DigOptions, first: ServerAddress | undefined, firstName: string, io: DigIO,
  hintsFile?: string, l: DigLookup = o.lookups[0]!): Promise<number> {
  const qname = Name.fromText(l.name.endsWith('.') ? l.name : l.name + '.');
  const roots = first === undefined ? hintTargets(hintsFile === undefined ? builtinRootHints() : loadRootHints(hintsFile), o.family) : [];
  const res: Resolver = { first, roots };
  if (o.display.cmd) {
    const head = ['', `; <<>> Sovereign dig ${version()} <<>> ${o.argv.join(' ')}`];
    if (o.server !== undefined) head.push('; (1 server found)');
    head.push(';; global options: +cmd');
    io.out(head.join('\n') + '\n');
  }
  const hops: TraceHop[] = [];

  // Hop 0: the root NS set, from @server (recursion as the user asked) or a root server itself.
  const rootQuery = buildQuery({ name: '.', type: RRType.NS, class: l.class, typeSet: true }, { ...o, recurse: first !== undefined }).query;
  let r0: ExchangeResult | undefined;
  let r0Name = firstName;
  if (first !== undefined) {
    r0 = await sendWithRetries(rootQuery, first, firstName, o, io, '.');
  } else {
    for (const t of shuffled(roots)) {
      r0Name = nameText(t.name);
      for (const address of t.addresses) {
        r0 = await sendWithRetries(rootQuery, { address, port: o.port }, r0Name, o, io, '.');
        if (r0 !== undefined) break;
      }
      if (r0 !== undefined) break;
    }
  }
  if (r0 === undefined) {
    io.out(';; no servers could be reached\n');
    return EXIT_NO_REPLY;
  }
  printHop(r0, r0Name, o, io);
  hops.push({
    zone: Name.ROOT, server: r0.server, serverName: r0Name, rttMs: r0.rttMs, size: r0.bytes.length, transport: r0.transport,
    kind: 'root', next: Name.ROOT, rcode: r0.message.rcode, answers: r0.message.answer.length, aa: r0.message.aa,
  });
  let zone = Name.ROOT;
  let servers = nsTargets(Name.ROOT, [...r0.message.answer, ...r0.message.authority], r0.message.additional, o.family);
  if (servers.length === 0 && roots.length > 0) servers = roots;
  if (servers.length === 0) {
    io.out(';; no root NS records in the reply; cannot trace\n');
    return EXIT_OK;
  }

  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let reply: ExchangeResult | undefined;
    let usedName = '';
    for (const ns of shuffled(servers)) {
      const addrs = ns.addresses.length > 0 ? ns.addresses : await addressesOf(ns.name, res, o, io);
      if (addrs.length === 0) io.out(`;; no address for ${ns.name.toString()}\n`);
      for (const address of addrs) {
        const { query } = buildQuery(l, { ...o, recurse: false });
        usedName = nameText(ns.name);
        reply = await sendWithRetries(query, { address, port: o.port }, usedName, o, io, l.name);
        if (reply !== undefined) break;
      }
      if (reply !== undefined) break;
    }
    if (reply === undefined) {
      io.out(`;; no reply from the servers of ${zone.toString()}\n`);
      if (o.display.stats) io.out(formatTraceSummary(hops, qname, l.type).join('\n') + '\n');
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
