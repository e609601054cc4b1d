/**
 * Master-file lexer (RFC 1035 §5.1): turns text, read in chunks, into entries — the tokens of
 * one record or directive, with their line and column — without ever holding the whole file.
 *
 * Rules: whitespace separates; `;` starts a comment; `(`...`)` continue an entry across lines;
 * `"..."` quotes (escapes kept raw for the field parsers); a backslash escapes the next
 * character (`\.`, `\;`, `\(`, `\DDD`); an entry that starts with whitespace has a blank owner.
 * A quoted string may not span lines (as in BIND).
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ZoneSyntaxError } from '../errors.js';
import type { Token } from '../wire/rdata/text.js';

export interface Entry {
  tokens: Token[];
  /** Line and column (1-based) of each token. */
  lines: number[];
  columns: number[];
  /** The entry began with whitespace: its owner is the previous owner. */
  blankOwner: boolean;
  /** Line the entry starts on. */
  line: number;
}

/** Reports a lexical error; the lexer then skips to the next entry. */
export type LexErrorSink = (e: ZoneSyntaxError) => void;

/** Yields the text of `path` in chunks (UTF-8 safe across chunk boundaries). */
export function* readChunks(path: string, chunkSize = 1 << 20): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    const decoder = new StringDecoder('utf8');
    for (;;) {
      const n = readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) break;
      yield decoder.write(buf.subarray(0, n));
    }
    const tail = decoder.end();
    if (tail.length > 0) yield tail;
  } finally {
    closeSync(fd);
  }
}

/**
 * Splits chunks of master-file text into entries. `onError` gets lexical errors (unbalanced
 * parentheses, unterminated quotes); without it they are thrown.
 */
export function* lexEntries(chunks: Iterable<string>, file: string, onError?: LexErrorSink): Generator<Entry> {
  let carry = '';
  let lineNo = 0;
  let depth = 0;
  let cur: Entry | undefined;
  // Tokens of the entry being read collect here and are copied out at exact size when it ends:
  // an array grown by push() from [] reserves 17 slots, and a zone has millions of entries.
  const toks: Token[] = [];
  const tokLines: number[] = [];
  const tokCols: number[] = [];
  let nTok = 0;
  let broken = false; // the current entry had an error: drop it
  const fail = (line: number, col: number, reason: string): void => {
    const e = new ZoneSyntaxError(file, line, col, reason);
    if (onError === undefined) throw e;
    onError(e);
    broken = true;
  };
  const lines = function* (): Generator<string> {
    for (const chunk of chunks) {
      let text = carry + chunk;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        yield text.slice(start, nl);
        start = nl + 1;
      }
      carry = text.slice(start);
      text = '';
    }
    if (carry.length > 0) yield carry;
  };
  for (let line of lines()) {
    lineNo++;
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
    const n = line.length;
    let i = 0;
    if (depth === 0) {
      cur = undefined;
      nTok = 0;
      broken = false;
    }
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 0x20 || c === 0x09) {
        i++;
        continue;
      }
      if (c === 0x3b) break; // comment
      if (c === 0x28) {
        depth++;
        if (cur === undefined) cur = newEntry(line, lineNo);
        i++;
        continue;
      }
      if (c === 0x29) {
        if (depth === 0) fail(lineNo, i + 1, 'unbalanced ")"');
        else depth--;
        i++;
        continue;
      }
      if (cur === undefined) cur = newEntry(line, lineNo);
      if (c === 0x22) {
        let j = i + 1;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d === 0x5c) j += 2;
          else if (d === 0x22) break;
          else j++;
        }
        if (j >= n) {
          fail(lineNo, i + 1, 'unterminated quoted string');
          break;
        }
        toks[nTok] = { text: line.slice(i + 1, j), quoted: true };
        tokLines[nTok] = lineNo;
        tokCols[nTok++] = i + 1;
        i = j + 1;
        continue;
      }
      let j = i;
      while (j < n) {
        const d = line.charCodeAt(j);
        if (d === 0x5c) {
          j += 2;
          continue;
        }
        if (d === 0x20 || d === 0x09 || d === 0x3b || d === 0x28 || d === 0x29 || d === 0x22) break;
        j++;
      }
      if (j > n) j = n;
      toks[nTok] = { text: line.slice(i, j), quoted: false };
      tokLines[nTok] = lineNo;
      tokCols[nTok++] = i + 1;
      i = j;
    }
    if (depth === 0 && cur !== undefined) {
      if (!broken && nTok > 0) {
        cur.tokens = toks.slice(0, nTok);
        cur.lines = tokLines.slice(0, nTok);
        cur.columns = tokCols.slice(0, nTok);
        nTok = 0;
        yield cur;
      }
      nTok = 0;
      cur = undefined;
    }
  }
  if (depth > 0) {
    fail(cur?.line ?? lineNo, 1, 'unbalanced "(": missing ")" before the end of the file');
  }
}

const EMPTY_TOKENS: Token[] = [];
const EMPTY_NUMBERS: number[] = [];

function newEntry(line: string, lineNo: number): Entry {
  const c = line.charCodeAt(0);
  return { tokens: EMPTY_TOKENS, lines: EMPTY_NUMBERS, columns: EMPTY_NUMBERS, blankOwner: c === 0x20 || c === 0x09, line: lineNo };
}
