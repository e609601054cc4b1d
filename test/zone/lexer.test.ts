/** The master-file lexer (RFC 1035 §5.1) where its token rule meets tokenize()'s. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lexEntries } from '../../src/zone/lexer.js';
import { tokenize } from '../../src/wire/rdata/text.js';

test('a carriage return inside a line separates tokens like a space (the token rule is tokenize()\'s)', () => {
  const entries = [...lexEntries(['a\rA 192.0.2.1\r\n'], 'cr.zone')];
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0]!.tokens.map((t) => t.text), ['a', 'A', '192.0.2.1']);
});

test('the lexer and tokenize() split a line the same way (escapes, quotes, comments)', () => {
  const line = 'a\\.b 300 IN TXT "x \\" y" plain\\ space ; comment';
  const lexed = [...lexEntries([line + '\n'], 'same.zone')][0]!.tokens;
  assert.deepEqual(lexed, tokenize(line));
});
