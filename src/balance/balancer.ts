/**
 * The load balancer: configured A/AAAA record sets answered by weight, by client subnet (EDNS
 * Client Subnet, RFC 7871) or GeoIP region, leaving out addresses whose health checks fail.
 *
 * Precomputed at configuration time: every address's record (owner, type, class, TTL, RDATA),
 * the candidate lists of each subnet/region as index arrays, weights as a Float64Array, and the
 * scratch arrays a pick needs. Answering a query allocates the reply and its answer list and,
 * with ECS, the echoed option; no closures, strings or parsing.
 *
 * Order of choice for one query: the client's address (the ECS one when the set honours ECS and
 * the query has it, else the source address) picks the longest matching `subnets` prefix; failing
 * that, its GeoIP country, then continent, then `regions.default`; failing that, `addresses`.
 * Of that set the healthy addresses are candidates; none healthy -> `fallback`, or else all of
 * the set (PowerDNS's ifportup, Technitium's Failover). Then `answers` of them are drawn by weight.
 */
import type { Logger } from '../logging.js';
import { DnsRecord, type ResourceRecord } from '../wire/record.js';
import { Name } from '../wire/name.js';
import { rcodeFromString } from '../wire/constants.js';
import { RRClass, RRType, typeFromString } from '../wire/types.js';
import { Family, type Prefix, clientAddressInto, parseAddress, parsePrefix } from './addresses.js';
import type { BalanceConfig, BalanceRecordConfig } from './config.js';
import { EcsQuery, longestMatch } from './ecs.js';
import type { GeoIp } from './geoip.js';
import { HealthChecker, type HealthClock, type HealthRow, type HealthSpec, type HealthTarget, type Probe } from './health.js';
import { type Random, cryptoRandom, pickWeighted } from './weights.js';

/** Why an answer came out as it did: the query log's and stats' `policy`. */
export const LbPolicy = { WEIGHTED: 'lb:weighted', GEO: 'lb:geo', FAILOVER: 'lb:failover' } as const;

/** One address of a set: its precomputed record and its health target (when checked). */
interface Member {
  address: string;
  record: ResourceRecord;
  target: HealthTarget | undefined;
}

/** A balanced name and type. */
export class BalancedSet {
  readonly members: Member[] = [];
  readonly weights: Float64Array;
  readonly addresses: Int32Array;
  readonly fallback: Int32Array | undefined;
  readonly subnets: Prefix[] = [];
  readonly subnetPools: Int32Array[] = [];
  readonly regions = new Map<string, Int32Array>();
  readonly regionDefault: Int32Array | undefined;
  readonly want: number;
  readonly checked: boolean;
  /** Scratch for one pick (the element is synchronous). */
  readonly cand: Int32Array;
  readonly chosen: Int32Array;
  /** Answers given, by policy. */
  weighted = 0;
  geo = 0;
  failover = 0;

  constructor(readonly name: Name, readonly type: number, readonly ecs: boolean, cfg: BalanceRecordConfig, checker: HealthChecker | undefined, spec: HealthSpec | undefined) {
    const index = new Map<string, number>();
    const weights: number[] = [];
    // Fallback addresses are not checked (they are what is answered when the checked ones are down).
    const pool = (list: { address: string; weight: number }[], checked = true): Int32Array => {
      const out = new Int32Array(list.length);
      list.forEach((a, i) => {
        // Canonical text (2001:DB8::1 and 2001:db8::1 are one member, checked once).
        const bytes = parseAddress(a.address)!;
        const rr = new DnsRecord(name, type, RRClass.IN, cfg.ttl, { address: a.address });
        const key = Buffer.from(bytes).toString('hex');
        let m = index.get(key);
        if (m === undefined) {
          m = this.members.length;
          index.set(key, m);
          this.members.push({ address: a.address, record: rr, target: spec === undefined || !checked ? undefined : checker!.target(a.address, spec, name.toString()) });
          weights.push(a.weight);
        } else {
          // The same address in several lists: its weight is the largest given.
          if (a.weight > weights[m]!) weights[m] = a.weight;
        }
        out[i] = m;
      });
      return out;
    };
    this.addresses = pool(cfg.addresses);
    for (const s of cfg.subnets ?? []) {
      this.subnets.push(parsePrefix(s.prefix));
      this.subnetPools.push(pool(s.addresses));
    }
    let def: Int32Array | undefined;
    for (const [k, list] of Object.entries(cfg.regions ?? {})) {
      if (k === 'default') def = pool(list);
      else this.regions.set(k.toUpperCase(), pool(list));
    }
    this.regionDefault = def;
    this.fallback = cfg.fallback === undefined ? undefined : pool(cfg.fallback, false);
    this.weights = Float64Array.from(weights);
    const weighted = [cfg.addresses, cfg.fallback ?? [], ...(cfg.subnets ?? []).map((s) => s.addresses), ...Object.values(cfg.regions ?? {})]
      .some((l) => l.some((a) => a.weight !== 1));
    this.want = cfg.answers === 'all' ? this.members.length : cfg.answers ?? (weighted ? 1 : this.members.length);
    this.checked = spec !== undefined;
    this.cand = new Int32Array(this.members.length);
    this.chosen = new Int32Array(this.members.length);
  }
}

/** The outcome of choosing for one query (reused; read it at once). */
export class Choice {
  set: BalancedSet | undefined = undefined;
  /** Records to answer: `records[0..count)`. */
  count = 0;
  records: ResourceRecord[] = [];
  policy: string = LbPolicy.WEIGHTED;
  /** ECS SCOPE PREFIX-LENGTH for the reply (RFC 7871 §7.2.1). */
  scope = 0;
}

export interface BalancerOptions {
  logger: Logger;
  geoip?: GeoIp | undefined;
  random?: Random;
  /** Health-check clock and probe (tests). */
  clock?: HealthClock;
  probe?: Probe;
}

/** Counters across sets, for stats. */
export interface BalanceSnapshot {
  sets: number;
  answers: { weighted: number; geo: number; failover: number };
  ecsQueries: number;
  ecsFormErrors: number;
  healthChecks: HealthRow[];
}

export class Balancer {
  /** Sets by owner name key (Name.key, cached on the name: no string built per query), one map per type. */
  private readonly byKeyA = new Map<string, BalancedSet>();
  private readonly byKeyAAAA = new Map<string, BalancedSet>();
  /** Wire lengths of balanced names: most questions are ruled out before their key is built. */
  private readonly lengths = new Uint8Array(256);
  readonly sets: BalancedSet[] = [];
  readonly checker: HealthChecker | undefined;
  readonly geoip: GeoIp | undefined;
  private readonly random: Random;
  readonly ecs = new EcsQuery();
  private readonly client = new Uint8Array(16);
  private readonly scope = new Int32Array(1);
  private readonly choice = new Choice();
  ecsQueries = 0;
  ecsFormErrors = 0;

  constructor(cfg: BalanceConfig, opts: BalancerOptions) {
    this.random = opts.random ?? cryptoRandom;
    this.geoip = opts.geoip;
    const needsChecks = cfg.records.some((r) => r.health !== undefined);
    this.checker = needsChecks ? new HealthChecker({ logger: opts.logger, ...(opts.clock !== undefined ? { clock: opts.clock } : {}), ...(opts.probe !== undefined ? { probe: opts.probe } : {}) }) : undefined;
    for (const r of cfg.records) {
      const name = Name.fromText(r.name.endsWith('.') ? r.name : r.name + '.');
      const type = r.type === 'A' ? RRType.A : RRType.AAAA;
      const spec = r.health === undefined ? undefined : healthSpec(r, name, type);
      const set = new BalancedSet(name, type, r.ecs, r, this.checker, spec);
      (type === RRType.A ? this.byKeyA : this.byKeyAAAA).set(name.key, set);
      this.lengths[name.length] = 1;
      this.sets.push(set);
    }
  }

  get size(): number {
    return this.sets.length;
  }

  /** The set balancing `name`/`type`, if any. */
  find(name: Name, type: number): BalancedSet | undefined {
    if ((type !== RRType.A && type !== RRType.AAAA) || this.lengths[name.length] === 0) return undefined;
    return (type === RRType.A ? this.byKeyA : this.byKeyAAAA).get(name.key);
  }

  /**
   * Chooses the answer of `set` for a client: `hasEcs` when `this.ecs` holds the query's ECS
   * (already checked), else `clientAddress` is used. The returned object is reused.
   */
  choose(set: BalancedSet, hasEcs: boolean, clientAddress: string): Choice {
    const c = this.choice;
    c.set = set;
    c.policy = LbPolicy.WEIGHTED;
    c.scope = 0;
    let pool = set.addresses;
    const tailored = set.subnets.length > 0 || set.regions.size > 0 || set.regionDefault !== undefined;
    if (tailored) {
      let family: number;
      let addr: Uint8Array;
      let known: number;
      if (hasEcs) {
        family = this.ecs.family;
        addr = this.ecs.bytes;
        known = this.ecs.source;
      } else {
        family = clientAddressInto(clientAddress, this.client);
        addr = this.client;
        known = family === Family.IPV4 ? 32 : 128;
      }
      // RFC 7871 §7.1.2: SOURCE PREFIX-LENGTH 0 asks for no tailoring (default answer, SCOPE 0).
      if (family !== 0 && known > 0) {
        let matched = false;
        if (set.subnets.length > 0) {
          const i = longestMatch(set.subnets, family, addr, known, this.scope);
          c.scope = this.scope[0]!;
          if (i >= 0) {
            pool = set.subnetPools[i]!;
            matched = true;
          }
        }
        if (!matched && this.geoip !== undefined && (set.regions.size > 0 || set.regionDefault !== undefined)) {
          const g = this.geoip.lookup(family, addr);
          const p = (g.country !== '' ? set.regions.get(g.country) : undefined) ?? (g.continent !== '' ? set.regions.get(g.continent) : undefined);
          if (p !== undefined) {
            pool = p;
            matched = true;
          } else if (set.regionDefault !== undefined) {
            pool = set.regionDefault;
          }
          if (g.prefixLength > c.scope) c.scope = g.prefixLength;
        }
        if (matched) c.policy = LbPolicy.GEO;
      }
    }
    // Health: the set's healthy addresses are the candidates.
    const cand = set.cand;
    let n = 0;
    if (set.checked) {
      for (let i = 0; i < pool.length; i++) {
        const m = pool[i]!;
        const t = set.members[m]!.target;
        if (t === undefined || t.up) cand[n++] = m;
      }
      if (n < pool.length) c.policy = LbPolicy.FAILOVER;
      if (n === 0) {
        // All down: the fallback addresses, else every address of the set (answering something beats nothing).
        const fb = set.fallback ?? pool;
        for (let i = 0; i < fb.length; i++) cand[n++] = fb[i]!;
      }
    } else {
      for (let i = 0; i < pool.length; i++) cand[n++] = pool[i]!;
    }
    const k = pickWeighted(cand, n, set.weights, set.want, this.random, set.chosen);
    const recs = c.records;
    recs.length = k;
    for (let i = 0; i < k; i++) recs[i] = set.members[set.chosen[i]!]!.record;
    c.count = k;
    if (c.policy === LbPolicy.GEO) set.geo++;
    else if (c.policy === LbPolicy.FAILOVER) set.failover++;
    else set.weighted++;
    return c;
  }

  start(): void {
    this.checker?.start();
  }

  stop(): void {
    this.checker?.stop();
  }

  /** Carries health state over from the balancer this one replaces (reload). */
  adopt(previous: Balancer | undefined): void {
    if (previous?.checker !== undefined && this.checker !== undefined) this.checker.adopt(previous.checker);
  }

  snapshot(): BalanceSnapshot {
    const answers = { weighted: 0, geo: 0, failover: 0 };
    for (const s of this.sets) {
      answers.weighted += s.weighted;
      answers.geo += s.geo;
      answers.failover += s.failover;
    }
    return { sets: this.sets.length, answers, ecsQueries: this.ecsQueries, ecsFormErrors: this.ecsFormErrors, healthChecks: this.checker?.snapshot() ?? [] };
  }
}

/** The `health:` block with its defaults resolved. */
function healthSpec(r: BalanceRecordConfig, name: Name, type: number): HealthSpec {
  const h = r.health!;
  const port = h.port ?? (h.check === 'https' ? 443 : h.check === 'dns' ? 53 : 80);
  const qname = h.query.name === undefined ? name : Name.fromText(h.query.name.endsWith('.') ? h.query.name : h.query.name + '.');
  return {
    check: h.check, port, path: h.path, host: h.host ?? name.toString().replace(/\.$/, ''), expectStatus: h.expectStatus, insecure: h.insecure,
    queryName: qname, queryType: h.query.type === undefined ? type : typeFromString(h.query.type)!,
    expectRcode: rcodeFromString(h.expectRcode)!, intervalMs: h.interval, timeoutMs: h.timeout, rise: h.rise, fall: h.fall,
  };
}

/**
 * Health rows of several workers (each checks on its own): one row per address and check, up only
 * when every worker sees it up, counts added, the most recent check and the shortest time in state.
 */
export function mergeHealthRows(parts: readonly (readonly HealthRow[])[]): HealthRow[] {
  if (parts.length === 1) return [...parts[0]!];
  const byKey = new Map<string, HealthRow>();
  for (const rows of parts) {
    for (const r of rows) {
      const key = `${r.address} ${r.check} ${r.names.join(',')}`;
      const have = byKey.get(key);
      if (have === undefined) {
        byKey.set(key, { ...r, names: [...r.names] });
        continue;
      }
      have.up &&= r.up;
      have.checks += r.checks;
      have.failedChecks += r.failedChecks;
      if (have.lastError === '') have.lastError = r.lastError;
      if (r.lastCheckAgoSec >= 0 && (have.lastCheckAgoSec < 0 || r.lastCheckAgoSec < have.lastCheckAgoSec)) have.lastCheckAgoSec = r.lastCheckAgoSec;
      have.sinceChangeSec = Math.min(have.sinceChangeSec, r.sinceChangeSec);
    }
  }
  return [...byKey.values()];
}

/** Balance counters of several workers, added. */
export function mergeBalance(parts: readonly (BalanceSnapshot | undefined)[]): BalanceSnapshot | undefined {
  const present = parts.filter((p): p is BalanceSnapshot => p !== undefined);
  if (present.length === 0) return undefined;
  const out: BalanceSnapshot = { sets: present[0]!.sets, answers: { weighted: 0, geo: 0, failover: 0 }, ecsQueries: 0, ecsFormErrors: 0, healthChecks: [] };
  for (const p of present) {
    out.answers.weighted += p.answers.weighted;
    out.answers.geo += p.answers.geo;
    out.answers.failover += p.answers.failover;
    out.ecsQueries += p.ecsQueries;
    out.ecsFormErrors += p.ecsFormErrors;
  }
  out.healthChecks = mergeHealthRows(present.map((p) => p.healthChecks));
  return out;
}
