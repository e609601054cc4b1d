/**
 * Zone checks, as `named-checkzone` and `kzonecheck` make them. Errors reject the zone;
 * warnings are printed and the zone loads.
 *
 * Classification follows named-checkzone's defaults: NS targets that are CNAMEs or lack
 * address records are errors (-n fail); MX and SRV targets that are CNAMEs are warnings
 * (-M warn, -S warn), as are MX/SRV targets without addresses. Missing glue for an in-zone NS
 * target is an error (kzonecheck: "missing glue record"; named-checkzone only warns). Data hidden
 * below or at a delegation is a warning; NS beside DNAME is an error (kzonecheck). Out-of-zone
 * data is rejected in load.ts (named-checkzone ignores it with a warning).
 */
import type { Name } from '../wire/name.js';
import { RRType, typeToString } from '../wire/types.js';
import { type RRset, type SourcePos, type Zone, type ZoneNode, ZoneRRset, flatKey, peekRData, rdataCount } from './zone.js';

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

export function checkZone(zone: Zone, fallbackFile = '(zone)'): ZoneProblem[] {
  const problems: ZoneProblem[] = [];
  const at = (src: SourcePos | undefined): SourcePos => src ?? { file: fallbackFile, line: 0, column: 0 };
  const add = (severity: ZoneProblem['severity'], set: RRset | undefined, node: ZoneNode, reason: string): void => {
    const p = at(set?.source);
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
    if (ns instanceof ZoneRRset) for (let i = 0, n = ns.count; i < n; i++) nsTargets.add(ns.nameKeyAt(i, 0));
    else for (const d of ns.rdata) nsTargets.add(flatKey((d as { nsdname: Name }).nsdname));
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
    if (node.isBelowCut) {
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
        else if (!AT_CUT.has(set.type)) add('warning', set, node, `${node.name}/${typeToString(set.type)}: occluded at the delegation point`);
      }
    }
    for (const set of sets) {
      if (node.isBelowCut || (node.isDelegation && set.type !== RRType.NS)) continue;
      if (set.type === RRType.NS) checkTargets(zone, node, set, 'nsdname', 0, 'error', 'error', add);
      else if (set.type === RRType.MX) checkTargets(zone, node, set, 'exchange', 2, 'warning', 'warning', add);
      else if (set.type === RRType.SRV) checkTargets(zone, node, set, 'target', 6, 'warning', 'warning', add);
    }
  }
  for (const w of zone.warnings) {
    const p = at(w.source);
    problems.push({ severity: 'warning', file: p.file, line: p.line, column: p.column, reason: `${w.name.toString()}/${typeToString(w.type)}: ${w.reason}`, name: w.name, type: w.type });
  }
  return problems;
}

function checkTargets(
  zone: Zone, node: ZoneNode, set: RRset, field: string, offset: number, cnameSeverity: ZoneProblem['severity'],
  noAddressSeverity: ZoneProblem['severity'],
  add: (s: ZoneProblem['severity'], set: RRset, node: ZoneNode, reason: string) => void,
): void {
  // Stored RRsets give the target's key straight from their bytes (no decoding): most targets
  // are fine, and only a problem needs the decoded name for its message.
  const n = rdataCount(set);
  for (let i = 0; i < n; i++) {
    const key = set instanceof ZoneRRset ? set.nameKeyAt(i, offset) : flatKey((set.rdata[i] as Record<string, Name>)[field]!);
    if (key.length === 1 || !zone.containsKey(key)) continue; // the root (SRV "." = no service) or out of zone
    const t = zone.nodeByKey(key);
    const target = (): string => ((peekRData(set)[i] as Record<string, Name>)[field]!).toString();
    if (t?.get(RRType.CNAME) !== undefined) {
      add(cnameSeverity, set, node, `${node.name}/${typeToString(set.type)} '${target()}' is a CNAME (illegal)`);
      continue;
    }
    if (t === undefined || (t.get(RRType.A) === undefined && t.get(RRType.AAAA) === undefined)) {
      // In-zone NS targets need addresses (below a cut they are glue the parent must give);
      // MX and SRV targets without any are reported, as named-checkzone does (-M/-S warn).
      add(noAddressSeverity, set, node, `${node.name}/${typeToString(set.type)} '${target()}' has no address records (A or AAAA)`);
    }
  }
}

/** The RRset list of a one-RRset node, reused (see the node loop). */
const one: RRset[] = [];
