/**
 * The key tag of a DNSKEY (RFC 4034 Appendix B): a 16-bit checksum over the RDATA, used by
 * RRSIG and DS to name the key. Algorithm 1 (RSA/MD5) uses the low 16 bits of the modulus
 * instead (Appendix B.1).
 */

/** Key tag of DNSKEY/CDNSKEY/KEY RDATA given as its fields. */
export function keyTag(flags: number, protocol: number, algorithm: number, publicKey: Uint8Array): number {
  const rdata = new Uint8Array(4 + publicKey.length);
  rdata[0] = flags >> 8;
  rdata[1] = flags & 0xff;
  rdata[2] = protocol;
  rdata[3] = algorithm;
  rdata.set(publicKey, 4);
  return keyTagOfRData(rdata);
}

/** Key tag of DNSKEY RDATA in wire form. */
export function keyTagOfRData(rdata: Uint8Array): number {
  // RFC 4034 B.1: for RSA/MD5 the tag is the most significant 16 of the least significant 24 bits of the modulus.
  if (rdata.length >= 4 && rdata[3] === 1) {
    if (rdata.length < 7) return 0;
    return (rdata[rdata.length - 3]! << 8) | rdata[rdata.length - 2]!;
  }
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += (i & 1) === 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}
