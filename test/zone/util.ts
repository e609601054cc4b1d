// Helpers for the zone tests: parse zone text, write zone files into a temp folder, and render
// records one per line (`owner ttl class type rdata`) so expectations read as zone text.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Name, classToString, printRData, typeToString, type ResourceRecord } from '../../src/index.js';
import type { ZoneSyntaxError } from '../../src/errors.js';
import { parseZoneText, type ZoneParseOptions } from '../../src/zone/parser.js';
import type { Zone } from '../../src/zone/zone.js';
import type { CheckOptions } from '../../src/zone/checks.js';

/** `owner ttl class type rdata`, single spaces. */
export function rrLine(rr: ResourceRecord): string {
  const rdata = printRData(rr.type, rr.data);
  return `${rr.name.toString()} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)}${rdata.length > 0 ? ' ' + rdata : ''}`;
}

export interface Parsed {
  records: string[];
  errors: ZoneSyntaxError[];
  warnings: ZoneSyntaxError[];
}

/** Parses `text` collecting every error (parsing continues after each). */
export function parse(text: string, origin = 'example.com.', opts: Partial<ZoneParseOptions> = {}): Parsed {
  const out: Parsed = { records: [], errors: [], warnings: [] };
  const entries = parseZoneText(text, {
    origin: Name.fromText(origin), file: 'test.zone',
    onError: (e) => out.errors.push(e), onWarning: (e) => out.warnings.push(e), ...opts,
  });
  for (const e of entries) out.records.push(rrLine(e.record));
  return out;
}

/** Parses `text` and expects no error. */
export function records(text: string, origin = 'example.com.'): string[] {
  const p = parse(text, origin);
  if (p.errors.length > 0) throw new Error(`unexpected errors: ${p.errors.map((e) => e.message).join('; ')}`);
  return p.records;
}

/** Writes files (relative path -> text) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
}

/** Every record of a zone, one line each, in the zone's canonical order. */
export function zoneLines(zone: Zone): string[] {
  const out: string[] = [];
  for (const node of zone.nodes()) {
    for (const set of node.rrsets) {
      for (const d of set.rdata) out.push(rrLine({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data: d }));
    }
  }
  return out;
}

/** A zone header every test zone can start with. */
export const HEAD = `$TTL 3600
@ IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
@ NS ns1
ns1 A 192.0.2.1
`;

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadZone, type LoadResult } from '../../src/zone/load.js';
import { Zone as ZoneClass } from '../../src/zone/zone.js';

/** Writes `text` to a temp file named `file` and loads it as a zone (checks included). */
export function loadText(text: string, origin = 'example.com.', file = 'test.zone', checks?: CheckOptions): LoadResult {
  const dir = mkdtempSync(join(tmpdir(), 'sovereign-zone-'));
  try {
    const path = join(dir, file);
    writeFileSync(path, text);
    return loadZone(path, Name.fromText(origin), { file, ...(checks ? { checks } : {}) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds a finished Zone from text without the checks (for lookup tests). */
export function buildZone(text: string, origin = 'example.com.'): ZoneClass {
  const zone = new ZoneClass(Name.fromText(origin));
  for (const e of parseZoneText(text, { origin: Name.fromText(origin), file: 'test.zone' })) zone.add(e.record, e);
  zone.finish();
  return zone;
}
