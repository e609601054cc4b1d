/**
 * THE table of RR types. Every type is one `defineType` line: code, mnemonic, fields. Decode,
 * encode, canonical form, parse, print and comparison are derived from the fields by the
 * generic walkers below; adding a type means adding one line here.
 *
 * Invariants: a code not in the table is RFC 3597 generic data (`{ rdata }`), never dropped;
 * decoding a known type must consume exactly RDLENGTH octets or it is a WireFormatError;
 * every known type also accepts the RFC 3597 `\# len hex` text form.
 * Only RFC 1035 types compress their names (RFC 3597 §4); names listed in RFC 4034 §6.2
 * (less NSEC, RFC 6840 §5.1) are lowercased in canonical form.
 */
import { TextFormatError } from '../errors.js';
import { Rcode } from './constants.js';
import type { Name } from './name.js';
import { Reader } from './reader.js';
import {
  EncodeMode, base32Len8, base64Len16, base64Rest, bytesEqual, caaTag, charString, charStrings, eui, hexLen8,
  hexRest, ipv4, ipv6, mnemonicUint, name, protocol, quotedRest, rrsigTime, rrtype, ttl, typeBitmap, u16, u32, u48, u8,
  wksBitmap,
  type AnyField,
} from './rdata/fields.js';
import {
  KEY_PROTOCOLS, amtDiscovery, amtRelayType, atmaAddress, atmaFormat, base64OrDash, base64Token, dsDigest, gateway,
  hexToken, ilnp64, keyData, keyFlags, names, nsapAddress, numberOrMnemonic, nxtBitmap, opaque, optional,
} from './rdata/fields-extra.js';
import { checkLoc, parseLoc, printLoc } from './rdata/loc.js';
import { a6Prefix, a6Suffix, aplItems } from './rdata/prefixes.js';
import { svcParams } from './rdata/svcb.js';
import { TokenCursor, fromHex, parseUint, toHex } from './rdata/text.js';
import type { Writer } from './writer.js';

/** Data of a type made from fields `F`: `{ [field key]: field value }`. */
export type DataOfFields<F extends readonly AnyField[]> = {
  -readonly [P in F[number] as P['key']]: P extends { decode(r: Reader, end: number): infer V } ? V : never;
};

/** RDATA of a type the table does not know (RFC 3597). */
export interface UnknownData {
  rdata: Uint8Array;
}

export interface TypeDef<C extends number = number, M extends string = string, D = unknown> {
  readonly code: C;
  readonly mnemonic: M;
  readonly fields: readonly AnyField[];
  decode(r: Reader, end: number): D;
  encode(w: Writer, data: D, mode: EncodeMode): void;
  parse(t: TokenCursor, origin: Name | undefined): D;
  print(data: D): string;
  equals(a: D, b: D): boolean;
  /** Keys of the name fields whose addresses go in an answer's additional section (Field.additional). */
  readonly additionalTargets: readonly string[];
  /** Decoded by a hand-written FastCodec decode, not the fields' walk (see FastCodec). */
  readonly ownDecode: boolean;
}

const byCode = new Map<number, TypeDef<number, string, any>>();
const byMnemonic = new Map<string, number>();
/** Fast path for the common codes. */
const small: (TypeDef<number, string, any> | undefined)[] = new Array(256).fill(undefined);

/** Registers a type built from fields; see the module comment. */
export function defineType<const C extends number, const M extends string, const F extends readonly AnyField[]>(
  code: C, mnemonic: M, fields: F, fast?: FastCodec<DataOfFields<F>>,
): TypeDef<C, M, DataOfFields<F>> {
  type D = DataOfFields<F>;
  const n = fields.length;
  const def: TypeDef<C, M, D> = {
    code, mnemonic, fields, additionalTargets: fields.filter((f) => f.additional === true).map((f) => f.key),
    ownDecode: fast?.decode !== undefined,
    decode(r: Reader, end: number): D {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        o[f.key] = f.decode(r, end, o);
      }
      return o as D;
    },
    encode(w: Writer, data: D, mode: EncodeMode): void {
      const o = data as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        f.encode(w, o[f.key], mode, o);
      }
    },
    parse(t: TokenCursor, origin: Name | undefined): D {
      const o: Record<string, unknown> = {};
      for (const f of fields) o[f.key] = f.parse(t, origin, o);
      if (!t.done) throw new TextFormatError(mnemonic, `unexpected "${t.peek()!.text}" after the last field`);
      return o as D;
    },
    print(data: D): string {
      const o = data as Record<string, unknown>;
      let s = '';
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        const text = f.print(o[f.key], o);
        if (text.length === 0) continue;
        s += (s.length === 0 ? '' : ' ') + text;
      }
      return s;
    },
    equals(a: D, b: D): boolean {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      for (const f of fields) if (!f.equals(x[f.key], y[f.key])) return false;
      return true;
    },
  };
  // Hand-written hot paths (same fields, fixed object shape, monomorphic calls): see FastCodec.
  if (fast?.decode !== undefined) def.decode = fast.decode;
  if (fast?.encode !== undefined) def.encode = fast.encode;
  if (fast?.parse !== undefined) def.parse = fast.parse;
  if (fast?.print !== undefined) def.print = fast.print;
  register(def);
  return def;
}

/**
 * Optional hand-written decode/encode for the types every response carries. They must behave
 * exactly like the generic walkers over the same fields (the round-trip tests compare both);
 * they exist because an object literal with fixed keys and direct calls is several times
 * faster than the generic keyed walk.
 */
export interface FastCodec<D> {
  decode?: (r: Reader, end: number) => D;
  encode?: (w: Writer, data: D, mode: EncodeMode) => void;
  /** For the few types whose text is not their fields in wire order (LOC, HIP); see the table. */
  parse?: (t: TokenCursor, origin: Name | undefined) => D;
  print?: (data: D) => string;
}

function register(def: TypeDef<number, string, any>): void {
  if (byCode.has(def.code)) throw new Error(`type ${def.code} defined twice`);
  byCode.set(def.code, def);
  byMnemonic.set(def.mnemonic, def.code);
  if (def.code < 256) small[def.code] = def;
}

/** Types that exist only in questions (RFC 1035 §3.2.3, RFC 1995, RFC 6895). */
const QTYPES: Record<string, number> = { IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255 };
for (const [m, c] of Object.entries(QTYPES)) byMnemonic.set(m, c);
const qtypeNames = new Map(Object.entries(QTYPES).map(([m, c]) => [c, m] as const));

/** Mnemonic of a type code, or `TYPEnnn` (RFC 3597 §5). */
export function typeToString(code: number): string {
  const def = code < 256 ? small[code] : byCode.get(code);
  if (def !== undefined) return def.mnemonic;
  return qtypeNames.get(code) ?? `TYPE${code}`;
}

/** Code of a mnemonic or `TYPEnnn` (case-insensitive), undefined when neither. */
export function typeFromString(text: string): number | undefined {
  const up = text.toUpperCase();
  const c = byMnemonic.get(up);
  if (c !== undefined) return c;
  if (up.startsWith('TYPE') && up.length > 4 && up.length <= 9) {
    const v = Number(up.slice(4));
    if (Number.isInteger(v) && v >= 0 && v <= 0xffff && /^\d+$/.test(up.slice(4))) return v;
  }
  return undefined;
}

/** The table entry for a code, undefined for RFC 3597 generic types. */
export function typeDef(code: number): TypeDef<number, string, any> | undefined {
  return code < 256 ? small[code] : byCode.get(code);
}

const NO_TARGETS: readonly string[] = [];

/**
 * Keys of `type`'s RDATA fields that name additional-section targets (RFC 1034 §3.6.2): the
 * table's `additional` name fields; none for types the table does not know.
 */
export function additionalTargets(type: number): readonly string[] {
  return typeDef(type)?.additionalTargets ?? NO_TARGETS;
}

/** Every defined type, in code order. */
export function allTypes(): TypeDef<number, string, any>[] {
  return [...byCode.values()].sort((a, b) => a.code - b.code);
}

const typeField = <K extends string>(key: K) => rrtype(key, typeToString, typeFromString);
const bitmap = <K extends string>(key: K) => typeBitmap(key, typeToString, typeFromString);

// ---- the table ---------------------------------------------------------------------------------
// Field names are the RFCs'. `compress`: RFC 1035 types only. `lower`: RFC 4034 §6.2 list.
// `additional`: the name's addresses go in an answer's additional section (RFC 1034 §3.6.2) —
// for NS, MX and SRV targets, the set Knot and NSD fill (BIND also does MB/MD/MF, KX, NAPTR...).
const C = { compress: true, lower: true } as const;
const L = { lower: true } as const;

const aAddress = ipv4('address');
export const A = defineType(1, 'A', [aAddress], {                                              // RFC 1035 §3.4.1
  decode: (r, end) => ({ address: aAddress.decode(r, end) }),
  encode: (w, d, mode) => aAddress.encode(w, d.address, mode),
});
const nsName = name('nsdname', { ...C, additional: true });
export const NS = defineType(2, 'NS', [nsName], {                                              // RFC 1035 §3.3.11
  decode: (r, end) => ({ nsdname: nsName.decode(r, end) }),
  encode: (w, d, mode) => nsName.encode(w, d.nsdname, mode),
});
export const MD = defineType(3, 'MD', [name('madname', C)]);                                   // RFC 1035 §3.3.4 (obsolete)
export const MF = defineType(4, 'MF', [name('madname', C)]);                                   // RFC 1035 §3.3.5 (obsolete)
const cnameName = name('cname', C);
export const CNAME = defineType(5, 'CNAME', [cnameName], {                                     // RFC 1035 §3.3.1
  decode: (r, end) => ({ cname: cnameName.decode(r, end) }),
  encode: (w, d, mode) => cnameName.encode(w, d.cname, mode),
});
export const SOA = defineType(6, 'SOA', [                                                       // RFC 1035 §3.3.13
  name('mname', C), name('rname', C), u32('serial'), ttl('refresh'), ttl('retry'), ttl('expire'), ttl('minimum'),
]);
export const MB = defineType(7, 'MB', [name('madname', C)]);                                   // RFC 1035 §3.3.3
export const MG = defineType(8, 'MG', [name('mgmname', C)]);                                   // RFC 1035 §3.3.6
export const MR = defineType(9, 'MR', [name('newname', C)]);                                   // RFC 1035 §3.3.8
export const WKS = defineType(11, 'WKS', [ipv4('address'), protocol('protocol'), wksBitmap('bitmap')]); // RFC 1035 §3.4.2
const ptrName = name('ptrdname', C);
export const PTR = defineType(12, 'PTR', [ptrName], {                                          // RFC 1035 §3.3.12
  decode: (r, end) => ({ ptrdname: ptrName.decode(r, end) }),
  encode: (w, d, mode) => ptrName.encode(w, d.ptrdname, mode),
});
export const HINFO = defineType(13, 'HINFO', [charString('cpu'), charString('os')]);           // RFC 1035 §3.3.2
export const MINFO = defineType(14, 'MINFO', [name('rmailbx', C), name('emailbx', C)]);        // RFC 1035 §3.3.7
const mxPreference = u16('preference');
const mxExchange = name('exchange', { ...C, additional: true });
export const MX = defineType(15, 'MX', [mxPreference, mxExchange], {                            // RFC 1035 §3.3.9
  decode: (r, end) => ({ preference: mxPreference.decode(r, end), exchange: mxExchange.decode(r, end) }),
  encode: (w, d, mode) => {
    mxPreference.encode(w, d.preference, mode);
    mxExchange.encode(w, d.exchange, mode);
  },
});
export const TXT = defineType(16, 'TXT', [charStrings('data')]);                               // RFC 1035 §3.3.14
export const RP = defineType(17, 'RP', [name('mbox', L), name('txt', L)]);                     // RFC 1183 §2.2
export const AFSDB = defineType(18, 'AFSDB', [u16('subtype'), name('hostname', L)]);           // RFC 1183 §1
export const X25 = defineType(19, 'X25', [charString('psdnAddress')]);                         // RFC 1183 §3.1
export const RT = defineType(21, 'RT', [u16('preference'), name('intermediateHost', L)]);      // RFC 1183 §3.3
export const PX = defineType(26, 'PX', [u16('preference'), name('map822', L), name('mapx400', L)]); // RFC 2163 §4
const aaaaAddress = ipv6('address');
export const AAAA = defineType(28, 'AAAA', [aaaaAddress], {                                    // RFC 3596 §2.2
  decode: (r, end) => ({ address: aaaaAddress.decode(r, end) }),
  encode: (w, d, mode) => aaaaAddress.encode(w, d.address, mode),
});
export const SRV = defineType(33, 'SRV', [                                                      // RFC 2782
  u16('priority'), u16('weight'), u16('port'), name('target', { ...L, additional: true }),
]);
export const NAPTR = defineType(35, 'NAPTR', [                                                  // RFC 3403 §4.1
  u16('order'), u16('preference'), charString('flags'), charString('services'), charString('regexp'),
  name('replacement', L),
]);
export const KX = defineType(36, 'KX', [u16('preference'), name('exchanger', L)]);             // RFC 2230 §3.1
/** CERT certificate types (RFC 4398 §2.1) and the DNSSEC algorithm mnemonics BIND prints in CERT. */
const CERT_TYPES = { PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254 };
const SEC_ALGORITHMS = {
  RSAMD5: 1, DH: 2, DSA: 3, RSASHA1: 5, 'NSEC3DSA': 6, 'NSEC3RSASHA1': 7, RSASHA256: 8, RSASHA512: 10, ECCGOST: 12,
  ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15, ED448: 16, INDIRECT: 252, PRIVATEDNS: 253, PRIVATEOID: 254,
};
const algorithmNames = new Map(Object.entries(SEC_ALGORITHMS).map(([k, v]) => [v, k] as const));
/** DNSSEC algorithm mnemonic as BIND prints it (RFC 4034 App. A.1, IANA), or the number. */
export function algorithmToString(code: number): string {
  return algorithmNames.get(code) ?? String(code);
}
export const CERT = defineType(37, 'CERT', [                                                    // RFC 4398 §2
  mnemonicUint('certType', 2, CERT_TYPES), u16('keyTag'), mnemonicUint('algorithm', 1, SEC_ALGORITHMS),
  base64Rest('certificate'),
]);
export const DNAME = defineType(39, 'DNAME', [name('target', L)]);                             // RFC 6672 §2.1
export const DS = defineType(43, 'DS', [                                                        // RFC 4034 §5.1
  u16('keyTag'), u8('algorithm'), u8('digestType'), dsDigest('digest', 'digestType'),
]);
export const SSHFP = defineType(44, 'SSHFP', [u8('algorithm'), u8('fpType'), hexRest('fingerprint')]); // RFC 4255 §3.1
export const RRSIG = defineType(46, 'RRSIG', [                                                  // RFC 4034 §3.1
  typeField('typeCovered'), u8('algorithm'), u8('labels'), u32('originalTtl'),
  rrsigTime('signatureExpiration'), rrsigTime('signatureInception'), u16('keyTag'), name('signerName', L),
  base64Rest('signature'),
]);
export const NSEC = defineType(47, 'NSEC', [name('nextDomainName'), bitmap('types')]);         // RFC 4034 §4.1
export const DNSKEY = defineType(48, 'DNSKEY', [                                                // RFC 4034 §2.1
  u16('flags'), u8('protocol'), u8('algorithm'), base64Rest('publicKey'),
]);
export const DHCID = defineType(49, 'DHCID', [base64Rest('digest')]);                          // RFC 4701 §3.3
export const NSEC3 = defineType(50, 'NSEC3', [                                                  // RFC 5155 §3.2
  u8('hashAlgorithm'), u8('flags'), u16('iterations'), hexLen8('salt'), base32Len8('nextHashedOwnerName'),
  bitmap('types'),
]);
export const NSEC3PARAM = defineType(51, 'NSEC3PARAM', [                                        // RFC 5155 §4.2
  u8('hashAlgorithm'), u8('flags'), u16('iterations'), hexLen8('salt'),
]);
export const TLSA = defineType(52, 'TLSA', [                                                    // RFC 6698 §2.1
  u8('usage'), u8('selector'), u8('matchingType'), hexRest('certificateAssociationData'),
]);
export const SMIMEA = defineType(53, 'SMIMEA', [                                                // RFC 8162 §2
  u8('usage'), u8('selector'), u8('matchingType'), hexRest('certificateAssociationData'),
]);
export const CDS = defineType(59, 'CDS', [                                                      // RFC 7344 §3.1
  u16('keyTag'), u8('algorithm'), u8('digestType'), dsDigest('digest', 'digestType'),
]);
export const CDNSKEY = defineType(60, 'CDNSKEY', [                                              // RFC 7344 §3.2
  u16('flags'), u8('protocol'), u8('algorithm'), base64Rest('publicKey'),
]);
export const OPENPGPKEY = defineType(61, 'OPENPGPKEY', [base64Rest('publicKey')]);             // RFC 7929 §2.1
export const CSYNC = defineType(62, 'CSYNC', [u32('serial'), u16('flags'), bitmap('types')]);  // RFC 7477 §2.1
export const ZONEMD = defineType(63, 'ZONEMD', [                                                // RFC 8976 §2
  u32('serial'), u8('scheme'), u8('hashAlgorithm'), hexRest('digest'),
]);
export const SVCB = defineType(64, 'SVCB', [u16('svcPriority'), name('targetName'), svcParams('params')]);   // RFC 9460 §2.2
export const HTTPS = defineType(65, 'HTTPS', [u16('svcPriority'), name('targetName'), svcParams('params')]); // RFC 9460 §9
export const SPF = defineType(99, 'SPF', [charStrings('data')]);                               // RFC 4408 §3.1.1
export const L32 = defineType(105, 'L32', [u16('preference'), ipv4('locator32')]);             // RFC 6742 §2.2
export const LP = defineType(107, 'LP', [u16('preference'), name('fqdn', L)]);                 // RFC 6742 §2.4
export const EUI48 = defineType(108, 'EUI48', [eui('address', 6)]);                            // RFC 7043 §3
export const EUI64 = defineType(109, 'EUI64', [eui('address', 8)]);                            // RFC 7043 §4
export const TKEY = defineType(249, 'TKEY', [                                                   // RFC 2930 §2
  name('algorithm'), u32('inception'), u32('expiration'), u16('mode'), u16('error'), base64Len16('keyData'),
  base64Len16('otherData'),
]);
/** TSIG error field (RFC 8945 §3): RCODE mnemonics, with 16 meaning BADSIG here, not BADVERS. */
const TSIG_ERRORS: Record<string, number> = { BADSIG: 16 };
for (const [k, v] of Object.entries(Rcode)) if (v !== 16) TSIG_ERRORS[k] = v;
export const TSIG = defineType(250, 'TSIG', [                                                   // RFC 8945 §4.2
  name('algorithm', L), u48('timeSigned'), u16('fudge'), base64Len16('mac'), u16('originalId'),
  mnemonicUint('error', 2, TSIG_ERRORS), base64Len16('otherData'),
]);
export const URI = defineType(256, 'URI', [u16('priority'), u16('weight'), quotedRest('target')]); // RFC 7553 §4.5
export const CAA = defineType(257, 'CAA', [u8('flags'), caaTag('tag'), quotedRest('value')]);  // RFC 8659 §4.1
export const AVC = defineType(258, 'AVC', [charStrings('data')]);                              // IANA (Cisco AVC)
export const RESINFO = defineType(261, 'RESINFO', [charStrings('data')]);                      // RFC 9606 §4
export const WALLET = defineType(262, 'WALLET', [charStrings('data')]);                        // IANA
export const TA = defineType(32768, 'TA', [u16('keyTag'), u8('algorithm'), u8('digestType'), dsDigest('digest', 'digestType')]);
export const DLV = defineType(32769, 'DLV', [u16('keyTag'), u8('algorithm'), u8('digestType'), dsDigest('digest', 'digestType')]); // RFC 4431

// ---- the rest of the types BIND 9.18 reads and writes (obsolete, experimental and newer) ----------
// Printed exactly as BIND's totext functions print them (dig and named-checkzone -D agree).
// NULL, UINFO, UID, GID and UNSPEC have no text form in BIND: only RFC 3597 `\# len hex`, in and out.
export const NULL = defineType(10, 'NULL', [opaque('data', 'NULL')]);                         // RFC 1035 §3.3.10
export const ISDN = defineType(20, 'ISDN', [charString('isdnAddress'), optional(charString('sa'))]); // RFC 1183 §3.2
export const NSAP = defineType(22, 'NSAP', [nsapAddress('address')]);                          // RFC 1706 §5
export const NSAP_PTR = defineType(23, 'NSAP-PTR', [name('owner')]);                           // RFC 1348
export const SIG = defineType(24, 'SIG', [                                                      // RFC 2535 §4.1, RFC 2931 (SIG(0))
  typeField('typeCovered'), u8('algorithm'), u8('labels'), u32('originalTtl'),
  rrsigTime('signatureExpiration'), rrsigTime('signatureInception'), u16('keyTag'), name('signerName', L),
  base64Rest('signature'),
]);
const keyFields = [
  keyFlags('flags'), numberOrMnemonic('protocol', 1, KEY_PROTOCOLS), numberOrMnemonic('algorithm', 1, SEC_ALGORITHMS),
  keyData('publicKey'),
] as const;
export const KEY = defineType(25, 'KEY', keyFields);                                           // RFC 2535 §3.1, RFC 3445
export const GPOS = defineType(27, 'GPOS', [charString('longitude'), charString('latitude'), charString('altitude')]); // RFC 1712 §3
const locFields = [
  u8('version'), u8('size'), u8('horizPre'), u8('vertPre'), u32('latitude'), u32('longitude'), u32('altitude'),
] as const;
export const LOC = defineType(29, 'LOC', locFields, {                                           // RFC 1876 §2, §3
  // The fields in wire order; BIND's range checks; text with degrees and metres (rdata/loc.ts).
  decode: (r, end) => {
    const at = r.pos;
    const d = { version: r.u8('version'), size: r.u8('size'), horizPre: r.u8('horizPre'), vertPre: r.u8('vertPre'),
      latitude: r.u32('latitude'), longitude: r.u32('longitude'), altitude: r.u32('altitude') };
    if (r.pos !== end) r.fail('LOC', 'RDATA is not 16 octets', at);
    checkLoc(r, at, d);
    return d;
  },
  parse: (t) => {
    const d = parseLoc(t);
    if (!t.done) throw new TextFormatError('LOC', `unexpected "${t.peek()!.text}" after the last field`);
    return d;
  },
  print: printLoc,
});
export const NXT = defineType(30, 'NXT', [name('nextDomainName', L), nxtBitmap('types', typeToString, typeFromString)]); // RFC 2535 §5.2
export const EID = defineType(31, 'EID', [hexRest('endpointIdentifier')]);                    // draft-ietf-nimrod-dns
export const NIMLOC = defineType(32, 'NIMLOC', [hexRest('nimrodLocator')]);                    // draft-ietf-nimrod-dns
export const ATMA = defineType(34, 'ATMA', [atmaFormat('format'), atmaAddress('address', 'format')]); // ATM Forum af-saa-0069.000
const a6Fields = [u8('prefixLength'), a6Suffix('addressSuffix'), a6Prefix('prefixName')] as const;
export const A6 = defineType(38, 'A6', a6Fields, {                                              // RFC 2874 §3.1
  // BIND writes the (absent) address of a /128 as an empty field: "128  prefix.name."
  print: (d) => (d.prefixLength === 128 ? `128  ${d.prefixName!.toString()}` :
    d.prefixLength === 0 ? `0 ${d.addressSuffix}` : `${d.prefixLength} ${d.addressSuffix} ${d.prefixName!.toString()}`),
});
export const SINK = defineType(40, 'SINK', [u8('meaning'), u8('coding'), u8('subcoding'), base64Rest('data')]); // draft-eastlake-kitchen-sink
export const APL = defineType(42, 'APL', [aplItems('items')]);                                 // RFC 3123 §4
export const IPSECKEY = defineType(45, 'IPSECKEY', [                                            // RFC 4025 §2, §3
  u8('precedence'), u8('gatewayType'), u8('algorithm'), gateway('gateway', 'gatewayType'), base64Rest('publicKey'),
]);
const hipFields = [u8('pkAlgorithm'), hexToken('hit'), base64Token('publicKey'), names('rendezvousServers')] as const;
export const HIP = defineType(55, 'HIP', hipFields, {                                           // RFC 8005 §5, §6
  // Text order is algorithm, HIT, key, servers; the wire carries both lengths first.
  decode: (r, end) => {
    const hitLength = r.u8('hitLength');
    const pkAlgorithm = r.u8('pkAlgorithm');
    const pkLength = r.u16('pkLength');
    if (hitLength === 0) r.fail('hit', 'empty HIT');
    if (pkLength === 0) r.fail('publicKey', 'empty public key');
    const hit = r.bytes(hitLength, 'hit');
    const publicKey = r.bytes(pkLength, 'publicKey');
    const rendezvousServers: Name[] = [];
    while (r.pos < end) rendezvousServers.push(r.name('rendezvousServers'));
    return { pkAlgorithm, hit, publicKey, rendezvousServers };
  },
  encode: (w, d, mode) => {
    w.u8(d.hit.length);
    w.u8(d.pkAlgorithm);
    w.u16(d.publicKey.length);
    w.bytes(d.hit);
    w.bytes(d.publicKey);
    hipFields[3].encode(w, d.rendezvousServers, mode);
  },
});
export const NINFO = defineType(56, 'NINFO', [charStrings('data')]);                           // draft-reid-dnsext-zs
export const RKEY = defineType(57, 'RKEY', keyFields);                                         // draft-reid-dnsext-rkey
export const TALINK = defineType(58, 'TALINK', [name('previousName'), name('nextName')]);     // draft-ietf-dnsop-trust-history
export const DSYNC = defineType(66, 'DSYNC', [                                                  // RFC 9859 §2
  typeField('rrtype'), mnemonicUint('scheme', 1, { NOTIFY: 1 }), u16('port'), name('target'),
]);
export const HHIT = defineType(67, 'HHIT', [base64Rest('data')]);                              // draft-ietf-drip-registries
export const BRID = defineType(68, 'BRID', [base64Rest('data')]);                              // draft-ietf-drip-registries
export const UINFO = defineType(100, 'UINFO', [opaque('data', 'UINFO')]);                      // IANA (reserved)
export const UID = defineType(101, 'UID', [opaque('data', 'UID')]);                            // IANA (reserved)
export const GID = defineType(102, 'GID', [opaque('data', 'GID')]);                            // IANA (reserved)
export const UNSPEC = defineType(103, 'UNSPEC', [opaque('data', 'UNSPEC')]);                   // IANA (reserved)
export const NID = defineType(104, 'NID', [u16('preference'), ilnp64('nodeId')]);              // RFC 6742 §2.1
export const L64 = defineType(106, 'L64', [u16('preference'), ilnp64('locator64')]);           // RFC 6742 §2.3
export const DOA = defineType(259, 'DOA', [                                                     // draft-durand-doa-over-dns
  u32('enterprise'), u32('type'), u8('location'), charString('mediaType'), base64OrDash('data'),
]);
export const AMTRELAY = defineType(260, 'AMTRELAY', [                                           // RFC 8777 §4
  u8('precedence'), amtDiscovery('discoveryOptional'), amtRelayType('relayType', 'discoveryOptional'), gateway('relay', 'relayType'),
]);

/** OPT (RFC 6891 §6.1.2): options kept as code + bytes; `edns.ts` gives them meaning. */
function decodeEdnsOptions(r: Reader, end: number): { code: number; data: Uint8Array }[] {
  const out: { code: number; data: Uint8Array }[] = [];
  while (r.pos < end) {
    const code = r.u16('OPT option code');
    const len = r.u16('OPT option length');
    if (r.pos + len > end) r.fail('OPT option', `length ${len} runs past RDATA end`);
    out.push({ code, data: r.bytes(len, 'OPT option data') });
  }
  return out;
}

export const OPT = defineType(41, 'OPT', [
  {
    key: 'options', kind: 'ednsOptions', rest: true,
    decode: decodeEdnsOptions,
    encode: (w: Writer, v: readonly { code: number; data: Uint8Array }[]) => {
      for (const o of v) {
        w.u16(o.code);
        w.u16(o.data.length);
        w.bytes(o.data);
      }
    },
    // RFC 6891 gives OPT no presentation format; we read back what `print` writes
    // (`code:hex` per option) so the record round-trips like every other type.
    parse: (t: TokenCursor) => {
      const out: { code: number; data: Uint8Array }[] = [];
      while (!t.done) {
        const s = t.next('OPT option').text;
        const colon = s.indexOf(':');
        if (colon < 0) throw new TextFormatError('OPT', `"${s}" is not code:hex`);
        out.push({ code: parseUint(s.slice(0, colon), 0xffff, 'OPT option code'), data: fromHex(s.slice(colon + 1), 'OPT option data') });
      }
      return out;
    },
    print: (v: readonly { code: number; data: Uint8Array }[]) => v.map((o) => `${o.code}:${toHex(o.data)}`).join(' '),
    equals: (a: readonly { code: number; data: Uint8Array }[], b: readonly { code: number; data: Uint8Array }[]) =>
      a.length === b.length && a.every((o, i) => o.code === b[i]!.code && bytesEqual(o.data, b[i]!.data)),
  },
], { decode: (r, end) => ({ options: decodeEdnsOptions(r, end) }) }); // every EDNS message has one

/** Type codes by IANA mnemonic (`RRType.MX === 15`), question-only types included. */
export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13, MINFO: 14,
  MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP: 22, 'NSAP-PTR': 23, SIG: 24, KEY: 25, PX: 26,
  GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, EID: 31, NIMLOC: 32, SRV: 33, ATMA: 34, NAPTR: 35, KX: 36, CERT: 37, A6: 38,
  DNAME: 39, SINK: 40, OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49,
  NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55, NINFO: 56, RKEY: 57, TALINK: 58, CDS: 59, CDNSKEY: 60,
  OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, DSYNC: 66, HHIT: 67, BRID: 68, SPF: 99, UINFO: 100,
  UID: 101, GID: 102, UNSPEC: 103, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108, EUI64: 109, TKEY: 249, TSIG: 250,
  IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257, AVC: 258, DOA: 259, AMTRELAY: 260,
  RESINFO: 261, WALLET: 262, TA: 32768, DLV: 32769,
} as const;
export type RRTypeName = keyof typeof RRType;

/** Classes (RFC 1035 §3.2.4, RFC 2136 §2.4 NONE, RFC 6895). */
export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;
const classNames = new Map<number, string>(Object.entries(RRClass).map(([k, v]) => [v, k] as const));

export function classToString(code: number): string {
  return classNames.get(code) ?? `CLASS${code}`;
}

export function classFromString(text: string): number | undefined {
  const up = text.toUpperCase();
  const c = (RRClass as Record<string, number>)[up];
  if (c !== undefined) return c;
  if (up === 'CHAOS') return RRClass.CH;
  if (up === 'HESIOD') return RRClass.HS;
  if (up.startsWith('CLASS') && /^\d{1,5}$/.test(up.slice(5))) {
    const v = Number(up.slice(5));
    if (v <= 0xffff) return v;
  }
  return undefined;
}

// ---- generic RDATA walkers used by records and zones ------------------------------------------

/** Decodes RDATA of `type` spanning r.pos..end; must consume exactly that. */
export function decodeRData(type: number, r: Reader, end: number): unknown {
  const def = type < 256 ? small[type] : byCode.get(type);
  if (def === undefined) return { rdata: r.bytes(end - r.pos, 'RDATA') } satisfies UnknownData;
  const start = r.pos;
  const saved = r.end;
  r.end = end;
  let data: unknown;
  try {
    data = def.decode(r, end);
  } finally {
    r.end = saved;
  }
  if (r.pos !== end) {
    r.fail(`${def.mnemonic} RDATA`, `fields take ${r.pos - start} octets, RDLENGTH says ${end - start}`, start);
  }
  return data;
}

export function encodeRData(type: number, w: Writer, data: unknown, mode: EncodeMode): void {
  const def = type < 256 ? small[type] : byCode.get(type);
  if (def !== undefined) {
    def.encode(w, data, mode);
    return;
  }
  const raw = (data as Partial<UnknownData>).rdata;
  if (!(raw instanceof Uint8Array)) {
    throw new TextFormatError(typeToString(type), 'RDATA of an unknown type must be { rdata: Uint8Array }');
  }
  w.bytes(raw);
}

/** Presentation of RDATA; unknown types in RFC 3597 form. */
export function printRData(type: number, data: unknown): string {
  const def = typeDef(type);
  if (def === undefined) {
    const b = (data as UnknownData).rdata;
    return b.length === 0 ? '\\# 0' : `\\# ${b.length} ${toHex(b)}`;
  }
  return def.print(data);
}

/**
 * Parses RDATA tokens for `type`: the type's own syntax, or RFC 3597 `\# len hex` (which for a
 * known type is decoded and checked, as BIND does).
 */
export function parseRData(type: number, t: TokenCursor, origin: Name | undefined): unknown {
  const first = t.peek();
  const def = typeDef(type);
  if (first !== undefined && !first.quoted && first.text === '\\#') {
    t.next('\\#');
    const len = parseUint(t.next('RDATA length').text, 0xffff, 'RDATA length');
    let hex = '';
    for (const tok of t.rest()) hex += tok.text;
    const bytes = fromHex(hex, 'RDATA');
    if (bytes.length !== len) throw new TextFormatError('RDATA', `\\# length ${len} but ${bytes.length} octets of data`);
    if (def === undefined) return { rdata: bytes } satisfies UnknownData;
    return decodeRData(type, new Reader(bytes), bytes.length);
  }
  if (def === undefined) throw new TextFormatError(typeToString(type), 'unknown type needs RFC 3597 \\# syntax');
  return def.parse(t, origin);
}

export function rdataEquals(type: number, a: unknown, b: unknown): boolean {
  const def = typeDef(type);
  if (def === undefined) return bytesEqual((a as UnknownData).rdata, (b as UnknownData).rdata);
  return def.equals(a, b);
}

// ---- data types for users ----------------------------------------------------------------------

type DataOf<T> = T extends TypeDef<number, string, infer D> ? D : never;
export type AData = DataOf<typeof A>;
export type AAAAData = DataOf<typeof AAAA>;
export type NSData = DataOf<typeof NS>;
export type CNAMEData = DataOf<typeof CNAME>;
export type SOAData = DataOf<typeof SOA>;
export type PTRData = DataOf<typeof PTR>;
export type MXData = DataOf<typeof MX>;
export type TXTData = DataOf<typeof TXT>;
export type SRVData = DataOf<typeof SRV>;
export type DSData = DataOf<typeof DS>;
export type DNSKEYData = DataOf<typeof DNSKEY>;
export type RRSIGData = DataOf<typeof RRSIG>;
export type NSECData = DataOf<typeof NSEC>;
export type NSEC3Data = DataOf<typeof NSEC3>;
export type NSEC3PARAMData = DataOf<typeof NSEC3PARAM>;
export type SVCBData = DataOf<typeof SVCB>;
export type CAAData = DataOf<typeof CAA>;
export type TSIGData = DataOf<typeof TSIG>;
export type OPTData = DataOf<typeof OPT>;
export type MDData = DataOf<typeof MD>;
export type MFData = DataOf<typeof MF>;
export type MBData = DataOf<typeof MB>;
export type MGData = DataOf<typeof MG>;
export type MRData = DataOf<typeof MR>;
export type WKSData = DataOf<typeof WKS>;
export type HINFOData = DataOf<typeof HINFO>;
export type MINFOData = DataOf<typeof MINFO>;
export type RPData = DataOf<typeof RP>;
export type AFSDBData = DataOf<typeof AFSDB>;
export type X25Data = DataOf<typeof X25>;
export type RTData = DataOf<typeof RT>;
export type PXData = DataOf<typeof PX>;
export type NAPTRData = DataOf<typeof NAPTR>;
export type KXData = DataOf<typeof KX>;
export type CERTData = DataOf<typeof CERT>;
export type DNAMEData = DataOf<typeof DNAME>;
export type SSHFPData = DataOf<typeof SSHFP>;
export type DHCIDData = DataOf<typeof DHCID>;
export type TLSAData = DataOf<typeof TLSA>;
export type SMIMEAData = DataOf<typeof SMIMEA>;
export type CDSData = DataOf<typeof CDS>;
export type CDNSKEYData = DataOf<typeof CDNSKEY>;
export type OPENPGPKEYData = DataOf<typeof OPENPGPKEY>;
export type CSYNCData = DataOf<typeof CSYNC>;
export type ZONEMDData = DataOf<typeof ZONEMD>;
export type HTTPSData = DataOf<typeof HTTPS>;
export type SPFData = DataOf<typeof SPF>;
export type L32Data = DataOf<typeof L32>;
export type LPData = DataOf<typeof LP>;
export type EUI48Data = DataOf<typeof EUI48>;
export type EUI64Data = DataOf<typeof EUI64>;
export type TKEYData = DataOf<typeof TKEY>;
export type URIData = DataOf<typeof URI>;
export type AVCData = DataOf<typeof AVC>;
export type RESINFOData = DataOf<typeof RESINFO>;
export type WALLETData = DataOf<typeof WALLET>;
export type TAData = DataOf<typeof TA>;
export type DLVData = DataOf<typeof DLV>;
export type LOCData = DataOf<typeof LOC>;
export type APLData = DataOf<typeof APL>;
export type IPSECKEYData = DataOf<typeof IPSECKEY>;
export type HIPData = DataOf<typeof HIP>;
export type KEYData = DataOf<typeof KEY>;
export type SIGData = DataOf<typeof SIG>;
export type NXTData = DataOf<typeof NXT>;
export type A6Data = DataOf<typeof A6>;
export type NIDData = DataOf<typeof NID>;
export type L64Data = DataOf<typeof L64>;
export type AMTRELAYData = DataOf<typeof AMTRELAY>;
export type DSYNCData = DataOf<typeof DSYNC>;
export { EncodeMode };
