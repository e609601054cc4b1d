/**
 * CDS and CDNSKEY RRsets (RFC 7344 §3): what the child asks its parent to put in the DS RRset.
 * A KSK listed here gets a CDS with a SHA-256 digest (BIND's default cds-digest-types) and a
 * CDNSKEY; `deleteRecords` are RFC 8078 §4's "remove all DS" records for a zone going insecure.
 */
import type { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType } from '../../wire/types.js';
import { DigestType, dsDigest } from '../digest.js';
import { type DnssecKey, isKsk } from '../key-file.js';

/** DNSKEY RDATA of a key (flags, protocol 3, algorithm, public key). */
export function dnskeyRdata(k: { flags: number; algorithm: number; publicKey: Uint8Array }): Uint8Array {
  const rdata = new Uint8Array(4 + k.publicKey.length);
  rdata.set([k.flags >> 8, k.flags & 0xff, 3, k.algorithm]);
  rdata.set(k.publicKey, 4);
  return rdata;
}

/** The DS RDATA fields for a key (SHA-256 unless told). */
export function dsOf(owner: Name, k: DnssecKey, digestType: number = DigestType.SHA256): { keyTag: number; algorithm: number; digestType: number; digest: Uint8Array } {
  return { keyTag: k.keyTag, algorithm: k.algorithm, digestType, digest: dsDigest(owner, dnskeyRdata(k), digestType) };
}

/** CDS and CDNSKEY RRsets for the KSKs among `keys` (none when there is none). */
export function cdsRecords(origin: Name, keys: readonly DnssecKey[], ttl: number): ResourceRecord[][] {
  const ksks = keys.filter(isKsk);
  if (ksks.length === 0) return [];
  const cls = 1;
  return [
    ksks.map((k) => ({ name: origin, type: RRType.CDS, class: cls, ttl, data: dsOf(origin, k) })),
    ksks.map((k) => ({ name: origin, type: RRType.CDNSKEY, class: cls, ttl, data: { flags: k.flags, protocol: 3, algorithm: k.algorithm, publicKey: k.publicKey } })),
  ];
}

/** RFC 8078 §4: CDS "0 0 0 00" and CDNSKEY "0 3 0 AA==" ask the parent to delete the DS RRset. */
export function deleteRecords(origin: Name, ttl: number): ResourceRecord[][] {
  return [
    [{ name: origin, type: RRType.CDS, class: 1, ttl, data: { keyTag: 0, algorithm: 0, digestType: 0, digest: new Uint8Array([0]) } }],
    [{ name: origin, type: RRType.CDNSKEY, class: 1, ttl, data: { flags: 0, protocol: 3, algorithm: 0, publicKey: new Uint8Array([0]) } }],
  ];
}
