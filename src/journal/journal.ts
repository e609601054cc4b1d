/**
 * A zone's journal: an append-only file of checksummed difference records (serial N -> M:
 * records removed, records added), kept next to the zone file. Reloads that change a zone append
 * here (IXFR from differences, RFC 1995); dynamic update (RFC 2136) appends with `durable` so
 * an acknowledged change survives a crash; an inbound IXFR can append what it applied.
 *
 * File layout: the 8-octet magic `SOVJNL1\n`, then records, each
 *   u32 payload length | u32 CRC-32 of the payload | payload
 * payload: u8 kind (1 = difference) | u32 from serial | u32 to serial | u32 removed count |
 *   u32 added count | removed RRs | added RRs, each RR as u16 length + the RR in message form
 *   compressed only within itself (owner, type, class, TTL, RDLENGTH, RDATA; case kept).
 *   The removed list starts with the old SOA and the added list
 *   with the new SOA (RFC 1995 §4 order).
 * payload of a checkpoint (kind 2, written by dynamic update when it writes the zone file):
 *   u8 kind | u32 serial | 32 octets SHA-256 of the zone file written. Differences after the
 *   checkpoint matching the zone file on disk are what a start replays onto it.
 *
 * Invariants: a record is either wholly valid (length and CRC check) or it and everything after
 * it is cut on open (a torn write at a crash), with a log line; nothing before it is lost.
 * Appends only ever add whole records at the end; compaction rewrites the file atomically
 * (temp file, fsync, rename).
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, ftruncateSync, writeSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../logging.js';
import { Reader } from '../wire/reader.js';
import { WireFormatError } from '../errors.js';
import { type ResourceRecord, decodeRecord, encodeRecord } from '../wire/record.js';
import { Writer } from '../wire/writer.js';

export const JOURNAL_MAGIC = Buffer.from('SOVJNL1\n', 'latin1');
const KIND_DIFFERENCE = 1;
const KIND_CHECKPOINT = 2;

/** The zone file as dynamic update last wrote (or read) it: its serial and content hash. */
export interface JournalCheckpoint {
  serial: number;
  /** SHA-256 of the file's bytes. */
  hash: Buffer;
}

/** One journal record, in file order. */
export type JournalEntry = { kind: 'difference'; difference: JournalDifference } | { kind: 'checkpoint'; checkpoint: JournalCheckpoint };
/** Largest record accepted on read (a corrupt length must not make us allocate gigabytes). */
const MAX_RECORD = 256 * 1024 * 1024;

/** One version step of a zone (see the module comment). */
export interface JournalDifference {
  fromSerial: number;
  toSerial: number;
  /** Old SOA first, then the records removed. */
  removed: ResourceRecord[];
  /** New SOA first, then the records added. */
  added: ResourceRecord[];
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib). */
export function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The journal path of a zone file: `FILE.sovjnl` beside it (not BIND's `.jnl`, which named would try to read). */
export function journalPathFor(zoneFile: string): string {
  return `${zoneFile}.sovjnl`;
}

/** encodeRR's scratch (a Writer is ~150 KiB: one per difference was most of an update's journal CPU). */
let rrWriter: Writer | undefined;

/** One RR in message form, names compressed only against the RR itself (so it decodes alone). */
function encodeRR(w: Writer, rr: ResourceRecord): Uint8Array {
  w.reset();
  encodeRecord(w, rr);
  return w.toBytes();
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  payload.copy(out, 8);
  return out;
}

/** Encodes a checkpoint as one journal record (header included). */
export function encodeCheckpoint(c: JournalCheckpoint): Buffer {
  const payload = Buffer.alloc(37);
  payload[0] = KIND_CHECKPOINT;
  payload.writeUInt32BE(c.serial >>> 0, 1);
  c.hash.copy(payload, 5, 0, 32);
  return frame(payload);
}

function encodeEntry(e: JournalEntry): Buffer {
  return e.kind === 'difference' ? encodeDifference(e.difference) : encodeCheckpoint(e.checkpoint);
}

/** Encodes a difference as one journal record (header included). */
export function encodeDifference(d: JournalDifference): Buffer {
  const parts: Uint8Array[] = [];
  const head = Buffer.alloc(17);
  head[0] = KIND_DIFFERENCE;
  head.writeUInt32BE(d.fromSerial >>> 0, 1);
  head.writeUInt32BE(d.toSerial >>> 0, 5);
  head.writeUInt32BE(d.removed.length, 9);
  head.writeUInt32BE(d.added.length, 13);
  parts.push(head);
  const w = (rrWriter ??= new Writer());
  for (const list of [d.removed, d.added]) {
    for (const rr of list) {
      const b = encodeRR(w, rr);
      parts.push(Uint8Array.of(b.length >>> 8, b.length & 0xff), b);
    }
  }
  return frame(Buffer.concat(parts));
}

function decodeEntry(payload: Uint8Array): JournalEntry {
  if (payload[0] === KIND_CHECKPOINT) {
    if (payload.length !== 37) throw new WireFormatError(0, 'journal checkpoint', `${payload.length} octets, not 37`);
    const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    return { kind: 'checkpoint', checkpoint: { serial: b.readUInt32BE(1), hash: Buffer.from(b.subarray(5, 37)) } };
  }
  return { kind: 'difference', difference: decodeDifference(payload) };
}

/** Decodes one framed difference record (as encodeDifference made it); throws WireFormatError. */
export function decodeDifferenceRecord(rec: Uint8Array): JournalDifference {
  if (rec.length < 8) throw new WireFormatError(0, 'journal record', 'shorter than its header');
  const b = Buffer.from(rec.buffer, rec.byteOffset, rec.length);
  const len = b.readUInt32BE(0);
  const payload = b.subarray(8, 8 + len);
  if (payload.length !== len || crc32(payload) !== b.readUInt32BE(4)) throw new WireFormatError(0, 'journal record', 'length or checksum mismatch');
  return decodeDifference(payload);
}

function decodeDifference(payload: Uint8Array): JournalDifference {
  const r = new Reader(payload);
  if (r.u8('journal kind') !== KIND_DIFFERENCE) r.fail('journal kind', 'unknown record kind', 0);
  const fromSerial = r.u32('from serial');
  const toSerial = r.u32('to serial');
  const nr = r.u32('removed count');
  const na = r.u32('added count');
  const removed: ResourceRecord[] = [];
  const added: ResourceRecord[] = [];
  let p = r.pos;
  for (let i = 0; i < nr + na; i++) {
    if (p + 2 > payload.length) throw new WireFormatError(p, 'journal RR', 'runs past the record');
    const len = (payload[p]! << 8) | payload[p + 1]!;
    if (p + 2 + len > payload.length) throw new WireFormatError(p, 'journal RR', 'runs past the record');
    const rr = new Reader(payload.subarray(p + 2, p + 2 + len));
    const rec = decodeRecord(rr);
    if (rr.pos !== len) throw new WireFormatError(p, 'journal RR', 'length does not match the record');
    (i < nr ? removed : added).push(rec);
    p += 2 + len;
  }
  if (p !== payload.length) throw new WireFormatError(p, 'journal record', 'trailing octets');
  return { fromSerial, toSerial, removed, added };
}

export interface JournalReadResult {
  differences: JournalDifference[];
  /** Every record (differences and checkpoints) in file order. */
  entries: JournalEntry[];
  /** Octets cut from a torn or corrupt tail (0 when the file was whole). */
  cut: number;
}

/** An open journal file. */
export class Journal {
  /** The file kept open for appends (dynamic update appends often); closed when the file is replaced. */
  private fd: number | undefined;
  /** Octets of whole records in the file (where the next append goes); known while `fd` is open. */
  private size = 0;
  /** Octets known durable (covered by a finished fdatasync, or there at open). */
  private durableSize = 0;
  /** fdatasyncs running in the thread pool on `fd` (syncAsync). */
  private syncing = 0;
  /** Descriptors whose close waits for those fdatasyncs (a number reused meanwhile would be synced instead). */
  private closeLater: number[] = [];

  private constructor(readonly path: string, private readonly logger: Logger) {}

  /** Closes the append descriptor (it is reopened on the next append). */
  close(): void {
    if (this.fd !== undefined) {
      if (this.syncing > 0) this.closeLater.push(this.fd);
      else try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = undefined;
    }
  }

  private openForAppend(): number {
    if (this.fd === undefined) {
      const fd = openSync(this.path, 'a');
      this.fd = fd;
      this.size = fstatSync(fd).size;
      this.durableSize = this.size;
    }
    return this.fd;
  }

  /**
   * Writes records at the end without waiting for the disk (`syncAsync`/`syncNow` make them
   * durable). A failed or short write is cut off again (the file ends at the last whole
   * record), so a later append never lands behind garbage; throws.
   */
  write(entries: readonly JournalEntry[]): void {
    const rec = entries.length === 1 ? encodeEntry(entries[0]!) : Buffer.concat(entries.map(encodeEntry));
    const fd = this.openForAppend();
    try {
      const n = writeSync(fd, rec);
      if (n !== rec.length) throw new Error(`journal ${this.path}: short write (${n} of ${rec.length} octets)`);
      this.size += n;
    } catch (e) {
      try { ftruncateSync(fd, this.size); } catch { /* the torn tail is cut at the next open */ }
      this.close();
      throw e;
    }
  }

  /** True while records written are not yet known durable. */
  get unsynced(): boolean {
    return this.fd !== undefined && this.size > this.durableSize;
  }

  /**
   * fdatasync in the thread pool (the event loop keeps answering meanwhile); `done` gets the
   * error, or undefined once every record written before this call is durable. Records
   * written while it runs need the next one (group commit: one flush for all of them).
   */
  syncAsync(done: (err: Error | undefined) => void): void {
    const fd = this.openForAppend();
    const upto = this.size;
    this.syncing++;
    fdatasync(fd, (err) => {
      this.syncing--;
      if (this.syncing === 0) {
        for (const old of this.closeLater) try { closeSync(old); } catch { /* gone */ }
        this.closeLater = [];
      }
      if (err === null && this.fd === fd && upto > this.durableSize) this.durableSize = upto;
      done(err ?? undefined);
    });
  }

  /** fdatasync now, on this thread: everything written so far is durable when it returns; throws. */
  syncNow(): void {
    if (this.fd === undefined) return;
    fdatasyncSync(this.fd);
    this.durableSize = this.size;
  }

  /**
   * Cuts what was written after the last durable point (its flush failed: those updates are
   * answered SERVFAIL and must not come back at the next start). Best effort; closes the file.
   */
  discardUnsynced(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, this.durableSize);
      this.size = this.durableSize;
    } catch (e) {
      this.logger.error({ journal: this.path, err: e }, 'journal: could not cut the records whose flush failed');
    }
    this.close();
  }

  /**
   * Opens (creating when absent) and reads the journal; a torn or corrupt tail is cut off the
   * file (logged) and what came before it returned.
   */
  static open(path: string, logger: Logger, opts: { readOnly?: boolean } = {}): { journal: Journal } & JournalReadResult {
    const j = new Journal(path, logger);
    if (!existsSync(path)) {
      if (opts.readOnly !== true) j.rewrite([]);
      return { journal: j, differences: [], entries: [], cut: 0 };
    }
    const r = j.read(opts.readOnly === true);
    return { journal: j, ...r };
  }

  /**
   * Reads every whole record; cuts the file after the last good one. `readOnly`: nothing is cut
   * or rewritten (a process that does not own the journal reads it while the owner may be
   * appending: a record being written looks torn and must be left alone).
   */
  read(readOnly = false): JournalReadResult {
    const buf = readFileSync(this.path);
    if (readOnly && buf.length < JOURNAL_MAGIC.length) return { differences: [], entries: [], cut: 0 };
    if (buf.length < JOURNAL_MAGIC.length || !buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) {
      if (readOnly) return { differences: [], entries: [], cut: 0 };
      this.logger.error({ journal: this.path }, 'journal: not a Sovereign journal (bad magic); starting it again');
      this.rewrite([]);
      return { differences: [], entries: [], cut: buf.length };
    }
    const differences: JournalDifference[] = [];
    const entries: JournalEntry[] = [];
    let p = JOURNAL_MAGIC.length;
    let why = '';
    while (p < buf.length) {
      if (p + 8 > buf.length) {
        why = 'torn record header';
        break;
      }
      const len = buf.readUInt32BE(p);
      const crc = buf.readUInt32BE(p + 4);
      if (len > MAX_RECORD || p + 8 + len > buf.length) {
        why = 'torn record';
        break;
      }
      const payload = buf.subarray(p + 8, p + 8 + len);
      if (crc32(payload) !== crc) {
        why = 'checksum mismatch';
        break;
      }
      try {
        const e = decodeEntry(payload);
        entries.push(e);
        if (e.kind === 'difference') differences.push(e.difference);
      } catch (e) {
        why = `undecodable record: ${(e as Error).message}`;
        break;
      }
      p += 8 + len;
    }
    const cut = buf.length - p;
    if (cut > 0 && !readOnly) {
      this.logger.error({ journal: this.path, offset: p, cut, reason: why },
        `journal: ${why} at offset ${p}; cutting ${cut} octets, the ${differences.length} records before it are kept`);
      this.close();
      const fd = openSync(this.path, 'r+');
      try {
        ftruncateSync(fd, p);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return { differences, entries, cut };
  }

  /**
   * Appends one difference. `durable`: fsync before returning (dynamic update acknowledges a
   * change only after this).
   */
  append(d: JournalDifference, durable = false): void {
    this.appendEntries([{ kind: 'difference', difference: d }], durable);
  }

  /** Appends records in one write (so they land together); `durable`: fsync before returning. */
  appendEntries(entries: readonly JournalEntry[], durable = false): void {
    this.write(entries);
    if (!durable) return;
    try {
      // fdatasync: the data and the new file size (what a reader needs), not the timestamps.
      this.syncNow();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Replaces the file's contents with these differences, atomically (temp file, fsync, rename). */
  rewrite(differences: readonly JournalDifference[]): void {
    this.rewriteEntries(differences.map((d) => ({ kind: 'difference', difference: d })));
  }

  /** Replaces the file's contents with these records, atomically (temp file, fsync, rename). */
  rewriteEntries(entries: readonly JournalEntry[]): void {
    this.close(); // appends go to the new file from now on
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JOURNAL_MAGIC);
      for (const e of entries) writeSync(fd, encodeEntry(e));
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      try { unlinkSync(tmp); } catch { /* gone */ }
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.path);
    // The rename is durable once the directory is synced.
    try {
      const dfd = openSync(dirname(this.path), 'r');
      try { fsyncSync(dfd); } finally { closeSync(dfd); }
    } catch { /* some file systems refuse fsync on directories */ }
  }
}
