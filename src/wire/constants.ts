/**
 * Header codes as IANA spells them: opcodes, RCODEs (including the extended ones carried in
 * OPT and TSIG), header flag bits, EDNS option codes and Extended DNS Error info-codes.
 */

/** RFC 1035 §4.1.1, RFC 1996 (NOTIFY), RFC 2136 (UPDATE), RFC 8490 (DSO). */
export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

/** RFC 1035, RFC 2136, RFC 6891 (BADVERS), RFC 8945 (BADSIG.. BADTRUNC), RFC 7873 (BADCOOKIE). */
export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8,
  NOTAUTH: 9, NOTZONE: 10, DSOTYPENI: 11, BADVERS: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20,
  BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
} as const;

/** Header flag bits within the second 16-bit word. */
export const Flag = {
  QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, Z: 0x0040, AD: 0x0020, CD: 0x0010,
} as const;

/** EDNS(0) option codes (IANA "DNS EDNS0 Option Codes"). */
export const EdnsOptionCode = {
  LLQ: 1, UL: 2, NSID: 3, DAU: 5, DHU: 6, N3U: 7, CLIENT_SUBNET: 8, EXPIRE: 9, COOKIE: 10, TCP_KEEPALIVE: 11,
  PADDING: 12, CHAIN: 13, KEY_TAG: 14, EDE: 15, CLIENT_TAG: 16, SERVER_TAG: 17, REPORT_CHANNEL: 18, ZONEVERSION: 19,
} as const;

/** Extended DNS Error info-codes (RFC 8914 §4). */
export const EdeCode = {
  OTHER: 0, UNSUPPORTED_DNSKEY_ALGORITHM: 1, UNSUPPORTED_DS_DIGEST_TYPE: 2, STALE_ANSWER: 3, FORGED_ANSWER: 4,
  DNSSEC_INDETERMINATE: 5, DNSSEC_BOGUS: 6, SIGNATURE_EXPIRED: 7, SIGNATURE_NOT_YET_VALID: 8, DNSKEY_MISSING: 9,
  RRSIGS_MISSING: 10, NO_ZONE_KEY_BIT_SET: 11, NSEC_MISSING: 12, CACHED_ERROR: 13, NOT_READY: 14, BLOCKED: 15,
  CENSORED: 16, FILTERED: 17, PROHIBITED: 18, STALE_NXDOMAIN_ANSWER: 19, NOT_AUTHORITATIVE: 20, NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22, NETWORK_ERROR: 23, INVALID_DATA: 24, SIGNATURE_EXPIRED_BEFORE_VALID: 25,
  TOO_EARLY: 26, UNSUPPORTED_NSEC3_ITERATIONS: 27, UNABLE_TO_CONFORM_TO_POLICY: 28, SYNTHESIZED: 29,
  INVALID_QUERY_TYPE: 30,
} as const;

function invert(o: Record<string, number>): Map<number, string> {
  return new Map(Object.entries(o).map(([k, v]) => [v, k] as const));
}
const opcodeNames = invert(Opcode);
const rcodeNames = invert(Rcode);

/** Opcode mnemonic as dig prints it (`QUERY`, `NOTIFY`, or the number). */
export function opcodeToString(op: number): string {
  return opcodeNames.get(op) ?? String(op);
}

/** RCODE mnemonic as dig prints it (`NOERROR`, `BADVERS`, or `RESERVED<n>`). */
export function rcodeToString(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RESERVED${rcode}`;
}

export function rcodeFromString(text: string): number | undefined {
  return (Rcode as Record<string, number>)[text.toUpperCase()];
}
