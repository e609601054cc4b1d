/**
 * `GET /v1/trace?name=&type=`: the path from the root to the answer, as the recursive resolver
 * would walk it, one hop per query: a non-recursive query to one server of each zone cut, from
 * the configured root hints down (as `dig +trace` from the hints, src/cli/dig-trace.ts).
 *
 * Invariants: only servers from the hints and from referrals are asked (never the system
 * resolver); hops, glueless lookups and time are capped; a referral must move strictly down the
 * tree, so loops end the trace with an outcome instead of spinning.
 */
import { type ExchangeResult, exchange } from '../../client/exchange.js';
import { type RootHints } from '../../resolver/root-hints.js';
import { rcodeToString } from '../../wire/constants.js';
import { Message } from '../../wire/message.js';
import { Name } from '../../wire/name.js';
import { type ResourceRecord, recordToString } from '../../wire/record.js';
import { RRType, typeToString } from '../../wire/types.js';
import { type NsTarget, nsTargets, referralZone } from '../../client/delegation.js';

/** Most hops followed (root + TLD + a few levels is usual). */
const MAX_HOPS = 20;
/** Nested lookups of name server addresses without glue. */
const MAX_GLUELESS_DEPTH = 2;
/** Records of a hop's reply listed in the trace. */
const MAX_LISTED = 12;

export interface TraceHop {
  /** Zone whose server was asked (`.` first). */
  zone: string;
  /** Server address and port, and its name (NS target). */
  server: string;
  serverName: string;
  question: string;
  kind: 'referral' | 'answer' | 'cname' | 'nxdomain' | 'nodata' | 'error' | 'timeout';
  rcode: string;
  aa: boolean;
  /** The zone a referral points to. */
  referral: string | null;
  /** Answer records (or the referral's NS records), as text; at most MAX_LISTED. */
  records: string[];
  rttMs: number;
}

export interface TraceResult {
  name: string;
  type: string;
  hops: TraceHop[];
  /** How it ended: answer, nxdomain, nodata, an error, or why it stopped. */
  outcome: string;
  totalMs: number;
}

export interface TraceOptions {
  hints: RootHints;
  /** Port of every server (53; tests may use another). */
  port?: number;
  timeoutMs?: number;
}

async function ask(name: Name, type: number, address: string, o: TraceOptions): Promise<ExchangeResult | undefined> {
  try {
    return await exchange(Message.query(name, type, { rd: false }), { address, port: o.port ?? 53 }, { timeoutMs: o.timeoutMs ?? 2000, tries: 1 });
  } catch {
    return undefined;
  }
}

/** Addresses of a name server without glue, by a quiet walk from the root (depth-capped). */
async function addressesOf(target: Name, roots: NsTarget[], o: TraceOptions, depth: number): Promise<string[]> {
  if (depth > MAX_GLUELESS_DEPTH) return [];
  const r = await walk(target, RRType.A, roots, o, depth + 1, undefined);
  return r.answer.filter((rr) => rr.type === RRType.A).map((rr) => (rr.data as { address: string }).address);
}

/** Walks from the root; records hops into `hops` when given. */
async function walk(qname: Name, qtype: number, roots: NsTarget[], o: TraceOptions, depth: number, hops: TraceHop[] | undefined):
  Promise<{ answer: ResourceRecord[]; outcome: string }> {
  let zone = Name.ROOT;
  let servers = roots;
  const question = `${qname.toString()} ${typeToString(qtype)}`;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let reply: ExchangeResult | undefined;
    let usedName = '';
    let tried = '';
    for (const ns of servers) {
      const addrs = ns.addresses.length > 0 ? ns.addresses : await addressesOf(ns.name, roots, o, depth);
      for (const address of addrs) {
        usedName = ns.name.toString();
        tried = address;
        reply = await ask(qname, qtype, address, o);
        if (reply !== undefined) break;
      }
      if (reply !== undefined) break;
    }
    if (reply === undefined) {
      hops?.push({
        zone: zone.toString(), server: tried === '' ? '' : `${tried}#${o.port ?? 53}`, serverName: usedName, question, kind: 'timeout',
        rcode: '', aa: false, referral: null, records: [], rttMs: 0,
      });
      return { answer: [], outcome: `no server of ${zone.toString()} answered` };
    }
    const m = reply.message;
    const next = m.rcode === 0 ? referralZone(m, zone) : undefined;
    const base = {
      zone: zone.toString(), server: `${reply.server.address}#${reply.server.port}`, serverName: usedName, question,
      rcode: rcodeToString(m.rcode), aa: m.aa, rttMs: Math.round(reply.rttMs * 10) / 10,
    };
    if (next !== undefined) {
      hops?.push({ ...base, kind: 'referral', referral: next.toString(), records: m.authority.filter((rr) => rr.type === RRType.NS).slice(0, MAX_LISTED).map((rr) => recordToString(rr)) });
      zone = next;
      servers = nsTargets(next, m.authority, m.additional);
      if (servers.length === 0) return { answer: [], outcome: `referral to ${next.toString()} without name servers` };
      continue;
    }
    const cname = m.answer.length > 0 && !m.answer.some((rr) => rr.type === qtype) && m.answer.some((rr) => rr.type === RRType.CNAME);
    const kind: TraceHop['kind'] = m.rcode === 3 ? 'nxdomain' : m.rcode !== 0 ? 'error' : cname ? 'cname' : m.answer.length > 0 ? 'answer' : 'nodata';
    hops?.push({ ...base, kind, referral: null, records: m.answer.slice(0, MAX_LISTED).map((rr) => recordToString(rr)) });
    return { answer: m.answer, outcome: kind === 'error' ? rcodeToString(m.rcode) : kind };
  }
  return { answer: [], outcome: `stopped after ${MAX_HOPS} hops` };
}

/** Traces `qname`/`qtype` from the root hints. */
export async function traceName(qname: Name, qtype: number, o: TraceOptions): Promise<TraceResult> {
  const roots: NsTarget[] = o.hints.ns.map((name) => ({ name, addresses: o.hints.addresses.get(name.key) ?? [] })).filter((t) => t.addresses.length > 0);
  const hops: TraceHop[] = [];
  const r = await walk(qname, qtype, roots, o, 0, hops);
  return { name: qname.toString(), type: typeToString(qtype), hops, outcome: r.outcome, totalMs: Math.round(hops.reduce((a, h) => a + h.rttMs, 0) * 10) / 10 };
}
