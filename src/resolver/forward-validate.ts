/**
 * DNSSEC validation in the forwarder (`forwarding.dnssec`), as Unbound validates forward-zone
 * answers: a home resolver behind a non-validating upstream checks the chain of trust itself.
 *
 * - CD=0 questions go upstream with DO=1 and CD=1 (RFC 4035 §3.2.2: we want the data even when
 *   the upstream would find it bogus), into the cache's UNCHECKED space; DS and DNSKEY for the
 *   chain of trust are fetched the same way through the question's routes.
 * - Secure and insecure answers are then kept in the CHECKED space with their validation state
 *   (AD on later cache hits comes from it), TTLs capped by the signatures (RFC 4035 §5.3.3).
 *   Bogus answers become SERVFAIL with the Extended DNS Error (RFC 8914), remembered for
 *   `bogusTtlMs` (Unbound's val-bogus-ttl, shortened).
 * - CD=1 questions pass through unchecked, as before (the forwarder's UNCHECKED space).
 */
import { ResolutionError } from '../errors.js';
import { type Logger, silentLogger } from '../logging.js';
import { Validator, type ValidationLimits } from '../dnssec/validator/index.js';
import type { NegativeTrustAnchors, TrustAnchorSet } from '../dnssec/validator/trust-anchors.js';
import { EdeCode } from '../wire/constants.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';
import { ValidationState, type RRCache } from './cache.js';
import { VALIDATION_EDE_SLOTS } from './stats.js';
import type { ForwardQuestion, ForwardResult, ForwardRoute, Forwarder } from './forwarder.js';

export interface ForwarderValidationOptions {
  anchors: TrustAnchorSet;
  ntas?: NegativeTrustAnchors;
  cache: RRCache;
  bogusTtlMs?: number;
  limits?: Partial<ValidationLimits>;
  clock?: () => number;
  logger?: Logger;
  /** Counters to add to (kept by the server across reloads); default a fresh set. */
  stats?: ForwarderValidationStats;
}

/** Validation counters of the forwarder (`sovereign stats`, /metrics): plain numbers, added key by key across workers. */
export interface ForwarderValidationStats {
  secure: number;
  insecure: number;
  bogus: number;
  indeterminate: number;
  /** Bogus validations by reason: index = the RFC 8914 Extended DNS Error code answered. */
  bogusByEde: number[];
  /** Validations stopped by a work limit (KeyTrap CVE-2023-50387, CVE-2023-50868). */
  limitHits: number;
  /** Signature verifications and NSEC3 hashes done (chain of trust included). */
  signatureChecks: number;
  nsec3Hashes: number;
}

/** A ForwarderValidationStats with every counter at zero. */
export function newForwarderValidationStats(): ForwarderValidationStats {
  return {
    secure: 0, insecure: 0, bogus: 0, indeterminate: 0, bogusByEde: new Array<number>(VALIDATION_EDE_SLOTS).fill(0),
    limitHits: 0, signatureChecks: 0, nsec3Hashes: 0,
  };
}

const STATE = {
  secure: ValidationState.SECURE, insecure: ValidationState.INSECURE, bogus: ValidationState.BOGUS, indeterminate: ValidationState.INDETERMINATE,
} as const;

function isDnssec(r: ResourceRecord): boolean {
  return r.type === RRType.RRSIG || r.type === RRType.NSEC || r.type === RRType.NSEC3;
}

export class ForwarderValidation {
  readonly validator: Validator;
  readonly stats: ForwarderValidationStats;
  private readonly cache: RRCache;
  private readonly clock: () => number;
  private readonly bogusTtlMs: number;
  private readonly logger: Logger;
  private readonly bogus = new Map<string, { until: number; code: number; text: string }>();

  constructor(private readonly fwd: Forwarder, opts: ForwarderValidationOptions) {
    this.cache = opts.cache;
    this.stats = opts.stats ?? newForwarderValidationStats();
    this.clock = opts.clock ?? Date.now;
    this.bogusTtlMs = opts.bogusTtlMs ?? 5000;
    this.logger = opts.logger ?? silentLogger;
    this.validator = new Validator({
      anchors: opts.anchors, ntas: opts.ntas, limits: opts.limits, clock: this.clock, logger: this.logger,
      fetch: async (name, type) => {
        // DS and DNSKEY (and the names walked for insecure delegations) through the name's route,
        // or the root route; unchecked (CD=1) with DO=1.
        const route = this.fwd.route(name) ?? this.fwd.allRoutes()[0];
        if (route === undefined) throw new ResolutionError(`no forwarding route for ${name.toString()}`, EdeCode.NO_REACHABLE_AUTHORITY);
        const r = await this.fwd.resolve({ name, type, class: RRClass.IN, dnssecOk: true, checkingDisabled: true }, route);
        return { rcode: r.rcode, answer: r.answer, authority: r.authority };
      },
    });
  }

  /** Forgets bogus verdicts and key states (NTA or anchor changes). */
  reset(): void {
    this.bogus.clear();
    this.validator.flushKeys();
  }

  /** A CD=0 question the cache could not answer: fetch unchecked, validate, keep it checked. */
  async resolve(q: ForwardQuestion, route: ForwardRoute): Promise<ForwardResult> {
    if (q.checkingDisabled || q.class !== RRClass.IN) return this.fwd.resolveUpstream(q, route);
    const key = q.name.key + '/' + q.type;
    const b = this.bogus.get(key);
    if (b !== undefined) {
      if (b.until > this.clock()) throw new ResolutionError(b.text, b.code);
      this.bogus.delete(key);
    }
    const uq: ForwardQuestion = { name: q.name, type: q.type, class: q.class, dnssecOk: true, checkingDisabled: true };
    // Straight from the upstream (the cache keeps only the answer's path, not a wildcard's proof or a DNAME).
    const r = await this.fwd.resolveUpstream(uq, route);
    const raw = r.raw;
    if (raw === undefined) return this.forClient(q, r, false); // stale data: served as it is, never AD
    const vr = await this.validator.validate(q.name, q.type, raw);
    const st = this.stats;
    st[vr.status]++;
    if (vr.limited) st.limitHits++;
    st.signatureChecks += vr.work.signatures;
    st.nsec3Hashes += vr.work.nsec3Hashes;
    if (vr.status === 'bogus') {
      const ede = vr.ede ?? { code: EdeCode.DNSSEC_BOGUS, text: 'validation failed' };
      if (ede.code < st.bogusByEde.length) st.bogusByEde[ede.code]!++;
      this.logger.debug({ qname: q.name.toString(), qtype: q.type, why: ede.text }, 'bogus forwarded answer');
      if (this.bogus.size >= 10_000) this.bogus.clear();
      if (this.bogusTtlMs > 0) this.bogus.set(key, { until: this.clock() + this.bogusTtlMs, code: ede.code, text: ede.text });
      throw new ResolutionError(ede.text, ede.code);
    }
    const secure = vr.status === 'secure';
    // Answers through a DNAME are not kept checked: the cache keeps the answer's path only, and a
    // hit would lose the DNAME and its signature. They are fetched and validated again.
    if (raw.answer.some((x) => x.type === RRType.DNAME)) {
      return this.forClient(q, { rcode: raw.rcode, answer: raw.answer, authority: raw.authority, cached: false, upstream: r.upstream, ad: false }, secure);
    }
    // Kept in the checked space with RRSIGs (DO=1 and DO=0 clients are both answered from it).
    const kept = this.fwd.keep({ ...q, dnssecOk: true, checkingDisabled: false }, raw, r.upstream ?? 'upstream');
    for (const x of vr.rrsets) {
      const hit = this.cache.peek(x.name, x.type, RRClass.IN);
      if (hit === undefined) continue;
      hit.entry.status = STATE[x.status];
      if (x.ttl !== undefined) this.cache.capTtl(hit.entry, x.ttl);
    }
    return this.forClient(q, kept, secure);
  }

  /** The answer for the client: DNSSEC records only with DO=1 (RFC 4035 §3.2.1), AD when proven secure. */
  private forClient(q: ForwardQuestion, r: ForwardResult, secure: boolean): ForwardResult {
    if (q.dnssecOk) return { ...r, ad: secure };
    return { ...r, answer: r.answer.filter((x) => !isDnssec(x) || q.type === x.type), authority: r.authority.filter((x) => !isDnssec(x)), ad: secure };
  }
}
