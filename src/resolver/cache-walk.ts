/**
 * Answers from the cache alone: the walk from a question's name along cached CNAMEs (and, for the
 * iterator, cached DNAMEs at ancestors, RFC 6672 §3.2) to the entry for the question's type. One
 * walk for the iterator (fresh and stale, RFC 8767) and the forwarder; what differs between them
 * is which entries they may use, given as a CacheRule (the rank rule: least credibility, checked
 * or also unchecked data, only DO=1 entries), as Unbound keeps one lookup with a security filter.
 *
 * Invariants: a walk follows at most `maxChain` links and stops at the first missing one (an
 * incomplete chain is a miss, never a partial answer); it allocates only the chain it returns.
 * DNAME-synthesised CNAMEs are marked (classify.ts `synthesised`) so they are never cached.
 */
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { type CacheHit, CacheSpace, type RRCache, ValidationState } from './cache.js';
import { dnameSubstitute, synthesise } from './classify.js';

/** Which cached entries a walk may use. */
export interface CacheRule {
  /** Least credibility (RFC 2181 §5.4.1) an entry needs. */
  readonly minRank: number;
  /** After checked data, also unchecked data (the forwarder's CD=1 clients, RFC 4035 §3.2.2). */
  readonly unchecked: boolean;
  /** Only entries fetched with DO=1, whose RRSIGs are known (the forwarder's DO=1 clients). */
  readonly needDnssec: boolean;
  /** Follow cached DNAMEs at ancestors of a name without a CNAME (RFC 6672 §3.2). */
  readonly dname: boolean;
  /** Put each link's RRSIGs after its records in the chain. */
  readonly sigs: boolean;
  /** Serve stale data (RFC 8767): entries past their TTL but within the cache's stale window. */
  readonly stale: boolean;
}

/**
 * A reusable walker over one cache (one per resolver or forwarder). `run` leaves its result in
 * `hit`, `chain` and `status`, read right after: no result object per query.
 */
export class CacheWalk {
  /** The entry for the last name of the chain and the question's type (after a true `run`). */
  hit: CacheHit | undefined = undefined;
  /** The CNAME (or DNAME and synthesised CNAME) records before it, with RRSIGs per the rule; undefined: none. */
  chain: ResourceRecord[] | undefined = undefined;
  /** Weakest validation state of the chain's links (ValidationState; SECURE when there are none). */
  status: number = ValidationState.SECURE;
  private readonly cache: RRCache;
  private readonly maxChain: number;

  constructor(cache: RRCache, maxChain: number) {
    this.cache = cache;
    this.maxChain = maxChain;
  }

  /**
   * Walks from (`qname`, `qtype`); true when the whole answer is cached. `use` (stale rules only):
   * count the stale hits and touch the entries.
   */
  run(qname: Name, qtype: number, qclass: number, rule: CacheRule, use = true): boolean {
    this.hit = undefined;
    this.chain = undefined;
    this.status = ValidationState.SECURE;
    let name = qname;
    for (let i = 0; i <= this.maxChain; i++) {
      const hit = this.get(name, qtype, qclass, rule, use);
      if (hit !== undefined) {
        this.hit = hit;
        return true;
      }
      const c = qtype === RRType.CNAME || qtype === RRType.ANY ? undefined : this.get(name, RRType.CNAME, qclass, rule, use);
      if (c !== undefined && c.kind === 'positive' && c.records.length > 0) {
        this.link(c.records, c.sigs, c.entry.status, rule);
        name = (c.records[0]!.data as { cname: Name }).cname;
        continue;
      }
      const next = rule.dname && qtype !== RRType.DNAME ? this.viaDname(name, qclass, rule, use) : undefined;
      if (next === undefined) return false;
      name = next;
    }
    return false;
  }

  /** A cached DNAME at an ancestor of `name`: links it and the CNAME it synthesises; the target. */
  private viaDname(name: Name, qclass: number, rule: CacheRule, use: boolean): Name | undefined {
    let n = name;
    while (n.labelCount > 1) {
      n = n.parent();
      const hit = this.get(n, RRType.DNAME, qclass, rule, use);
      if (hit === undefined || hit.kind !== 'positive') continue;
      const dname = hit.records[0]!;
      const target = dnameSubstitute(name, n, (dname.data as { target: Name }).target);
      if (target === undefined) return undefined;
      this.link([dname], hit.sigs, hit.entry.status, rule);
      this.chain!.push(synthesise(name, dname, target));
      return target;
    }
    return undefined;
  }

  private link(records: readonly ResourceRecord[], sigs: readonly ResourceRecord[], status: number, rule: CacheRule): void {
    const chain = (this.chain ??= []);
    for (let i = 0; i < records.length; i++) chain.push(records[i]!);
    if (rule.sigs) for (let i = 0; i < sigs.length; i++) chain.push(sigs[i]!);
    if (status === ValidationState.UNCHECKED || status > this.status) this.status = status;
  }

  /** One entry under the rule: checked data, then (if allowed) unchecked; DO=1 entries only if asked. */
  private get(name: Name, type: number, qclass: number, rule: CacheRule, use: boolean): CacheHit | undefined {
    const cache = this.cache;
    if (rule.stale) return cache.getStale(name, type, qclass, rule.minRank, CacheSpace.CHECKED, use);
    let hit = cache.get(name, type, qclass, rule.minRank, false, CacheSpace.CHECKED);
    if (hit !== undefined && (!rule.needDnssec || hit.entry.dnssec)) return hit;
    if (!rule.unchecked) return undefined;
    hit = cache.get(name, type, qclass, rule.minRank, false, CacheSpace.UNCHECKED);
    return hit !== undefined && (!rule.needDnssec || hit.entry.dnssec) ? hit : undefined;
  }
}
