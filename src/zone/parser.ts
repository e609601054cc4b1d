/**
 * Master-file parser (RFC 1035 §5, plus what BIND accepts): `$ORIGIN`, `$TTL` (RFC 2308 §4),
 * `$INCLUDE file [origin]`, BIND's `$GENERATE`, `@`, relative names, blank owners, TTL and class
 * in either order, TTL units, every type in the codec's table and RFC 3597 `\#` data.
 *
 * Invariants: streaming — entries are parsed and yielded one at a time from chunked reads;
 * every error is a ZoneSyntaxError with file, line and column. With `onError`, parsing goes on
 * with the next entry so a checker can list every error; without it the first error is thrown.
 * `$INCLUDE` depth is capped and include loops are refused.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DnsError, ZoneSyntaxError } from '../errors.js';
import { Name } from '../wire/name.js';
import { TokenCursor, parseTtl } from '../wire/rdata/text.js';
import { DnsRecord, type ResourceRecord } from '../wire/record.js';
import { HeadStatus, type RecordHead, newRecordHead, readRecordHead } from '../wire/record-head.js';
import { RRClass, RRType, classToString, parseRData } from '../wire/types.js';
import { expandGenerate } from './generate.js';
import { unknownTypeReason } from './reasons.js';
import { type Entry, lexEntries, readChunks } from './lexer.js';
import { parseRawRData } from './raw-rdata.js';

export interface ZoneEntry {
  record: ResourceRecord;
  file: string;
  line: number;
  column: number;
}

export interface ZoneParseOptions {
  /** Initial $ORIGIN (the zone's name). */
  origin: Name;
  /** File name used in errors. */
  file: string;
  /** TTL when neither $TTL, an explicit TTL nor a previous TTL applies. */
  defaultTtl?: number;
  /** Default IN. */
  defaultClass?: number;
  /** Default 10; $INCLUDE deeper than this is an error. */
  maxIncludeDepth?: number;
  /** Default true. */
  allowInclude?: boolean;
  /** When set: report and continue with the next entry; otherwise throw. */
  onError?: (e: ZoneSyntaxError) => void;
  /** Non-fatal notes (e.g. SOA MINIMUM used as TTL), as BIND prints them. */
  onWarning?: (e: ZoneSyntaxError) => void;
  /** Read size for files (tests use tiny ones to cross chunk boundaries). */
  chunkSize?: number;
  /**
   * @internal For loadZone only: records of the common types get a RawRData (stored wire form
   * in a buffer the next record reuses) as `data` instead of a data object; the consumer must
   * copy it before asking for the next entry (Zone.add does).
   */
  rawRData?: boolean;
}

/** Parser state shared with $INCLUDEd files (TTL rules carry over; origin and owner do not leak back). */
interface State {
  origin: Name;
  lastOwner: Name | undefined;
  /** Text and origin the last explicit owner was parsed from. */
  lastOwnerText: string | undefined;
  lastOwnerOrigin: Name | undefined;
  dollarTtl: number | undefined;
  lastTtl: number | undefined;
  zoneClass: number;
  includeStack: string[];
}

// The two entry points return parseEntries' generator itself (no `yield*` layer: one generator
// resume less per record). Nothing is read before the first next(): readChunks is lazy.

/** Parses a zone file, streaming. */
export function parseZoneFile(path: string, opts: ZoneParseOptions): Generator<ZoneEntry> {
  const state = initialState(opts);
  state.includeStack.push(resolve(path));
  return parseEntries(lexEntries(readChunks(path, opts.chunkSize), opts.file, opts.onError), opts.file, resolve(path), state, opts);
}

/** Parses zone text held in memory (tests, inline data). */
export function parseZoneText(text: string, opts: ZoneParseOptions): Generator<ZoneEntry> {
  const state = initialState(opts);
  return parseEntries(lexEntries([text], opts.file, opts.onError), opts.file, resolve(opts.file), state, opts);
}

function initialState(opts: ZoneParseOptions): State {
  return {
    origin: opts.origin, lastOwner: undefined, lastOwnerText: undefined, lastOwnerOrigin: undefined,
    dollarTtl: undefined, lastTtl: opts.defaultTtl,
    zoneClass: opts.defaultClass ?? RRClass.IN, includeStack: [],
  };
}

class EntryError extends Error {
  constructor(readonly tokenIndex: number, message: string) {
    super(message);
  }
}

function* parseEntries(
  entries: Iterable<Entry>, file: string, path: string, state: State, opts: ZoneParseOptions,
): Generator<ZoneEntry> {
  for (const e of entries) {
    try {
      const first = e.tokens[0]!;
      if (!e.blankOwner && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) {
        yield* directive(e, file, path, state, opts);
        continue;
      }
      const rr = parseRR(e, state, opts, file);
      yield { record: rr, file, line: e.line, column: e.columns[0]! };
    } catch (err) {
      const zerr = toZoneError(err, e, file);
      if (opts.onError === undefined) throw zerr;
      opts.onError(zerr);
    }
  }
}

function toZoneError(err: unknown, e: Entry, file: string): ZoneSyntaxError {
  if (err instanceof ZoneSyntaxError) return err;
  if (!(err instanceof Error)) throw err;
  const at = (err as { tokenIndex?: unknown }).tokenIndex;
  if (typeof at !== 'number' && !(err instanceof DnsError) && !(err instanceof RangeError)) throw err;
  const idx = Math.max(0, Math.min(typeof at === 'number' ? at : 0, e.tokens.length - 1));
  return new ZoneSyntaxError(file, e.lines[idx] ?? e.line, e.columns[idx] ?? 1, err.message, { cause: err });
}

function parseRR(e: Entry, state: State, opts: ZoneParseOptions, file: string): ResourceRecord {
  const t = e.tokens;
  let i = 0;
  let owner: Name;
  if (e.blankOwner) {
    if (state.lastOwner === undefined) throw new EntryError(0, 'no owner name: the first record must name its owner');
    owner = state.lastOwner;
  } else {
    // The same owner written again on the next line (common) reuses its Name.
    const text = t[0]!.text;
    if (text === state.lastOwnerText && state.origin === state.lastOwnerOrigin && state.lastOwner !== undefined) {
      owner = state.lastOwner;
    } else {
      owner = nameAt(e, 0, state.origin);
    }
    i = 1;
  }
  const head = recordHead;
  let status: HeadStatus;
  try {
    status = readRecordHead(t, i, head);
  } catch (err) {
    throw new EntryError(head.at, (err as Error).message);
  }
  if (status === HeadStatus.NO_TYPE) throw new EntryError(t.length - 1, 'missing RR type');
  if (status === HeadStatus.UNKNOWN_TYPE) throw new EntryError(head.at, unknownTypeReason(t[head.at]!.text));
  const type = head.type;
  const cls = head.cls;
  let ttl = head.ttl === undefined ? undefined : clampTtl(head.ttl, file, e, head.ttlIndex, opts);
  i = head.at + 1;
  // RFC 973 §2 obsoleted MD and MF (use MX); BIND refuses them in zone files, Knot cannot read them.
  if (type === RRType.MD || type === RRType.MF) throw new EntryError(i - 1, `type ${t[i - 1]!.text.toUpperCase()} is obsolete (RFC 973): use MX`);
  if (cls !== undefined && cls !== state.zoneClass) {
    throw new EntryError(0, `class ${classToString(cls)} differs from the zone's class ${classToString(state.zoneClass)}`);
  }
  let data: unknown = opts.rawRData === true ? parseRawRData(type, t, i, state.origin) : undefined;
  if (data === undefined) {
    const cursor = new TokenCursor(t, i);
    try {
      data = parseRData(type, cursor, state.origin);
    } catch (err) {
      // The failing field has just consumed its token: point at it.
      if (err instanceof DnsError) throw new EntryError(Math.max(i, Math.min(cursor.index - 1, t.length - 1)), err.message);
      throw err;
    }
  }
  if (ttl === undefined) {
    ttl = state.dollarTtl ?? state.lastTtl;
    if (ttl === undefined) {
      if (type === RRType.SOA) {
        // BIND: with no $TTL and no earlier TTL, the SOA takes its MINIMUM (RFC 1035 semantics).
        ttl = (data as { minimum: number }).minimum;
        opts.onWarning?.(new ZoneSyntaxError(file, e.line, e.columns[0]!, 'no TTL specified; using SOA MINTTL instead'));
      } else {
        throw new EntryError(0, 'no TTL specified (add $TTL or a TTL on the first record)');
      }
    }
  } else {
    if (state.dollarTtl === undefined && state.lastTtl === undefined && type === RRType.SOA) {
      // BIND says so when the zone has no $TTL (RFC 2308 §4 wants one).
      opts.onWarning?.(new ZoneSyntaxError(file, e.line, e.columns[0]!, 'using RFC1035 TTL semantics'));
    }
    state.lastTtl = ttl;
  }
  if (state.dollarTtl === undefined && type === RRType.SOA && state.lastTtl === undefined) state.lastTtl = ttl;
  if (!e.blankOwner && owner !== state.lastOwner) {
    // Only once the record parsed: a failed line must not leave its text paired with the old owner.
    state.lastOwnerText = t[0]!.text;
    state.lastOwnerOrigin = state.origin;
  }
  state.lastOwner = owner;
  return new DnsRecord(owner, type, state.zoneClass, ttl, data);
}

/** RFC 2181 §8: a TTL with the top bit set is taken as zero (BIND warns and does the same). */
function clampTtl(ttl: number, file: string, e: Entry, i: number, opts: ZoneParseOptions): number {
  if (ttl <= 0x7fffffff) return ttl;
  opts.onWarning?.(new ZoneSyntaxError(file, e.lines[i] ?? e.line, e.columns[i] ?? 1, `TTL ${ttl} > MAXTTL (2147483647), setting it to 0 (RFC 2181 §8)`));
  return 0;
}

/** Filled in by every record: parsing is synchronous, so one serves them all (no allocation per record). */
const recordHead: RecordHead = newRecordHead();

function nameAt(e: Entry, i: number, origin: Name): Name {
  try {
    return Name.fromText(e.tokens[i]!.text, origin);
  } catch (err) {
    throw new EntryError(i, (err as Error).message);
  }
}

function* directive(e: Entry, file: string, path: string, state: State, opts: ZoneParseOptions): Generator<ZoneEntry> {
  const t = e.tokens;
  const name = t[0]!.text.toUpperCase();
  switch (name) {
    case '$ORIGIN': {
      if (t.length !== 2) throw new EntryError(0, '$ORIGIN takes one domain name');
      state.origin = nameAt(e, 1, state.origin);
      return;
    }
    case '$TTL': {
      if (t.length !== 2) throw new EntryError(0, '$TTL takes one TTL');
      try {
        state.dollarTtl = clampTtl(parseTtl(t[1]!.text, '$TTL'), file, e, 1, opts);
      } catch (err) {
        throw new EntryError(1, (err as Error).message);
      }
      state.lastTtl = state.dollarTtl;
      return;
    }
    case '$INCLUDE': {
      if (opts.allowInclude === false) throw new EntryError(0, '$INCLUDE is not allowed here');
      if (t.length < 2 || t.length > 3) throw new EntryError(0, '$INCLUDE takes a file name and an optional origin');
      const target = resolve(dirname(path), t[1]!.text);
      const max = opts.maxIncludeDepth ?? 10;
      if (state.includeStack.includes(target)) throw new EntryError(1, `$INCLUDE loop: ${target} is already being read`);
      if (state.includeStack.length > max) throw new EntryError(1, `$INCLUDE nested deeper than ${max}`);
      const saved = { origin: state.origin, lastOwner: state.lastOwner };
      // RFC 1035 §5.1: the origin given (or the current one) applies inside the file only.
      if (t.length === 3) state.origin = nameAt(e, 2, state.origin);
      state.includeStack.push(target);
      try {
        accessSync(target, constants.R_OK);
      } catch (err) {
        state.includeStack.pop();
        state.origin = saved.origin;
        throw new EntryError(1, `cannot read ${t[1]!.text}: ${(err as Error).message}`);
      }
      try {
        yield* parseEntries(lexEntries(readChunks(target, opts.chunkSize), target, opts.onError), target, target, state, opts);
      } finally {
        state.includeStack.pop();
        state.origin = saved.origin;
        state.lastOwner = saved.lastOwner;
        state.lastOwnerText = undefined;
      }
      return;
    }
    case '$GENERATE': {
      for (const gen of expandGenerate(e, state.origin, file)) {
        let rr: ResourceRecord;
        try {
          rr = parseRR(gen, state, opts, file);
        } catch (err) {
          // Positions of the generated entry point at the directive's own tokens.
          throw toZoneError(err, gen, file);
        }
        yield { record: rr, file, line: e.line, column: e.columns[0]! };
      }
      return;
    }
    default:
      throw new EntryError(0, `unknown directive ${t[0]!.text}`);
  }
}

