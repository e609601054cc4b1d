/** The clock layer's window arithmetic (RFC 4034 §3.1.5 times compared as RFC 1982 serials). */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { windowOffset } from '../../src/doctor/clock.js';
import type { RRSIGData } from '../../src/wire/types.js';

const sig = (inception: number, expiration: number): RRSIGData => ({ signatureInception: inception, signatureExpiration: expiration } as RRSIGData);

test('inside, before and after the validity window, in seconds', () => {
  const s = sig(1_000_000, 2_000_000);
  assert.equal(windowOffset(s, 1_500_000), 0);
  assert.equal(windowOffset(s, 1_000_000), 0);
  assert.equal(windowOffset(s, 2_000_000), 0);
  assert.equal(windowOffset(s, 999_000), -1000);
  assert.equal(windowOffset(s, 2_086_400), 86_400);
});

test('serial arithmetic across the 2106 wrap of 32-bit times', () => {
  // Signed shortly before 2^32 seconds, valid past the wrap (RFC 4034 §3.1.5: times are modulo 2^32).
  const s = sig(0xffff_0000, 0x0000_ffff);
  assert.equal(windowOffset(s, 2 ** 32 + 10), 0);
  assert.equal(windowOffset(s, 2 ** 32 + 0x0001_0000 + 5), 6);
});
