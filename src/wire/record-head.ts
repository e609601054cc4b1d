/**
 * The head of a record in presentation form, between its owner and its RDATA:
 * `[ttl] [class] type`, TTL and class in either order (RFC 1035 §5.1). One reading for every
 * place that parses records from text: `parseRecord`, the zone file parser and `$GENERATE`.
 *
 * Rules (BIND 9.18's master-file reader):
 * - A TTL is a token starting with a digit: plain seconds or BIND units (`1h30m`, `2W`), see
 *   `parseTtl`. Only one; a second is taken for a class or type (and so refused).
 * - A class is a mnemonic (IN, CH/CHAOS, HS/HESIOD, NONE, ANY) or `CLASSnn` (RFC 3597 §5).
 *   `ANY` is both a class and a (question) type: it is the class only when a type follows.
 * - The type is a mnemonic or `TYPEnn` (RFC 3597 §5); the RDATA starts after it.
 * - A quoted token is never a TTL, class or type.
 * Owners (`@`, relative and absolute names, RFC 1035 §5.1) are `Name.fromText(text, origin)`.
 *
 * Hot path of zone loading: no allocation per record (the caller's `RecordHead` is filled in),
 * and mnemonic spellings are remembered in bounded tables (a zone repeats them on every line).
 */
import { type Token, parseTtl } from './rdata/text.js';
import { classFromString, typeFromString } from './types.js';

export interface RecordHead {
  /** The TTL written, or undefined (the caller's default applies). Not clamped (RFC 2181 §8 is the caller's). */
  ttl: number | undefined;
  /** Index of the TTL token (for warnings), -1 without one. */
  ttlIndex: number;
  /** The class written, or undefined. */
  cls: number | undefined;
  type: number;
  /**
   * On success the index of the type token (RDATA starts after it). On failure the index of the
   * token at fault: an unknown type, a bad TTL, or `tokens.length` when no type came.
   */
  at: number;
}

export function newRecordHead(): RecordHead {
  return { ttl: undefined, ttlIndex: -1, cls: undefined, type: 0, at: 0 };
}

/** How reading a record head ended. */
export const HeadStatus = {
  OK: 0,
  /** `head.at` is neither a TTL, a class nor a known type. */
  UNKNOWN_TYPE: 1,
  /** The tokens ended before a type. */
  NO_TYPE: 2,
} as const;
export type HeadStatus = (typeof HeadStatus)[keyof typeof HeadStatus];

/**
 * Reads `[ttl] [class] type` from `tokens` at `start` into `head`. A bad TTL throws
 * TextFormatError (field `TTL`) with `head.at` at its token; other failures are returned, so
 * that each caller words them its own way and points at `head.at`.
 */
export function readRecordHead(tokens: readonly Token[], start: number, head: RecordHead): HeadStatus {
  head.ttl = undefined;
  head.ttlIndex = -1;
  head.cls = undefined;
  const n = tokens.length;
  for (let i = start; i < n; i++) {
    head.at = i;
    const tok = tokens[i]!;
    if (tok.quoted) return HeadStatus.UNKNOWN_TYPE;
    const text = tok.text;
    const c0 = text.charCodeAt(0);
    if (head.ttl === undefined && c0 >= 0x30 && c0 <= 0x39) {
      head.ttl = parseTtl(text, 'TTL');
      head.ttlIndex = i;
      continue;
    }
    if (head.cls === undefined) {
      const c = classOf(text);
      if (c !== undefined && (c !== ANY || typeOf(text) === undefined || (i + 1 < n && !tokens[i + 1]!.quoted && typeOf(tokens[i + 1]!.text) !== undefined))) {
        head.cls = c;
        continue;
      }
    }
    const t = typeOf(text);
    if (t === undefined) return HeadStatus.UNKNOWN_TYPE;
    head.type = t;
    return HeadStatus.OK;
  }
  head.at = n;
  return HeadStatus.NO_TYPE;
}

const ANY = 255;

// What each spelling meant (no upper-casing per token). Bounded, since spellings come from input.
const classCache = new Map<string, number>();
const typeCache = new Map<string, number>();
const CACHE_LIMIT = 4096;

/** The class a mnemonic or CLASSnn names, or undefined (memoised). */
export function classOf(text: string): number | undefined {
  let c = classCache.get(text);
  if (c === undefined) {
    c = classFromString(text) ?? -1;
    if (classCache.size < CACHE_LIMIT) classCache.set(text, c);
  }
  return c < 0 ? undefined : c;
}

/** The type a mnemonic or TYPEnn names, or undefined (memoised). */
export function typeOf(text: string): number | undefined {
  let c = typeCache.get(text);
  if (c === undefined) {
    c = typeFromString(text) ?? -1;
    if (typeCache.size < CACHE_LIMIT) typeCache.set(text, c);
  }
  return c < 0 ? undefined : c;
}
