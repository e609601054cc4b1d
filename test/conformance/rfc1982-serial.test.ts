// RFC 1982 serial number arithmetic with SERIAL_BITS = 32 (§3.1 addition, §3.2 comparison).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialAdd, serialCompare } from '../../src/zone/serial.js';

test('RFC 1982 §3.2: equal, less and greater, including across the wrap', () => {
  const cases: [number, number, -1 | 0 | 1][] = [
    [1, 1, 0],
    [1, 2, -1],
    [2, 1, 1],
    [0xffffffff, 0, -1], // 0 is after 2^32-1
    [0, 0xffffffff, 1],
    [0xfffffff0, 0x10, -1],
    [0x7fffffff, 0x80000000, -1],
    [0, 0x7fffffff, -1], // 2^31-1 apart: still ordered
    [0x7fffffff, 0, 1],
    [2024010101, 2024010102, -1],
  ];
  for (const [a, b, want] of cases) assert.equal(serialCompare(a, b), want, `${a} vs ${b}`);
});

test('RFC 1982 §3.2: serials exactly 2^31 apart are undefined', () => {
  assert.equal(serialCompare(0, 0x80000000), undefined);
  assert.equal(serialCompare(0x80000000, 0), undefined);
  assert.equal(serialCompare(5, 0x80000005), undefined);
});

test('RFC 1982 §3.1: addition wraps modulo 2^32 and takes 0..2^31-1 only', () => {
  assert.equal(serialAdd(0xffffffff, 1), 0);
  assert.equal(serialAdd(0xfffffffe, 5), 3);
  assert.equal(serialAdd(1, 0x7fffffff), 0x80000000);
  assert.equal(serialCompare(serialAdd(100, 0x7fffffff), 100), 1);
  assert.throws(() => serialAdd(1, 0x80000000), RangeError);
  assert.throws(() => serialAdd(1, -1), RangeError);
  assert.throws(() => serialAdd(1, 1.5), RangeError);
});

test('RFC 1982 §3.2: comparison is not transitive over more than 2^31 (s < s+2^30 < s+2^31 but not s < s+2^31)', () => {
  const s = 12345;
  const m = serialAdd(s, 0x40000000);
  const e = serialAdd(m, 0x40000000);
  assert.equal(serialCompare(s, m), -1);
  assert.equal(serialCompare(m, e), -1);
  assert.equal(serialCompare(s, e), undefined);
});

test('negative or oversized inputs are taken modulo 2^32', () => {
  assert.equal(serialCompare(-1, 0), -1);
  assert.equal(serialCompare(0x100000001, 1), 0);
});
