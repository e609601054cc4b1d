/**
 * RFC 2136 UPDATE processing on a primary zone, as a pure function of (request, zone): the zone
 * section (§3.1), prerequisites (§3.2), permissions (§3.3, through `allowed`), the prescan
 * (§3.4.1) and the update rules (§3.4.2), then the SOA serial step. The result is an RCODE and,
 * when the zone changed, the new zone and the difference old -> new (RFC 1995 §4 order).
 *
 * Where the RFC leaves room we do what BIND 9.18 does (ns/update.c): a CNAME added where other
 * data exists (or other data where a CNAME exists) is silently ignored; an SOA whose serial is
 * not newer is ignored; the apex SOA and NS RRsets are never deleted and the last apex NS record
 * neither; a duplicate add only changes the RRset's TTL; an added record's TTL becomes the
 * whole RRset's; an update that changes nothing makes no new version. RRSIG, NSEC and NSEC3 may
 * sit beside a CNAME.
 *
 * Invariants: the given zone is never changed (the new Zone shares its untouched nodes and
 * RRsets, copy-on-write; see deriveZone); the serial goes up exactly once per update that changed something.
 */
import { Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { EMPTY_RDATA, type ResourceRecord } from '../wire/record.js';
import { EncodeMode, RRClass, RRType, encodeRData, type SOAData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { RawRData } from '../zone/raw-rdata.js';
import { serialCompare } from '../zone/serial.js';
import { type NodeChange, Zone, type ZoneNode, ZoneRRset } from '../zone/zone.js';
import type { JournalDifference } from '../journal/journal.js';

export type SerialMethod = 'increment' | 'unixtime' | 'date';

export interface UpdateOptions {
  /** §3.3: may this update RR be applied? (false -> REFUSED). Called for every update RR. */
  allowed: (rr: ResourceRecord) => boolean;
  serialMethod: SerialMethod;
  /** Seconds since the epoch (unixtime and date serials). */
  now: number;
}

export interface UpdateResult {
  rcode: number;
  /** Set when the zone changed. */
  zone?: Zone;
  difference?: JournalDifference;
  /** Why (for the log) when the RCODE is not NOERROR or an RR was ignored. */
  notes: string[];
}

const META_TYPES = new Set<number>([RRType.ANY, RRType.AXFR, RRType.IXFR, 253 /* MAILB */, 254 /* MAILA */, RRType.OPT, RRType.TSIG, 249 /* TKEY */]);
/** Types that may share a name with a CNAME (RFC 4035 §2.5, BIND's cname_compatible). */
const CNAME_COMPATIBLE = new Set<number>([RRType.CNAME, RRType.RRSIG, RRType.NSEC, RRType.NSEC3 /* not at names with CNAME, but harmless */, 25 /* KEY */]);

const keyWriter = new Writer();
/** Canonical RDATA (names lowercased, RFC 4034 §6.2) as a string: equality of records. */
function rdataKey(type: number, data: unknown): string {
  keyWriter.reset();
  encodeRData(type, keyWriter, data, EncodeMode.Canonical);
  return Buffer.from(keyWriter.buf.buffer, keyWriter.buf.byteOffset, keyWriter.pos).toString('latin1');
}

/** One RRset being edited: records by canonical key. */
interface EditSet {
  type: number;
  class: number;
  ttl: number;
  records: Map<string, unknown>;
}

/** A name being edited: its RRsets by type. */
interface EditNode {
  name: Name;
  sets: Map<number, EditSet>;
}

/** The zone being changed: only touched names are decoded into EditNodes. */
class Edit {
  readonly touched = new Map<string, EditNode>();
  constructor(readonly zone: Zone) {}

  /** The current RRsets at `name` (edited or as in the zone). */
  node(name: Name): EditNode {
    const key = name.key;
    let n = this.touched.get(key);
    if (n !== undefined) return n;
    n = { name, sets: new Map() };
    const zn = this.zone.node(name);
    if (zn !== undefined) {
      for (let i = 0, c = zn.setCount; i < c; i++) {
        const s = zn.setAt(i);
        const data = s instanceof ZoneRRset ? s.decode() : s.rdata;
        const records = new Map<string, unknown>();
        for (const d of data) records.set(rdataKey(s.type, d), d);
        n.sets.set(s.type, { type: s.type, class: s.class, ttl: s.ttl, records });
      }
    }
    this.touched.set(key, n);
    return n;
  }

  /** Read-only look without decoding: RRset at name (edited view). */
  has(name: Name, type: number): boolean {
    const n = this.touched.get(name.key);
    if (n !== undefined) return (n.sets.get(type)?.records.size ?? 0) > 0;
    return this.zone.getRRset(name, type) !== undefined;
  }
}

function nodeInUse(zone: Zone, name: Name): boolean {
  const n = zone.node(name);
  return n !== undefined && n.setCount > 0;
}

/** The next serial after `old` by `method` (BIND's serial-update-method; never 0 when incrementing). */
export function nextSerial(old: number, method: SerialMethod, now: number): number {
  const inc = (s: number): number => {
    const n = ((s >>> 0) + 1) % 0x100000000;
    return n === 0 ? 1 : n;
  };
  if (method === 'increment') return inc(old);
  let candidate: number;
  if (method === 'unixtime') {
    candidate = now >>> 0;
  } else {
    const d = new Date(now * 1000);
    candidate = (d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()) * 100;
  }
  return serialCompare(candidate, old) === 1 ? candidate : inc(old);
}

/** Processes one UPDATE request against `zone` (the zone section already named it). */
export function processUpdate(req: Message, zone: Zone, opts: UpdateOptions): UpdateResult {
  const notes: string[] = [];
  const fail = (rcode: number, why: string): UpdateResult => {
    notes.push(why);
    return { rcode, notes };
  };
  const origin = zone.origin;
  const zclass = zone.class;

  // §3.2 prerequisites (the answer section).
  const valueSets = new Map<string, { name: Name; type: number; records: Set<string> }>();
  for (const rr of req.answer) {
    if (rr.ttl !== 0) return fail(Rcode.FORMERR, `prerequisite ${rr.name.toString()} has TTL ${rr.ttl}, not 0`);
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `prerequisite ${rr.name.toString()} is outside the zone`);
    if (rr.class === RRClass.ANY) {
      if (rr.data !== EMPTY_RDATA) return fail(Rcode.FORMERR, 'prerequisite of class ANY with RDATA');
      if (rr.type === RRType.ANY) {
        if (!nodeInUse(zone, rr.name)) return fail(Rcode.NXDOMAIN, `prerequisite: ${rr.name.toString()} is not in use`);
      } else if (zone.getRRset(rr.name, rr.type) === undefined) {
        return fail(Rcode.NXRRSET, `prerequisite: no ${rr.name.toString()} type ${rr.type} RRset`);
      }
    } else if (rr.class === RRClass.NONE) {
      if (rr.data !== EMPTY_RDATA) return fail(Rcode.FORMERR, 'prerequisite of class NONE with RDATA');
      if (rr.type === RRType.ANY) {
        if (nodeInUse(zone, rr.name)) return fail(Rcode.YXDOMAIN, `prerequisite: ${rr.name.toString()} is in use`);
      } else if (zone.getRRset(rr.name, rr.type) !== undefined) {
        return fail(Rcode.YXRRSET, `prerequisite: ${rr.name.toString()} type ${rr.type} RRset exists`);
      }
    } else if (rr.class === zclass) {
      if (META_TYPES.has(rr.type) || rr.data === EMPTY_RDATA) return fail(Rcode.FORMERR, 'value-dependent prerequisite of a meta type or without RDATA');
      const k = `${rr.name.key}|${rr.type}`;
      let v = valueSets.get(k);
      if (v === undefined) valueSets.set(k, v = { name: rr.name, type: rr.type, records: new Set() });
      v.records.add(rdataKey(rr.type, rr.data));
    } else {
      return fail(Rcode.FORMERR, `prerequisite of class ${rr.class}`);
    }
  }
  // RRset exists (value dependent): the zone's RRset must be exactly the given records.
  for (const v of valueSets.values()) {
    const s = zone.getRRset(v.name, v.type);
    if (s === undefined) return fail(Rcode.NXRRSET, `prerequisite: no ${v.name.toString()} type ${v.type} RRset`);
    const data = s instanceof ZoneRRset ? s.decode() : s.rdata;
    const have = new Set<string>();
    for (const d of data) have.add(rdataKey(v.type, d));
    if (have.size !== v.records.size || [...have].some((k) => !v.records.has(k))) {
      return fail(Rcode.NXRRSET, `prerequisite: ${v.name.toString()} type ${v.type} RRset differs`);
    }
  }

  // §3.4.1 prescan, with the §3.3 permission check of each RR.
  for (const rr of req.authority) {
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `update ${rr.name.toString()} is outside the zone`);
    if (rr.class === zclass) {
      if (META_TYPES.has(rr.type) || rr.data === EMPTY_RDATA) return fail(Rcode.FORMERR, `update adds type ${rr.type} (meta type or no RDATA)`);
    } else if (rr.class === RRClass.ANY) {
      if (rr.ttl !== 0 || rr.data !== EMPTY_RDATA || (META_TYPES.has(rr.type) && rr.type !== RRType.ANY)) {
        return fail(Rcode.FORMERR, 'delete of class ANY with TTL, RDATA or a meta type');
      }
    } else if (rr.class === RRClass.NONE) {
      if (rr.ttl !== 0 || META_TYPES.has(rr.type) || rr.data === EMPTY_RDATA) return fail(Rcode.FORMERR, 'delete of class NONE with TTL, a meta type or no RDATA');
    } else {
      return fail(Rcode.FORMERR, `update of class ${rr.class}`);
    }
  }
  for (const rr of req.authority) {
    if (!opts.allowed(rr)) return fail(Rcode.REFUSED, `update of ${rr.name.toString()} type ${rr.type} not allowed`);
  }

  // §3.4.2: apply.
  const edit = new Edit(zone);
  const oldSoa = zone.soa;
  if (oldSoa === undefined) return fail(Rcode.SERVFAIL, 'zone has no SOA');
  let newSoa: ResourceRecord | undefined;
  const ignore = (why: string): void => {
    notes.push(why);
  };
  for (const rr of req.authority) {
    const atApex = rr.name.equals(origin);
    if (rr.class === zclass) {
      if (rr.type === RRType.SOA) {
        if (!atApex) {
          ignore(`SOA at ${rr.name.toString()}, not the apex: ignored`);
          continue;
        }
        const cur = (newSoa ?? oldSoa).data as SOAData;
        if (serialCompare((rr.data as SOAData).serial, cur.serial) !== 1) {
          ignore('SOA with a serial not newer: ignored');
          continue;
        }
        newSoa = rr;
        const n = edit.node(rr.name);
        n.sets.set(RRType.SOA, { type: RRType.SOA, class: rr.class, ttl: rr.ttl, records: new Map([[rdataKey(RRType.SOA, rr.data), rr.data]]) });
        continue;
      }
      const n = edit.node(rr.name);
      if (rr.type === RRType.CNAME) {
        let other = false;
        for (const [t, s] of n.sets) if (!CNAME_COMPATIBLE.has(t) && s.records.size > 0) other = true;
        if (other) {
          ignore(`CNAME at ${rr.name.toString()} beside other data: ignored`);
          continue;
        }
      } else if (!CNAME_COMPATIBLE.has(rr.type) && (n.sets.get(RRType.CNAME)?.records.size ?? 0) > 0) {
        ignore(`type ${rr.type} at ${rr.name.toString()} beside a CNAME: ignored`);
        continue;
      }
      let s = n.sets.get(rr.type);
      if (s === undefined) n.sets.set(rr.type, s = { type: rr.type, class: rr.class, ttl: rr.ttl, records: new Map() });
      // CNAME (and DNAME) are singletons: the new one replaces the old (BIND).
      if ((rr.type === RRType.CNAME || rr.type === RRType.DNAME) && s.records.size > 0) s.records.clear();
      s.ttl = rr.ttl;
      s.records.set(rdataKey(rr.type, rr.data), rr.data);
    } else if (rr.class === RRClass.ANY) {
      if (rr.type === RRType.ANY) {
        const n = edit.node(rr.name);
        for (const t of [...n.sets.keys()]) if (!(atApex && (t === RRType.SOA || t === RRType.NS))) n.sets.delete(t);
      } else {
        if (atApex && (rr.type === RRType.SOA || rr.type === RRType.NS)) {
          ignore(`delete of the apex ${rr.type === RRType.SOA ? 'SOA' : 'NS'} RRset: ignored`);
          continue;
        }
        if (edit.has(rr.name, rr.type)) edit.node(rr.name).sets.delete(rr.type);
      }
    } else {
      // Class NONE: delete one RR.
      if (rr.type === RRType.SOA) {
        ignore('delete of an SOA record: ignored');
        continue;
      }
      if (!edit.has(rr.name, rr.type)) continue;
      const n = edit.node(rr.name);
      const s = n.sets.get(rr.type)!;
      const k = rdataKey(rr.type, rr.data);
      if (!s.records.has(k)) continue;
      if (atApex && rr.type === RRType.NS && s.records.size === 1) {
        ignore('delete of the last apex NS record: ignored');
        continue;
      }
      s.records.delete(k);
      if (s.records.size === 0) n.sets.delete(rr.type);
    }
  }

  // Did anything change? Compare each touched name with the zone.
  const changed: EditNode[] = [];
  for (const n of edit.touched.values()) if (differs(zone.node(n.name), n)) changed.push(n);
  if (changed.length === 0) return { rcode: Rcode.NOERROR, notes };

  // The serial: the update's own newer SOA, else one step by the method.
  const soaSet = edit.node(origin).sets.get(RRType.SOA)!;
  if (newSoa === undefined) {
    const cur = oldSoa.data as SOAData;
    const data: SOAData = { ...cur, serial: nextSerial(cur.serial, opts.serialMethod, opts.now) };
    soaSet.records = new Map([[rdataKey(RRType.SOA, data), data]]);
    if (!changed.some((n) => n.name.equals(origin))) changed.push(edit.node(origin));
  }
  const next = deriveZone(zone, changed) ?? buildZone(zone, edit);
  const removed: ResourceRecord[] = [oldSoa];
  const added: ResourceRecord[] = [next.soa!];
  for (const n of changed) diffNode(zone.node(n.name), n, removed, added);
  return {
    rcode: Rcode.NOERROR, zone: next, notes,
    difference: { fromSerial: (oldSoa.data as SOAData).serial, toSerial: next.serial!, removed, added },
  };
}

function setRecords(zn: ZoneNode, i: number): unknown[] {
  const s = zn.setAt(i);
  return s instanceof ZoneRRset ? s.decode() : s.rdata;
}

/** True when the edited node differs from the zone's (records or TTLs). */
function differs(zn: ZoneNode | undefined, n: EditNode): boolean {
  let count = 0;
  for (const s of n.sets.values()) if (s.records.size > 0) count++;
  if (zn === undefined) return count > 0;
  if (zn.setCount !== count) return true;
  for (let i = 0; i < zn.setCount; i++) {
    const s = zn.setAt(i);
    const e = n.sets.get(s.type);
    if (e === undefined || e.ttl !== s.ttl) return true;
    const data = setRecords(zn, i);
    if (data.length !== e.records.size) return true;
    for (const d of data) if (!e.records.has(rdataKey(s.type, d))) return true;
  }
  return false;
}

/** RFC 1995 §4 difference of one name (SOA left out: it heads the lists). A TTL change removes and re-adds the RRset. */
function diffNode(zn: ZoneNode | undefined, n: EditNode, removed: ResourceRecord[], added: ResourceRecord[]): void {
  const oldSets = new Map<number, { ttl: number; cls: number; recs: Map<string, unknown> }>();
  if (zn !== undefined) {
    for (let i = 0; i < zn.setCount; i++) {
      const s = zn.setAt(i);
      const recs = new Map<string, unknown>();
      for (const d of setRecords(zn, i)) recs.set(rdataKey(s.type, d), d);
      oldSets.set(s.type, { ttl: s.ttl, cls: s.class, recs });
    }
  }
  for (const [t, o] of oldSets) {
    if (t === RRType.SOA) continue;
    const e = n.sets.get(t);
    for (const [k, d] of o.recs) {
      if (e === undefined || e.ttl !== o.ttl || !e.records.has(k)) removed.push({ name: n.name, type: t, class: o.cls, ttl: o.ttl, data: d });
    }
  }
  for (const [t, e] of n.sets) {
    if (t === RRType.SOA) continue;
    const o = oldSets.get(t);
    for (const [k, d] of e.records) {
      if (o === undefined || o.ttl !== e.ttl || !o.recs.has(k)) added.push({ name: n.name, type: t, class: e.class, ttl: e.ttl, data: d });
    }
  }
}

/**
 * The new zone as a copy-on-write version of `zone` (Zone.derive): only the changed names'
 * nodes and RRsets are new, so an update costs the same in a zone of ten names or a million.
 * Undefined when a change moves a zone cut or a name's existence (a name left empty, NS below
 * the apex, DNAME): then the whole zone is built again (buildZone) so finish() decides the flags.
 */
function deriveZone(zone: Zone, changed: readonly EditNode[]): Zone | undefined {
  const changes: NodeChange[] = [];
  for (const n of changed) {
    const zn = zone.node(n.name);
    const apex = n.name.equals(zone.origin);
    let kept = 0;
    const types: number[] = [];
    const records: ResourceRecord[] = [];
    const replace = (t: number): boolean => {
      if ((t === RRType.NS && !apex) || t === RRType.DNAME) return false;
      types.push(t);
      const e = n.sets.get(t);
      if (e !== undefined) for (const d of e.records.values()) records.push({ name: n.name, type: t, class: e.class, ttl: e.ttl, data: d });
      return true;
    };
    if (zn !== undefined) {
      for (let i = 0; i < zn.setCount; i++) {
        const s = zn.setAt(i);
        const e = n.sets.get(s.type);
        if (e !== undefined && e.records.size > 0 && sameSet(zn, i, e)) {
          kept++;
          continue;
        }
        if (!replace(s.type)) return undefined;
      }
    }
    for (const [t, e] of n.sets) {
      if (e.records.size === 0 || (zn !== undefined && zn.get(t) !== undefined)) continue;
      if (!replace(t)) return undefined;
    }
    // A node left with no RRsets: NXDOMAIN or empty non-terminal depends on its children.
    if (kept + new Set(records.map((r) => r.type)).size === 0) return undefined;
    changes.push({ name: n.name, types, records });
  }
  return zone.derive(changes);
}

/** True when RRset `i` of `zn` has exactly the edit's TTL and records. */
function sameSet(zn: ZoneNode, i: number, e: EditSet): boolean {
  const s = zn.setAt(i);
  if (s.ttl !== e.ttl || s.class !== e.class) return false;
  const data = setRecords(zn, i);
  if (data.length !== e.records.size) return false;
  for (const d of data) if (!e.records.has(rdataKey(s.type, d))) return false;
  return true;
}

/** The new zone: untouched names copied as stored bytes, touched ones from the edit. */
function buildZone(zone: Zone, edit: Edit): Zone {
  const next = new Zone(zone.origin, zone.class);
  const addEdited = (n: EditNode): void => {
    // SOA first at the apex, so `soa` reads right even mid-build.
    const soa = n.sets.get(RRType.SOA);
    if (soa !== undefined) for (const d of soa.records.values()) next.add({ name: n.name, type: RRType.SOA, class: soa.class, ttl: soa.ttl, data: d });
    for (const s of n.sets.values()) {
      if (s.type === RRType.SOA) continue;
      for (const d of s.records.values()) next.add({ name: n.name, type: s.type, class: s.class, ttl: s.ttl, data: d });
    }
  };
  const apexEdit = edit.touched.get(zone.origin.key);
  if (apexEdit !== undefined) addEdited(apexEdit);
  for (const node of zone.allNodes()) {
    if (edit.touched.has(node.key)) {
      if (node !== zone.apex) addEdited(edit.touched.get(node.key)!);
      continue;
    }
    for (let i = 0, c = node.setCount; i < c; i++) {
      const s = node.setAt(i);
      if (s instanceof ZoneRRset) {
        for (let j = 0; j < s.count; j++) {
          const b = s.storedAt(j);
          const raw = new RawRData(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length), b.length);
          next.add({ name: node.name, type: s.type, class: s.class, ttl: s.ttl, data: raw });
        }
      } else {
        for (const d of s.rdata) next.add({ name: node.name, type: s.type, class: s.class, ttl: s.ttl, data: d });
      }
    }
  }
  for (const [key, n] of edit.touched) if (zone.nodeByKey(key) === undefined) addEdited(n);
  next.finish();
  return next;
}
