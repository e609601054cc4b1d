/**
 * DNS messages (RFC 1035 §4.1) with EDNS(0) (RFC 6891).
 *
 * Invariants:
 * - Decoding reads everything or throws one WireFormatError (offset + field); trailing bytes
 *   after the last section are an error. The OPT record is lifted out of the additional
 *   section into `edns` (at most one, owner root), and its extended RCODE bits are merged into
 *   `rcode`.
 * - Encoding fits the message into `maxSize`: sections in order, whole RRsets (with the RRSIGs
 *   that follow and cover them) dropped from the end, TC set only when answer or authority data
 *   did not fit (RFC 2181 §9) or when a required additional record (the first
 *   `requiredAdditional` of them: in-domain referral glue, RFC 9471 §3.1) did not; other
 *   additional data is dropped silently (RFC 9471 §3.2 lets sibling glue go without TC). Space
 *   for the OPT record is reserved first so EDNS always survives; if even header, question and OPT do not fit, encoding
 *   throws EncodeError. Names are compressed byte-exactly, so decode -> encode -> decode keeps case.
 */
import { EncodeError } from '../errors.js';
import { Flag, opcodeToString, rcodeToString } from './constants.js';
import { type Edns, ednsOptionToString, optRecordSize } from './edns.js';
import { Name } from './name.js';
import { Reader } from './reader.js';
import {
  type Question, type ResourceRecord, decodeQuestion, decodeRecord, encodeQuestion, encodeRecord, questionToString,
  recordToString,
} from './record.js';
import { RRType } from './types.js';
import { MAX_MESSAGE_SIZE, Writer } from './writer.js';

export const HEADER_SIZE = 12;

export interface EncodeOptions {
  /** Largest message to produce (512 for plain UDP, the EDNS size, 65535 for TCP). */
  maxSize?: number;
  /** Writer to encode into (servers keep one per socket); defaults to a shared one. */
  writer?: Writer;
}

const sharedWriter = new Writer();

export class Message {
  id = 0;
  /** QR: this is a response. */
  qr = false;
  opcode = 0;
  aa = false;
  tc = false;
  rd = false;
  ra = false;
  /** The reserved Z bit (must be zero; kept for fidelity). */
  z = false;
  ad = false;
  cd = false;
  /** Full RCODE: the header's 4 bits plus, with EDNS, the 8 extended bits (RFC 6891 §6.1.3). */
  rcode = 0;
  question: Question[] = [];
  answer: ResourceRecord[] = [];
  authority: ResourceRecord[] = [];
  additional: ResourceRecord[] = [];
  /**
   * How many records at the start of `additional` are required: if any of them does not fit the
   * size limit, the encoder sets TC (RFC 9471 §3.1, glue for in-domain name servers). Decoding
   * leaves it 0.
   */
  requiredAdditional = 0;
  /** EDNS(0) from the OPT record, undefined when the message has none. */
  edns: Edns | undefined = undefined;

  /** Builds a query for one question (RD set, as stub resolvers send). */
  static query(name: Name | string, type: number, opts: { id?: number; rd?: boolean; class?: number; edns?: Edns } = {}): Message {
    const m = new Message();
    m.id = opts.id ?? 0;
    m.rd = opts.rd ?? true;
    m.question.push({ name: typeof name === 'string' ? Name.fromText(name) : name, type, class: opts.class ?? 1 });
    m.edns = opts.edns;
    return m;
  }

  /** Decodes a whole message; throws WireFormatError on any malformation. */
  static decode(bytes: Uint8Array): Message {
    const r = new Reader(bytes);
    if (bytes.length < HEADER_SIZE) r.fail('header', `message of ${bytes.length} octets is shorter than the 12-octet header`, 0);
    const m = new Message();
    const b = bytes;
    m.id = (b[0]! << 8) | b[1]!;
    const flags = (b[2]! << 8) | b[3]!;
    m.qr = (flags & Flag.QR) !== 0;
    m.opcode = (flags >> 11) & 0xf;
    m.aa = (flags & Flag.AA) !== 0;
    m.tc = (flags & Flag.TC) !== 0;
    m.rd = (flags & Flag.RD) !== 0;
    m.ra = (flags & Flag.RA) !== 0;
    m.z = (flags & Flag.Z) !== 0;
    m.ad = (flags & Flag.AD) !== 0;
    m.cd = (flags & Flag.CD) !== 0;
    m.rcode = flags & 0xf;
    const qd = (b[4]! << 8) | b[5]!;
    const an = (b[6]! << 8) | b[7]!;
    const ns = (b[8]! << 8) | b[9]!;
    const ar = (b[10]! << 8) | b[11]!;
    r.pos = HEADER_SIZE;
    // Each question takes at least 5 octets and each RR 11: reject lying counts before looping.
    if (qd * 5 + (an + ns + ar) * 11 > bytes.length - HEADER_SIZE) {
      r.fail('header', `counts (${qd}/${an}/${ns}/${ar}) need more octets than the message has`, 4);
    }
    for (let i = 0; i < qd; i++) m.question.push(decodeQuestion(r));
    for (let i = 0; i < an + ns; i++) {
      const at = r.pos;
      const rr = decodeRecord(r);
      // RFC 6891 §6.1.1: OPT only in the additional section
      if (rr.type === RRType.OPT) r.fail('OPT', `OPT in the ${i < an ? 'answer' : 'authority'} section`, at);
      (i < an ? m.answer : m.authority).push(rr);
    }
    for (let i = 0; i < ar; i++) {
      const at = r.pos;
      const rr = decodeRecord(r);
      if (rr.type === RRType.OPT) {
        if (m.edns !== undefined) r.fail('OPT', 'more than one OPT record (RFC 6891 §6.1.1)', at);
        if (!rr.name.isRoot) r.fail('OPT', 'owner name is not the root (RFC 6891 §6.1.2)', at);
        m.edns = {
          version: (rr.ttl >>> 16) & 0xff,
          udpSize: rr.class,
          dnssecOk: (rr.ttl & 0x8000) !== 0,
          zFlags: rr.ttl & 0x7fff,
          options: (rr.data as { options: Edns['options'] }).options,
        };
        m.rcode |= (rr.ttl >>> 24) << 4;
        continue;
      }
      m.additional.push(rr);
    }
    if (r.pos !== bytes.length) r.fail('message', `${bytes.length - r.pos} octets of trailing data`);
    return m;
  }

  /** The header's flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, low 4 RCODE bits). */
  flagsWord(): number {
    return (this.qr ? Flag.QR : 0) | ((this.opcode & 0xf) << 11) | (this.aa ? Flag.AA : 0) | (this.tc ? Flag.TC : 0) |
      (this.rd ? Flag.RD : 0) | (this.ra ? Flag.RA : 0) | (this.z ? Flag.Z : 0) | (this.ad ? Flag.AD : 0) |
      (this.cd ? Flag.CD : 0) | (this.rcode & 0xf);
  }

  /** Encodes into a new Uint8Array (see the module comment for the size rules). */
  encode(opts: EncodeOptions = {}): Uint8Array {
    const w = opts.writer ?? sharedWriter;
    this.encodeInto(w, opts.maxSize ?? MAX_MESSAGE_SIZE);
    return w.toBytes();
  }

  /**
   * Encodes into `w` from offset 0 and returns the length; `w.buf` holds the message.
   * Sets TC in the output (not on this object) when answer/authority data was cut.
   */
  encodeInto(w: Writer, maxSize: number = MAX_MESSAGE_SIZE): number {
    if (maxSize > MAX_MESSAGE_SIZE) maxSize = MAX_MESSAGE_SIZE;
    w.reset();
    w.u16(this.id);
    w.u16(this.flagsWord());
    w.u16(this.question.length);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    for (let i = 0; i < this.question.length; i++) encodeQuestion(w, this.question[i]!);
    const edns = this.edns;
    const limit = maxSize - (edns === undefined ? 0 : optRecordSize(edns));
    let truncated = w.pos > limit;
    let an = 0;
    let ns = 0;
    let ar = 0;
    if (!truncated) {
      an = writeSection(w, this.answer, limit);
      truncated = an < this.answer.length;
    }
    if (!truncated) {
      ns = writeSection(w, this.authority, limit);
      truncated = ns < this.authority.length;
    }
    if (!truncated) {
      ar = writeSection(w, this.additional, limit);
      // RFC 9471 §3.1: missing in-domain glue makes the referral incomplete; what fit stays.
      truncated = ar < this.requiredAdditional;
    }
    if (truncated) {
      // RFC 2181 §9: TC when required data did not fit; keep what did fit in the answer.
      w.setU16(2, this.flagsWord() | Flag.TC);
    }
    if (edns !== undefined) {
      w.u8(0); // root owner
      w.u16(RRType.OPT);
      w.u16(edns.udpSize);
      w.u8((this.rcode >>> 4) & 0xff);
      w.u8(edns.version);
      w.u16((edns.dnssecOk ? 0x8000 : 0) | (edns.zFlags & 0x7fff));
      const lenAt = w.pos;
      w.u16(0);
      for (const o of edns.options) {
        w.u16(o.code);
        w.u16(o.data.length);
        w.bytes(o.data);
      }
      w.setU16(lenAt, w.pos - lenAt - 2);
      ar++;
    }
    if (w.pos > maxSize) {
      // Only the header, question and OPT are left and they alone are too big.
      throw new EncodeError(`header, question and OPT need ${w.pos} octets, limit is ${maxSize}`);
    }
    w.setU16(6, an);
    w.setU16(8, ns);
    w.setU16(10, ar);
    return w.pos;
  }

  /**
   * dig's text: header line, flags, OPT pseudosection (with each option as dig prints it) and
   * the four sections, records in the same form as `recordToString`.
   */
  toString(): string {
    let flags = '';
    if (this.qr) flags += ' qr';
    if (this.aa) flags += ' aa';
    if (this.tc) flags += ' tc';
    if (this.rd) flags += ' rd';
    if (this.ra) flags += ' ra';
    if (this.ad) flags += ' ad';
    if (this.cd) flags += ' cd';
    const lines = [
      `;; ->>HEADER<<- opcode: ${opcodeToString(this.opcode)}, status: ${rcodeToString(this.rcode)}, id: ${this.id}`,
      `;; flags:${flags}${this.z ? '; MBZ: 0x4' : ''}; QUERY: ${this.question.length}, ANSWER: ${this.answer.length}, ` +
        `AUTHORITY: ${this.authority.length}, ADDITIONAL: ${this.additional.length + (this.edns ? 1 : 0)}`,
      '',
    ];
    const edns = this.edns;
    if (edns !== undefined) {
      lines.push(';; OPT PSEUDOSECTION:',
        `; EDNS: version: ${edns.version}, flags:${edns.dnssecOk ? ' do' : ''}` +
        `${edns.zFlags !== 0 ? `; MBZ: 0x${edns.zFlags.toString(16).padStart(4, '0')}, ` : '; '}udp: ${edns.udpSize}`);
      for (const o of edns.options) lines.push('; ' + ednsOptionToString(o));
    }
    lines.push(';; QUESTION SECTION:');
    for (const q of this.question) lines.push(';' + questionToString(q));
    const sections: [string, ResourceRecord[]][] = [['ANSWER', this.answer], ['AUTHORITY', this.authority], ['ADDITIONAL', this.additional]];
    for (const [title, rrs] of sections) {
      if (rrs.length === 0) continue;
      lines.push('', `;; ${title} SECTION:`);
      for (const rr of rrs) lines.push(recordToString(rr));
    }
    return lines.join('\n');
  }
}

/**
 * Writes records, whole RRsets at a time, until one does not fit `limit`; returns how many
 * records were written (all of them when everything fit).
 */
function writeSection(w: Writer, rrs: readonly ResourceRecord[], limit: number): number {
  let setStart = 0;
  let setType = rrs.length > 0 ? rrs[0]!.type : 0;
  let mark = w.mark();
  for (let i = 0; i < rrs.length; i++) {
    const rr = rrs[i]!;
    if (i > 0) {
      const prev = rrs[i - 1]!;
      // An RRset is consecutive records of one owner, class and type; RRSIGs right after it that
      // cover it belong to it (a set is never sent without its signatures, nor they without it).
      const sameOwner = prev.class === rr.class && (prev.name === rr.name || prev.name.equals(rr.name));
      const sameSet = sameOwner && (rr.type === setType ||
        (rr.type === RRType.RRSIG && (rr.data as { typeCovered?: number }).typeCovered === setType &&
          (prev.type === setType || prev.type === RRType.RRSIG)));
      if (!sameSet) {
        setStart = i;
        setType = rr.type;
        mark = w.mark();
      }
    }
    encodeRecord(w, rr);
    if (w.pos > limit) {
      w.rollback(mark);
      return setStart;
    }
  }
  return rrs.length;
}
