/**
 * Layer "compare": the name resolved from the root by Sovereign's own iterator (src/resolver, a
 * fresh cache, root hints given or built in) against what the configured resolver says. A
 * resolver that says NXDOMAIN, or gives other addresses, than the authoritative path is filtering
 * (a blocklist, RPZ, a captive portal) or poisoned; answers that only partly overlap are often
 * load balancing, so they are a warning. Validation is off on our side: the dnssec layer judges
 * signatures, this layer only data.
 */
import type { ServerAddress } from '../client/exchange.js';
import { ResolutionError } from '../errors.js';
import { RRCache } from '../resolver/cache.js';
import { Resolver } from '../resolver/iterator.js';
import type { RootHints } from '../resolver/root-hints.js';
import { Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { type ResourceRecord, recordToString } from '../wire/record.js';
import { RRClass } from '../wire/types.js';
import { type Finding, finding } from './report.js';
import { label, probe, question, rcodeName } from './probe.js';

export interface Answer {
  rcode: number;
  /** RDATA of the records of the asked type, as text, sorted. */
  data: string[];
}

function dataOf(records: readonly ResourceRecord[], type: number): string[] {
  return records.filter((rr) => rr.type === type).map((rr) => recordToString(rr).split('\t').slice(4).join('\t')).sort();
}

/** Resolves `name` from the root hints with our iterator; a thrown ResolutionError becomes its message. */
export async function resolveFromRoot(hints: RootHints, name: Name, type: number, opts: { timeoutMs: number; port?: number; clock?: () => number }):
  Promise<Answer | { error: string }> {
  const clock = opts.clock ?? Date.now;
  const resolver = new Resolver({
    cache: new RRCache({ clock }), hints, clock, failureTtlMs: 0, resolutionTimeoutMs: Math.max(opts.timeoutMs * 4, 5000),
    ...(opts.port === undefined ? {} : { port: opts.port }),
  });
  try {
    const r = await resolver.resolve(name, type, RRClass.IN);
    return { rcode: r.rcode, data: dataOf(r.answer, type) };
  } catch (err) {
    return { error: err instanceof ResolutionError ? err.message : String(err) };
  }
}

/** The 'sinkhole' answers filters give (0.0.0.0, ::, loopback). */
function sinkhole(d: string): boolean {
  return d === '0.0.0.0' || d === '::' || d.startsWith('127.') || d === '::1';
}

export interface CompareOptions {
  name: Name;
  type: number;
  transport: 'udp' | 'tcp';
  timeoutMs: number;
  /** What the root path gave (resolved once for every resolver). */
  truth: Answer | { error: string };
}

export async function examineCompare(server: ServerAddress, o: CompareOptions): Promise<Finding[]> {
  const who = label(server);
  const q = question(o.name, o.type);
  if ('error' in o.truth) {
    return [finding('compare', 'root-path', 'warn', `${q} could not be resolved from the root by Sovereign: ${o.truth.error}`,
      'see the delegation findings: the domain itself may be broken', who)];
  }
  const p = await probe(server, o.name, o.type, { transport: o.transport, ignoreTruncation: false, timeoutMs: o.timeoutMs });
  if (p.kind !== 'reply') return [];
  const theirs: Answer = { rcode: p.message.rcode, data: dataOf(p.message.answer, o.type) };
  const truth = o.truth;
  const show = (a: Answer): string => `${rcodeName(a.rcode)}${a.data.length > 0 ? ' ' + a.data.join(', ') : ''}`;
  const seen = `the resolver says ${show(theirs)}; from the root: ${show(truth)}`;
  const fixPoison = 'find who answers for the name: flush the resolver\'s cache (sovereign cache flush, unbound-control flush) and check its forwarders, RPZ or blocklists; if none explains it, suspect cache poisoning or a DNS-rewriting middlebox';
  if (theirs.rcode === Rcode.SERVFAIL) {
    return [finding('compare', 'answer', truth.rcode === Rcode.NOERROR ? 'warn' : 'ok', `${seen}`,
      'the resolver fails where the root path works: see the dnssec and clock findings', who)];
  }
  const same = theirs.rcode === truth.rcode && theirs.data.join('\n') === truth.data.join('\n');
  if (same) return [finding('compare', 'answer', 'ok', `${q}: the resolver agrees with the root path (${show(truth)})`, '', who)];
  if (truth.data.length > 0 && (theirs.rcode === Rcode.NXDOMAIN || theirs.rcode === Rcode.REFUSED || (theirs.data.length > 0 && theirs.data.every(sinkhole)))) {
    return [finding('compare', 'filtered', 'fail', `${q}: ${seen}: the resolver filters the name`, fixPoison, who)];
  }
  const overlap = theirs.data.some((d) => truth.data.includes(d));
  if (theirs.data.length > 0 && !overlap) {
    return [finding('compare', 'poisoned', 'fail', `${q}: ${seen}: none of the resolver's records come from the authoritative servers`, fixPoison, who)];
  }
  return [finding('compare', 'answer', 'warn', `${q}: ${seen}`,
    'answers that partly differ are often load balancing or a recent change (TTLs); check again after the TTL passes', who)];
}
