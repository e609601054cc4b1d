/**
 * The bytes a DNSSEC signature covers (RFC 4034 §3.1.8.1, §6.2, §6.3; RFC 4035 §5.3.2).
 *
 * signed data = RRSIG RDATA without the signature (signer name lowercased)
 *             | for each RR of the set in canonical RDATA order, duplicates removed:
 *               owner (lowercased; `*.` + the rightmost `labels` labels for a wildcard expansion)
 *               | type | class | original TTL | RDLENGTH | canonical RDATA
 * Used by the signer and the validator alike, so both agree byte for byte.
 */
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { EncodeMode, encodeRData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';

/** The RRSIG fields that are signed (everything but the signature). */
export interface RrsigHeader {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  signatureExpiration: number;
  signatureInception: number;
  keyTag: number;
  signerName: Name;
}

// One scratch writer: RDATA and signed data are built here and copied out (single-threaded).
const scratch = new Writer(65535 + 4096);

/** RDATA of `rr` in RFC 4034 §6.2 canonical form (uncompressed, listed names lowercased). */
export function canonicalRdata(rr: ResourceRecord): Uint8Array {
  scratch.reset();
  encodeRData(rr.type, scratch, rr.data, EncodeMode.Canonical);
  return scratch.buf.slice(0, scratch.pos);
}

/** Octet-string order of RFC 4034 §6.3 (shorter sorts first when one is a prefix of the other). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Canonical RDATA of an RRset, sorted and with duplicates removed (RFC 4034 §6.3). */
export function canonicalRdataSet(rrset: readonly ResourceRecord[]): Uint8Array[] {
  const out = rrset.map(canonicalRdata).sort(compareBytes);
  let w = 0;
  for (let i = 0; i < out.length; i++) {
    if (w === 0 || compareBytes(out[w - 1]!, out[i]!) !== 0) out[w++] = out[i]!;
  }
  out.length = w;
  return out;
}

/**
 * The owner name as signed: lowercased, and for an RRset synthesised from a wildcard (more labels
 * than the RRSIG's `labels`) the wildcard owner `*.<rightmost labels>` (RFC 4035 §5.3.2).
 */
export function signedOwner(owner: Name, labels: number): Name {
  const lower = owner.toLowerCase();
  if (owner.labelCount <= labels) return lower;
  return lower.suffix(labels).prepend('*');
}

/** The data an RRSIG with `sig`'s fields covers over `rrset` (all RRs share owner, type, class). */
export function signedData(sig: RrsigHeader, rrset: readonly ResourceRecord[]): Uint8Array {
  if (rrset.length === 0) return new Uint8Array(0);
  const rdatas = canonicalRdataSet(rrset);
  const first = rrset[0]!;
  const owner = signedOwner(first.name, sig.labels).wire;
  const w = scratch;
  w.reset();
  w.u16(sig.typeCovered);
  w.u8(sig.algorithm);
  w.u8(sig.labels);
  w.u32(sig.originalTtl);
  w.u32(sig.signatureExpiration);
  w.u32(sig.signatureInception);
  w.u16(sig.keyTag);
  w.nameLower(sig.signerName);
  for (const rdata of rdatas) {
    w.bytes(owner);
    w.u16(first.type);
    w.u16(first.class);
    w.u32(sig.originalTtl);
    w.u16(rdata.length);
    w.bytes(rdata);
  }
  return w.buf.slice(0, w.pos);
}

/** RFC 4034 §6.1 order on name keys; lives with Name so the zone tree and the signer share it. */
export { compareNameKeys } from '../wire/name.js';
