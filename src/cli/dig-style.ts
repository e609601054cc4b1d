/**
 * dig's record styles that sit beside its layout (dig-format.ts): +ttlunits TTLs, +unknownformat
 * (RFC 3597 §5 generic form for every record), +split widths, +[no]rrcomments, +nocrypto and
 * +idnout. Each is a small text transform applied to a record's TTL, RDATA or whole line, so the
 * type-specific printing stays in one place.
 *
 * Invariant: pure functions, no I/O.
 */
import { domainToUnicode } from 'node:url';
import { typeLayout } from '../wire/layout.js';
import type { ResourceRecord } from '../wire/record.js';
import { EncodeMode } from '../wire/rdata/fields.js';
import { encodeRData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';

/** BIND's short TTL units (`dns_ttl_totext`, non-verbose): `1w2d3h4m5s`, `0s`. */
export function ttlUnits(ttl: number): string {
  const parts: [number, string][] = [[604800, 'w'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let rest = ttl;
  let out = '';
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) out += `${n}${unit}`;
  }
  return out === '' ? '0s' : out;
}

/** RDATA in RFC 3597 §5 form (`\# len HEX`), names uncompressed as on the wire. */
export function unknownRData(rr: ResourceRecord): string {
  const w = new Writer();
  encodeRData(rr.type, w, rr.data, EncodeMode.Canonical);
  const b = w.toBytes();
  let hex = '';
  for (const x of b) hex += x.toString(16).padStart(2, '0');
  return b.length === 0 ? '\\# 0' : `\\# ${b.length} ${hex.toUpperCase()}`;
}

/** Re-cuts the space-separated chunks of a blob (already joined by the caller) at `width` (0: whole). */
export function splitBlob(blob: string, width: number): string[] {
  if (width <= 0 || blob.length <= width) return [blob];
  const out: string[] = [];
  for (let i = 0; i < blob.length; i += width) out.push(blob.slice(i, i + width));
  return out;
}

/**
 * +norrcomments on a +multiline record: drops BIND's per-record comments (the SOA timer names,
 * the DNSKEY `; KSK; alg = ...; key id = N`) the way BIND's style without DNS_STYLEFLAG_RRCOMMENT
 * prints them: SOA timers bare, the closing parenthesis right after the last one.
 */
export function withoutRRComments(type: number, rdata: string): string {
  const kind = typeLayout(type).multiline?.kind;
  if (kind === 'soa') {
    return rdata.replace(/ *; [a-z]+(?: \([^)]*\))?(?=\n)/g, '').replace(/\n\t+\)$/, ')');
  }
  // Key comments (DNSKEY, CDNSKEY, KEY; RKEY has the same layout and comment).
  if (kind === 'key') return rdata.replace(/\n\t+\) ?;.*$/, ' )');
  return rdata;
}

/**
 * The DNSKEY comment BIND adds with +rrcomments on one line: `  ; KSK; alg = X ; key id = N`
 * (taken from the multiline form, which carries it).
 */
export function keyComment(multiline: string): string | undefined {
  const m = / ; ((?:(?:revoked )?[KZ]SK; )?alg = .*)$/.exec(multiline) ?? /; (alg = .*)$/.exec(multiline);
  return m === null ? undefined : `  ; ${m[1]}`;
}

/** +idnout: owner and RDATA names back from punycode to Unicode (url.domainToUnicode per name). */
export function idnToUnicode(line: string): string {
  if (!line.includes('xn--')) return line;
  return line.replace(/(?:[A-Za-z0-9-]+\.)*xn--[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?/gi, (name) => {
    const dot = name.endsWith('.') ? '.' : '';
    const u = domainToUnicode(dot ? name.slice(0, -1) : name);
    return u === '' ? name : u + dot;
  });
}
