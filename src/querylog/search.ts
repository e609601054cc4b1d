/**
 * The query log search as the control endpoint takes it: plain strings from the URL (they cross
 * process boundaries to cluster workers unchanged), checked and compiled once per search, and the
 * merge of several workers' answers.
 */
import { rcodeFromString } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { typeFromString } from '../wire/types.js';
import type { CompiledFilter, QueryLogResult } from './entry.js';

/** `GET /v1/querylog?name=&client=&rcode=&type=&since=&until=&limit=` as given. */
export interface QueryLogQuery {
  name?: string | undefined;
  client?: string | undefined;
  rcode?: string | undefined;
  type?: string | undefined;
  /** ISO 8601 time or milliseconds since the epoch. */
  since?: string | undefined;
  until?: string | undefined;
  limit?: string | undefined;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

function time(text: string, key: string, bad: (m: string) => Error): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw bad(`${key}= must be an ISO 8601 time (2026-01-02T03:04:05Z) or milliseconds since 1970, not "${text}"`);
  return ms;
}

const given = (v: string | undefined): v is string => v !== undefined && v !== '';

/** Checks and compiles the filters; `bad` makes the error for a bad value (HTTP 400). */
export function compileQueryLogQuery(q: QueryLogQuery, bad: (message: string) => Error): CompiledFilter {
  let name: Name | undefined;
  if (given(q.name)) {
    try {
      name = Name.fromText(q.name.endsWith('.') ? q.name : q.name + '.');
    } catch (err) {
      throw bad(`bad name "${q.name}": ${(err as Error).message}`);
    }
  }
  let type: number | undefined;
  if (given(q.type)) {
    type = typeFromString(q.type.toUpperCase());
    if (type === undefined) throw bad(`unknown type "${q.type}"`);
  }
  let rcode: number | undefined;
  if (given(q.rcode)) {
    rcode = /^\d+$/.test(q.rcode) ? Number(q.rcode) : rcodeFromString(q.rcode.toUpperCase());
    if (rcode === undefined) throw bad(`unknown rcode "${q.rcode}" (NOERROR, NXDOMAIN, SERVFAIL, REFUSED...)`);
  }
  let limit = DEFAULT_LIMIT;
  if (given(q.limit)) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw bad(`limit= must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return {
    name, type, rcode, limit,
    client: given(q.client) ? q.client : undefined,
    sinceMs: given(q.since) ? time(q.since, 'since', bad) : -Infinity,
    untilMs: given(q.until) ? time(q.until, 'until', bad) : Infinity,
  };
}

/** Several workers' answers as one: newest first, at most `limit`, totals summed. */
export function mergeQueryLogs(results: readonly QueryLogResult[], limit: number): QueryLogResult {
  const entries = results.flatMap((r) => r.entries);
  // ISO 8601 times in UTC with milliseconds sort as text.
  entries.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  return { entries: entries.slice(0, limit), total: results.reduce((n, r) => n + r.total, 0) };
}
