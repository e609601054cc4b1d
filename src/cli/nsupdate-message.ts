/**
 * The UPDATE message `sovereign nsupdate` builds (RFC 2136 §2): zone, prerequisite and update
 * sections, encoded with the wire codec's Writer, and the text nsupdate 9.18 prints for it
 * (`show`, `answer`, `-d`).
 *
 * Why not `Message.encode`: RFC 2136 §2.4/§2.5 records of class ANY or NONE carry empty RDATA
 * (delete an RRset, "RRset exists", "name is not in use"), which the type table's codecs cannot
 * encode for types such as A. Records with RDATA go through `encodeRecord`; empty ones are written
 * here as owner, type, class, TTL and RDLENGTH 0.
 */
import { Opcode, rcodeToString } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { type ResourceRecord, encodeQuestion, encodeRecord } from '../wire/record.js';
import { RRClass, RRType, classToString, typeToString } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { formatEdns, formatQuestion, formatRecord, headerFlags, pad } from './dig-format.js';

/** A prerequisite or update record; `data` undefined means empty RDATA (RFC 2136 §2.4, §2.5). */
export interface UpdateRecord {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  data: unknown;
}

/** The update being assembled: what `show` prints and `send` sends. */
export class UpdateDraft {
  /** Zone section (RFC 2136 §2.3): the `zone` command's name, or the one found by SOA query. */
  zone: Name | undefined;
  zoneClass: number = RRClass.IN;
  readonly prereq: UpdateRecord[] = [];
  readonly update: UpdateRecord[] = [];

  get empty(): boolean {
    return this.update.length === 0;
  }

  /**
   * The wire form with ID `id`: header (opcode UPDATE), ZOCOUNT 1 (zone SOA), prerequisites in
   * the answer section's place, updates in the authority section's (RFC 2136 §2).
   */
  encode(id: number, zone: Name): Uint8Array {
    const w = new Writer();
    w.reset();
    w.u16(id);
    w.u16(Opcode.UPDATE << 11);
    w.u16(1);
    w.u16(this.prereq.length);
    w.u16(this.update.length);
    w.u16(0);
    encodeQuestion(w, { name: zone, type: RRType.SOA, class: this.zoneClass });
    for (const rr of this.prereq) writeRecord(w, rr);
    for (const rr of this.update) writeRecord(w, rr);
    return w.toBytes();
  }
}

function writeRecord(w: Writer, rr: UpdateRecord): void {
  if (rr.data !== undefined) {
    encodeRecord(w, rr as ResourceRecord);
    return;
  }
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  w.u16(0);
}

/** One record in dig's columns; empty RDATA leaves the tab before it, as BIND prints it. */
export function updateRecordText(rr: UpdateRecord): string {
  if (rr.data !== undefined) return formatRecord(rr as ResourceRecord);
  const parts: string[] = [];
  const name = rr.name.toString();
  parts.push(name);
  let col = pad(parts, name.length, 24);
  const ttl = String(rr.ttl);
  parts.push(ttl);
  col = pad(parts, col + ttl.length, 32);
  const cls = classToString(rr.class);
  parts.push(cls);
  col = pad(parts, col + cls.length, 40);
  const type = typeToString(rr.type);
  parts.push(type);
  pad(parts, col + type.length, 48);
  return parts.join('');
}

/** `;; ->>HEADER<<- opcode: UPDATE, status: NOERROR, id:  12345` (nsupdate pads the ID to 6). */
function headerLine(opcode: number, rcode: number, id: number): string {
  const op = opcode === Opcode.UPDATE ? 'UPDATE' : opcode === Opcode.QUERY ? 'QUERY' : String(opcode);
  return `;; ->>HEADER<<- opcode: ${op}, status: ${rcodeToString(rcode)}, id: ${String(id).padStart(6)}`;
}

/**
 * The draft as `show` prints it (nsupdate 9.18 prints the message before rendering it, so
 * every count reads 0 and the ID is 0).
 */
export function showDraft(d: UpdateDraft): string {
  const lines = ['Outgoing update query:', headerLine(Opcode.UPDATE, 0, 0),
    ';; flags:; ZONE: 0, PREREQ: 0, UPDATE: 0, ADDITIONAL: 0'];
  if (d.zone !== undefined) lines.push(';; ZONE SECTION:', formatQuestion({ name: d.zone, type: RRType.SOA, class: d.zoneClass }), '');
  if (d.prereq.length > 0) lines.push(';; PREREQUISITE SECTION:', ...d.prereq.map(updateRecordText), '');
  if (d.update.length > 0) lines.push(';; UPDATE SECTION:', ...d.update.map(updateRecordText), '');
  return lines.join('\n') + '\n';
}

/**
 * A received message (the update's reply, or the SOA query's under -d) as nsupdate prints it:
 * UPDATE messages name their sections ZONE / PREREQUISITE / UPDATE (RFC 2136 §2), queries as dig.
 * The TSIG record goes to its own pseudosection, after the additional section.
 */
export function showMessage(title: string, m: Message): string {
  const upd = m.opcode === Opcode.UPDATE;
  const flags = headerFlags(m);
  const names = upd ? ['ZONE', 'PREREQ', 'UPDATE', 'ADDITIONAL'] : ['QUERY', 'ANSWER', 'AUTHORITY', 'ADDITIONAL'];
  const counts = [m.question.length, m.answer.length, m.authority.length, m.additional.length + (m.edns !== undefined ? 1 : 0)];
  const lines = [title, headerLine(m.opcode, m.rcode, m.id),
    `;; flags:${flags.length > 0 ? ' ' + flags.join(' ') : ''}; ${names.map((n, i) => `${n}: ${counts[i]}`).join(', ')}`];
  if (m.edns !== undefined) lines.push(';; OPT PSEUDOSECTION:', ...formatEdns(m.edns), '');
  if (m.question.length > 0) lines.push(`;; ${upd ? 'ZONE' : 'QUESTION'} SECTION:`, ...m.question.map((q) => formatQuestion(q)), '');
  const tsig = m.additional.filter((rr) => rr.type === RRType.TSIG);
  const additional = m.additional.filter((rr) => rr.type !== RRType.TSIG);
  const sections: [string, ResourceRecord[]][] = [
    [upd ? 'PREREQUISITE' : 'ANSWER', m.answer], [upd ? 'UPDATE' : 'AUTHORITY', m.authority], ['ADDITIONAL', additional],
  ];
  for (const [name, rrs] of sections) if (rrs.length > 0) lines.push(`;; ${name} SECTION:`, ...rrs.map((rr) => formatRecord(rr)), '');
  if (tsig.length > 0) lines.push(';; TSIG PSEUDOSECTION:', ...tsig.map((rr) => formatRecord(rr)), '');
  return lines.join('\n') + '\n';
}
