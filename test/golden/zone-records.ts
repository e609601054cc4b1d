/**
 * Reads the golden interop zone (`test/golden/interop.zone`) with our own record parser: one
 * record per line, `$ORIGIN`/`$TTL` honoured, comments and blank lines skipped. Shared by the
 * interop and fuzz tests; kept deliberately simple (the zone has no multi-line records).
 */
import { readFileSync } from 'node:fs';
import { Name, type ResourceRecord, parseRecord } from '../../src/index.js';

/** Absolute path of the golden zone's source file (the tests run from dist/). */
export const GOLDEN_ZONE = new URL('../../../test/golden/interop.zone', import.meta.url).pathname;
export const GOLDEN_ORIGIN = 'interop.test.';

export interface ZoneLine {
  /** The line as written in the zone file. */
  text: string;
  rr: ResourceRecord;
}

export function goldenRecords(path = GOLDEN_ZONE): ZoneLine[] {
  let origin = Name.fromText(GOLDEN_ORIGIN);
  let ttl = 3600;
  const out: ZoneLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith(';')) continue;
    if (line.startsWith('$ORIGIN')) {
      origin = Name.fromText(line.split(/\s+/)[1]!);
      continue;
    }
    if (line.startsWith('$TTL')) {
      ttl = Number(line.split(/\s+/)[1]);
      continue;
    }
    out.push({ text: line, rr: parseRecord(line, { origin, defaultTtl: ttl }) });
  }
  return out;
}
