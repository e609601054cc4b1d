/**
 * BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`: one record per value, with `$`
 * in lhs/rhs replaced by the value and `${offset[,width[,base]]}` modifiers (bases d, o, x, X,
 * and n/N for nibbles, least significant first, as in ip6.arpa names). As in BIND (lib/dns/master.c):
 * - `$$` is a literal dollar sign; `\X` is copied with its backslash (so `\$` reaches the
 *   name or RDATA parser, which reads it as `$`);
 * - the offset given in `${...}` also applies to later plain `$` in the same template;
 * - for n/N, width counts output characters, dots included (`${0,3,n}` of 10 is `a.0`);
 * - the rhs is one token; after substitution it is read again as RDATA text, so a quoted rhs
 *   `"$ x"` gives two TXT strings; anything after the rhs is an error.
 *
 * The number of records one directive may make is capped: a zone file is input we do not trust.
 */
import type { Name } from '../wire/name.js';
import { type Token, tokenize } from '../wire/rdata/text.js';
import { HeadStatus, newRecordHead, readRecordHead } from '../wire/record-head.js';
import type { Entry } from './lexer.js';
import { unknownTypeReason } from './reasons.js';

/** Most records one $GENERATE may produce. */
export const MAX_GENERATE = 1_000_000;

class GenerateError extends Error {
  constructor(readonly tokenIndex: number, message: string) {
    super(message);
  }
}

const RANGE = /^(\d+)-(\d+)(?:\/(\d+))?$/;
const MODIFIER = /^\{(-?\d+)(?:,(\d+)(?:,([doxXnN]))?)?\}/;

/** Expands a `$GENERATE` entry into ordinary record entries (owner first, no blank owner). */
export function* expandGenerate(e: Entry, _origin: Name, _file: string): Generator<Entry> {
  const t = e.tokens;
  if (t.length < 5) throw withIndex(Math.max(0, t.length - 1), '$GENERATE needs a range, lhs, type and rhs');
  const m = RANGE.exec(t[1]!.text);
  if (m === null) throw withIndex(1, `bad $GENERATE range "${t[1]!.text}" (start-stop[/step])`);
  const start = Number(m[1]);
  const stop = Number(m[2]);
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (stop < start || step < 1 || stop > 0x7fffffff) throw withIndex(1, `bad $GENERATE range "${t[1]!.text}"`);
  if (Math.floor((stop - start) / step) + 1 > MAX_GENERATE) throw withIndex(1, `$GENERATE range makes more than ${MAX_GENERATE} records`);
  // Optional TTL and class (either order), then the type; the rhs is the one token after it.
  const rh = newRecordHead();
  let status: HeadStatus;
  try {
    status = readRecordHead(t, 3, rh);
  } catch (err) {
    throw withIndex(rh.at, (err as Error).message);
  }
  if (status === HeadStatus.UNKNOWN_TYPE) throw withIndex(rh.at, unknownTypeReason(t[rh.at]!.text));
  const i = rh.at;
  if (status === HeadStatus.NO_TYPE || i >= t.length - 1) throw withIndex(t.length - 1, '$GENERATE needs a type and an rhs');
  if (i + 2 < t.length) throw withIndex(i + 2, `extra input text after the $GENERATE rhs: "${t[i + 2]!.text}"`);
  const lhs = t[2]!;
  const middle = t.slice(3, i + 1);
  const rhs = t[i + 1]!;
  const rhsIndex = i + 1;
  const head = [2];
  for (let k = 3; k <= i; k++) head.push(k);
  for (let v = start; v <= stop; v += step) {
    const tokens: Token[] = [{ text: substitute(lhs.text, v, 2), quoted: false }, ...middle];
    const lines = head.map((k) => e.lines[k] ?? e.line);
    const columns = head.map((k) => e.columns[k]!);
    let rdata: Token[];
    try {
      rdata = tokenize(substitute(rhs.text, v, rhsIndex));
    } catch (err) {
      if (err instanceof GenerateError) throw err;
      throw withIndex(rhsIndex, (err as Error).message);
    }
    for (const r of rdata) {
      tokens.push(r);
      lines.push(e.lines[rhsIndex] ?? e.line);
      columns.push(e.columns[rhsIndex]!);
    }
    yield { tokens, lines, columns, blankOwner: false, line: e.line };
  }
}

function withIndex(i: number, msg: string): Error {
  // The parser maps `tokenIndex` to a line and column.
  return new GenerateError(i, msg);
}

/** Replaces `$`, `$$` and `${offset[,width[,base]]}` in `template` with `value` (BIND genname()). */
export function substitute(template: string, value: number, tokenIndex = 0): string {
  let out = '';
  let delta = 0; // BIND keeps the last offset for later `$` in the same template
  const n = template.length;
  for (let i = 0; i < n; i++) {
    const c = template.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (c !== 0x24 /* $ */) {
      out += template[i];
      continue;
    }
    if (template.charCodeAt(i + 1) === 0x24) {
      out += '$';
      i++;
      continue;
    }
    let width = 0;
    let base = 'd';
    if (template.charCodeAt(i + 1) === 0x7b /* { */) {
      const m = MODIFIER.exec(template.slice(i + 1));
      if (m === null) throw withIndex(tokenIndex, `bad $GENERATE modifier in "${template}" (\${offset[,width[,base]]}, base one of d o x X n N)`);
      delta = Number(m[1]);
      width = m[2] === undefined ? 0 : Number(m[2]);
      base = m[3] ?? 'd';
      i += m[0].length;
    }
    out += format(value + delta, width, base, tokenIndex);
  }
  return out;
}

function format(v: number, width: number, base: string, tokenIndex: number): string {
  if (v < 0 && base !== 'd') throw withIndex(tokenIndex, `$GENERATE value ${v} is negative`);
  switch (base) {
    case 'd': return v < 0 ? '-' + String(-v).padStart(width - 1, '0') : String(v).padStart(width, '0');
    case 'o': return v.toString(8).padStart(width, '0');
    case 'x': return v.toString(16).padStart(width, '0');
    case 'X': return v.toString(16).toUpperCase().padStart(width, '0');
    default: return nibbles(v, width, base === 'N');
  }
}

/**
 * Nibbles least significant first, dot separated; `width` counts output characters including
 * the dots, and a dot is added while width remains (so a width can end the text with a dot).
 */
function nibbles(value: number, width: number, upper: boolean): string {
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = '';
  let v = value;
  do {
    out += digits[v & 0xf];
    v = Math.floor(v / 16);
    if (width > 0) width--;
    if (width > 0 || v !== 0) {
      out += '.';
      if (width > 0) width--;
    }
  } while (v !== 0 || width > 0);
  return out;
}
