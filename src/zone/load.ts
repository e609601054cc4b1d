/**
 * Loading a zone: parse (streaming, every syntax error collected) -> Zone -> checks. A zone with
 * any error is rejected (no zone returned), so a server keeps its old version.
 */
import type { ZoneSyntaxError } from '../errors.js';
import type { Name } from '../wire/name.js';
import { RRClass } from '../wire/types.js';
import { type CheckOptions, type ZoneProblem, checkZone } from './checks.js';
import { parseZoneFile } from './parser.js';
import { Zone } from './zone.js';

export interface LoadOptions {
  /** Name used for the file in messages (default: the path as given). */
  file?: string;
  class?: number;
  /** How strict the checks are (check-names, glue, integrity); see CheckOptions. */
  checks?: CheckOptions;
}

export interface LoadResult {
  /** The zone, or undefined when any problem is an error. */
  zone: Zone | undefined;
  /** Every error and warning, in file order for syntax errors, then the checks'. */
  problems: ZoneProblem[];
}

function fromSyntax(e: ZoneSyntaxError, severity: ZoneProblem['severity']): ZoneProblem {
  return { severity, file: e.file, line: e.line, column: e.column, reason: e.reason };
}

export function loadZone(path: string, origin: Name, opts: LoadOptions = {}): LoadResult {
  const file = opts.file ?? path;
  const cls = opts.class ?? RRClass.IN;
  const problems: ZoneProblem[] = [];
  const zone = new Zone(origin, cls);
  let errors = 0;
  const entries = parseZoneFile(path, {
    origin, file, defaultClass: cls,
    // Common types come as stored wire bytes, copied by zone.add before the next entry is read.
    rawRData: true,
    onError: (e) => {
      errors++;
      problems.push(fromSyntax(e, 'error'));
    },
    onWarning: (e) => problems.push(fromSyntax(e, 'warning')),
  });
  try {
    for (const entry of entries) {
      const record = entry.record;
      if (!record.name.isSubdomainOf(origin)) {
        // BIND and Knot skip such a record and load the rest of the zone.
        problems.push({ severity: 'warning', file: entry.file, line: entry.line, column: entry.column, reason: `${record.name.toString()}: ignoring out-of-zone data (not below ${origin.toString()})`, name: record.name, type: record.type });
        continue;
      }
      // The entry carries file, line and column: it is the record's source position.
      zone.add(record, entry);
    }
  } catch (err) {
    // Only I/O failures get here (syntax errors went to onError).
    problems.push({ severity: 'error', file, line: 0, column: 0, reason: (err as Error).message });
    return { zone: undefined, problems };
  }
  zone.finish();
  for (const p of checkZone(zone, file, opts.checks)) {
    if (p.severity === 'error') errors++;
    problems.push(p);
  }
  return { zone: errors > 0 ? undefined : zone, problems };
}
