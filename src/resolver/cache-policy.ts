/**
 * Cache policy of the iterator: what each kind of reply may put in the cache and at which
 * credibility (RFC 2181 §5.4.1). Answers at AUTH_ANSWER (AA) or NONAUTH_ANSWER; referral NS and
 * in-bailiwick glue at GLUE; an answer's authority NS only for ancestors of the query name, at
 * GLUE (never above a referral's), with addresses of their targets inside the zone; the root hints
 * at GLUE. CNAMEs synthesised from DNAMEs are handed out but never cached (the DNAME is).
 * What is handed to clients is what the cache holds (TTLs capped, RFC 2181 §8).
 */
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType, type RRSIGData } from '../wire/types.js';
import { Credibility, type RRCache } from './cache.js';
import { type Classified, groupRRsets, inBailiwick, synthesised } from './classify.js';
import type { RootHints } from './root-hints.js';

const A = RRType.A;
const AAAA = RRType.AAAA;
const NS = RRType.NS;

/** Caches the answer chain and final RRset; returns them as stored (TTLs capped). */
export function cacheFinal(cache: RRCache, c: Classified, aa: boolean): ResourceRecord[] {
  if (c.kind === 'referral' || c.kind === 'lame') return [];
  const rank = aa ? Credibility.AUTH_ANSWER : Credibility.NONAUTH_ANSWER;
  const out: ResourceRecord[] = [];
  const all = c.kind === 'answer' ? [...c.chain, ...c.final] : c.chain;
  for (const set of groupRRsets(all)) {
    if (synthesised.has(set[0]!)) {
      for (const r of set) out.push(r);
      continue;
    }
    // Hand out what the cache holds (TTL capped, RFC 2181 §8 top bit = 0); when better data is
    // cached and the put is refused, the same TTL rules still apply to what the client gets.
    // Validating: the set's RRSIGs (and a wildcard answer's proof) stay with it (RFC 4035 §4.7).
    const sigs = c.sec !== undefined ? withSigs(c.sec.sigs, set) : undefined;
    const e = cache.put(set, rank, sigs !== undefined ? { sigs, proof: c.sec!.proof, dnssec: true } : undefined);
    for (const r of e !== undefined ? e.records : cache.capped(set)) out.push(r);
    if (sigs !== undefined) for (const r of e !== undefined ? e.sigs : sigs) out.push(r);
  }
  return out;
}

/** Referral: NS set at GLUE rank, and glue addresses only inside the delegating zone. */
export function cacheReferral(cache: RRCache, m: Message, zone: Name, ns: ResourceRecord[], ipv6: boolean): void {
  cache.put(ns, Credibility.GLUE);
  const targets = new Set<string>();
  for (const r of ns) targets.add((r.data as { nsdname: Name }).nsdname.key);
  const glue: ResourceRecord[] = [];
  for (const r of m.additional) {
    if ((r.type === A || (r.type === AAAA && ipv6)) && targets.has(r.name.key) && inBailiwick(r.name, zone)) glue.push(r);
  }
  for (const set of groupRRsets(glue)) cache.put(set, Credibility.GLUE);
  cacheReferralDs(cache, m, zone, ns[0]?.name);
}

/**
 * The DS RRset a DO=1 referral carries for the cut (RFC 4035 §3.1.4: the parent's authoritative
 * data, sent with the delegation), with its RRSIGs, unchecked: the validator's DS question for
 * the cut is then a cache hit instead of another query to the parent (as Unbound keeps it).
 * Answer rank without AA: an authoritative DS answer from the parent replaces it.
 */
function cacheReferralDs(cache: RRCache, m: Message, zone: Name, cut: Name | undefined): void {
  if (cut === undefined || cut.labelCount <= zone.labelCount || !cut.isSubdomainOf(zone)) return;
  let ds: ResourceRecord[] | undefined;
  let sigs: ResourceRecord[] | undefined;
  for (const r of m.authority) {
    if (!r.name.equals(cut)) continue;
    if (r.type === RRType.DS) (ds ??= []).push(r);
    else if (r.type === RRType.RRSIG && (r.data as RRSIGData).typeCovered === RRType.DS) (sigs ??= []).push(r);
  }
  // Unsigned DS sets are not kept: the validator asks the parent itself and judges the answer.
  if (ds === undefined || sigs === undefined) return;
  cache.put(ds, Credibility.NONAUTH_ANSWER, { sigs, dnssec: true });
}

/**
 * Authority NS and additional addresses of an answer from `zone` to a question for `qn`. As
 * Unbound's scrubber: authority NS only for the zone itself or a cut between it and `qn` (an
 * ancestor of the query name; NS for other owners could steer unrelated names), and at GLUE
 * rank, never above what a referral gives (RFC 2181 §5.4.1: authority data of an answer is
 * not an answer). Addresses only for the targets of those NS sets, inside the zone.
 */
export function cacheAnswerExtras(cache: RRCache, m: Message, zone: Name, qn: Name): void {
  const nsTargets = new Set<string>();
  const ns: ResourceRecord[] = [];
  for (const r of m.authority) {
    if (r.type === NS && inBailiwick(r.name, zone) && qn.isSubdomainOf(r.name)) {
      ns.push(r);
      nsTargets.add((r.data as { nsdname: Name }).nsdname.key);
    }
  }
  for (const r of m.answer) if (r.type === NS && inBailiwick(r.name, zone)) nsTargets.add((r.data as { nsdname: Name }).nsdname.key);
  if (ns.length > 0) for (const set of groupRRsets(ns)) cache.put(set, Credibility.GLUE);
  const extra: ResourceRecord[] = [];
  for (const r of m.additional) {
    if ((r.type === A || r.type === AAAA) && inBailiwick(r.name, zone) && nsTargets.has(r.name.key)) extra.push(r);
  }
  // Addresses of the zone's own servers serve as glue (RFC 8109 §3: priming addresses replace hints).
  for (const set of groupRRsets(extra)) cache.put(set, Credibility.GLUE);
}

/** The root hints in the cache at GLUE rank (priming replaces them, RFC 8109 §3). */
export function cacheHints(cache: RRCache, h: RootHints, ipv6: boolean): void {
  const ns: ResourceRecord[] = h.ns.map((n) => ({ name: Name.ROOT, type: NS, class: RRClass.IN, ttl: h.ttl, data: { nsdname: n } }));
  cache.put(ns, Credibility.GLUE);
  for (const n of h.ns) {
    const addrs = h.addresses.get(n.key) ?? [];
    const a = addrs.filter((x) => !x.includes(':')).map((address) => ({ name: n, type: A, class: RRClass.IN, ttl: h.ttl, data: { address } }));
    const aaaa = addrs.filter((x) => x.includes(':')).map((address) => ({ name: n, type: AAAA, class: RRClass.IN, ttl: h.ttl, data: { address } }));
    if (a.length > 0) cache.put(a, Credibility.GLUE);
    if (aaaa.length > 0 && ipv6) cache.put(aaaa, Credibility.GLUE);
  }
}

/** RRSIGs among `sigs` that cover `set` (same owner and type). */
export function withSigs(sigs: readonly ResourceRecord[], set: readonly ResourceRecord[]): ResourceRecord[] {
  const first = set[0]!;
  const out: ResourceRecord[] = [];
  for (const s of sigs) if ((s.data as RRSIGData).typeCovered === first.type && s.name.equals(first.name)) out.push(s);
  return out;
}
