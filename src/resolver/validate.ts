/**
 * The resolver's validation step: the glue between the iterator and src/dnssec/validator.
 *
 * - Upstream queries carry DO=1; the iterator keeps RRSIGs and NSEC/NSEC3 proofs with each
 *   cached RRset (`attachDnssec`; `withSigs` is in cache-policy.ts).
 * - `ResolverValidation.resolve` resolves unchecked (as CD=1 would), validates the whole answer,
 *   records each RRset's status in its cache entry (RFC 4035 §4.7), so later cache hits are
 *   answered without validating again, and turns bogus answers into SERVFAIL with the Extended
 *   DNS Error (RFC 8914); the bogus entries leave the cache and the question answers SERVFAIL
 *   for `bogusTtlMs` without asking again (Unbound's val-bogus-ttl, shortened).
 * - DS and DNSKEY for the chain of trust are fetched through the same iterator and cache. The
 *   DNSKEY set of a signed zone is asked for as soon as the iterator enters the zone
 *   (`prefetchKeys`), in parallel with the question asked of its servers, instead of one round
 *   trip per zone after the answer came; likewise the DS question that proves an insecure
 *   delegation (`prefetchNoDs`): the same queries, fewer sequential waits.
 * - Built-in special-use answers (localhost, RFC 6303 zones) are insecure, never validated.
 */
import { ResolutionError } from '../errors.js';
import { type Logger, silentLogger } from '../logging.js';
import { Validator, type SecurityStatus, type ValidationLimits, type ValidationResult } from '../dnssec/validator/index.js';
import type { NegativeTrustAnchors, TrustAnchorSet } from '../dnssec/validator/trust-anchors.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType, type RRSIGData } from '../wire/types.js';
import { AggressiveNsec } from './aggressive-nsec.js';
import { ValidationState, type CacheHit } from './cache.js';
import type { Resolution, ResolverCore } from './resolution.js';
import { specialAnswer } from './special-names.js';
import type { ResolverStats } from './stats.js';

export interface ResolverValidationOptions {
  anchors: TrustAnchorSet;
  ntas?: NegativeTrustAnchors;
  /** How long a bogus question answers SERVFAIL without asking again, ms (default 5000). */
  bogusTtlMs?: number;
  limits?: Partial<ValidationLimits>;
  clock?: () => number;
  logger?: Logger;
  /** RFC 8198 aggressive use of validated NSEC (default true, as Unbound's aggressive-nsec). */
  aggressiveNsec?: boolean;
}

export interface ValidationStats {
  secure: number;
  insecure: number;
  bogus: number;
  indeterminate: number;
}

const STATE: Record<SecurityStatus, number> = {
  secure: ValidationState.SECURE, insecure: ValidationState.INSECURE, bogus: ValidationState.BOGUS, indeterminate: ValidationState.INDETERMINATE,
};

/** Keeps a reply's RRSIGs (answer) and NSEC/NSEC3 proof (authority), inside the zone's bailiwick, with its classification. */
export function attachDnssec(c: { kind: string; sec?: { sigs: ResourceRecord[]; proof: ResourceRecord[] } }, m: Message, zone: Name): void {
  if (c.kind !== 'answer' && c.kind !== 'cname' && c.kind !== 'nxdomain' && c.kind !== 'nodata') return;
  const sigs: ResourceRecord[] = [];
  const proof: ResourceRecord[] = [];
  for (const r of m.answer) if (r.type === RRType.RRSIG && r.name.isSubdomainOf(zone)) sigs.push(r);
  for (const r of m.authority) {
    if (!r.name.isSubdomainOf(zone)) continue;
    if (r.type === RRType.NSEC || r.type === RRType.NSEC3) proof.push(r);
    else if (r.type === RRType.RRSIG) {
      const t = (r.data as RRSIGData).typeCovered;
      if (t === RRType.NSEC || t === RRType.NSEC3) proof.push(r);
      else if (t === RRType.SOA) sigs.push(r);
    }
  }
  c.sec = { sigs, proof };
}

/** The status of a cache answer: the weakest of its links (UNCHECKED wins). */
export function dnssecOf(hit: CacheHit, _r: Resolution, chain: number): number {
  const s = hit.entry.status;
  if (s === ValidationState.UNCHECKED || chain === ValidationState.UNCHECKED) return ValidationState.UNCHECKED;
  return s > chain ? s : chain;
}

export class ResolverValidation {
  readonly validator: Validator;
  readonly stats: ValidationStats = { secure: 0, insecure: 0, bogus: 0, indeterminate: 0 };
  /** Validated NSEC ranges (RFC 8198); undefined when switched off. */
  readonly aggressive: AggressiveNsec | undefined;
  private resolver: ResolverCore | undefined = undefined;
  private readonly bogusTtlMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly bogus = new Map<string, { until: number; code: number; text: string }>();

  constructor(opts: ResolverValidationOptions) {
    this.bogusTtlMs = opts.bogusTtlMs ?? 5000;
    this.clock = opts.clock ?? Date.now;
    this.logger = opts.logger ?? silentLogger;
    this.aggressive = opts.aggressiveNsec === false ? undefined : new AggressiveNsec();
    this.validator = new Validator({
      anchors: opts.anchors, ntas: opts.ntas, limits: opts.limits, clock: this.clock, logger: this.logger,
      fetch: (name, type) => this.need().resolve(name, type, RRClass.IN, { cd: true, forValidation: true }),
      closestCut: (name) => this.need().cache.closestDelegation(name, RRClass.IN)?.records[0]?.name,
    });
  }

  /** Called by the Resolver that owns this step. */
  attach(resolver: ResolverCore): void {
    this.resolver = resolver;
  }

  private need(): ResolverCore {
    if (this.resolver === undefined) throw new Error('ResolverValidation used before attach()');
    return this.resolver;
  }

  /**
   * The iterator is about to ask the servers of `zone` for a question whose answer will be
   * validated: when the zone is signed (a trust anchor is at it, or a signed DS for it is cached,
   * e.g. from the referral that led here) and neither its key state nor its DNSKEY set is known,
   * start fetching the DNSKEY set now. The validation of whatever the zone answers (or of the DS
   * of its child) needs it, so this is the query it would send anyway, one round trip earlier.
   * Network only: the set is checked (and its work charged) when the validator uses it.
   */
  prefetchKeys(zone: Name): void {
    const v = this.validator;
    if (this.resolver === undefined || v.knowsKeys(zone) || !this.signed(zone)) return;
    if (this.resolver.cache.peek(zone, RRType.DNSKEY, RRClass.IN) !== undefined) return;
    this.early(zone, RRType.DNSKEY);
  }

  /**
   * A referral from signed `parent` to `cut` came without a DS but with NSEC/NSEC3 records (the
   * parent's proof that the delegation is insecure, RFC 4035 §5.2): the validator will ask the
   * parent for the DS of `cut` to prove that, so ask now, while the child's servers answer.
   */
  prefetchNoDs(parent: Name, cut: Name, referral: Message): void {
    if (this.resolver === undefined || this.validator.knowsKeys(cut) || !this.signed(parent)) return;
    let proof = false;
    for (const r of referral.authority) {
      if (r.type === RRType.DS) return;
      if (r.type === RRType.NSEC || r.type === RRType.NSEC3) proof = true;
    }
    if (!proof || this.resolver.cache.peek(cut, RRType.DS, RRClass.IN) !== undefined) return;
    this.early(cut, RRType.DS);
  }

  /** True when `zone` is known to be signed on a chain from a trust anchor (anchor at it, or a signed DS cached), and no NTA covers it. */
  private signed(zone: Name): boolean {
    const v = this.validator;
    if (v.anchors.at(zone) === undefined) {
      const ds = this.resolver!.cache.peek(zone, RRType.DS, RRClass.IN);
      if (ds === undefined || ds.kind !== 'positive' || ds.records.length === 0 || ds.sigs.length === 0) return false;
    }
    return v.anchors.closest(zone) !== undefined && !v.ntas.covers(zone, v.now());
  }

  /** Starts resolving (name, type) unchecked in the background; its outcome is judged when the validator asks. */
  private early(name: Name, type: number): void {
    this.resolver!.resolve(name, type, RRClass.IN, { cd: true, cacheChecked: true, forValidation: true })
      .catch(() => { /* judged when the validator asks again */ });
  }

  /** Forgets cached bogus verdicts and key states (after an NTA or anchor change). */
  reset(): void {
    this.bogus.clear();
    this.validator.flushKeys();
    this.aggressive?.clear();
  }

  /** Resolves unchecked, then validates; bogus -> ResolutionError with the EDE. */
  async resolve(qname: Name, qtype: number, qclass: number, opts: { refresh?: boolean; cacheChecked?: boolean }): Promise<Resolution> {
    const resolver = this.need();
    const key = qname.key + '/' + qtype + '/' + qclass;
    const b = this.bogus.get(key);
    if (b !== undefined) {
      if (b.until > this.clock()) throw new ResolutionError(b.text, b.code);
      this.bogus.delete(key);
    }
    if (this.aggressive !== undefined && opts.refresh !== true && qclass === RRClass.IN) {
      const now = this.validator.now();
      const d = this.validator.ntas.covers(qname, now) ? undefined : this.aggressive.lookup(qname, qtype, now);
      if (d !== undefined) {
        resolver.stats.aggressiveNsecAnswers++;
        return {
          rcode: d.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, answer: [], authority: d.authority,
          stale: false, queries: 0, cached: true, dnssec: ValidationState.SECURE,
        };
      }
    }
    const r = await resolver.resolve(qname, qtype, qclass, { ...opts, cd: true, forValidation: true });
    const s = r.dnssec;
    if (s === ValidationState.SECURE || s === ValidationState.INSECURE || s === ValidationState.INDETERMINATE) return r;
    if (r.stale || qclass !== RRClass.IN || specialAnswer(qname, qtype, qclass) !== undefined) return { ...r, dnssec: ValidationState.INSECURE };
    const vr = await this.validator.validate(qname, qtype, r);
    this.stats[vr.status]++;
    this.count(resolver.stats, vr);
    if (this.aggressive !== undefined && vr.status === 'secure' && vr.nsecs.length > 0) {
      // The SOA (and its RRSIGs) of a validated negative answer, for the authority section of later synthesised ones.
      const soa = r.rcode === Rcode.NXDOMAIN || (r.rcode === Rcode.NOERROR && vr.rrsets.some((x) => x.ttl === undefined))
        ? r.authority.filter((x) => x.type === RRType.SOA || (x.type === RRType.RRSIG && (x.data as RRSIGData).typeCovered === RRType.SOA))
        : [];
      this.aggressive.add(vr.nsecs, soa, this.validator.now());
    }
    const cache = resolver.cache;
    let answer = r.answer;
    for (const x of vr.rrsets) {
      const hit = cache.peek(x.name, x.type, RRClass.IN);
      if (vr.status !== 'bogus' && x.ttl !== undefined) answer = capTtl(answer, x.name, x.type, x.ttl);
      if (hit === undefined) continue;
      if (vr.status === 'bogus') cache.evict(hit.entry);
      else {
        hit.entry.status = STATE[x.status];
        // RFC 4035 §5.3.3: kept no longer than the RRSIG's original TTL and its expiry allow.
        if (x.ttl !== undefined) cache.capTtl(hit.entry, x.ttl);
      }
    }
    if (vr.status === 'bogus') {
      const ede = vr.ede ?? { code: EdeCode.DNSSEC_BOGUS, text: 'validation failed' };
      this.logger.debug({ qname: qname.toString(), qtype, why: ede.text }, 'bogus answer');
      if (this.bogus.size >= 10_000) this.bogus.clear();
      if (this.bogusTtlMs > 0) this.bogus.set(key, { until: this.clock() + this.bogusTtlMs, code: ede.code, text: ede.text });
      throw new ResolutionError(ede.text, ede.code);
    }
    return { ...r, answer, dnssec: STATE[vr.status] };
  }

  /** Adds one validation's outcome and work to the resolver's counters (`sovereign stats`, /metrics). */
  private count(st: ResolverStats, vr: ValidationResult): void {
    if (vr.status === 'secure') st.validationSecure++;
    else if (vr.status === 'insecure') st.validationInsecure++;
    else if (vr.status === 'indeterminate') st.validationIndeterminate++;
    else {
      st.validationBogus++;
      const code = vr.ede?.code ?? EdeCode.DNSSEC_BOGUS;
      if (code < st.validationBogusByEde.length) st.validationBogusByEde[code]!++;
    }
    if (vr.limited) st.validationLimitHits++;
    st.validationSignatureChecks += vr.work.signatures;
    st.validationNsec3Hashes += vr.work.nsec3Hashes;
  }
}

/** `rrs` with the records of (name, type) and the RRSIGs covering them lowered to at most `ttl` seconds. */
function capTtl(rrs: readonly ResourceRecord[], name: Name, type: number, ttl: number): readonly ResourceRecord[] {
  let out: ResourceRecord[] | undefined;
  for (let i = 0; i < rrs.length; i++) {
    const x = rrs[i]!;
    if (x.ttl <= ttl || !x.name.equals(name)) continue;
    if (x.type !== type && !(x.type === RRType.RRSIG && (x.data as RRSIGData).typeCovered === type)) continue;
    out ??= rrs.slice();
    out[i] = { name: x.name, type: x.type, class: x.class, ttl, data: x.data };
  }
  return out ?? rrs;
}
