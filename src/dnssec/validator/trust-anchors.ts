/**
 * Trust anchors (RFC 4033 §5, RFC 7958) and negative trust anchors (RFC 7646).
 *
 * Invariants: a TrustAnchorSet holds DS and/or DNSKEY records per owner name; the built-in set is
 * IANA's root KSK-2017 (tag 20326) and KSK-2024 (tag 38696) in DS form, as published in
 * https://data.iana.org/root-anchors/root-anchors.xml (and shipped by Unbound/BIND and Debian's
 * dns-root-data root.ds). Files are read in master-file format (Unbound's trust-anchor-file,
 * `unbound-anchor` output, Debian's root.key/root.ds) or as a BIND `trust-anchors { ... };` /
 * `managed-keys` / `trusted-keys` clause. Anchors given replace the built-in ones.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, DnsError } from '../../errors.js';
import { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRClass, RRType, type DNSKEYData, type DSData } from '../../wire/types.js';
import { parseZoneText } from '../../zone/parser.js';

/** IANA's root anchors (root-anchors.xml): KSK-2017 and KSK-2024, both RSASHA256 with SHA-256 digests. */
export const ROOT_ANCHORS_TEXT = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`;

/** The anchors configured for one name. */
export interface TrustAnchor {
  name: Name;
  ds: ResourceRecord<DSData>[];
  dnskey: ResourceRecord<DNSKEYData>[];
}

export class TrustAnchorSet {
  private readonly byName = new Map<string, TrustAnchor>();

  /** Adds DS or DNSKEY records (others are refused with the record's owner and type in the message). */
  add(records: readonly ResourceRecord[], source = 'trust anchors'): void {
    for (const r of records) {
      if (r.type !== RRType.DS && r.type !== RRType.DNSKEY) {
        throw new ConfigError(source, `${r.name.toString()} type ${r.type} is not a DS or DNSKEY record`, 'give only DS or DNSKEY records');
      }
      let a = this.byName.get(r.name.key);
      if (a === undefined) {
        a = { name: r.name, ds: [], dnskey: [] };
        this.byName.set(r.name.key, a);
      }
      if (r.type === RRType.DS) a.ds.push(r as ResourceRecord<DSData>);
      else a.dnskey.push(r as ResourceRecord<DNSKEYData>);
    }
  }

  /** Replaces the anchor at `name` with `records` (RFC 5011 updates); none left removes it. */
  replace(name: Name, records: readonly ResourceRecord[]): void {
    this.byName.delete(name.key);
    this.add(records.filter((r) => r.name.equals(name)));
  }

  /** The anchor at exactly `name`. */
  at(name: Name): TrustAnchor | undefined {
    return this.byName.get(name.key);
  }

  /** The deepest anchor at or above `name` (where validation of `name` starts). */
  closest(name: Name): TrustAnchor | undefined {
    for (let n = name; ; n = n.parent()) {
      const a = this.byName.get(n.key);
      if (a !== undefined) return a;
      if (n.isRoot) return undefined;
    }
  }

  get size(): number {
    return this.byName.size;
  }

  names(): Name[] {
    return [...this.byName.values()].map((a) => a.name);
  }

  /** The built-in root anchors. */
  static builtin(): TrustAnchorSet {
    const s = new TrustAnchorSet();
    s.add(parseAnchorText(ROOT_ANCHORS_TEXT, 'built-in root anchors'));
    return s;
  }

  /** Anchors from files (each master-file or BIND clause format); throws ConfigError naming the file. */
  static fromFiles(paths: readonly string[]): TrustAnchorSet {
    const s = new TrustAnchorSet();
    for (const p of paths) {
      let text: string;
      try {
        text = readFileSync(p, 'utf8');
      } catch (e) {
        throw new ConfigError(`trust anchor file ${p}`, (e as Error).message, 'give a readable file of DS or DNSKEY records');
      }
      s.add(parseAnchorText(text, p), p);
    }
    if (s.size === 0) throw new ConfigError('trust anchors', `no DS or DNSKEY record in ${paths.join(', ')}`, 'give DS or DNSKEY records');
    return s;
  }
}

/**
 * DS/DNSKEY records from anchor text: master-file lines, or BIND's clause
 * `trust-anchors { NAME initial-key|static-key FLAGS PROTO ALG "KEY"; NAME initial-ds|static-ds TAG ALG DT "HEX"; };`.
 */
export function parseAnchorText(text: string, source: string): ResourceRecord[] {
  const bind = /\b(trust-anchors|managed-keys|trusted-keys)\s*\{/.exec(text);
  const master = bind === undefined || bind === null ? text : bindClauseToMaster(text.slice(bind.index + bind[0].length), bind[1]!);
  const out: ResourceRecord[] = [];
  try {
    for (const e of parseZoneText(master, { origin: Name.ROOT, file: source, defaultTtl: 0 })) {
      if (e.record.class !== RRClass.IN) continue;
      if (e.record.type === RRType.DS || e.record.type === RRType.DNSKEY) out.push(e.record);
    }
  } catch (e) {
    if (e instanceof DnsError) throw new ConfigError(source, e.message, 'write DS or DNSKEY records in master-file format');
    throw e;
  }
  return out;
}

function bindClauseToMaster(body: string, kind: string): string {
  const lines: string[] = [];
  // Statements end with ';' outside quotes; the clause ends at the first unquoted '}'.
  const re = /\s*([^\s;{}"]+)\s+(?:(initial-key|static-key|initial-ds|static-ds)\s+)?(\d+)\s+(\d+)\s+(\d+)\s+"([^"]*)"\s*;/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    const [, owner, how, a, b, c, data] = m;
    const isDs = how === 'initial-ds' || how === 'static-ds';
    const name = owner!.endsWith('.') ? owner! : `${owner}.`;
    lines.push(`${name} IN ${isDs ? 'DS' : 'DNSKEY'} ${a} ${b} ${c} ${data!.replace(/\s+/g, '')}`);
  }
  if (lines.length === 0) throw new ConfigError(kind, 'no key statement found in the clause', 'write NAME initial-ds TAG ALG TYPE "DIGEST";');
  return lines.join('\n') + '\n';
}

/**
 * Negative trust anchors (RFC 7646): names below which validation is not done (answers are
 * insecure, never bogus). Expiry per entry (seconds on the injected clock); 0 = never.
 */
export class NegativeTrustAnchors {
  private readonly byName = new Map<string, { name: Name; until: number }>();

  add(name: Name, until = 0): void {
    this.byName.set(name.key, { name, until });
  }

  remove(name: Name): boolean {
    return this.byName.delete(name.key);
  }

  /** True when `name` is at or below a live NTA at time `nowSec`. */
  covers(name: Name, nowSec: number): boolean {
    if (this.byName.size === 0) return false;
    for (let n = name; ; n = n.parent()) {
      const e = this.byName.get(n.key);
      if (e !== undefined) {
        if (e.until === 0 || e.until > nowSec) return true;
        this.byName.delete(n.key);
      }
      if (n.isRoot) return false;
    }
  }

  list(nowSec: number): { name: string; expiresInSec: number }[] {
    const out: { name: string; expiresInSec: number }[] = [];
    for (const e of this.byName.values()) {
      if (e.until !== 0 && e.until <= nowSec) continue;
      out.push({ name: e.name.toString(), expiresInSec: e.until === 0 ? 0 : e.until - nowSec });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
