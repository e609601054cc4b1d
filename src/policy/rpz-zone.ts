/**
 * One response policy zone compiled for lookups (draft-vixie-dnsop-dns-rpz §3-§5, BIND ARM
 * "Response Policy Zone (RPZ) Rewriting"): the zone's owner names, read relative to its origin,
 * are triggers, and the records at each owner its action.
 *
 * - Triggers: `NAME.zone` and `*.NAME.zone` (QNAME, exact and strict subdomains), and below the
 *   label right under the origin: `rpz-client-ip`, `rpz-ip`, `rpz-nsdname` (names, with `*.`),
 *   `rpz-nsip` (prefixes in reversed-label form, see prefix-table.ts).
 * - Actions (§5): CNAME `.` NXDOMAIN, CNAME `*.` NODATA, CNAME `rpz-passthru.` PASSTHRU,
 *   CNAME `rpz-drop.` DROP, CNAME `rpz-tcp-only.` TCP-only; any other RRsets are local data
 *   (a CNAME `*.garden.` target is the query name under `garden.`, as BIND rewrites it).
 *
 * Invariants: compiled once per zone version and read-only afterwards; name triggers are keyed
 * by Name.key (lowercased wire form) so a lookup probes maps with suffixes of the query's key,
 * no Name objects built; malformed triggers are skipped and reported, the rest of the zone serves.
 */
import type { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { RRset } from '../zone/rrset.js';
import type { Zone } from '../zone/zone.js';
import { type Prefix, PrefixTable, parseIpTrigger } from './prefix-table.js';

/** What a trigger does (§5). `local` answers with the rule's records. */
export type RpzAction = 'nxdomain' | 'nodata' | 'passthru' | 'drop' | 'tcp-only' | 'local';

/** The trigger kinds, in BIND's precedence within one zone (client-ip first). */
export type RpzTrigger = 'client-ip' | 'qname' | 'ip' | 'nsdname' | 'nsip';

export interface RpzRule {
  action: RpzAction;
  /** Local data (action `local`): the RRsets at the trigger's owner, owner names to be replaced by the query name. */
  sets: readonly RRset[];
  /** The trigger's owner in the policy zone (logs). */
  owner: Name;
}

/** Name triggers: exact names and `*.` wildcards, both by key. */
class NameTriggers {
  readonly exact = new Map<string, RpzRule>();
  readonly wild = new Map<string, RpzRule>();

  get size(): number {
    return this.exact.size + this.wild.size;
  }

  /**
   * The rule for the name whose key is `key`: an exact trigger, else the wildcard of its closest
   * ancestor (BIND: the exact name wins over a wildcard, a longer wildcard over a shorter one).
   */
  match(key: string): RpzRule | undefined {
    const e = this.exact.get(key);
    if (e !== undefined) return e;
    if (this.wild.size === 0) return undefined;
    // Strict ancestors: the key after each label (wire form: a length octet, then the label).
    let at = 0;
    for (;;) {
      const len = key.charCodeAt(at);
      if (len === 0 || Number.isNaN(len)) return undefined;
      at += len + 1;
      const w = this.wild.get(at === 0 ? key : key.slice(at));
      if (w !== undefined) return w;
    }
  }
}

export interface CompiledPolicyZone {
  origin: Name;
  qname: NameTriggers;
  nsdname: NameTriggers;
  clientIp: PrefixTable<RpzRule>;
  ip: PrefixTable<RpzRule>;
  nsip: PrefixTable<RpzRule>;
  /** The zone's SOA for the authority section of NXDOMAIN/NODATA rewrites (BIND adds it). */
  soa: RRset | undefined;
  /** Malformed triggers skipped: `owner: reason`. */
  problems: string[];
  /** Triggers by kind, for stats and logs. */
  counts: Record<RpzTrigger, number>;
}

const KIND_LABEL: Record<string, RpzTrigger> = {
  'rpz-client-ip': 'client-ip', 'rpz-ip': 'ip', 'rpz-nsdname': 'nsdname', 'rpz-nsip': 'nsip',
};

/** Wire-form key of labels (lowercased): the same string Name.key gives for the name they spell. */
function keyFromWire(w: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = w[i]!;
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return s;
}

/** The action of the RRsets at one trigger owner (§5). */
function ruleOf(sets: readonly RRset[], owner: Name): RpzRule {
  if (sets.length === 1 && sets[0]!.type === RRType.CNAME) {
    const target = (sets[0]!.rdata[0] as { cname: Name }).cname;
    const t = target.toString().toLowerCase();
    if (t === '.') return { action: 'nxdomain', sets: [], owner };
    if (t === '*.') return { action: 'nodata', sets: [], owner };
    if (t === 'rpz-passthru.') return { action: 'passthru', sets: [], owner };
    if (t === 'rpz-drop.') return { action: 'drop', sets: [], owner };
    if (t === 'rpz-tcp-only.') return { action: 'tcp-only', sets: [], owner };
  }
  // DNSSEC records of a signed policy zone are not policy data.
  const data = sets.filter((s) => s.type !== RRType.RRSIG && s.type !== RRType.NSEC && s.type !== RRType.NSEC3);
  return { action: 'local', sets: data, owner };
}

/** Compiles `zone` (a policy zone) into trigger tables. */
export function compilePolicyZone(zone: Zone): CompiledPolicyZone {
  const origin = zone.origin;
  const out: CompiledPolicyZone = {
    origin, qname: new NameTriggers(), nsdname: new NameTriggers(), clientIp: new PrefixTable(), ip: new PrefixTable(),
    nsip: new PrefixTable(), soa: zone.apex.get(RRType.SOA), problems: [],
    counts: { 'client-ip': 0, qname: 0, ip: 0, nsdname: 0, nsip: 0 },
  };
  const originLen = origin.wire.length;
  const below = origin.labelCount;
  for (const node of zone.allNodes()) {
    const sets = node.rrsets;
    if (sets.length === 0) continue;
    const name = node.name;
    const depth = name.labelCount - below;
    if (depth <= 0) continue; // the apex: SOA, NS
    const labels = name.labels();
    const rel = labels.slice(0, depth);
    const rule = ruleOf(sets, name);
    const kind = KIND_LABEL[rel[depth - 1]!.toLowerCase()];
    const w = name.wire;
    // The relative part of the owner's wire form, as an absolute name's key (root label appended).
    const relEnd = w.length - originLen;
    if (kind === undefined) {
      addName(out.qname, w, 0, relEnd, rule);
      out.counts.qname++;
      continue;
    }
    if (kind === 'nsdname') {
      // Drop the last relative label (rpz-nsdname): its length octet plus the label.
      const lastLen = rel[depth - 1]!.length + 1;
      if (depth < 2) {
        out.problems.push(`${name.toString()}: rpz-nsdname needs a name before it`);
        continue;
      }
      addName(out.nsdname, w, 0, relEnd - lastLen, rule);
      out.counts.nsdname++;
      continue;
    }
    const p = parseIpTrigger(rel.slice(0, depth - 1));
    if (typeof p === 'string') {
      out.problems.push(`${name.toString()}: ${p}`);
      continue;
    }
    const table = kind === 'client-ip' ? out.clientIp : kind === 'ip' ? out.ip : out.nsip;
    table.add(p as Prefix, rule);
    out.counts[kind]++;
  }
  return out;
}

/** Adds the trigger whose relative wire labels are w[start, end): exact, or `*.` wildcard. */
function addName(t: NameTriggers, w: Uint8Array, start: number, end: number, rule: RpzRule): void {
  const wildcard = w[start] === 1 && w[start + 1] === 42; // a first label `*`
  if (wildcard) t.wild.set(keyFromWire(w, start + 2, end) + '\0', rule);
  else t.exact.set(keyFromWire(w, start, end) + '\0', rule);
}
