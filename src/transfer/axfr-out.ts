/**
 * AXFR out (RFC 5936 §2.2): a zone as a stream of messages, SOA first and last, every other
 * record in between, names compressed, each message filled up to a target size and encoded
 * only when the transport asks for it.
 *
 * Invariants: the stream reads one immutable Zone object from start to end, so a reload during
 * the transfer cannot mix versions (the new version is another object). Memory held is one
 * message plus a cursor (node index, RRset index, record index); records are copied from the
 * zone's stored wire form (decoded only for the RFC 1035 types whose names compress).
 */
import type { ReplyStream } from '../server/engine.js';
import { Flag } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { encodeRecord } from '../wire/record.js';
import { EncodeMode, RRType, encodeRData } from '../wire/types.js';
import type { Writer } from '../wire/writer.js';
import { type RRset, type Zone, type ZoneNode, ZoneRRset } from '../zone/zone.js';

/**
 * Messages are filled to about this size: BIND's default transfer-message-size is 20480; Knot
 * uses up to 64 KiB. Smaller messages cost more headers, larger ones more latency per read.
 */
export const XFR_MESSAGE_TARGET = 16384;

/** RFC 1035 types whose RDATA names may be compressed (RFC 3597 §4: these only). */
const COMPRESSED = new Set<number>([2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15]);

/** Writes one record of `set` (index `i`) in message form, owner compressed. */
export function writeZoneRecord(w: Writer, owner: Name, set: RRset, i: number): void {
  w.name(owner, true);
  w.u16(set.type);
  w.u16(set.class);
  w.u32(set.ttl);
  const lenAt = w.pos;
  w.u16(0);
  if (set instanceof ZoneRRset && !COMPRESSED.has(set.type)) {
    w.bytes(set.storedAt(i));
  } else {
    const data = set instanceof ZoneRRset ? set.decode()[i] : set.rdata[i];
    encodeRData(set.type, w, data, EncodeMode.Message);
  }
  w.setU16(lenAt, w.pos - lenAt - 2);
}

/** Where a record source stands: a list of records to send, one at a time. */
export interface RecordSource {
  /** Writes the next record into `w`; false when there are none left. */
  write(w: Writer): boolean;
  /** Steps back one record (it did not fit the message; it goes first in the next). */
  unwrite(): void;
}

/** Every record of a zone except the apex SOA, node by node (parents before children). */
export class ZoneRecords implements RecordSource {
  private readonly nodes: readonly ZoneNode[];
  private node = 0;
  private set = 0;
  private rec = 0;
  private readonly last: [number, number, number] = [0, 0, 0];
  private nameOf: ZoneNode | undefined;
  private name: Name | undefined;

  constructor(private readonly zone: Zone) {
    this.nodes = zone.nodes();
  }

  write(w: Writer): boolean {
    const nodes = this.nodes;
    for (;;) {
      if (this.node >= nodes.length) return false;
      const n = nodes[this.node]!;
      if (this.set >= n.setCount) {
        this.node++;
        this.set = 0;
        this.rec = 0;
        continue;
      }
      const s = n.setAt(this.set);
      const count = s instanceof ZoneRRset ? s.count : s.rdata.length;
      if ((s.type === RRType.SOA && n === this.zone.apex) || this.rec >= count) {
        this.set++;
        this.rec = 0;
        continue;
      }
      this.last[0] = this.node;
      this.last[1] = this.set;
      this.last[2] = this.rec;
      // The owner built once per node and not kept on it (see ZoneNode.peekName).
      if (this.nameOf !== n) {
        this.nameOf = n;
        this.name = n.peekName();
      }
      writeZoneRecord(w, this.name!, s, this.rec);
      this.rec++;
      return true;
    }
  }

  unwrite(): void {
    this.node = this.last[0];
    this.set = this.last[1];
    this.rec = this.last[2];
  }
}

/** A fixed list of records (IXFR differences, single SOA replies). */
export class ListRecords implements RecordSource {
  private i = 0;

  constructor(private readonly records: readonly ResourceRecord[]) {}

  write(w: Writer): boolean {
    if (this.i >= this.records.length) return false;
    encodeRecord(w, this.records[this.i++]!);
    return true;
  }

  unwrite(): void {
    this.i--;
  }
}

/** Several sources one after the other. */
export class ChainedRecords implements RecordSource {
  private i = 0;
  private lastSource = 0;

  constructor(private readonly sources: readonly RecordSource[]) {}

  write(w: Writer): boolean {
    while (this.i < this.sources.length) {
      if (this.sources[this.i]!.write(w)) {
        this.lastSource = this.i;
        return true;
      }
      this.i++;
    }
    return false;
  }

  unwrite(): void {
    this.i = this.lastSource;
    this.sources[this.i]!.unwrite();
  }
}

/**
 * Packs the records of a source into reply messages to `request` (RFC 5936 §2.2: same ID, the
 * question in the first message only, AA set, answer section only).
 */
export class TransferStream implements ReplyStream {
  private first = true;
  private finished = false;

  constructor(private readonly request: Message, private readonly source: RecordSource, private readonly target = XFR_MESSAGE_TARGET) {}

  next(w: Writer, maxSize: number): number {
    if (this.finished) return -1;
    const req = this.request;
    w.reset();
    w.u16(req.id);
    w.u16(Flag.QR | Flag.AA | ((req.opcode & 0xf) << 11));
    w.u16(this.first ? 1 : 0);
    w.u32(0);
    w.u16(0);
    if (this.first) {
      const q = req.question[0]!;
      w.name(q.name, true);
      w.u16(q.type);
      w.u16(q.class);
    }
    this.first = false;
    const limit = Math.min(maxSize, this.target);
    let an = 0;
    for (;;) {
      const mark = w.mark();
      if (!this.source.write(w)) {
        this.finished = true;
        break;
      }
      if (w.pos > maxSize || (w.pos > limit && an > 0)) {
        // Did not fit (or the message is full): it goes first in the next message.
        w.rollback(mark);
        this.source.unwrite();
        if (an === 0) throw new RangeError('a record does not fit in one message');
        break;
      }
      an++;
      if (w.pos >= limit) break;
    }
    if (an === 0 && this.finished) {
      // Nothing left after all: the previous message was the last.
      return -1;
    }
    w.setU16(6, an);
    return w.pos;
  }
}
