/**
 * BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`: one record per value, with `$`
 * in lhs/rhs replaced by the value and `${offset[,width[,base]]}` modifiers (bases d, o, x, X,
 * and n/N for reversed nibbles as in ip6.arpa names). `\$` is a literal dollar sign.
 *
 * The number of records one directive may make is capped: a zone file is input we do not trust.
 */
import type { Name } from '../wire/name.js';
import type { Token } from '../wire/rdata/text.js';
import { classFromString, typeFromString } from '../wire/types.js';
import type { Entry } from './lexer.js';

/** Most records one $GENERATE may produce. */
export const MAX_GENERATE = 1_000_000;

class GenerateError extends Error {
  constructor(readonly tokenIndex: number, message: string) {
    super(message);
  }
}

/** Expands a `$GENERATE` entry into ordinary record entries (owner first, no blank owner). */
export function* expandGenerate(e: Entry, _origin: Name, _file: string): Generator<Entry> {
  const t = e.tokens;
  if (t.length < 5) throw withIndex(0, '$GENERATE needs a range, lhs, type and rhs');
  const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(t[1]!.text);
  if (m === null) throw withIndex(1, `bad $GENERATE range "${t[1]!.text}" (start-stop[/step])`);
  const start = Number(m[1]);
  const stop = Number(m[2]);
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (stop < start || step < 1 || stop > 0xffffffff) throw withIndex(1, `bad $GENERATE range "${t[1]!.text}"`);
  if (Math.floor((stop - start) / step) + 1 > MAX_GENERATE) throw withIndex(1, `$GENERATE range makes more than ${MAX_GENERATE} records`);
  // Optional TTL and class, then the type; everything after it is the rhs.
  let i = 3;
  while (i < t.length && typeFromString(t[i]!.text) === undefined) {
    const text = t[i]!.text;
    const isTtl = /^\d/.test(text);
    if (!isTtl && classFromString(text) === undefined) throw withIndex(i, `unknown RR type "${text}"`);
    i++;
  }
  if (i >= t.length - 1) throw withIndex(t.length - 1, '$GENERATE needs a type and an rhs');
  const lhs = t[2]!;
  const middle = t.slice(3, i + 1);
  const rhs = t.slice(i + 1);
  for (let v = start; v <= stop; v += step) {
    const tokens: Token[] = [{ text: substitute(lhs.text, v, 2), quoted: lhs.quoted }, ...middle];
    for (const r of rhs) tokens.push({ text: substitute(r.text, v, i + 1), quoted: r.quoted });
    const lines = tokens.map((_, k) => e.lines[Math.min(k + 2, e.lines.length - 1)]!);
    const columns = tokens.map((_, k) => e.columns[Math.min(k + 2, e.columns.length - 1)]!);
    yield { tokens, lines, columns, blankOwner: false, line: e.line };
  }
}

function withIndex(i: number, msg: string): Error {
  // The parser maps `tokenIndex` to a line and column.
  return Object.assign(new GenerateError(i, msg), { tokenIndex: i });
}

/** Replaces `$` and `${offset,width,base}` in `template` with `value`. */
export function substitute(template: string, value: number, tokenIndex: number): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\' && template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    if (template[i + 1] !== '{') {
      out += String(value);
      continue;
    }
    const close = template.indexOf('}', i);
    if (close < 0) throw withIndex(tokenIndex, `unterminated "\${" in "${template}"`);
    const parts = template.slice(i + 2, close).split(',');
    const offset = Number(parts[0] ?? 0);
    const width = parts[1] === undefined ? 0 : Number(parts[1]);
    const base = parts[2] ?? 'd';
    if (!Number.isInteger(offset) || !Number.isInteger(width) || width < 0 || parts.length > 3) {
      throw withIndex(tokenIndex, `bad modifier "\${${parts.join(',')}}"`);
    }
    out += format(value + offset, width, base, tokenIndex);
    i = close;
  }
  return out;
}

function format(v: number, width: number, base: string, tokenIndex: number): string {
  if (v < 0) throw withIndex(tokenIndex, 'offset makes the value negative');
  switch (base) {
    case 'd': return String(v).padStart(width, '0');
    case 'o': return v.toString(8).padStart(width, '0');
    case 'x': return v.toString(16).padStart(width, '0');
    case 'X': return v.toString(16).toUpperCase().padStart(width, '0');
    case 'n':
    case 'N': {
      // Nibbles least significant first, dot separated (ip6.arpa style); width counts nibbles.
      let hex = v.toString(16).padStart(width, '0');
      if (base === 'N') hex = hex.toUpperCase();
      return hex.split('').reverse().join('.');
    }
    default:
      throw withIndex(tokenIndex, `unknown base "${base}" (d, o, x, X, n or N)`);
  }
}
