/**
 * Resource records and questions: the RFC 1035 §4.1.2/§4.1.3 wire layout, presentation text,
 * and RRset helpers. RDATA meaning comes from the type table (`types.ts`).
 */
import { TextFormatError } from '../errors.js';
import { Name } from './name.js';
import { Reader } from './reader.js';
import { TokenCursor, tokenize } from './rdata/text.js';
import { HeadStatus, newRecordHead, readRecordHead } from './record-head.js';
import {
  EncodeMode, RRClass, classToString, decodeRData, encodeRData, parseRData, printRData, rdataEquals,
  typeToString,
} from './types.js';
import type { Writer } from './writer.js';

/**
 * A resource record. `data` is the type's decoded RDATA (e.g. `{ preference, exchange }` for MX),
 * or `{ rdata: Uint8Array }` for types the table does not know. Use `isType` to narrow.
 */
export interface ResourceRecord<D = unknown> {
  name: Name;
  type: number;
  class: number;
  /** Seconds. */
  ttl: number;
  data: D;
}

/**
 * A record as the decoder and the parsers return it: the ResourceRecord fields (same names, same
 * order, so the hot paths see one object shape) and `toString()` printing it as dig does (see
 * recordToString). Code that takes records accepts any ResourceRecord: a plain object literal
 * works everywhere a DnsRecord does, only without the method.
 */
export class DnsRecord<D = unknown> implements ResourceRecord<D> {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  data: D;

  constructor(name: Name, type: number, cls: number, ttl: number, data: D) {
    this.name = name;
    this.type = type;
    this.class = cls;
    this.ttl = ttl;
    this.data = data;
  }

  /** Presentation form as dig prints it: `owner<TAB>ttl<TAB>class<TAB>type<TAB>rdata`. */
  toString(): string {
    return recordToString(this);
  }
}

export interface Question {
  name: Name;
  type: number;
  class: number;
}

export function decodeQuestion(r: Reader): Question {
  const name = r.name('question name');
  const type = r.u16('question type');
  const cls = r.u16('question class');
  return { name, type, class: cls };
}

export function encodeQuestion(w: Writer, q: Question): void {
  w.name(q.name, true);
  w.u16(q.type);
  w.u16(q.class);
}

/**
 * The RDATA of a record that has none (RDLENGTH 0), as RFC 2136 update and prerequisite records
 * of class ANY or NONE do; encoded as nothing.
 */
export const EMPTY_RDATA: { readonly rdata: Uint8Array } = Object.freeze({ rdata: new Uint8Array(0) });

/** Decodes one RR at `r.pos`; `r.end` bounds the message. */
export function decodeRecord(r: Reader): ResourceRecord {
  const name = r.name('owner name');
  const type = r.u16('type');
  const cls = r.u16('class');
  const ttl = r.u32('ttl');
  const rdlength = r.u16('rdlength');
  const end = r.pos + rdlength;
  if (end > r.end) r.fail('rdata', `RDLENGTH ${rdlength} runs past the end of the message`, r.pos - 2);
  // RFC 2136 §2.4/§2.5: prerequisites and deletions of class ANY or NONE carry no RDATA.
  if (rdlength === 0 && (cls === RRClass.ANY || cls === RRClass.NONE)) return { name, type, class: cls, ttl, data: EMPTY_RDATA };
  const data = decodeRData(type, r, end);
  return new DnsRecord(name, type, cls, ttl, data);
}

/** Encodes one RR in message form (compressed names where the type allows). */
export function encodeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.pos;
  w.u16(0);
  if (rr.data !== EMPTY_RDATA) encodeRData(rr.type, w, rr.data, EncodeMode.Message);
  w.setU16(lenAt, w.pos - lenAt - 2);
}

/** Presentation form as dig prints it: `owner<TAB>ttl<TAB>class<TAB>type<TAB>rdata`. */
export function recordToString(rr: ResourceRecord): string {
  const rdata = printRData(rr.type, rr.data);
  return `${rr.name.toString()}\t${rr.ttl}\t${classToString(rr.class)}\t${typeToString(rr.type)}${rdata.length > 0 ? '\t' + rdata : ''}`;
}

export function questionToString(q: Question): string {
  return `${q.name.toString()}\t\t${classToString(q.class)}\t${typeToString(q.type)}`;
}

export interface RecordTextOptions {
  origin?: Name;
  /** TTL when the text gives none. */
  defaultTtl?: number;
  defaultClass?: number;
}

/**
 * Parses one record in zone-file form: `owner [ttl] [class] type rdata` (TTL and class in
 * either order, RFC 1035 §5.1). Relative names are relative to `origin`.
 */
export function parseRecord(text: string, opts: RecordTextOptions = {}): ResourceRecord {
  const tokens = tokenize(text);
  if (tokens.length < 2) throw new TextFormatError('record', `"${text}" needs at least an owner and a type`);
  const name = Name.fromText(tokens[0]!.text, opts.origin);
  const head = newRecordHead();
  const status = readRecordHead(tokens, 1, head);
  if (status === HeadStatus.NO_TYPE) throw new TextFormatError('record', `"${text}" has no type`);
  if (status === HeadStatus.UNKNOWN_TYPE) throw new TextFormatError('type', `unknown type "${tokens[head.at]!.text}"`);
  const data = parseRData(head.type, new TokenCursor(tokens, head.at + 1), opts.origin);
  return new DnsRecord(name, head.type, head.cls ?? opts.defaultClass ?? RRClass.IN, head.ttl ?? opts.defaultTtl ?? 0, data);
}

/** Same owner (ignoring case), type, class and RDATA; TTL ignored (RFC 2181 §5). */
export function recordEquals(a: ResourceRecord, b: ResourceRecord): boolean {
  return a.type === b.type && a.class === b.class && a.name.equals(b.name) && rdataEquals(a.type, a.data, b.data);
}

/** Type guard narrowing `rr.data` by type code: `if (isType(rr, RRType.MX)) rr.data.exchange`. */
export function isType<C extends keyof RDataByCode>(rr: ResourceRecord, code: C): rr is ResourceRecord<RDataByCode[C]> {
  return rr.type === code;
}

import type {
  AAAAData, AData, AFSDBData, AVCData, CAAData, CDNSKEYData, CDSData, CERTData, CNAMEData, CSYNCData, DHCIDData,
  DLVData, DNAMEData, DNSKEYData, DSData, EUI48Data, EUI64Data, HINFOData, HTTPSData, KXData, L32Data, LPData,
  MBData, MDData, MFData, MGData, MINFOData, MRData, MXData, NAPTRData, NSData, NSEC3Data, NSEC3PARAMData, NSECData,
  OPENPGPKEYData, OPTData, PTRData, PXData, RESINFOData, RPData, RRSIGData, RTData, SMIMEAData, SOAData, SPFData,
  SRVData, SSHFPData, SVCBData, TAData, TKEYData, TLSAData, TSIGData, TXTData, URIData, WALLETData, WKSData, X25Data,
  ZONEMDData,
} from './types.js';

/** RDATA shapes by type code, for `isType` (every type of the table). */
export interface RDataByCode {
  1: AData; 2: NSData; 3: MDData; 4: MFData; 5: CNAMEData; 6: SOAData; 7: MBData; 8: MGData; 9: MRData; 11: WKSData;
  12: PTRData; 13: HINFOData; 14: MINFOData; 15: MXData; 16: TXTData; 17: RPData; 18: AFSDBData; 19: X25Data;
  21: RTData; 26: PXData; 28: AAAAData; 33: SRVData; 35: NAPTRData; 36: KXData; 37: CERTData; 39: DNAMEData;
  41: OPTData; 43: DSData; 44: SSHFPData; 46: RRSIGData; 47: NSECData; 48: DNSKEYData; 49: DHCIDData; 50: NSEC3Data;
  51: NSEC3PARAMData; 52: TLSAData; 53: SMIMEAData; 59: CDSData; 60: CDNSKEYData; 61: OPENPGPKEYData; 62: CSYNCData;
  63: ZONEMDData; 64: SVCBData; 65: HTTPSData; 99: SPFData; 105: L32Data; 107: LPData; 108: EUI48Data;
  109: EUI64Data; 249: TKEYData; 250: TSIGData; 256: URIData; 257: CAAData; 258: AVCData; 261: RESINFOData;
  262: WALLETData; 32768: TAData; 32769: DLVData;
}
