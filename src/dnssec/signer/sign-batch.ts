/**
 * The unit of work the parallel signer (parallel-sign.ts) hands a worker thread (sign-worker.ts):
 * a run of consecutive RRsets of the walk (zone-walk.ts) in one transferable buffer, each with
 * its owner, type, class, TTL, RDATA in stored wire form, which keys sign it and the signature
 * expiration (jitter is drawn on the main thread, in walk order, so the zone is the same whatever
 * the number of threads). The worker decodes, prints and signs; the main thread only copies bytes.
 *
 * Layout of one RRset: u8 signer (0 none, 1 ZSKs, 2 KSKs) | u32 expiration | u8 owner length |
 * owner wire (case kept) | u16 type | u16 class | u32 TTL | u16 count | count x (u16 length | RDATA).
 */
import { Name } from '../../wire/name.js';
import { Reader } from '../../wire/reader.js';
import type { ResourceRecord } from '../../wire/record.js';
import { EncodeMode, decodeRData, encodeRData } from '../../wire/types.js';
import { Writer } from '../../wire/writer.js';
import { ZoneRRset } from '../../zone/zone.js';
import type { OutSet } from './zone-walk.js';

export const SIGNER_NONE = 0;
export const SIGNER_ZSK = 1;
export const SIGNER_KSK = 2;

/** A growable byte buffer for one batch. */
export class BatchWriter {
  buf = new Uint8Array(1 << 16);
  pos = 0;
  /** RRsets written. */
  sets = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    b[this.pos++] = v >>> 24;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  bytes(v: Uint8Array): void {
    this.room(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** The batch as a buffer of its own (to transfer). */
  take(): ArrayBuffer {
    const out = this.buf.slice(0, this.pos).buffer;
    this.pos = 0;
    this.sets = 0;
    return out;
  }
}

// Made records (NSEC, DNSKEY...) are encoded one at a time from offset 0, so any compression
// pointer stays within the record's own RDATA, as in the zone's stored form.
const scratch = new Writer();

/** Appends one RRset of the walk. */
export function writeSet(b: BatchWriter, owner: Name, set: OutSet, signer: number, expiration: number): void {
  b.u8(signer);
  b.u32(expiration >>> 0);
  b.u8(owner.wire.length);
  b.bytes(owner.wire);
  b.u16(set.type);
  const input = set.input;
  if (set.made !== undefined) {
    const first = set.made[0]!;
    b.u16(first.class);
    b.u32(first.ttl);
    b.u16(set.made.length);
    for (const rr of set.made) {
      scratch.reset();
      encodeRData(rr.type, scratch, rr.data, EncodeMode.Message);
      b.u16(scratch.pos);
      b.bytes(scratch.buf.subarray(0, scratch.pos));
    }
  } else if (input instanceof ZoneRRset) {
    b.u16(input.class);
    b.u32(input.ttl);
    const n = input.count;
    b.u16(n);
    for (let i = 0; i < n; i++) {
      const d = input.storedAt(i);
      b.u16(d.length);
      b.bytes(d);
    }
  } else {
    const s = input!;
    b.u16(s.class);
    b.u32(s.ttl);
    b.u16(s.rdata.length);
    for (const data of s.rdata) {
      scratch.reset();
      encodeRData(s.type, scratch, data, EncodeMode.Message);
      b.u16(scratch.pos);
      b.bytes(scratch.buf.subarray(0, scratch.pos));
    }
  }
  b.sets++;
}

/** One RRset read back by the worker. */
export interface BatchSet {
  signer: number;
  expiration: number;
  records: ResourceRecord[];
}

/** Reads the RRsets of a batch in order (owner Names shared between consecutive RRsets of one owner). */
export function* readBatch(buf: Uint8Array): Generator<BatchSet> {
  const r = new Reader(buf);
  let last: Name | undefined;
  while (r.pos < buf.length) {
    const signer = r.u8('signer');
    const expiration = r.u32('expiration');
    const len = r.u8('owner');
    const wire = r.bytes(len, 'owner');
    if (last === undefined || !sameBytes(last.wire, wire)) last = new Name(wire.slice());
    const name = last;
    const type = r.u16('type');
    const cls = r.u16('class');
    const ttl = r.u32('ttl');
    const n = r.u16('count');
    const records: ResourceRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const dl = r.u16('rdlength');
      const d = buf.subarray(r.pos, r.pos + dl);
      r.pos += dl;
      records[i] = { name, type, class: cls, ttl, data: decodeRData(type, new Reader(d), dl) };
    }
    yield { signer, expiration, records };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
