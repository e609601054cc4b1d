/**
 * DNS Cookies, server side (RFC 7873, RFC 9018): interoperable server cookies as BIND and Knot
 * make them: Version 1, three reserved octets, a 32-bit timestamp, and SipHash-2-4 over
 * client cookie | version | reserved | timestamp | client IP with a 16-octet secret.
 *
 * The secret is derived from the instance's cluster secret (every worker computes the same
 * cookie, RFC 9018 §4.2 "all servers of an anycast set") and a rotation epoch: the current and
 * the previous epoch's secrets are accepted (RFC 9018 §4.3 rollover), so rotation needs no
 * coordination. A configured secret replaces the derived one (servers of one anycast set).
 *
 * Invariants: SipHash works on 32-bit halves in locals (no BigInt, no allocation); the input is
 * built in one scratch buffer per instance; a cookie is valid only when its version is 1, its
 * timestamp is at most 1 h old and at most 5 min ahead (RFC 9018 §4.3), and its hash matches.
 */
import { createHmac } from 'node:crypto';
import { isIPv4 } from 'node:net';

/**
 * SipHash-2-4 of `msg[0..len)` with the 128-bit key given as four little-endian 32-bit words;
 * the 64-bit result is written little-endian into `out` at `at`. The state lives in locals as
 * (hi, lo) 32-bit halves and the SipRound is written once inside the block loop: module-level
 * state cost several times more (every access a context-slot load with a hole check), and this
 * runs for every cookie answered from the answer cache.
 */
export function siphash24(k: Uint32Array, msg: Uint8Array, len: number, out: Uint8Array, at: number): void {
  // k0 = k[1]:k[0], k1 = k[3]:k[2].
  let v0h = k[1]! ^ 0x736f6d65, v0l = k[0]! ^ 0x70736575;
  let v1h = k[3]! ^ 0x646f7261, v1l = k[2]! ^ 0x6e646f6d;
  let v2h = k[1]! ^ 0x6c796765, v2l = k[0]! ^ 0x6e657261;
  let v3h = k[3]! ^ 0x74656462, v3l = k[2]! ^ 0x79746573;
  let t = 0, th = 0, mh = 0, ml = 0;
  const full = len - (len % 8);
  // Blocks 0..last are compressed (2 rounds each; the last holds the tail octets and the length's
  // low octet at the top), then one more pass is the finalization (v2 ^= 0xff, 4 rounds).
  const last = full >>> 3;
  for (let b = 0; b <= last + 1; b++) {
    let rounds = 2;
    if (b < last) {
      const i = b << 3;
      ml = (msg[i]! | (msg[i + 1]! << 8) | (msg[i + 2]! << 16) | (msg[i + 3]! << 24)) >>> 0;
      mh = (msg[i + 4]! | (msg[i + 5]! << 8) | (msg[i + 6]! << 16) | (msg[i + 7]! << 24)) >>> 0;
    } else if (b === last) {
      ml = 0;
      mh = (len & 0xff) << 24;
      for (let i = full, sh = 0; i < len; i++, sh += 8) {
        if (sh < 32) ml |= msg[i]! << sh;
        else mh |= msg[i]! << (sh - 32);
      }
      ml >>>= 0; mh >>>= 0;
    } else {
      v2l = (v2l ^ 0xff) >>> 0;
      rounds = 4;
    }
    if (b <= last) { v3h = (v3h ^ mh) >>> 0; v3l = (v3l ^ ml) >>> 0; }
    for (let r = 0; r < rounds; r++) {
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      t = (v0l >>> 0) + (v1l >>> 0); v0h = (v0h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0; v0l = t >>> 0;
      th = (v1h << 13) | (v1l >>> 19); v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0; v1h = th >>> 0;
      v1h = (v1h ^ v0h) >>> 0; v1l = (v1l ^ v0l) >>> 0;
      t = v0h; v0h = v0l; v0l = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      t = (v2l >>> 0) + (v3l >>> 0); v2h = (v2h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0; v2l = t >>> 0;
      th = (v3h << 16) | (v3l >>> 16); v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0; v3h = th >>> 0;
      v3h = (v3h ^ v2h) >>> 0; v3l = (v3l ^ v2l) >>> 0;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      t = (v0l >>> 0) + (v3l >>> 0); v0h = (v0h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0; v0l = t >>> 0;
      th = (v3h << 21) | (v3l >>> 11); v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0; v3h = th >>> 0;
      v3h = (v3h ^ v0h) >>> 0; v3l = (v3l ^ v0l) >>> 0;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      t = (v2l >>> 0) + (v1l >>> 0); v2h = (v2h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0; v2l = t >>> 0;
      th = (v1h << 17) | (v1l >>> 15); v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0; v1h = th >>> 0;
      v1h = (v1h ^ v2h) >>> 0; v1l = (v1l ^ v2l) >>> 0;
      t = v2h; v2h = v2l; v2l = t;
    }
    if (b <= last) { v0h = (v0h ^ mh) >>> 0; v0l = (v0l ^ ml) >>> 0; }
  }
  const rl = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const rh = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  out[at] = rl & 0xff; out[at + 1] = (rl >>> 8) & 0xff; out[at + 2] = (rl >>> 16) & 0xff; out[at + 3] = rl >>> 24;
  out[at + 4] = rh & 0xff; out[at + 5] = (rh >>> 8) & 0xff; out[at + 6] = (rh >>> 16) & 0xff; out[at + 7] = rh >>> 24;
}

function keyWords(secret: Uint8Array): Uint32Array {
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = (secret[4 * i]! | (secret[4 * i + 1]! << 8) | (secret[4 * i + 2]! << 16) | (secret[4 * i + 3]! << 24)) >>> 0;
  return k;
}

/** What a query's COOKIE option said (RFC 7873 §5.2). */
export const CookieState = { NONE: 0, CLIENT_ONLY: 1, VALID: 2, INVALID: 3, MALFORMED: 4 } as const;
export type CookieState = (typeof CookieState)[keyof typeof CookieState];

/** RFC 9018 §4.3: accept cookies up to an hour old and five minutes from the future. */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;

export interface ServerCookiesOptions {
  /** 32 octets every worker shares (cluster-secret.ts), from which the rotating secret is derived. */
  base: Uint8Array;
  /** Seconds a derived secret is current (the previous one is still accepted). */
  rotationS: number;
  /** A fixed 16-octet secret instead (servers of one anycast set); the previous one in `previous`. */
  secret?: Uint8Array | undefined;
  previous?: Uint8Array | undefined;
  /** Seconds since the epoch (tests move it). */
  now?: () => number;
}

export class ServerCookies {
  private readonly opts: ServerCookiesOptions;
  private epoch = -1;
  private current: Uint32Array = new Uint32Array(4);
  private previous: Uint32Array | undefined;
  /** client cookie (8) | version (1) | reserved (3) | timestamp (4) | client IP (4 or 16). */
  private readonly input = new Uint8Array(36);
  private readonly hash = new Uint8Array(8);
  private readonly now: () => number;

  constructor(opts: ServerCookiesOptions) {
    this.opts = opts;
    this.now = opts.now ?? ((): number => Math.floor(Date.now() / 1000));
    if (opts.secret !== undefined) {
      this.current = keyWords(opts.secret);
      this.previous = opts.previous !== undefined ? keyWords(opts.previous) : undefined;
    }
  }

  private derive(epoch: number): Uint32Array {
    return keyWords(createHmac('sha256', this.opts.base).update(`sovereign dns cookie secret ${epoch}`).digest().subarray(0, 16));
  }

  /** The secrets of this moment (derived ones roll over every `rotationS`). */
  private refresh(now: number): void {
    if (this.opts.secret !== undefined) return;
    const epoch = Math.floor(now / this.opts.rotationS);
    if (epoch === this.epoch) return;
    this.current = this.derive(epoch);
    this.previous = this.derive(epoch - 1);
    this.epoch = epoch;
  }

  /** Fills `input` for `client` (8 octets at `c`) and timestamp; returns the input's length, or -1 for a bad address. */
  private fill(client: Uint8Array, c: number, ts: number, address: string): number {
    const b = this.input;
    for (let i = 0; i < 8; i++) b[i] = client[c + i]!;
    b[8] = 1; b[9] = 0; b[10] = 0; b[11] = 0;
    b[12] = ts >>> 24; b[13] = (ts >>> 16) & 0xff; b[14] = (ts >>> 8) & 0xff; b[15] = ts & 0xff;
    return writeAddress(address, b, 16);
  }

  /**
   * Judges a COOKIE option's data (`data[at..at+len)`): client only, valid, invalid or malformed
   * (RFC 7873 §5.2.2: a client cookie must be 8 octets, a server cookie 8 to 32).
   */
  check(data: Uint8Array, len: number, address: string, at = 0): CookieState {
    if (len === 8) return CookieState.CLIENT_ONLY;
    if (len < 16 || len > 40) return CookieState.MALFORMED;
    if (len !== 24 || data[at + 8] !== 1) return CookieState.INVALID; // not ours (RFC 9018 version 1 is 16 octets)
    const now = this.now();
    this.refresh(now);
    const ts = ((data[at + 12]! << 24) | (data[at + 13]! << 16) | (data[at + 14]! << 8) | data[at + 15]!) >>> 0;
    // Serial-number arithmetic on 32 bits (RFC 1982), as RFC 9018 §4.3 says.
    const age = (now - ts) | 0;
    if (age > MAX_AGE_S || age < -MAX_AHEAD_S) return CookieState.INVALID;
    const n = this.fill(data, at, ts, address);
    if (n < 0) return CookieState.INVALID;
    if (this.matches(this.current, n, data, at + 16)) return CookieState.VALID;
    if (this.previous !== undefined && this.matches(this.previous, n, data, at + 16)) return CookieState.VALID;
    return CookieState.INVALID;
  }

  /** Whether the hash of `input[0..n)` under `k` equals the 8 octets at `data[h..]` (constant time). */
  private matches(k: Uint32Array, n: number, data: Uint8Array, h: number): boolean {
    siphash24(k, this.input, n, this.hash, 0);
    let same = 0;
    for (let i = 0; i < 8; i++) same |= this.hash[i]! ^ data[h + i]!;
    return same === 0;
  }

  /**
   * Writes the COOKIE option of a reply (code, length 24, the client cookie from `client[c..c+8)`,
   * a fresh server cookie) into `out` at `at`; returns the octets written (28), or 0 for an
   * address we cannot hash.
   */
  writeOption(client: Uint8Array, c: number, address: string, out: Uint8Array, at: number): number {
    const now = this.now();
    this.refresh(now);
    const ts = now >>> 0;
    const n = this.fill(client, c, ts, address);
    if (n < 0) return 0;
    out[at] = 0; out[at + 1] = 10; out[at + 2] = 0; out[at + 3] = 24;
    for (let i = 0; i < 8; i++) out[at + 4 + i] = client[c + i]!;
    out.set(this.input.subarray(8, 16), at + 12);
    siphash24(this.current, this.input, n, out, at + 20);
    return 28;
  }
}

/** The address's octets (IPv4 4, IPv6 16; an IPv4-mapped IPv6 address as IPv4) at `at`; the end, or -1. */
function writeAddress(address: string, b: Uint8Array, at: number): number {
  // Dotted-quad IPv4, parsed by hand: this runs for every cookie answered from the answer cache,
  // where isIPv4's regular expression cost more than the SipHash.
  const quad = parseQuad(address, address.length > 7 && address.charCodeAt(0) === 58 ? 7 : 0, b, at);
  if (quad > 0) return quad;
  let a = address;
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (isIPv4(a)) {
    let p = 0;
    for (let i = 0; i < 4; i++) {
      let v = 0;
      for (; p < a.length && a.charCodeAt(p) !== 46; p++) v = v * 10 + a.charCodeAt(p) - 48;
      p++;
      b[at + i] = v;
    }
    return at + 4;
  }
  // IPv6: expand :: and write 8 groups.
  const dbl = a.indexOf('::');
  const head = dbl < 0 ? a : a.slice(0, dbl);
  const tail = dbl < 0 ? '' : a.slice(dbl + 2);
  const hg = head === '' ? [] : head.split(':');
  const tg = tail === '' ? [] : tail.split(':');
  if (hg.length + tg.length > 8 || (dbl < 0 && hg.length !== 8)) return -1;
  const groups = [...hg, ...new Array<string>(8 - hg.length - tg.length).fill('0'), ...tg];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i]!, 16);
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) return -1;
    b[at + 2 * i] = v >>> 8;
    b[at + 2 * i + 1] = v & 0xff;
  }
  return at + 16;
}

/**
 * Strict dotted-quad at `address[from..]` (from 7: after '::ffff:'), written to `b[at..at+4)`;
 * the end, or -1 when it is not one (the caller then takes the general path).
 */
function parseQuad(address: string, from: number, b: Uint8Array, at: number): number {
  if (from === 7 && !address.startsWith('::ffff:')) return -1;
  let part = 0;
  let v = 0;
  let digits = 0;
  for (let i = from; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return -1;
      b[at + part++] = v;
      v = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && v === 0) return -1; // no leading zeros (isIPv4 refuses them too)
      v = v * 10 + c - 48;
      if (++digits > 3 || v > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || part !== 3) return -1;
  b[at + 3] = v;
  return at + 4;
}
