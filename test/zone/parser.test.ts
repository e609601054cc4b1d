// Master-file parser (RFC 1035 §5, RFC 2308 §4, BIND's rules): directives, owners, TTL and
// class rules, RDATA text, RFC 3597, and errors with file, line and column.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { Name, ZoneSyntaxError } from '../../src/index.js';
import { parseZoneFile } from '../../src/zone/parser.js';
import { lexEntries } from '../../src/zone/lexer.js';
import { tempDir } from '../helpers/peers.js';
import { HEAD, parse, records, rrLine, writeFiles } from './util.js';

const O = 'example.com.';

test('@, relative and absolute names, $ORIGIN absolute and relative', () => {
  assert.deepEqual(records(`$TTL 60
@ A 192.0.2.1
www A 192.0.2.2
host.example.net. A 192.0.2.3
$ORIGIN sub
a A 192.0.2.4
$ORIGIN other.example.com.
@ A 192.0.2.5
b A 192.0.2.6
`), [
    'example.com. 60 IN A 192.0.2.1',
    'www.example.com. 60 IN A 192.0.2.2',
    'host.example.net. 60 IN A 192.0.2.3',
    'a.sub.example.com. 60 IN A 192.0.2.4',
    'other.example.com. 60 IN A 192.0.2.5',
    'b.other.example.com. 60 IN A 192.0.2.6',
  ]);
});

test('a blank owner is the previous owner, also after a directive', () => {
  assert.deepEqual(records(`$TTL 60
www A 192.0.2.1
 AAAA 2001:db8::1
\tTXT "tab"
$TTL 30
  MX 10 mail
`), [
    'www.example.com. 60 IN A 192.0.2.1',
    'www.example.com. 60 IN AAAA 2001:db8::1',
    'www.example.com. 60 IN TXT "tab"',
    'www.example.com. 30 IN MX 10 mail.example.com.',
  ]);
});

test('a blank owner on the first record is an error with its place', () => {
  const p = parse('$TTL 60\n   A 192.0.2.1\n');
  assert.equal(p.errors.length, 1);
  assert.equal(p.errors[0]!.line, 2);
  assert.equal(p.errors[0]!.column, 4);
  assert.match(p.errors[0]!.reason, /no owner name/);
});

test('RFC 2308 $TTL applies to records without a TTL; an explicit TTL does not change it', () => {
  assert.deepEqual(records(`$TTL 1h
a A 192.0.2.1
b 10 A 192.0.2.2
c A 192.0.2.3
$TTL 20
d A 192.0.2.4
`), [
    'a.example.com. 3600 IN A 192.0.2.1',
    'b.example.com. 10 IN A 192.0.2.2',
    'c.example.com. 3600 IN A 192.0.2.3',
    'd.example.com. 20 IN A 192.0.2.4',
  ]);
});

test('without $TTL the last explicit TTL carries over (BIND, RFC 1035 semantics) with a warning', () => {
  const p = parse(`@ 100 SOA ns1 h 1 2 3 4 5
@ NS ns1
ns1 200 A 192.0.2.1
 AAAA 2001:db8::1
x A 192.0.2.2
`);
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.records, [
    'example.com. 100 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5',
    'example.com. 100 IN NS ns1.example.com.',
    'ns1.example.com. 200 IN A 192.0.2.1',
    'ns1.example.com. 200 IN AAAA 2001:db8::1',
    'x.example.com. 200 IN A 192.0.2.2',
  ]);
  assert.deepEqual(p.warnings.map((w) => w.reason), ['using RFC1035 TTL semantics']);
});

test('no TTL anywhere: the SOA takes its MINIMUM, with BIND\'s warning, and later records follow', () => {
  const p = parse('@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n');
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.records, [
    'example.com. 5 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5',
    'example.com. 5 IN NS ns1.example.com.',
  ]);
  assert.equal(p.warnings.length, 1);
  assert.equal(p.warnings[0]!.reason, 'no TTL specified; using SOA MINTTL instead');
  assert.equal(p.warnings[0]!.line, 1);
});

test('no TTL for a record before any TTL is known is an error (BIND: "no TTL specified")', () => {
  const p = parse('ns1 A 192.0.2.1\n@ SOA ns1 h 1 2 3 4 5\n');
  assert.equal(p.errors.length, 1);
  assert.equal(p.errors[0]!.line, 1);
  assert.match(p.errors[0]!.reason, /no TTL specified/);
});

test('TTL units (BIND): s m h d w, any case, combined', () => {
  assert.deepEqual(records(`$TTL 1W2d3H4M5S
a A 192.0.2.1
b 1h30m A 192.0.2.1
c 1w A 192.0.2.1
d 90s A 192.0.2.1
e 2D A 192.0.2.1
f 0 A 192.0.2.1
`).map((l) => l.split(' ')[1]), ['788645', '5400', '604800', '90', '172800', '0']);
  const bad = parse('$TTL 1x\n');
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]!.column, 6);
});

test('TTL and class in either order; a class other than the zone\'s is an error', () => {
  assert.deepEqual(records('a 60 IN A 192.0.2.1\nb IN 70 A 192.0.2.2\nc CLASS1 80 A 192.0.2.3\n'), [
    'a.example.com. 60 IN A 192.0.2.1',
    'b.example.com. 70 IN A 192.0.2.2',
    'c.example.com. 80 IN A 192.0.2.3',
  ]);
  const p = parse('$TTL 60\nb CH A 192.0.2.1\n');
  assert.equal(p.errors.length, 1);
  assert.match(p.errors[0]!.reason, /class CH differs/);
});

test('owner names that look like types, classes or numbers are owners', () => {
  assert.deepEqual(records('$TTL 60\nA A 192.0.2.1\nIN IN A 192.0.2.2\n1 A 192.0.2.3\nmx MX 1 a\n'), [
    'A.example.com. 60 IN A 192.0.2.1',
    'IN.example.com. 60 IN A 192.0.2.2',
    '1.example.com. 60 IN A 192.0.2.3',
    'mx.example.com. 60 IN MX 1 a.example.com.',
  ]);
});

test('parentheses continue a record across lines; comments inside them are ignored', () => {
  assert.deepEqual(records(`$TTL 60
@ IN SOA ns1.example.com. ( ; primary
        hostmaster   ; mailbox
        2024010101   ; serial
        1h 15m       ; refresh, retry
        1w           ; expire
        5m )         ; minimum
t TXT ( "one"
  "two" ) ; done
`), [
    'example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300',
    't.example.com. 60 IN TXT "one" "two"',
  ]);
});

test('parenthesis errors: a stray ")" and a "(" never closed', () => {
  const p = parse('$TTL 60\na A 192.0.2.1 )\nb TXT ( "x"\n');
  assert.equal(p.errors.length, 2);
  assert.deepEqual([p.errors[0]!.line, p.errors[0]!.column], [2, 15]);
  assert.match(p.errors[0]!.reason, /unbalanced "\)"/);
  assert.equal(p.errors[1]!.line, 3);
  assert.match(p.errors[1]!.reason, /missing "\)"/);
});

test('comments: whole lines, after records, and ";" inside quotes is text', () => {
  assert.deepEqual(records(`; a comment
$TTL 60 ; ttl
a TXT "x;y" ; comment "not text"
b TXT a\\;b
`), [
    'a.example.com. 60 IN TXT "x;y"',
    'b.example.com. 60 IN TXT "a;b"',
  ]);
});

test('quoted strings with escapes: \\" \\\\ \\DDD, spaces, empty strings', () => {
  assert.deepEqual(records(`$TTL 60
a TXT "say \\"hi\\"" "back\\\\slash" "\\065\\066C" "two words" ""
b TXT unquoted\\032space
`), [
    'a.example.com. 60 IN TXT "say \\"hi\\"" "back\\\\slash" "ABC" "two words" ""',
    'b.example.com. 60 IN TXT "unquoted space"',
  ]);
});

test('an unterminated quoted string is an error at the opening quote', () => {
  const p = parse('$TTL 60\na TXT "open\nb A 192.0.2.1\n');
  assert.equal(p.errors.length, 1);
  assert.deepEqual([p.errors[0]!.line, p.errors[0]!.column], [2, 7]);
  assert.match(p.errors[0]!.reason, /unterminated quoted string/);
  assert.deepEqual(p.records, ['b.example.com. 60 IN A 192.0.2.1']);
});

test('escaped names: \\. inside a label, \\DDD, \\@', () => {
  assert.deepEqual(records('$TTL 60\na\\.b A 192.0.2.1\n\\065x A 192.0.2.2\n\\@ A 192.0.2.3\n'), [
    'a\\.b.example.com. 60 IN A 192.0.2.1',
    'Ax.example.com. 60 IN A 192.0.2.2',
    '\\@.example.com. 60 IN A 192.0.2.3',
  ]);
});

test('TXT longer than 255 octets is split into 255-octet strings (as kzonecheck accepts it)', () => {
  const long = 'a'.repeat(300);
  const [line] = records(`$TTL 60\nt TXT "${long}"\n`);
  assert.equal(line, `t.example.com. 60 IN TXT "${'a'.repeat(255)}" "${'a'.repeat(45)}"`);
});

test('RFC 3597: TYPEnnn, CLASSnnn and \\# generic RDATA; known types accept \\# too', () => {
  assert.deepEqual(records(`$TTL 60
u TYPE65534 \\# 3 abcdef
e TYPE65000 \\# 0
a CLASS1 TYPE1 \\# 4 c0000201
m MX \\# ( 8 000a 04 6d61696c 00 )
`), [
    'u.example.com. 60 IN TYPE65534 \\# 3 ABCDEF',
    'e.example.com. 60 IN TYPE65000 \\# 0',
    'a.example.com. 60 IN A 192.0.2.1',
    'm.example.com. 60 IN MX 10 mail.',
  ]);
  const bad = parse('$TTL 60\nu TYPE65534 \\# 4 abcdef\n');
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]!.line, 2);
});

test('bad RDATA: the error names the line, the column of the bad token and the reason', () => {
  const p = parse(`$TTL 60
ok A 192.0.2.1
bad A 192.0.2.300
mx MX ten mail
aaaa AAAA 2001:db8::zz
x FOO 1
`);
  assert.deepEqual(p.records, ['ok.example.com. 60 IN A 192.0.2.1']);
  assert.deepEqual(p.errors.map((e) => [e.file, e.line, e.column]), [
    ['test.zone', 3, 7], ['test.zone', 4, 7], ['test.zone', 5, 11], ['test.zone', 6, 3],
  ]);
  assert.match(p.errors[3]!.reason, /unknown RR type "FOO"/);
  // The way out for a type this parser does not know: RFC 3597 §5 generic form.
  assert.match(p.errors[3]!.reason, /RFC 3597 form, TYPEnnn \\# LENGTH HEX \(e\.g\. TYPE29 \\# 16/);
  for (const e of p.errors) {
    assert.ok(e instanceof ZoneSyntaxError);
    assert.equal(e.code, 'ERR_DNS_ZONE_SYNTAX');
    assert.ok(e.message.startsWith(`test.zone:${e.line}:${e.column}: `));
  }
});

test('without onError the first error is thrown', () => {
  assert.throws(() => [...parseZoneTextThrowing('$TTL 60\na A 1.2.3\n')], (e: unknown) =>
    e instanceof ZoneSyntaxError && e.line === 2 && e.column === 5);
});

function* parseZoneTextThrowing(text: string): Generator<string> {
  const dir = tempDir();
  try {
    writeFiles(dir.path, { 'z.zone': text });
    for (const e of parseZoneFile(join(dir.path, 'z.zone'), { origin: Name.fromText(O), file: 'z.zone' })) yield rrLine(e.record);
  } finally {
    dir.cleanup();
  }
}

test('unknown directive and wrong argument counts are errors', () => {
  const p = parse('$FOO bar\n$TTL\n$ORIGIN a. b.\n');
  assert.equal(p.errors.length, 3);
  assert.match(p.errors[0]!.reason, /unknown directive \$FOO/);
});

test('$INCLUDE is relative to the including file; an origin applies inside it only', () => {
  const dir = tempDir();
  try {
    writeFiles(dir.path, {
      'main.zone': `${HEAD}$INCLUDE sub/part.zone
before A 192.0.2.10
$INCLUDE sub/part.zone inc
 A 192.0.2.11
after A 192.0.2.12
`,
      'sub/part.zone': 'x A 192.0.2.20\n$INCLUDE deeper.zone\n',
      'sub/deeper.zone': '$ORIGIN deep.example.com.\ny A 192.0.2.30\n',
    });
    const lines: string[] = [];
    const where: string[] = [];
    for (const e of parseZoneFile(join(dir.path, 'main.zone'), { origin: Name.fromText(O), file: 'main.zone' })) {
      lines.push(rrLine(e.record));
      where.push(`${e.file.endsWith('main.zone') ? 'main' : e.file.split('/').pop()}:${e.line}`);
    }
    assert.deepEqual(lines.slice(3), [
      'x.example.com. 3600 IN A 192.0.2.20',
      'y.deep.example.com. 3600 IN A 192.0.2.30',
      'before.example.com. 3600 IN A 192.0.2.10',
      'x.inc.example.com. 3600 IN A 192.0.2.20',
      'y.deep.example.com. 3600 IN A 192.0.2.30',
      // RFC 1035 §5.1: after $INCLUDE the origin and the current owner are restored.
      'before.example.com. 3600 IN A 192.0.2.11',
      'after.example.com. 3600 IN A 192.0.2.12',
    ]);
    assert.deepEqual(where.slice(3, 5), ['part.zone:1', 'deeper.zone:2']);
  } finally {
    dir.cleanup();
  }
});

test('$INCLUDE errors: missing file, include loop, errors inside report the included file', () => {
  const dir = tempDir();
  try {
    writeFiles(dir.path, {
      'a.zone': '$TTL 60\n$INCLUDE missing.zone\n$INCLUDE b.zone\n',
      'b.zone': 'ok A 192.0.2.1\nbad A 300.1.1.1\n$INCLUDE a.zone\n',
    });
    const errors: ZoneSyntaxError[] = [];
    const got = [...parseZoneFile(join(dir.path, 'a.zone'), { origin: Name.fromText(O), file: 'a.zone', onError: (e) => errors.push(e) })];
    assert.equal(got.length, 1);
    assert.equal(errors.length, 3);
    assert.deepEqual([errors[0]!.file, errors[0]!.line, errors[0]!.column], ['a.zone', 2, 10]);
    assert.match(errors[0]!.reason, /cannot read missing\.zone/);
    assert.ok(errors[1]!.file.endsWith('b.zone'));
    assert.deepEqual([errors[1]!.line, errors[1]!.column], [2, 7]);
    assert.match(errors[2]!.reason, /\$INCLUDE loop/);
  } finally {
    dir.cleanup();
  }
});

test('$INCLUDE depth is capped and can be switched off', () => {
  const dir = tempDir();
  try {
    const files: Record<string, string> = { 'z0.zone': '$TTL 60\n$INCLUDE z1.zone\n' };
    for (let i = 1; i < 15; i++) files[`z${i}.zone`] = `n${i} A 192.0.2.${i}\n$INCLUDE z${i + 1}.zone\n`;
    files['z15.zone'] = 'end A 192.0.2.99\n';
    writeFiles(dir.path, files);
    const errors: ZoneSyntaxError[] = [];
    const got = [...parseZoneFile(join(dir.path, 'z0.zone'), { origin: Name.fromText(O), file: 'z0.zone', onError: (e) => errors.push(e), maxIncludeDepth: 5 })];
    assert.equal(got.length, 5);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.reason, /nested deeper than 5/);
    const off: ZoneSyntaxError[] = [];
    [...parseZoneFile(join(dir.path, 'z0.zone'), { origin: Name.fromText(O), file: 'z0.zone', onError: (e) => off.push(e), allowInclude: false })];
    assert.match(off[0]!.reason, /not allowed/);
  } finally {
    dir.cleanup();
  }
});

test('CRLF line endings and tiny read chunks give the same records (streaming)', () => {
  const text = `${HEAD}a TXT "x y" ( "z"\r\n  "w" )\r\nb A 192.0.2.2\r\n$GENERATE 1-3 g$ A 192.0.2.$\r\nu TXT "caf\u00e9"\r\n`;
  const dir = tempDir();
  try {
    writeFiles(dir.path, { 'z.zone': text });
    const full = records(text);
    for (const chunkSize of [1, 2, 7, 64]) {
      const got = [...parseZoneFile(join(dir.path, 'z.zone'), { origin: Name.fromText(O), file: 'z.zone', chunkSize })].map((e) => rrLine(e.record));
      assert.deepEqual(got, full, `chunk size ${chunkSize}`);
    }
    assert.ok(full.includes('u.example.com. 3600 IN TXT "caf\\195\\169"'));
  } finally {
    dir.cleanup();
  }
});

test('the lexer streams: entries come out while the input is still being produced', () => {
  let produced = 0;
  function* endless(): Generator<string> {
    for (;;) {
      produced++;
      yield `h${produced} A 192.0.2.1\nh${produced}b TXT "x"\n`;
    }
  }
  let n = 0;
  for (const e of lexEntries(endless(), 'endless')) {
    assert.equal(e.tokens.length, 3);
    if (++n === 100_000) break;
  }
  // Two entries per chunk: never more than one chunk read ahead.
  assert.ok(produced <= 50_001, `read ${produced} chunks for ${n} entries`);
});

test('every error is collected, parsing continues after each', () => {
  const p = parse('$TTL 60\na A x\nb A 192.0.2.1\nc MX\nd A 192.0.2.4\n');
  assert.deepEqual(p.errors.map((e) => e.line), [2, 4]);
  assert.deepEqual(p.records, ['b.example.com. 60 IN A 192.0.2.1', 'd.example.com. 60 IN A 192.0.2.4']);
});

test('RFC 2181 §8: a TTL over 2^31-1 becomes 0 with a warning (as BIND does)', () => {
  const p = parse('$TTL 4294967295\na A 192.0.2.1\nb 2147483648 A 192.0.2.2\nc 2147483647 A 192.0.2.3\n');
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.records.map((l) => l.split(' ')[1]), ['0', '0', '2147483647']);
  assert.deepEqual(p.warnings.map((w) => `${w.line}:${w.column}`), ['1:6', '3:3']);
  assert.match(p.warnings[0]!.reason, /TTL 4294967295 > MAXTTL/);
});

test('a repeated owner after a failed line is parsed again, not taken from the line before', () => {
  const p = parse('$TTL 60\na A 192.0.2.1\nb A 192.0.2.300\nb A 192.0.2.2\n$ORIGIN example.net.\nb A 192.0.2.3\n');
  assert.equal(p.errors.length, 1);
  assert.deepEqual(p.records, ['a.example.com. 60 IN A 192.0.2.1', 'b.example.com. 60 IN A 192.0.2.2', 'b.example.net. 60 IN A 192.0.2.3']);
});
