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
import { type Token, closingQuote, tokenEnd } from '../wire/rdata/text.js';

export interface Entry {
  tokens: Token[];
  /**
   * Line (1-based) of each token; empty when every token is on `line` (most entries: one array
   * less per record), so read it as `lines[i] ?? line`.
   */
  lines: number[];
  /** Column (1-based) of each token. */
  columns: number[];
  /** The entry began with whitespace: its owner is the previous owner. */
  blankOwner: boolean;
  /** Line the entry starts on. */
  line: number;
}

/** Reports a lexical error; the lexer then skips to the next entry. */
export type LexErrorSink = (e: ZoneSyntaxError) => void;

/**
 * Read size. Small enough that a chunk's string (and the carried line joined to it) is an
 * ordinary young-generation object that dies young: 1 MiB strings went to V8's large-object
 * space, which only a full GC frees, and a big zone left ~100 MB of them behind in peak RSS.
 */
const DEFAULT_CHUNK = 48 * 1024;

/** Yields the text of `path` in chunks (UTF-8 safe across chunk boundaries). */
export function* readChunks(path: string, chunkSize = DEFAULT_CHUNK): Generator<string> {
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
  // Blocks of whole lines: the partial line carried over plus a chunk, up to its last newline
  // (the rest is carried to the next block); the last block is what remains at the end.
  const blocks = function* (): Generator<string> {
    for (const chunk of chunks) {
      const text = carry + chunk;
      const last = text.lastIndexOf('\n');
      if (last < 0) {
        carry = text;
        continue;
      }
      carry = text.slice(last + 1);
      yield text.slice(0, last + 1);
    }
    if (carry.length > 0) yield carry;
  };
  // Lines are lexed in place in their block (no string per line): `ls` is where the current
  // line starts, `n` where it ends (before "\n" and a "\r" ahead of it).
  for (const block of blocks()) {
    const blockEnd = block.length;
    for (let ls = 0, next = 0; ls < blockEnd; ls = next) {
      let n = block.indexOf('\n', ls);
      if (n < 0) n = blockEnd;
      next = n + 1;
      lineNo++;
      if (n > ls && block.charCodeAt(n - 1) === 0x0d) n--;
      let i = ls;
      if (depth === 0) {
        cur = undefined;
        nTok = 0;
        broken = false;
      }
      while (i < n) {
        const c = block.charCodeAt(i);
        if (c === 0x20 || c === 0x09 || c === 0x0d) {
          i++;
          continue;
        }
        if (c === 0x3b) break; // comment
        if (c === 0x28) {
          depth++;
          if (cur === undefined) cur = newEntry(block, ls, lineNo);
          i++;
          continue;
        }
        if (c === 0x29) {
          if (depth === 0) fail(lineNo, i - ls + 1, 'unbalanced ")"');
          else depth--;
          i++;
          continue;
        }
        if (cur === undefined) cur = newEntry(block, ls, lineNo);
        if (c === 0x22) {
          const j = closingQuote(block, i, n);
          if (j < 0) {
            fail(lineNo, i - ls + 1, 'unterminated quoted string');
            break;
          }
          toks[nTok] = { text: block.slice(i + 1, j), quoted: true };
          tokLines[nTok] = lineNo;
          tokCols[nTok++] = i - ls + 1;
          i = j + 1;
          continue;
        }
        // The token rule is tokenize()'s (wire/rdata/text.ts); only lines and columns are the lexer's.
        const j = tokenEnd(block, i, n);
        toks[nTok] = { text: block.slice(i, j), quoted: false };
        tokLines[nTok] = lineNo;
        tokCols[nTok++] = i - ls + 1;
        i = j;
      }
      if (depth === 0 && cur !== undefined) {
        if (!broken && nTok > 0) {
          cur.tokens = toks.slice(0, nTok);
          if (tokLines[nTok - 1] !== cur.line) cur.lines = tokLines.slice(0, nTok);
          cur.columns = tokCols.slice(0, nTok);
          nTok = 0;
          yield cur;
        }
        nTok = 0;
        cur = undefined;
      }
    }
  }
  if (depth > 0) {
    fail(cur?.line ?? lineNo, 1, 'unbalanced "(": missing ")" before the end of the file');
  }
}

const EMPTY_TOKENS: Token[] = [];
const EMPTY_NUMBERS: number[] = [];

function newEntry(text: string, lineStart: number, lineNo: number): Entry {
  const c = text.charCodeAt(lineStart);
  return { tokens: EMPTY_TOKENS, lines: EMPTY_NUMBERS, columns: EMPTY_NUMBERS, blankOwner: c === 0x20 || c === 0x09, line: lineNo };
}
