/**
 * The validator (RFC 4033 §5, RFC 4035 §5, RFC 6840): proves a response secure, insecure or
 * bogus from trust anchors down the chain DS -> DNSKEY -> RRSIG, using any source of DNS data
 * (`fetch`, e.g. the iterator with DO=1) and an injected clock. No server, no sockets.
 *
 * Invariants:
 * - Each zone's key state (secure keys / insecure / bogus / indeterminate) is cached in a key
 *   cache until the DNSKEY/DS TTL runs out (bogus: 60 s, Unbound's val-bogus-ttl); concurrent
 *   callers share one computation.
 * - A zone is insecure when the parent proves (NSEC/NSEC3, or opt-out) there is no DS, when every
 *   DS uses an algorithm or digest we do not implement (RFC 4035 §5.2, RFC 6840 §5.2), or below a
 *   negative trust anchor (RFC 7646). Names under no trust anchor are indeterminate (never AD).
 * - All signature checks and NSEC3 hashes of one `validate` call are charged to one Budget.
 * - Results name the RFC 8914 Extended DNS Error that fits the first failure.
 */
import { type Logger, silentLogger } from '../../logging.js';
import { EdeCode, Rcode } from '../../wire/constants.js';
import { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType, typeToString, type DSData, type RRSIGData } from '../../wire/types.js';
import { algorithmInfo, isSupportedAlgorithm } from '../algorithms.js';
import { canonicalRdata, compareBytes } from '../canonical.js';
import { dsDigest, isSupportedDigest } from '../digest.js';
import { nsec3NoDs, nsec3Proof, nsec3WildcardAnswer, nsecNoDs, nsecProof, nsecWildcardAnswer, type ProofResult } from './proofs.js';
import { NegativeTrustAnchors, type TrustAnchor, type TrustAnchorSet } from './trust-anchors.js';
import { Budget, DEFAULT_LIMITS, checkRrset, zoneKeysOf, type ValidationLimits, type ZoneKey } from './verify.js';

export type SecurityStatus = 'secure' | 'insecure' | 'bogus' | 'indeterminate';

/** What `fetch` returns: a response's sections (RRSIGs, NSEC/NSEC3 included). */
export interface FetchResult {
  rcode: number;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
}

export interface ValidatorOptions {
  anchors: TrustAnchorSet;
  ntas?: NegativeTrustAnchors;
  /** Gets (name, type) with DNSSEC records, unvalidated (DO=1, CD=1). Throws when resolution fails. */
  fetch: (name: Name, type: number) => Promise<FetchResult>;
  /** The deepest zone cut known at or above a name (e.g. the resolver's cached NS); default none. */
  closestCut?: (name: Name) => Name | undefined;
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number;
  limits?: Partial<ValidationLimits>;
  logger?: Logger;
}

/** One validated RRset (or negative answer: type = the question's, negative = true). */
export interface RrsetStatus {
  name: Name;
  type: number;
  status: SecurityStatus;
  /** TTL allowed by the signature (RFC 4035 §5.3.3), for secure RRsets. */
  ttl?: number;
}

export interface ValidationResult {
  status: SecurityStatus;
  /** For bogus results: the Extended DNS Error (RFC 8914) and why. */
  ede?: { code: number; text: string };
  rrsets: RrsetStatus[];
  /** Work done for this answer (chain of trust included, when not cached): signature checks and NSEC3 hashes. */
  work: { signatures: number; nsec3Hashes: number };
  /** True when a work limit (KeyTrap, NSEC3 hashes) stopped part of the validation. */
  limited: boolean;
  /**
   * NSEC RRsets (with their RRSIGs) verified with a secure zone's keys while proving this answer,
   * and the TTL their signatures allow: input for aggressive negative caching (RFC 8198).
   */
  nsecs: VerifiedNsec[];
}

/** One verified NSEC record set of `zone`: the records, their RRSIGs, the TTL allowed (RFC 4035 §5.3.3). */
export interface VerifiedNsec {
  zone: Name;
  records: ResourceRecord[];
  sigs: ResourceRecord[];
  ttl: number;
}

export interface ValidateOptions {
  /** Receives one line per link checked (delv +vtrace). */
  trace?: (line: string) => void;
}

type KeyEntry =
  | { status: 'secure'; zone: Name; keys: ZoneKey[]; until: number }
  | { status: 'insecure' | 'indeterminate'; zone: Name; until: number; why: string }
  | { status: 'bogus'; zone: Name; until: number; ede: number; why: string };

interface Ctx {
  budget: Budget;
  nsecs: VerifiedNsec[];
  now: number;
  trace: ((line: string) => void) | undefined;
}

type DsStep =
  /** `dnskey`: the zone's DNSKEY fetch, started as soon as the DS came (before the DS is proven). */
  | { kind: 'ds'; ds: ResourceRecord[]; ttl: number; dnskey: Promise<FetchResult> | undefined }
  | { kind: 'insecure'; why: string }
  | { kind: 'not-cut' }
  | { kind: 'nxdomain' }
  | { kind: 'status'; entry: KeyEntry };

const BOGUS_TTL = 60;
const MAX_KEY_TTL = 86_400;
/** Labels walked below a known cut looking for an insecure delegation. */
const MAX_WALK = 16;
const MAX_CHAIN = 16;

function sigsFor(rrs: readonly ResourceRecord[], owner: Name, type: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const r of rrs) if (r.type === RRType.RRSIG && (r.data as RRSIGData).typeCovered === type && r.name.equals(owner)) out.push(r);
  return out;
}

/** RRsets of a section (RRSIGs left out), first-seen order. */
function rrsetsOf(rrs: readonly ResourceRecord[]): ResourceRecord[][] {
  const m = new Map<string, ResourceRecord[]>();
  for (const r of rrs) {
    if (r.type === RRType.RRSIG) continue;
    const k = r.name.key + '/' + r.type;
    const s = m.get(k);
    if (s === undefined) m.set(k, [r]);
    else s.push(r);
  }
  return [...m.values()];
}

/** The signer named by RRSIGs over (owner, type), if it is at or above the owner. */
function signerOf(sigs: readonly ResourceRecord[], owner: Name): Name | undefined {
  for (const s of sigs) {
    const n = (s.data as RRSIGData).signerName;
    if (owner.isSubdomainOf(n)) return n;
  }
  return undefined;
}

/** YYYYMMDDHHMMSS of an RRSIG time (RFC 4034 §3.2), as delv and dig print it. */
function rrsigTimeToString(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

const rank: Record<SecurityStatus, number> = { secure: 0, indeterminate: 1, insecure: 2, bogus: 3 };

export class Validator {
  readonly anchors: TrustAnchorSet;
  readonly ntas: NegativeTrustAnchors;
  private readonly fetchFn: ValidatorOptions['fetch'];
  private readonly closestCut: (name: Name) => Name | undefined;
  private readonly clock: () => number;
  private readonly limits: ValidationLimits;
  private readonly logger: Logger;
  private readonly keyCache = new Map<string, { until: number; p: Promise<KeyEntry> }>();

  constructor(opts: ValidatorOptions) {
    this.anchors = opts.anchors;
    this.ntas = opts.ntas ?? new NegativeTrustAnchors();
    this.fetchFn = opts.fetch;
    this.closestCut = opts.closestCut ?? (() => undefined);
    this.clock = opts.clock ?? Date.now;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.logger = opts.logger ?? silentLogger;
  }

  /** Seconds now (injected clock). */
  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** Forgets every key state (after anchors or NTAs change). */
  flushKeys(name?: Name): void {
    if (name === undefined) this.keyCache.clear();
    else for (const k of [...this.keyCache.keys()]) if (k.endsWith(name.key)) this.keyCache.delete(k);
  }

  /**
   * Validates a response to (qname, qtype): the answer chain (CNAME/DNAME links across zones),
   * the final RRset or the denial of existence, wildcard expansions.
   */
  async validate(qname: Name, qtype: number, res: FetchResult, opts: ValidateOptions = {}): Promise<ValidationResult> {
    const ctx: Ctx = { budget: new Budget(this.limits), nsecs: [], now: this.now(), trace: opts.trace };
    const out: ValidationResult = { status: 'secure', rrsets: [], work: { signatures: 0, nsec3Hashes: 0 }, limited: false, nsecs: ctx.nsecs };
    const finish = (): ValidationResult => {
      out.limited = ctx.budget.limited || ctx.budget.exhausted !== undefined;
      out.work.signatures = this.limits.maxSigsPerQuery - ctx.budget.sigs;
      out.work.nsec3Hashes = this.limits.maxNsec3Hashes - ctx.budget.nsec3;
      return out;
    };
    const note = (name: Name, type: number, r: { status: SecurityStatus; ede?: number; why?: string; ttl?: number }): void => {
      out.rrsets.push({ name, type, status: r.status, ttl: r.ttl });
      if (rank[r.status] > rank[out.status]) {
        out.status = r.status;
        if (r.status === 'bogus') out.ede = { code: r.ede ?? EdeCode.DNSSEC_BOGUS, text: (r.why ?? 'validation failed').slice(0, 200) };
      }
    };
    try {
      if (this.ntas.covers(qname, ctx.now)) {
        note(qname, qtype, { status: 'insecure' });
        return finish();
      }
      const sets = rrsetsOf(res.answer);
      let name = qname;
      let done = false;
      for (let links = 0; links < MAX_CHAIN && !done; links++) {
        // DNAME above the name (RFC 6672 §5.3.3): validate it; the synthesised CNAME needs no signature.
        const dname = sets.find((s) => s[0]!.type === RRType.DNAME && name.isSubdomainOf(s[0]!.name) && !name.equals(s[0]!.name));
        if (dname !== undefined && qtype !== RRType.DNAME) {
          note(dname[0]!.name, RRType.DNAME, await this.checkSet(dname, res, name, ctx));
          const target = (dname[0]!.data as { target: Name }).target;
          const prefix = name.wire.subarray(0, name.wire.length - dname[0]!.name.wire.length);
          const w = new Uint8Array(prefix.length + target.wire.length);
          w.set(prefix, 0);
          w.set(target.wire, prefix.length);
          const next = new Name(w);
          sets.splice(sets.indexOf(dname), 1);
          const cn = sets.findIndex((s) => s[0]!.type === RRType.CNAME && s[0]!.name.equals(name));
          if (cn >= 0) sets.splice(cn, 1);
          name = next;
          continue;
        }
        const final = sets.find((s) => s[0]!.name.equals(name) && (s[0]!.type === qtype || (qtype === RRType.ANY && s[0]!.type !== RRType.CNAME)));
        if (final !== undefined) {
          for (const s of sets) if (s[0]!.name.equals(name) && (s[0]!.type === qtype || qtype === RRType.ANY)) note(name, s[0]!.type, await this.checkSet(s, res, name, ctx));
          done = true;
          break;
        }
        const cname = sets.find((s) => s[0]!.type === RRType.CNAME && s[0]!.name.equals(name));
        if (cname === undefined || qtype === RRType.CNAME) break;
        note(name, RRType.CNAME, await this.checkSet(cname, res, name, ctx));
        name = (cname[0]!.data as { cname: Name }).cname;
      }
      if (!done && (res.rcode === Rcode.NXDOMAIN || res.rcode === Rcode.NOERROR)) {
        note(name, qtype, await this.checkNegative(name, qtype, res.rcode === Rcode.NXDOMAIN ? 'nxdomain' : 'nodata', res, ctx));
      }
    } catch (err) {
      if (ctx.budget.exhausted !== undefined) {
        note(qname, qtype, { status: 'bogus', ede: EdeCode.DNSSEC_BOGUS, why: ctx.budget.exhausted });
        return finish();
      }
      throw err;
    }
    if (ctx.budget.exhausted !== undefined && out.status !== 'bogus') note(qname, qtype, { status: 'bogus', ede: EdeCode.DNSSEC_BOGUS, why: ctx.budget.exhausted });
    return finish();
  }

  /** One RRset of the answer section: signed by a zone we can prove, or unsigned in a provably insecure zone. */
  private async checkSet(set: ResourceRecord[], res: FetchResult, qname: Name, ctx: Ctx):
    Promise<{ status: SecurityStatus; ede?: number; why?: string; ttl?: number }> {
    const first = set[0]!;
    const sigs = sigsFor(res.answer, first.name, first.type);
    const signer = signerOf(sigs, first.name);
    const ke = signer !== undefined ? await this.getKeys(signer, ctx) : await this.zoneStatusFor(first.name, ctx);
    if (ke.status !== 'secure') {
      if (ke.status === 'bogus') return { status: 'bogus', ede: ke.ede, why: ke.why };
      return { status: ke.status };
    }
    if (signer === undefined) {
      return { status: 'bogus', ede: EdeCode.RRSIGS_MISSING, why: `no RRSIG for ${first.name.toString()}/${first.type} in signed zone ${ke.zone.toString()}` };
    }
    const c = checkRrset(set, sigs, ke.zone, ke.keys, ctx.now, ctx.budget);
    ctx.trace?.(`; ${first.name.toString()} ${typeToString(first.type)}: ${c.ok ? `RRSIG by ${ke.zone.toString()} key ${c.key.tag} alg ${c.sig.algorithm} valid until ${rrsigTimeToString(c.sig.signatureExpiration)}` : c.why}`);
    if (!c.ok) return { status: c.ede === EdeCode.UNSUPPORTED_DNSKEY_ALGORITHM ? 'insecure' : 'bogus', ede: c.ede, why: c.why };
    if (c.wildcard !== undefined && !first.name.equals(c.wildcard)) {
      // RFC 4035 §5.3.4: a wildcard expansion needs proof that the next closer name does not exist.
      const p = await this.checkProof(ke, res.authority, ctx, (recs) => recs.some((r) => r.type === RRType.NSEC3)
        ? nsec3WildcardAnswer(first.name, c.wildcard!, recs, ctx.budget)
        : nsecWildcardAnswer(first.name, c.wildcard!, recs));
      if (p.status !== 'secure') return { status: p.status, ede: p.status === 'bogus' ? p.ede : undefined, why: p.why };
    }
    void qname;
    return { status: 'secure', ttl: c.ttl };
  }

  /** NXDOMAIN / NODATA for `name`: SOA and NSEC/NSEC3 signed by the zone, and the proof. */
  private async checkNegative(name: Name, qtype: number, kind: 'nxdomain' | 'nodata', res: FetchResult, ctx: Ctx):
    Promise<{ status: SecurityStatus; ede?: number; why?: string }> {
    let signer: Name | undefined;
    for (const r of res.authority) {
      if (r.type === RRType.RRSIG && name.isSubdomainOf((r.data as RRSIGData).signerName)) {
        signer = (r.data as RRSIGData).signerName;
        break;
      }
    }
    const ke = signer !== undefined ? await this.getKeys(signer, ctx) : await this.zoneStatusFor(qtype === RRType.DS && !name.isRoot ? name.parent() : name, ctx);
    if (ke.status === 'bogus') return { status: 'bogus', ede: ke.ede, why: ke.why };
    if (ke.status !== 'secure') return { status: ke.status };
    if (signer === undefined) return { status: 'bogus', ede: EdeCode.NSEC_MISSING, why: `unsigned negative answer for ${name.toString()} in signed zone ${ke.zone.toString()}` };
    const soa = res.authority.filter((r) => r.type === RRType.SOA && r.name.equals(ke.zone));
    if (soa.length > 0) {
      const c = checkRrset(soa, sigsFor(res.authority, soa[0]!.name, RRType.SOA), ke.zone, ke.keys, ctx.now, ctx.budget);
      if (!c.ok) return { status: 'bogus', ede: c.ede, why: c.why };
    }
    const p = await this.checkProof(ke, res.authority, ctx, (recs) => recs.some((r) => r.type === RRType.NSEC3)
      ? nsec3Proof(kind, name, qtype, recs, ctx.budget)
      : nsecProof(kind, name, qtype, recs));
    ctx.trace?.(`; ${kind} ${name.toString()}: ${p.status}${p.status !== 'secure' ? ` (${p.why})` : ''}`);
    if (p.status === 'bogus') return { status: 'bogus', ede: p.ede, why: p.why };
    return { status: p.status };
  }

  /** Verifies the NSEC/NSEC3 RRsets of `authority` with the zone's keys, then runs `prove` on the verified ones. */
  private async checkProof(ke: Extract<KeyEntry, { status: 'secure' }>, authority: readonly ResourceRecord[], ctx: Ctx,
    prove: (records: ResourceRecord[]) => ProofResult): Promise<ProofResult> {
    const verified: ResourceRecord[] = [];
    let firstFail: { ede: number; why: string } | undefined;
    for (const set of rrsetsOf(authority)) {
      const t = set[0]!.type;
      if (t !== RRType.NSEC && t !== RRType.NSEC3) continue;
      if (!set[0]!.name.isSubdomainOf(ke.zone)) continue;
      const sigs = sigsFor(authority, set[0]!.name, t);
      const c = checkRrset(set, sigs, ke.zone, ke.keys, ctx.now, ctx.budget);
      if (c.ok) {
        for (const r of set) verified.push(r);
        if (t === RRType.NSEC) ctx.nsecs.push({ zone: ke.zone, records: set, sigs, ttl: c.ttl });
      } else firstFail ??= { ede: c.ede, why: c.why };
    }
    if (ctx.budget.exhausted !== undefined) return { status: 'bogus', ede: EdeCode.DNSSEC_BOGUS, why: ctx.budget.exhausted };
    const p = prove(verified);
    if (p.status === 'bogus' && verified.length === 0 && firstFail !== undefined) return { status: 'bogus', ede: firstFail.ede, why: firstFail.why };
    return p;
  }

  /** Key state of the zone holding `name` when we do not know it from a signature: walk down from the closest known cut. */
  private async zoneStatusFor(name: Name, ctx: Ctx): Promise<KeyEntry> {
    if (this.ntas.covers(name, ctx.now)) return { status: 'insecure', zone: name, until: 0, why: 'negative trust anchor' };
    const anchor = this.anchors.closest(name);
    if (anchor === undefined) return { status: 'indeterminate', zone: name, until: 0, why: 'no trust anchor' };
    let cut = this.closestCut(name) ?? anchor.name;
    if (!cut.isSubdomainOf(anchor.name)) cut = anchor.name;
    let ke = await this.getKeys(cut, ctx);
    for (let l = cut.labelCount + 1, steps = 0; l <= name.labelCount && steps < MAX_WALK; l++, steps++) {
      if (ke.status !== 'secure') return ke;
      const n = name.suffix(l);
      const step = await this.dsStep(n, ctx);
      if (step.kind === 'status') return step.entry;
      if (step.kind === 'insecure') return { status: 'insecure', zone: n, until: 0, why: step.why };
      if (step.kind === 'nxdomain') break;
      if (step.kind === 'ds') ke = await this.cached(n, () => this.keysFromDs(n, step.ds, step.ttl, ctx, step.dnskey));
    }
    return ke;
  }

  /** Key state of zone `zone` (cached). */
  getKeys(zone: Name, ctx: Ctx): Promise<KeyEntry> {
    return this.cached(zone, () => this.loadKeys(zone, ctx));
  }

  /** True while the key state of `zone` is known or being computed (no DNSKEY fetch is needed for it). */
  knowsKeys(zone: Name): boolean {
    return this.liveKeys(zone) !== undefined;
  }

  /** The key-cache slot of `zone` while it is fresh (computed or being computed). */
  private liveKeys(zone: Name): Promise<KeyEntry> | undefined {
    const hit = this.keyCache.get(zone.key);
    return hit !== undefined && hit.until > this.now() ? hit.p : undefined;
  }

  private cached(zone: Name, load: () => Promise<KeyEntry>): Promise<KeyEntry> {
    const now = this.now();
    const hit = this.keyCache.get(zone.key);
    if (hit !== undefined && hit.until > now) return hit.p;
    const p = load().catch((err: unknown): KeyEntry => ({
      status: 'bogus', zone, until: now + 5, ede: EdeCode.DNSKEY_MISSING, why: `could not fetch keys of ${zone.toString()}: ${(err as Error).message}`,
    }));
    const slot = { until: now + 30, p };
    if (this.keyCache.size >= 10_000) this.keyCache.clear();
    this.keyCache.set(zone.key, slot);
    void p.then((e) => {
      slot.until = e.until;
    });
    return p;
  }

  private async loadKeys(zone: Name, ctx: Ctx): Promise<KeyEntry> {
    if (this.ntas.covers(zone, ctx.now)) return { status: 'insecure', zone, until: ctx.now + 60, why: 'negative trust anchor' };
    const anchor = this.anchors.at(zone);
    if (anchor !== undefined) return this.keysFromAnchor(anchor, ctx);
    if (this.anchors.closest(zone) === undefined) return { status: 'indeterminate', zone, until: ctx.now + 60, why: 'no trust anchor above' };
    const step = await this.dsStep(zone, ctx);
    switch (step.kind) {
      case 'ds': return this.keysFromDs(zone, step.ds, step.ttl, ctx, step.dnskey);
      case 'insecure': return { status: 'insecure', zone, until: ctx.now + 300, why: step.why };
      case 'status': return step.entry;
      default: return { status: 'bogus', zone, until: ctx.now + BOGUS_TTL, ede: EdeCode.DNSSEC_BOGUS, why: `${zone.toString()} signs data but is not a zone cut` };
    }
  }

  /** Asks the parent for the DS at `n` and proves what comes back with the parent's keys. */
  private async dsStep(n: Name, ctx: Ctx): Promise<DsStep> {
    // The parent's keys are needed to prove whatever comes back: start on them (the closest known
    // cut above, usually the DS's signer) while the DS question is out. Shared and cached.
    const above = n.isRoot ? undefined : this.closestCut(n.parent());
    if (above !== undefined && this.anchors.closest(above) !== undefined && this.liveKeys(above) === undefined) void this.getKeys(above, ctx);
    const res = await this.fetchFn(n, RRType.DS);
    const ds = res.answer.filter((r) => r.type === RRType.DS && r.name.equals(n));
    const bad = (ede: number, why: string): DsStep => ({ kind: 'status', entry: { status: 'bogus', zone: n, until: ctx.now + BOGUS_TTL, ede, why } });
    if (ds.length > 0) {
      // A DS exists: the zone's DNSKEY set will be needed (as Unbound, asked only once the DS is
      // seen, so insecure delegations cost no DNSKEY query); fetch it while the DS is proven.
      let dnskey: Promise<FetchResult> | undefined;
      if (this.liveKeys(n) === undefined) {
        dnskey = this.fetchFn(n, RRType.DNSKEY);
        dnskey.catch(() => undefined); // awaited (and its failure judged) by keysMatching, or dropped with a bogus DS
      }
      const sigs = sigsFor(res.answer, n, RRType.DS);
      const signer = signerOf(sigs, n);
      if (signer === undefined || signer.equals(n)) {
        const pk = await this.zoneStatusFor(n.parent(), ctx);
        if (pk.status !== 'secure') return { kind: 'status', entry: pk };
        return bad(EdeCode.RRSIGS_MISSING, `DS of ${n.toString()} unsigned`);
      }
      const pk = await this.getKeys(signer, ctx);
      if (pk.status !== 'secure') return { kind: 'status', entry: pk };
      const c = checkRrset(ds, sigs, pk.zone, pk.keys, ctx.now, ctx.budget);
      ctx.trace?.(`; DS ${n.toString()}: ${c.ok ? `signed by ${pk.zone.toString()} key ${c.key.tag}, ${ds.map((r) => `${(r.data as DSData).keyTag}/${(r.data as DSData).algorithm}/${(r.data as DSData).digestType}`).join(' ')}` : c.why}`);
      if (!c.ok) return bad(c.ede, c.why);
      return { kind: 'ds', ds, ttl: c.ttl, dnskey };
    }
    if (res.answer.some((r) => r.type === RRType.CNAME && r.name.equals(n))) return { kind: 'not-cut' };
    let signer: Name | undefined;
    for (const r of res.authority) {
      if (r.type === RRType.RRSIG && n.isSubdomainOf((r.data as RRSIGData).signerName) && !(r.data as RRSIGData).signerName.equals(n)) {
        signer = (r.data as RRSIGData).signerName;
        break;
      }
    }
    if (signer === undefined) {
      const soa = res.authority.find((r) => r.type === RRType.SOA);
      const above = soa !== undefined && !soa.name.equals(n) && n.isSubdomainOf(soa.name) ? soa.name : n.parent();
      const pk = await this.zoneStatusFor(above, ctx);
      if (pk.status !== 'secure') return { kind: 'status', entry: pk };
      return bad(EdeCode.NSEC_MISSING, `no signed proof that ${n.toString()} has no DS`);
    }
    const pk = await this.getKeys(signer, ctx);
    if (pk.status !== 'secure') return { kind: 'status', entry: pk };
    let verdict: 'insecure' | 'not-cut' | 'bogus' | 'nxdomain' = 'bogus';
    const p = await this.checkProof(pk, res.authority, ctx, (recs) => {
      verdict = recs.some((r) => r.type === RRType.NSEC3) ? nsec3NoDs(n, recs, ctx.budget) : recs.length > 0 ? nsecNoDs(n, recs) : 'bogus';
      return verdict === 'bogus' ? { status: 'bogus', ede: EdeCode.NSEC_MISSING, why: `no proof of DS absence at ${n.toString()}` } : { status: 'secure' };
    });
    ctx.trace?.(`; DS ${n.toString()}: none (${verdict}, proven by ${pk.zone.toString()})`);
    if (p.status === 'bogus') return bad(p.ede, p.why);
    const v = verdict as 'insecure' | 'not-cut' | 'bogus' | 'nxdomain';
    if (v === 'insecure') return { kind: 'insecure', why: `${pk.zone.toString()} proves ${n.toString()} has no DS` };
    return { kind: v === 'not-cut' ? 'not-cut' : 'nxdomain' };
  }

  /** DS set -> DNSKEY RRset of `zone`, self-signed by a key the DS names. */
  private async keysFromDs(zone: Name, ds: readonly ResourceRecord[], dsTtl: number, ctx: Ctx, dnskey?: Promise<FetchResult>): Promise<KeyEntry> {
    let usable = ds.filter((r) => isSupportedDigest((r.data as DSData).digestType) && isSupportedAlgorithm((r.data as DSData).algorithm));
    if (usable.length === 0) {
      const digestBad = ds.some((r) => !isSupportedDigest((r.data as DSData).digestType));
      return { status: 'insecure', zone, until: ctx.now + Math.min(dsTtl, 3600), why: digestBad ? 'DS digest types unsupported' : 'DNSKEY algorithms unsupported' };
    }
    // RFC 4509 §3: with a SHA-256 DS present, SHA-1 DS records are not used.
    if (usable.some((r) => (r.data as DSData).digestType !== 1)) usable = usable.filter((r) => (r.data as DSData).digestType !== 1);
    return this.keysMatching(zone, dsTtl, ctx, dnskey, (keys) => {
      const out: ZoneKey[] = [];
      for (const d of usable) {
        const dd = d.data as DSData;
        let tries = 0;
        for (const k of keys) {
          if (k.tag !== dd.keyTag || k.rr.data.algorithm !== dd.algorithm) continue;
          if (++tries > ctx.budget.limits.maxKeyCollisions) break;
          if (compareBytes(dsDigest(zone, canonicalRdata(k.rr), dd.digestType), dd.digest) === 0 && !out.includes(k)) out.push(k);
        }
      }
      return out;
    });
  }

  private keysFromAnchor(anchor: TrustAnchor, ctx: Ctx): Promise<KeyEntry> {
    const zone = anchor.name;
    const dsUsable = anchor.ds.filter((r) => isSupportedDigest(r.data.digestType) && isSupportedAlgorithm(r.data.algorithm));
    const keyUsable = anchor.dnskey.filter((r) => isSupportedAlgorithm(r.data.algorithm));
    if (dsUsable.length === 0 && keyUsable.length === 0) {
      return Promise.resolve({ status: 'insecure', zone, until: ctx.now + 3600, why: 'trust anchor of unsupported algorithm or digest' });
    }
    const anchorRdata = keyUsable.map((r) => canonicalRdata(r));
    return this.keysMatching(zone, MAX_KEY_TTL, ctx, undefined, (keys) => {
      const out: ZoneKey[] = [];
      for (const k of keys) {
        const rd = canonicalRdata(k.rr);
        if (anchorRdata.some((a) => compareBytes(a, rd) === 0)) out.push(k);
        else if (dsUsable.some((d) => d.data.keyTag === k.tag && d.data.algorithm === k.rr.data.algorithm &&
          compareBytes(dsDigest(zone, rd, d.data.digestType), d.data.digest) === 0)) out.push(k);
      }
      return out;
    });
  }

  /** Fetches the zone's DNSKEY RRset, picks the trusted keys, checks the set is signed by one of them. */
  private async keysMatching(zone: Name, parentTtl: number, ctx: Ctx, prefetched: Promise<FetchResult> | undefined,
    pick: (keys: ZoneKey[]) => ZoneKey[]): Promise<KeyEntry> {
    const res = await (prefetched ?? this.fetchFn(zone, RRType.DNSKEY));
    const dnskeys = res.answer.filter((r) => r.type === RRType.DNSKEY && r.name.equals(zone));
    const bogusEntry = (ede: number, why: string): KeyEntry => ({ status: 'bogus', zone, until: ctx.now + BOGUS_TTL, ede, why });
    if (dnskeys.length === 0) return bogusEntry(EdeCode.DNSKEY_MISSING, `no DNSKEY for ${zone.toString()}`);
    const keys = zoneKeysOf(dnskeys);
    const trusted = pick(keys);
    if (trusted.length === 0) return bogusEntry(EdeCode.DNSKEY_MISSING, `no DNSKEY of ${zone.toString()} matches its DS or trust anchor`);
    const c = checkRrset(dnskeys, sigsFor(res.answer, zone, RRType.DNSKEY), zone, trusted, ctx.now, ctx.budget);
    if (!c.ok) {
      ctx.trace?.(`; DNSKEY ${zone.toString()}: ${c.why}`);
      return bogusEntry(c.ede, c.why);
    }
    ctx.trace?.(`; DNSKEY ${zone.toString()}: ${keys.length} keys, self-signed by key ${c.key.tag} (${algorithmInfo(c.sig.algorithm)?.mnemonic ?? c.sig.algorithm}) matching ${this.anchors.at(zone) !== undefined ? 'the trust anchor' : 'the DS'}`);
    const ttl = Math.max(1, Math.min(c.ttl, parentTtl, MAX_KEY_TTL));
    this.logger.debug({ zone: zone.toString(), keys: keys.length }, 'DNSKEY validated');
    return { status: 'secure', zone, keys, until: ctx.now + ttl };
  }
}
