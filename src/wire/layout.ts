/**
 * How BIND lays out RDATA text beyond the one-line form the type table prints, per type: the
 * trailing hex/base64 field it cuts into words, and the shape of +multiline output (BIND's
 * DNS_STYLEFLAG_MULTILINE totext). A table beside THE table (types.ts), so that printers such as
 * dig's derive their layout from type facts instead of switching on type numbers.
 *
 * Facts checked against dig 9.18 on BIND's answers (test/interop/dig-multiline.test.ts and
 * test/interop/rrtypes-bind.test.ts).
 */
import { RRType } from './types.js';

/** The +multiline shape of a type's RDATA. */
export type MultilineShape =
  /** The first `after` tokens, ` (`, the rest cut into 44-character lines, ` )`. */
  | { readonly kind: 'blob'; readonly after: number }
  /** SOA: the five timers one per line with their meaning. */
  | { readonly kind: 'soa' }
  /** KEY/DNSKEY/CDNSKEY: `flags protocol algorithm (` key lines `)` and the key-id comment; `role` adds KSK/ZSK. */
  | { readonly kind: 'key'; readonly role: boolean }
  /** SIG/RRSIG: `head` tokens and `(`, the rest of the fields up to the signer, then the signature lines. */
  | { readonly kind: 'sig'; readonly head: number }
  /** The whole RDATA as one blob in parentheses (OPENPGPKEY); `comment: 'dhcid'` adds DHCID's digest comment. */
  | { readonly kind: 'wrapped'; readonly comment?: 'dhcid' }
  /** NSEC3: the next hashed owner and the type bit map on their own lines. */
  | { readonly kind: 'nsec3' }
  /** `( ` + first `after` tokens on the first line, the key cut on the next lines, ` )` (IPSECKEY). */
  | { readonly kind: 'leadingBlob'; readonly after: number }
  /** HIP: `( alg HIT`, the key unbroken on its own line, then one rendezvous server per line. */
  | { readonly kind: 'hip' }
  /** `( text )` on one line (EID, NIMLOC). */
  | { readonly kind: 'inline' }
  /** HHIT/BRID: BIND writes ` (` straight before the base64 and ` )` after it. */
  | { readonly kind: 'tight' };

export interface TypeLayout {
  /** Tokens before the trailing blob BIND cuts into 56-character words even on one line. */
  readonly blobAfter?: number;
  readonly multiline?: MultilineShape;
  /**
   * What dig +nocrypto prints instead of the blob: `keyId` (`[key id = N]`, keys) or `omitted`
   * (`[omitted]`, signatures and digests); undefined: the type has no crypto material.
   */
  readonly noCrypto?: 'keyId' | 'omitted';
}

const blob = (after: number, noCrypto?: 'omitted'): TypeLayout =>
  noCrypto === undefined ? { blobAfter: after, multiline: { kind: 'blob', after } } : { blobAfter: after, multiline: { kind: 'blob', after }, noCrypto };

const LAYOUTS = new Map<number, TypeLayout>([
  [RRType.SOA, { multiline: { kind: 'soa' } }],
  [RRType.DS, blob(3, 'omitted')], [RRType.CDS, blob(3, 'omitted')], [RRType.TA, blob(3, 'omitted')], [RRType.DLV, blob(3, 'omitted')],
  [RRType.SSHFP, blob(2)], [RRType.TLSA, blob(3)], [RRType.SMIMEA, blob(3)], [RRType.ZONEMD, blob(3)], [RRType.CERT, blob(3)],
  // RKEY has BIND's key layout but no +nocrypto replacement (dig prints its key).
  [RRType.KEY, { blobAfter: 3, multiline: { kind: 'key', role: false }, noCrypto: 'keyId' }],
  [RRType.RKEY, { blobAfter: 3, multiline: { kind: 'key', role: false } }],
  [RRType.DNSKEY, { blobAfter: 3, multiline: { kind: 'key', role: true }, noCrypto: 'keyId' }],
  [RRType.CDNSKEY, { blobAfter: 3, multiline: { kind: 'key', role: true }, noCrypto: 'keyId' }],
  // RRSIG breaks the line before the expiration time, SIG after it.
  [RRType.SIG, { blobAfter: 8, multiline: { kind: 'sig', head: 5 }, noCrypto: 'omitted' }],
  [RRType.RRSIG, { blobAfter: 8, multiline: { kind: 'sig', head: 4 }, noCrypto: 'omitted' }],
  [RRType.DHCID, { blobAfter: 0, multiline: { kind: 'wrapped', comment: 'dhcid' } }],
  [RRType.OPENPGPKEY, { blobAfter: 0, multiline: { kind: 'wrapped' } }],
  [RRType.NSEC3, { multiline: { kind: 'nsec3' } }],
  [RRType.SINK, { multiline: { kind: 'blob', after: 3 } }],
  [RRType.IPSECKEY, { multiline: { kind: 'leadingBlob', after: 4 } }],
  [RRType.HIP, { multiline: { kind: 'hip' } }],
  [RRType.EID, { multiline: { kind: 'inline' } }], [RRType.NIMLOC, { multiline: { kind: 'inline' } }],
  [RRType.HHIT, { multiline: { kind: 'tight' } }], [RRType.BRID, { multiline: { kind: 'tight' } }],
]);

const NONE: TypeLayout = {};

/** The layout facts of a type (empty for types printed the same way in every style). */
export function typeLayout(type: number): TypeLayout {
  return LAYOUTS.get(type) ?? NONE;
}

/** BIND's word length for a blob on one line (its `tctx->width - 2`). */
const BLOB_CHUNK = 56;

/**
 * One-line RDATA text as BIND writes it (dig, named-checkzone -D): the type's trailing blob
 * (`blobAfter`) cut into 56-character words; RFC 3597 `\\# len hex` is cut after its two tokens.
 */
export function chunkBlob(type: number, text: string): string {
  const lead = text.startsWith('\\# ') ? 2 : typeLayout(type).blobAfter;
  if (lead === undefined) return text;
  const tokens = text.split(' ');
  const blob = tokens.slice(lead).join('');
  if (blob.length <= BLOB_CHUNK) return text;
  const chunks: string[] = [];
  for (let i = 0; i < blob.length; i += BLOB_CHUNK) chunks.push(blob.slice(i, i + BLOB_CHUNK));
  return [...tokens.slice(0, lead), ...chunks].join(' ');
}
