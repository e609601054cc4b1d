// BIND's $GENERATE: ranges, steps, `$`, `$$`, `\$`, `${offset,width,base}` with every base,
// TTL/class, the rhs read again as RDATA, and the errors BIND gives. Expected values were
// checked against named-checkzone 9.18 on the same lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { substitute } from '../../src/zone/generate.js';
import { parse, records } from './util.js';

const gen = (line: string): string[] => records(`$TTL 3600\n${line}\n`);

test('substitute: $, $$, \\$ and modifiers', () => {
  assert.equal(substitute('host$', 7), 'host7');
  assert.equal(substitute('a$$b', 7), 'a$b');
  assert.equal(substitute('\\$x$', 7), '\\$x7');
  assert.equal(substitute('${0,3}', 7), '007');
  assert.equal(substitute('${1}', 7), '8');
  assert.equal(substitute('${-7,2,d}', 7), '00');
  assert.equal(substitute('${0,4,o}', 8), '0010');
  assert.equal(substitute('${0,4,x}', 255), '00ff');
  assert.equal(substitute('${0,4,X}', 255), '00FF');
  // The offset stays in force for later plain `$` in the same template (BIND genname()).
  assert.equal(substitute('${-8,3,X}.$', 9), '001.1');
});

test('substitute: nibble bases count dots in the width (BIND nibbles())', () => {
  assert.equal(substitute('${0,0,n}', 300), 'c.2.1');
  assert.equal(substitute('${0,0,N}', 300), 'C.2.1');
  assert.equal(substitute('${0,3,n}', 10), 'a.0');
  assert.equal(substitute('${0,4,n}', 10), 'a.0.');
  assert.equal(substitute('${0,7,N}', 300), 'C.2.1.0');
  assert.equal(substitute('${0,8,n}', 0), '0.0.0.0.');
});

test('substitute: malformed modifiers are errors', () => {
  for (const bad of ['${}', '${0,2,q}', '${x}', '${0', '${0,}']) {
    assert.throws(() => substitute(bad, 1), /bad \$GENERATE modifier/, bad);
  }
});

test('$GENERATE range, step, lhs and rhs', () => {
  assert.deepEqual(gen('$GENERATE 1-3 host$ A 10.0.0.$'), [
    'host1.example.com. 3600 IN A 10.0.0.1',
    'host2.example.com. 3600 IN A 10.0.0.2',
    'host3.example.com. 3600 IN A 10.0.0.3',
  ]);
  assert.deepEqual(gen('$GENERATE 0-10/5 ${10,3,x} CNAME host${1}'), [
    '00a.example.com. 3600 IN CNAME host1.example.com.',
    '00f.example.com. 3600 IN CNAME host6.example.com.',
    '014.example.com. 3600 IN CNAME host11.example.com.',
  ]);
});

test('$GENERATE for reverse zones: PTR with nibbles and octets', () => {
  assert.deepEqual(records('$TTL 60\n$GENERATE 10-11 ${0,3,n} PTR host-$.example.net.\n', '0.8.b.d.0.1.0.0.2.ip6.arpa.'), [
    'a.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR host-10.example.net.',
    'b.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR host-11.example.net.',
  ]);
  assert.deepEqual(records('$TTL 60\n$GENERATE 1-2 $ PTR dhcp-$.example.net.\n', '2.0.192.in-addr.arpa.'), [
    '1.2.0.192.in-addr.arpa. 60 IN PTR dhcp-1.example.net.',
    '2.2.0.192.in-addr.arpa. 60 IN PTR dhcp-2.example.net.',
  ]);
});

test('$GENERATE with TTL and class in either order', () => {
  assert.deepEqual(gen('$GENERATE 1-2 w$ 60 IN TXT x'), ['w1.example.com. 60 IN TXT "x"', 'w2.example.com. 60 IN TXT "x"']);
  assert.deepEqual(gen('$GENERATE 1-2 v$ IN 1m TXT y'), ['v1.example.com. 60 IN TXT "y"', 'v2.example.com. 60 IN TXT "y"']);
});

test('$GENERATE: a quoted rhs is read again as RDATA text; $$ and \\$ give a dollar', () => {
  assert.deepEqual(gen('$GENERATE 1-2 \\$a$ TXT "$ \\$ ${1,2}"'), [
    '\\$a1.example.com. 3600 IN TXT "1" "$" "02"',
    '\\$a2.example.com. 3600 IN TXT "2" "$" "03"',
  ]);
  assert.deepEqual(gen('$GENERATE 1-1 y$ TXT a$$b'), ['y1.example.com. 3600 IN TXT "a$b"']);
  assert.deepEqual(gen('$GENERATE 5-5 m$ MX "10 mx$"'), ['m5.example.com. 3600 IN MX 10 mx5.example.com.']);
});

test('$GENERATE with a nibble width that ends in a dot makes an absolute name (BIND)', () => {
  assert.deepEqual(records('$TTL 60\n$GENERATE 300-300 u${0,6,N} PTR h$.example.com.\n', '.'), ['uC.2.1. 60 IN PTR h300.example.com.']);
  const p = parse('$TTL 60\n$GENERATE 10-10 r${0,4,n}.x PTR h.example.com.\n');
  assert.equal(p.errors.length, 1);
  assert.match(p.errors[0]!.reason, /empty label/);
});

test('$GENERATE errors name the line and the token', () => {
  const cases: [string, number, RegExp][] = [
    ['$GENERATE 2-1 z$ TXT a', 11, /bad \$GENERATE range "2-1"/],
    ['$GENERATE 1-x z$ TXT a', 11, /bad \$GENERATE range/],
    ['$GENERATE 1-2 z${} TXT a', 15, /bad \$GENERATE modifier/],
    ['$GENERATE 1-2 z$ TXT "a ${0,2,q}"', 22, /bad \$GENERATE modifier/],
    ['$GENERATE 1-2 z${0} TXT a${0,2,d}b ${0,0,x}', 36, /extra input text/],
    ['$GENERATE 1-2 z$ BOGUS a', 18, /unknown RR type "BOGUS"/],
    ['$GENERATE 1-2 z$ A', 18, /needs a range, lhs, type and rhs/],
    ['$GENERATE 1-2 z$ 60 A', 21, /needs a type and an rhs/],
    ['$GENERATE 1-2 z$ A 10.0.0.$$', 20, /not an IPv4 address/],
    ['$GENERATE 0-2000000 z$ A 10.0.0.1', 11, /more than 1000000 records/],
  ];
  for (const [line, column, reason] of cases) {
    const p = parse(`$TTL 60\n${line}\n`);
    assert.equal(p.errors.length, 1, line);
    assert.equal(p.errors[0]!.line, 2, line);
    assert.equal(p.errors[0]!.column, column, line);
    assert.match(p.errors[0]!.reason, reason, line);
  }
});
