/**
 * The difference between two versions of a zone (BIND's ixfr-from-differences, Knot's
 * `zonefile-load: difference`): the records only in the old one (removed) and only in the new
 * one (added), with the SOAs at the head of each list as RFC 1995 §4 orders them.
 *
 * Records compare by owner, type, class and stored RDATA; a TTL change removes and re-adds the
 * whole RRset (IXFR has no other way to say it). Cost: one pass over each zone, one string
 * per record of the RRsets that differ or exist on one side only.
 */
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { type RRset, type Zone, type ZoneNode, ZoneRRset } from '../zone/zone.js';
import type { JournalDifference } from './journal.js';

function count(s: RRset): number {
  return s instanceof ZoneRRset ? s.count : s.rdata.length;
}

function dataOf(s: RRset, i: number): unknown {
  return s instanceof ZoneRRset ? s.decode()[i] : s.rdata[i];
}

function keyOf(s: RRset, i: number): string {
  if (s instanceof ZoneRRset) return Buffer.from(s.storedAt(i)).toString('latin1');
  return JSON.stringify(s.rdata[i], (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

function record(node: ZoneNode, s: RRset, i: number): ResourceRecord {
  return { name: node.name, type: s.type, class: s.class, ttl: s.ttl, data: dataOf(s, i) };
}

/** Records of `a` that are not in `b` (same TTL), appended to `out`. */
function only(a: ZoneNode, b: ZoneNode | undefined, skipSoa: boolean, out: ResourceRecord[]): void {
  for (let si = 0, n = a.setCount; si < n; si++) {
    const s = a.setAt(si);
    if (skipSoa && s.type === RRType.SOA) continue;
    let other: RRset | undefined;
    if (b !== undefined) {
      for (let j = 0, m = b.setCount; j < m; j++) {
        const t = b.setAt(j);
        if (t.type === s.type && t.class === s.class) {
          other = t;
          break;
        }
      }
    }
    if (other === undefined || other.ttl !== s.ttl) {
      for (let i = 0, c = count(s); i < c; i++) out.push(record(a, s, i));
      continue;
    }
    const theirs = new Set<string>();
    for (let i = 0, c = count(other); i < c; i++) theirs.add(keyOf(other, i));
    for (let i = 0, c = count(s); i < c; i++) if (!theirs.has(keyOf(s, i))) out.push(record(a, s, i));
  }
}

/** The difference from `older` to `newer` (same origin); undefined when either has no SOA. */
export function zoneDifference(older: Zone, newer: Zone): JournalDifference | undefined {
  const oldSoa = older.soa;
  const newSoa = newer.soa;
  if (oldSoa === undefined || newSoa === undefined) return undefined;
  const removed: ResourceRecord[] = [oldSoa];
  const added: ResourceRecord[] = [newSoa];
  for (const node of older.allNodes()) only(node, newer.nodeByKey(node.key), node === older.apex, removed);
  for (const node of newer.allNodes()) only(node, older.nodeByKey(node.key), node === newer.apex, added);
  return {
    fromSerial: (oldSoa.data as { serial: number }).serial,
    toSerial: (newSoa.data as { serial: number }).serial,
    removed,
    added,
  };
}
