/**
 * `localData`: records given in the config in zone-file syntax, for the names a router serves
 * itself (`router.lan. A 192.168.1.1`), parsed with the zone parser (`src/zone`).
 *
 * Answering rules (Unbound's `local-data` with a "transparent" local zone, plus "static" below
 * any SOA the operator gives):
 * - a name with records: the RRset of the asked type; else its CNAME; else NOERROR/NODATA;
 * - a name without records below a local SOA owner: NXDOMAIN (NODATA for an empty
 *   non-terminal) with that SOA for negative caching (RFC 2308 §3);
 * - anything else is not ours (the caller passes it on).
 *
 * Invariant: a LocalData is immutable once built; reload builds a new one.
 */
import { ConfigError, ZoneSyntaxError } from '../errors.js';
import type { Name } from '../wire/name.js';
import { Name as NameClass } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { parseZoneText } from '../zone/parser.js';

/** What local data says about a question. */
export type LocalAnswer =
  | { kind: 'answer'; records: readonly ResourceRecord[] }
  | { kind: 'nodata'; soa: ResourceRecord | undefined }
  | { kind: 'nxdomain'; soa: ResourceRecord }
  | { kind: 'none' };

const NONE: LocalAnswer = { kind: 'none' };

export class LocalData {
  /** name key -> type -> RRset. */
  private readonly names = new Map<string, Map<number, ResourceRecord[]>>();
  /** Keys of names that own nothing but have descendants with records (empty non-terminals). */
  private readonly nonTerminals = new Set<string>();
  /** SOA records by owner key: these owners make a "static" local zone. */
  private readonly soas = new Map<string, ResourceRecord>();
  readonly recordCount: number;

  constructor(records: readonly ResourceRecord[]) {
    for (const rr of records) {
      let types = this.names.get(rr.name.key);
      if (types === undefined) {
        types = new Map();
        this.names.set(rr.name.key, types);
      }
      let set = types.get(rr.type);
      if (set === undefined) {
        set = [];
        types.set(rr.type, set);
      }
      // RFC 2181 §5.2: one TTL per RRset; the lowest one given wins.
      if (set.length > 0 && rr.ttl !== set[0]!.ttl) {
        const ttl = Math.min(rr.ttl, set[0]!.ttl);
        for (const r of set) r.ttl = ttl;
        rr.ttl = ttl;
      }
      set.push(rr);
      if (rr.type === RRType.SOA) this.soas.set(rr.name.key, rr);
    }
    for (const rr of records) {
      for (let p = rr.name; !p.isRoot;) {
        p = p.parent();
        if (!this.names.has(p.key)) this.nonTerminals.add(p.key);
      }
    }
    this.recordCount = records.length;
  }

  get size(): number {
    return this.names.size;
  }

  lookup(qname: Name, qtype: number): LocalAnswer {
    const types = this.names.get(qname.key);
    if (types !== undefined) {
      if (qtype === RRType.ANY) {
        const all: ResourceRecord[] = [];
        for (const set of types.values()) all.push(...set);
        return { kind: 'answer', records: all };
      }
      const set = types.get(qtype) ?? types.get(RRType.CNAME);
      if (set !== undefined) return { kind: 'answer', records: set };
      return { kind: 'nodata', soa: this.soaFor(qname) };
    }
    const soa = this.soaFor(qname);
    if (soa === undefined) return NONE;
    if (this.nonTerminals.has(qname.key)) return { kind: 'nodata', soa };
    return { kind: 'nxdomain', soa };
  }

  /** The SOA of the closest enclosing local zone, if any. */
  private soaFor(name: Name): ResourceRecord | undefined {
    if (this.soas.size === 0) return undefined;
    for (let n = name; ; n = n.parent()) {
      const soa = this.soas.get(n.key);
      if (soa !== undefined) return soa;
      if (n.isRoot) return undefined;
    }
  }
}

/**
 * Parses `localData` config entries (each one or more zone-file lines; `$ORIGIN` and `$TTL`
 * work, relative names are relative to the root). Throws ConfigError naming the entry and line.
 */
export function parseLocalData(entries: readonly string[], defaultTtl = 3600, source = 'localData'): LocalData {
  const records: ResourceRecord[] = [];
  for (let i = 0; i < entries.length; i++) {
    try {
      for (const e of parseZoneText(entries[i]!, {
        origin: NameClass.ROOT, file: `${source}[${i}]`, defaultTtl, allowInclude: false,
      })) records.push(e.record);
    } catch (err) {
      if (err instanceof ZoneSyntaxError) {
        throw new ConfigError(`${source}[${i}]`, `line ${err.line}: ${err.reason}`, 'write records in zone-file syntax, e.g. "router.lan. 3600 IN A 192.168.1.1"');
      }
      throw err;
    }
  }
  return new LocalData(records);
}
