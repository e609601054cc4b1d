/**
 * LOC (RFC 1876) text: degrees/minutes/seconds, altitude in metres, and the three sizes as
 * mantissa/exponent octets. Read and printed as BIND does (lib/dns/rdata/generic/loc_29.c), including
 * its rounding: a size keeps only its leading digit (`15m` is stored as 1e3 cm and prints `10m`),
 * seconds keep three decimals, metres two.
 *
 * Invariants: the wire form is version 0 with sizes whose digits are 0..9 and a mantissa of 1..9
 * (or the whole octet 0), latitude within ±90° and longitude within ±180° (BIND's fromwire checks).
 */
import { TextFormatError } from '../../errors.js';
import type { Reader } from '../reader.js';
import type { TokenCursor } from './text.js';

export interface LocData {
  version: number;
  size: number;
  horizPre: number;
  vertPre: number;
  latitude: number;
  longitude: number;
  altitude: number;
}

const EQUATOR = 0x80000000;
/** Altitude origin: 100,000 m below the WGS 84 reference spheroid, in cm (RFC 1876 §2). */
const ALT_BASE = 10000000;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

function badSize(c: number): boolean {
  return c !== 0 && ((c & 0x0f) > 9 || c >> 4 > 9 || c >> 4 === 0);
}

/** Checks a decoded LOC as BIND's fromwire does. */
export function checkLoc(r: Reader, at: number, d: LocData): void {
  if (d.version !== 0) r.fail('LOC', `version ${d.version} is not 0`, at);
  if (badSize(d.size) || badSize(d.horizPre) || badSize(d.vertPre)) r.fail('LOC', 'size or precision is not a digit and exponent 0..9', at);
  if (d.latitude < EQUATOR - 90 * 3600000 || d.latitude > EQUATOR + 90 * 3600000) r.fail('LOC', 'latitude beyond 90 degrees', at);
  if (d.longitude < EQUATOR - 180 * 3600000 || d.longitude > EQUATOR + 180 * 3600000) r.fail('LOC', 'longitude beyond 180 degrees', at);
}

function sizeText(c: number): string {
  const man = c >> 4;
  const exp = c & 0x0f;
  return exp > 1 ? `${man * POW10[exp - 2]!}m` : `0.${String(man * POW10[exp]!).padStart(2, '0')}m`;
}

function angle(v: number, pos: string, neg: string): string {
  let x = v >= EQUATOR ? v - EQUATOR : EQUATOR - v;
  const ms = x % 1000;
  x = Math.floor(x / 1000);
  const s = x % 60;
  x = Math.floor(x / 60);
  return `${Math.floor(x / 60)} ${x % 60} ${s}.${String(ms).padStart(3, '0')} ${v >= EQUATOR ? pos : neg}`;
}

export function printLoc(d: LocData): string {
  const below = d.altitude < ALT_BASE;
  const alt = below ? ALT_BASE - d.altitude : d.altitude - ALT_BASE;
  return `${angle(d.latitude, 'N', 'S')} ${angle(d.longitude, 'E', 'W')} ${below ? '-' : ''}${Math.floor(alt / 100)}.` +
    `${String(alt % 100).padStart(2, '0')}m ${sizeText(d.size)} ${sizeText(d.horizPre)} ${sizeText(d.vertPre)}`;
}

/** `s[.fff]` seconds as thousandths. */
function seconds(s: string, field: string): number {
  const m = /^(\d+)(?:\.(\d{0,3}))?$/.exec(s);
  if (m === null) throw new TextFormatError(field, `"${s}" is not seconds`);
  const whole = Number(m[1]);
  if (whole > 59) throw new TextFormatError(field, `${whole} seconds exceeds 59`);
  return whole * 1000 + Number(((m[2] ?? '') + '000').slice(0, 3));
}

/** `[-]m[.cc][m]` as centimetres (sign kept), digits past the second decimal refused as BIND does. */
function metres(s: string, field: string, min: number, max: number): number {
  const m = /^(-?\d+)(?:\.(\d{0,2}))?m?$/.exec(s);
  if (m === null) throw new TextFormatError(field, `"${s}" is not metres`);
  const whole = Number(m[1]);
  if (whole < min || whole > max) throw new TextFormatError(field, `${whole}m is out of range`);
  const cm = Number(((m[2] ?? '') + '00').slice(0, 2));
  return whole * 100 + (m[1]!.startsWith('-') ? -cm : cm);
}

/** A size or precision in metres as BIND encodes it: the leading digit and a power of ten (truncated). */
function sizeOctet(s: string, field: string): number {
  const cm = metres(s, field, 0, 90000000);
  const m = Math.floor(cm / 100);
  if (m > 0) {
    let exp = 0;
    while (exp < 7 && m >= POW10[exp + 1]!) exp++;
    return (Math.floor(m / POW10[exp]!) << 4) | (exp + 2);
  }
  const c = cm % 100;
  return c >= 10 ? (Math.floor(c / 10) << 4) | 1 : c << 4;
}

function degrees(t: TokenCursor, max: number, pos: string, neg: string, field: string): number {
  const d = Number(t.next(field).text);
  if (!Number.isInteger(d) || d < 0 || d > max) throw new TextFormatError(field, `degrees must be 0..${max}`);
  let min = 0;
  let sec = 0;
  // BIND 9.18 takes the hemisphere letters in upper case only.
  let tok = t.next(field).text;
  if (tok !== pos && tok !== neg) {
    if (!/^\d+$/.test(tok) || Number(tok) > 59) throw new TextFormatError(field, `"${tok}" is not minutes`);
    min = Number(tok);
    tok = t.next(field).text;
    if (tok !== pos && tok !== neg) {
      sec = seconds(tok, field);
      tok = t.next(field).text;
      if (tok !== pos && tok !== neg) throw new TextFormatError(field, `"${tok}" is not ${pos} or ${neg}`);
    }
  }
  if (d === max && (min !== 0 || sec !== 0)) throw new TextFormatError(field, `beyond ${max} degrees`);
  const v = (d * 3600 + min * 60) * 1000 + sec;
  return tok === pos ? EQUATOR + v : EQUATOR - v;
}

export function parseLoc(t: TokenCursor): LocData {
  const latitude = degrees(t, 90, 'N', 'S', 'latitude');
  const longitude = degrees(t, 180, 'E', 'W', 'longitude');
  const altCm = metres(t.next('altitude').text, 'altitude', -100000, 42849672);
  if (altCm > 4284967295) throw new TextFormatError('altitude', 'beyond 42849672.95m');
  // RFC 1876 §3 defaults: size 1m, horizontal precision 10000m, vertical precision 10m.
  const size = t.done ? 0x12 : sizeOctet(t.next('size').text, 'size');
  const horizPre = t.done ? 0x16 : sizeOctet(t.next('horizPre').text, 'horizPre');
  const vertPre = t.done ? 0x13 : sizeOctet(t.next('vertPre').text, 'vertPre');
  return { version: 0, size, horizPre, vertPre, latitude, longitude, altitude: altCm + ALT_BASE };
}
