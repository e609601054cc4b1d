/**
 * Zone checks, as `named-checkzone` and `kzonecheck` make them. Errors reject the zone;
 * warnings are printed and the zone loads.
 *
 * Classification follows named-checkzone's defaults: NS targets that are CNAMEs or lack
 * address records are errors (-n fail); MX and SRV targets that are CNAMEs are warnings
 * (-M warn, -S warn), as are MX/SRV targets without addresses. Missing glue for an in-zone NS
 * target is an error (kzonecheck: "missing glue record"; named-checkzone only warns; `glue: warn`
 * makes it a warning). Data hidden below or at a delegation is a warning; NS beside DNAME is an
 * error (kzonecheck). Host names are checked as BIND's check-names does (`names`). Out-of-zone
 * data is skipped with a warning in load.ts, as BIND and Knot do.
 */
import type { Name } from '../wire/name.js';
import { ipv4Into, ipv6Into } from '../wire/rdata/addresses.js';
import { RRType, typeToString } from '../wire/types.js';
import { type RRset, type SourcePos, type Zone, type ZoneNode, ZoneRRset, peekRData, rdataCount } from './zone.js';

export interface ZoneProblem {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  reason: string;
  name?: Name;
  type?: number;
}

/** Types allowed beside a CNAME (RFC 2181 §10.1, RFC 4035 §2.5). */
const CNAME_COMPANIONS = new Set<number>([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.KEY]);
/** Types that belong at the cut on the parent side, besides NS. */
const AT_CUT = new Set<number>([RRType.NS, RRType.DS, RRType.RRSIG, RRType.NSEC]);

/** How strict the checks are (per zone: config `checks`, check-zone's -k/-n). */
export interface CheckOptions {
  /**
   * Host names in A/AAAA/A6/MX/WKS owners and NS/MX/SRV/AFSDB/RT/SOA/reverse-PTR targets (BIND's
   * check-names): `fail` rejects the zone (BIND's default for primary zones), `warn` reports,
   * `ignore` skips. Default `fail`.
   */
  names?: 'fail' | 'warn' | 'ignore';
  /** An in-zone delegation whose in-zone name server has no address (no glue): `error` (Knot, the default) or `warn` (BIND). */
  glue?: 'error' | 'warn';
  /** `none` skips the integrity checks on NS/MX/SRV targets (named-checkzone -i none). */
  integrity?: 'full' | 'local' | 'none';
  /**
   * An NS target written as an address (`NS 192.0.2.1`, named-checkzone -n). Default `warn`, as
   * named-checkzone. Not checked in the root zone, where `192.0.2.1.` written absolute (which BIND
   * does not flag) cannot be told from the relative form.
   */
  nsAddress?: 'fail' | 'warn' | 'ignore';
  /** MX / SRV targets that are CNAMEs (named-checkzone -M / -S). Default `warn`. */
  mxCname?: 'fail' | 'warn' | 'ignore';
  srvCname?: 'fail' | 'warn' | 'ignore';
  /**
   * `false`: look for errors only (a received transfer's verdict, src/transfer/inbound.ts): the
   * same errors, without the cost of the warnings (each builds a name and a decoded record; a
   * large zone can have one per MX record). Default true.
   */
  warnings?: boolean;
}

const SEVERITY = { fail: 'error', warn: 'warning', ignore: undefined } as const;

export function checkZone(zone: Zone, fallbackFile = '(zone)', opts: CheckOptions = {}): ZoneProblem[] {
  const names = opts.names ?? 'fail';
  const glueSeverity: ZoneProblem['severity'] = opts.glue === 'warn' ? 'warning' : 'error';
  const integrity = opts.integrity !== 'none';
  const nsAddress = zone.origin.isRoot ? undefined : SEVERITY[opts.nsAddress ?? 'warn'];
  const mxCname = SEVERITY[opts.mxCname ?? 'warn'];
  const srvCname = SEVERITY[opts.srvCname ?? 'warn'];
  const warnings = opts.warnings !== false;
  /** `s` unless it is a warning nobody wants (undefined: skip the check). */
  const wanted = (s: ZoneProblem['severity'] | undefined): ZoneProblem['severity'] | undefined => (s === 'warning' && !warnings ? undefined : s);
  const problems: ZoneProblem[] = [];
  const at = (src: SourcePos | undefined): SourcePos => src ?? { file: fallbackFile, line: 0, column: 0 };
  const add = (severity: ZoneProblem['severity'], set: RRset | undefined, node: ZoneNode, reason: string): void => {
    const p = at(set === undefined ? undefined : zone.sourceOf(set));
    problems.push({ severity, file: p.file, line: p.line, column: p.column, reason, name: node.name, ...(set ? { type: set.type } : {}) });
  };
  const origin = zone.origin.toString();

  const apexSoa = zone.apex.get(RRType.SOA);
  if (apexSoa === undefined) add('error', undefined, zone.apex, `zone ${origin}: has no SOA record at the apex`);
  else if (rdataCount(apexSoa) > 1) add('error', apexSoa, zone.apex, `zone ${origin}: multiple SOA records at the apex`);
  const apexNs = zone.apex.get(RRType.NS);
  if (apexNs === undefined) add('error', undefined, zone.apex, `zone ${origin}: has no NS records at the apex`);

  // Names NS records point to: their addresses below a cut are glue, not occluded data.
  const nsTargets = new Set<string>();
  // A finished zone has listed its NS owners (one walk over every node less).
  const nsOwners = zone.nsOwners;
  let hasDname = nsOwners !== undefined && zone.hasDname;
  for (const node of nsOwners ?? zone.allNodes()) {
    if (!hasDname && node.get(RRType.DNAME) !== undefined) hasDname = true;
    const ns = node.get(RRType.NS);
    if (ns === undefined) continue;
    if (ns instanceof ZoneRRset) for (let i = 0, n = ns.count; i < n; i++) nsTargets.add(zone.keyOfWire(ns.nameWireAt(i, 0)));
    else for (const d of ns.rdata) nsTargets.add(zone.flatKey((d as { nsdname: Name }).nsdname));
  }

  // Insertion (file) order: sorting a large zone just to check it would cost more than the checks.
  for (const node of zone.allNodes()) {
    if (node.setCount === 0) continue;
    // Without making the node keep an array (see ZoneNode.rrsets); `one` is reused per node.
    let sets: RRset[];
    if (node.setCount === 1) {
      one[0] = node.setAt(0);
      sets = one;
    } else {
      sets = node.rrsets;
    }
    const cname = node.get(RRType.CNAME);
    for (const set of sets) {
      if (set.type === RRType.SOA && node !== zone.apex) add('error', set, node, `${node.name}: SOA record not at the zone apex`);
    }
    if (cname !== undefined) {
      if (node === zone.apex) add('error', cname, node, `${node.name}: CNAME at the zone apex (it would hide the SOA and NS)`);
      else if (rdataCount(cname) > 1) add('error', cname, node, `${node.name}: more than one CNAME record`);
      for (const set of sets) {
        if (!CNAME_COMPANIONS.has(set.type)) {
          add('error', set, node, `${node.name}: CNAME and other data (${typeToString(set.type)})`);
          break;
        }
      }
    }
    // Data below a DNAME is never reached (RFC 6672 §2.3).
    for (let a = hasDname ? node.parent : undefined; a !== undefined; a = a.parent) {
      if (a.get(RRType.DNAME) !== undefined) {
        add('error', sets[0], node, `${node.name}: data below DNAME ${a.name.toString()}`);
        break;
      }
    }
    if (node.isBelowCut && warnings) {
      // RFC 1034 §4.2.1: only address records of names that NS records point to are glue;
      // anything else below a cut is occluded (never served).
      const glueName = nsTargets.has(node.key);
      for (const set of sets) {
        if (!glueName || (set.type !== RRType.A && set.type !== RRType.AAAA)) {
          add('warning', set, node, `${node.name}/${typeToString(set.type)}: occluded by the delegation above it (not glue)`);
        }
      }
    } else if (node.isDelegation) {
      for (const set of sets) {
        if (set.type === RRType.DNAME) add('error', set, node, `${node.name}: NS and DNAME at the same name (RFC 6672 §2.3)`);
        else if (!AT_CUT.has(set.type) && warnings) add('warning', set, node, `${node.name}/${typeToString(set.type)}: occluded at the delegation point`);
      }
    }
    if (names !== 'ignore' && (names === 'fail' || warnings)) checkNames(zone, node, sets, names === 'fail' ? 'error' : 'warning', add);
    for (const set of sets) {
      if (set.type === RRType.NS && wanted(nsAddress) !== undefined && !node.isBelowCut) checkNsAddress(zone, node, set, nsAddress!, add);
      // -i none skips the integrity checks, not the apex NS ones (named-checkzone still makes those).
      if ((!integrity && node !== zone.apex) || node.isBelowCut || (node.isDelegation && set.type !== RRType.NS)) continue;
      if (!integrity && set.type !== RRType.NS) continue;
      if (set.type === RRType.NS) {
        checkTargets(zone, node, set, 'nsdname', 0, 'error', wanted(node.isDelegation ? glueSeverity : 'error'), add);
      } else if (set.type === RRType.MX) checkTargets(zone, node, set, 'exchange', 2, wanted(mxCname), wanted('warning'), add);
      else if (set.type === RRType.SRV) checkTargets(zone, node, set, 'target', 6, wanted(srvCname), wanted('warning'), add);
    }
  }
  if (warnings) for (const w of zone.warnings) {
    const p = at(w.source);
    problems.push({ severity: 'warning', file: p.file, line: p.line, column: p.column, reason: `${w.name.toString()}/${typeToString(w.type)}: ${w.reason}`, name: w.name, type: w.type });
  }
  return problems;
}

function checkTargets(
  zone: Zone, node: ZoneNode, set: RRset, field: string, offset: number, cnameSeverity: ZoneProblem['severity'] | undefined,
  noAddressSeverity: ZoneProblem['severity'] | undefined,
  add: (s: ZoneProblem['severity'], set: RRset, node: ZoneNode, reason: string) => void,
): void {
  if (cnameSeverity === undefined && noAddressSeverity === undefined) return;
  // Stored RRsets give the target's key straight from their bytes (no decoding): most targets
  // are fine, and only a problem needs the decoded name for its message.
  const n = rdataCount(set);
  for (let i = 0; i < n; i++) {
    const key = set instanceof ZoneRRset ? zone.keyOfWire(set.nameWireAt(i, offset)) : zone.flatKey((set.rdata[i] as Record<string, Name>)[field]!);
    if (key.length === 1 || !zone.containsKey(key)) continue; // the root (SRV "." = no service) or out of zone
    const t = zone.nodeByKey(key);
    const target = (): string => ((peekRData(set)[i] as Record<string, Name>)[field]!).toString();
    if (t?.get(RRType.CNAME) !== undefined) {
      if (cnameSeverity !== undefined) add(cnameSeverity, set, node, `${node.name}/${typeToString(set.type)} '${target()}' is a CNAME (illegal)`);
      continue;
    }
    if (noAddressSeverity !== undefined && (t === undefined || (t.get(RRType.A) === undefined && t.get(RRType.AAAA) === undefined))) {
      // In-zone NS targets need addresses (below a cut they are glue the parent must give);
      // MX and SRV targets without any are reported, as named-checkzone does (-M/-S warn).
      // Below the zone cut it delegates, an NS target's addresses are the glue (RFC 1034 §4.2.1).
      const glue = set.type === RRType.NS && node !== zone.apex && key.length > node.key.length && key.endsWith(node.key);
      add(noAddressSeverity, set, node, `${node.name}/${typeToString(set.type)} '${target()}' has no address records (A or AAAA)` +
        (glue ? ': missing glue for the delegation (checks: { glue: warn } loads the zone anyway)' : ''));
    }
  }
}

/** `NS 192.0.2.1` (relative, so really 192.0.2.1.<origin>): surely meant as an address (named-checkzone -n). */
function checkNsAddress(zone: Zone, node: ZoneNode, set: RRset, severity: ZoneProblem['severity'],
  add: (s: ZoneProblem['severity'], set: RRset, node: ZoneNode, reason: string) => void): void {
  for (const d of peekRData(set)) {
    const target = (d as { nsdname: Name }).nsdname;
    if (!target.isSubdomainOf(zone.origin) || target.equals(zone.origin)) continue;
    const relative = target.toString().slice(0, -zone.origin.toString().length - (zone.origin.isRoot ? 0 : 1));
    const scratch = new Uint8Array(16);
    if (ipv4Into(relative, scratch, 0) || ipv6Into(relative, scratch, 0)) {
      add(severity, set, node, `NS record '${relative}' appears to be an address`);
    }
  }
}

/** Owners that must be host names (BIND's checkowner: RFC 952/1123, a leading `*` label allowed). */
const HOST_OWNERS = new Set<number>([RRType.A, RRType.AAAA, RRType.A6, RRType.MX, RRType.WKS]);
/** Targets that must be host names: type -> offset of the name in the stored RDATA (BIND's checknames). */
const HOST_TARGETS = new Map<number, [string, number]>([
  [RRType.NS, ['nsdname', 0]], [RRType.MX, ['exchange', 2]], [RRType.SRV, ['target', 6]], [RRType.AFSDB, ['hostname', 2]],
  [RRType.RT, ['intermediateHost', 2]], [RRType.SOA, ['mname', 0]],
]);
/** Reverse trees whose PTR targets must be host names (BIND's checknames_ptr). */
const REVERSE = ['\x07in-addr\x04arpa\x00', '\x03ip6\x04arpa\x00', '\x03ip6\x03int\x00'];

/**
 * RFC 952 / RFC 1123 host name, on a key (lowercased wire form as Latin-1): every label starts and
 * ends with a letter or digit and has only letters, digits and `-` between (dns_name_ishostname).
 */
export function isHostnameKey(key: string, wildcard: boolean): boolean {
  let i = 0;
  if (wildcard && key.charCodeAt(0) === 1 && key.charCodeAt(1) === 0x2a) i = 2;
  for (;;) {
    const n = key.charCodeAt(i++);
    if (n === 0 || Number.isNaN(n)) return true;
    for (let j = 0; j < n; j++) {
      const c = key.charCodeAt(i + j);
      const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
      if (!alnum && (j === 0 || j === n - 1 || c !== 0x2d)) return false;
    }
    i += n;
  }
}

/** isHostnameKey on a name in wire form at `b[off]` (uncompressed, as stored): no key string is made. */
function isHostnameWire(b: Uint8Array, off: number): boolean {
  let i = off;
  for (;;) {
    const n = b[i++];
    if (n === 0 || n === undefined) return true;
    for (let j = 0; j < n; j++) {
      const c = b[i + j]!;
      const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
      if (!alnum && (j === 0 || j === n - 1 || c !== 0x2d)) return false;
    }
    i += n;
  }
}

function checkNames(zone: Zone, node: ZoneNode, sets: readonly RRset[], severity: ZoneProblem['severity'],
  add: (s: ZoneProblem['severity'], set: RRset, node: ZoneNode, reason: string) => void): void {
  let ownerChecked = false;
  for (const set of sets) {
    if (!ownerChecked && HOST_OWNERS.has(set.type)) {
      ownerChecked = true;
      if (!isHostnameKey(node.key, true)) add(severity, set, node, `${node.name.toString()}: bad owner name (check-names)`);
    }
    let target = HOST_TARGETS.get(set.type);
    if (target === undefined && set.type === RRType.PTR && REVERSE.some((r) => node.key.endsWith(r))) target = ['ptrdname', 0];
    if (target === undefined) continue;
    const [field, offset] = target;
    for (let i = 0, n = rdataCount(set); i < n; i++) {
      // The first name of these types is stored uncompressed at `offset` (see ZoneRRset.nameWireAt).
      if (set instanceof ZoneRRset ? isHostnameWire(set.storedAt(i), offset) : isHostnameKey(zone.flatKey((set.rdata[i] as Record<string, Name>)[field]!), false)) continue;
      const name = (peekRData(set)[i] as Record<string, Name>)[field]!;
      add(severity, set, node, `${node.name.toString()}/${typeToString(set.type)} '${name.toString()}': bad name (check-names)`);
    }
  }
}

/** The RRset list of a one-RRset node, reused (see the node loop). */
const one: RRset[] = [];
