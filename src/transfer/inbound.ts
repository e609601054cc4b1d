/**
 * Inbound zone transfer (the secondary's side): IXFR from the serial we hold (RFC 1995), AXFR
 * (RFC 5936) when we hold nothing or the primary cannot do IXFR, every message TSIG-verified
 * when a key is given (RFC 8945 §5.3.1), and the result checked like a loaded zone before it may
 * replace anything; then written atomically (temp file, fsync, rename) to the copy's file.
 *
 * Invariants: fetchZone never changes the zone it is given; it returns a new Zone or throws
 * TransferError (a bad transfer never replaces the good copy). Rejected: a stream that ends
 * before its closing SOA, an AXFR whose first and last SOA differ, records outside the zone,
 * an IXFR that deletes a record the zone does not have, a wrong MAC in any message, a zone
 * that fails the load checks.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TcpConnection } from '../client/exchange.js';
import { NetworkError, TimeoutError, TransferError } from '../errors.js';
import type { TsigKey } from '../tsig/key.js';
import { TsigStreamVerifier, epochSeconds, signMessage } from '../tsig/tsig.js';
import { Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { EncodeMode, RRType, encodeRData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { checkZone } from '../zone/checks.js';
import { printZone } from '../zone/printer.js';
import { serialCompare } from '../zone/serial.js';
import { Zone, ZoneRRset } from '../zone/zone.js';
import { pullAxfr } from './axfr-in.js';
import type { ServerSpec } from './notify.js';

export interface FetchOptions {
  primary: ServerSpec;
  key?: TsigKey | undefined;
  /** Wait for each message, ms (default 10000). */
  timeoutMs?: number;
  localAddress?: string;
  nowMs?: () => number;
  /** Largest number of records accepted (a runaway primary); default 50 million. */
  maxRecords?: number;
}

export type FetchResult =
  | { kind: 'uptodate'; serial: number }
  | { kind: 'axfr' | 'ixfr'; zone: Zone; serial: number; records: number; messages: number; bytes: number };

const serialOf = (rr: ResourceRecord): number => (rr.data as { serial: number }).serial;

/** Records of one transfer, read to its end (or a TransferError). */
async function pull(origin: Name, type: number, have: ResourceRecord | undefined, opts: FetchOptions):
  Promise<{ records: ResourceRecord[]; count: number; messages: number; bytes: number; rcode: number }> {
  const q = Message.query(origin, type, { rd: false });
  if (type === RRType.IXFR && have !== undefined) q.authority.push({ ...have, ttl: 0 });
  const label = `${opts.primary.address}#${opts.primary.port}`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const now = opts.nowMs ?? Date.now;
  let conn: TcpConnection;
  try {
    conn = await TcpConnection.connect({ address: opts.primary.address, port: opts.primary.port },
      { timeoutMs, ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) });
  } catch (e) {
    throw new TransferError(origin.toString(), `cannot reach ${label}: ${(e as Error).message}`, e);
  }
  let requestMac: Uint8Array | undefined;
  const key = opts.key;
  const sign = key === undefined ? undefined : (b: Uint8Array): Uint8Array => {
    const r = signMessage(b, key, { timeSigned: epochSeconds(now()) });
    requestMac = r.mac;
    return r.bytes;
  };
  const records: ResourceRecord[] = [];
  let count = 0;
  let messages = 0;
  let octets = 0;
  const max = opts.maxRecords ?? 50_000_000;
  let verifier: TsigStreamVerifier | undefined;
  const end = new StreamEnd(type === RRType.IXFR);
  try {
    for await (const { message: m, bytes } of conn.stream(q, { idleTimeoutMs: timeoutMs, ...(sign === undefined ? {} : { sign }) })) {
      messages++;
      octets += bytes.length;
      let done = false;
      if (m.rcode === Rcode.NOERROR) for (const rr of m.answer) if (end.add(rr)) done = true;
      if (messages === 1 && m.answer.length === 1 && end.singleSoa) done = true;
      if (key !== undefined) {
        verifier ??= new TsigStreamVerifier(key, requestMac!, () => epochSeconds(now()));
        const why = verifier.check(bytes, done || m.rcode !== 0);
        if (why !== undefined) throw new TransferError(origin.toString(), `${label}: ${why}`);
      }
      if (m.rcode !== Rcode.NOERROR) return { records, count, messages, bytes: octets, rcode: m.rcode };
      if (messages === 1 && (m.answer.length === 0 || m.answer[0]!.type !== RRType.SOA)) {
        throw new TransferError(origin.toString(), `${label}: the transfer does not start with an SOA`);
      }
      for (const rr of m.answer) records.push(rr);
      count += m.answer.length;
      if (count > max) throw new TransferError(origin.toString(), `${label}: more than ${max} records`);
      if (done) return { records, count, messages, bytes: octets, rcode: 0 };
    }
  } catch (e) {
    if (e instanceof TransferError) throw e;
    if (e instanceof NetworkError || e instanceof TimeoutError) {
      throw new TransferError(origin.toString(), `${label}: transfer cut short after ${count} records (${e.message})`, e);
    }
    throw e;
  } finally {
    conn.close();
  }
  throw new TransferError(origin.toString(), `${label}: transfer ended before its closing SOA`);
}

/** Where a transfer stream ends (see dig's XfrEnd, RFC 1995 §4, RFC 5936 §2.2). */
class StreamEnd {
  private n = 0;
  private serial = -1;
  private mode = 0;
  private nextIsOld = true;

  constructor(private readonly ixfr: boolean) {}

  add(rr: ResourceRecord): boolean {
    this.n++;
    const isSoa = rr.type === RRType.SOA;
    const serial = isSoa ? serialOf(rr) : -1;
    if (this.n === 1) {
      this.serial = serial;
      return false;
    }
    if (!this.ixfr) return isSoa;
    if (this.n === 2) {
      this.mode = isSoa && serial !== this.serial ? 1 : 2;
      if (this.mode === 2) return isSoa;
      this.nextIsOld = false;
      return false;
    }
    if (!isSoa) return false;
    if (this.mode === 2) return true;
    if (this.nextIsOld && serial === this.serial) return true;
    this.nextIsOld = !this.nextIsOld;
    return false;
  }

  get singleSoa(): boolean {
    return this.ixfr && this.n === 1;
  }
}

/** Identity of a record: owner (case-blind), type, class and canonical RDATA. */
const keyWriter = new Writer();
function recordKey(rr: ResourceRecord): string {
  keyWriter.reset();
  encodeRData(rr.type, keyWriter, rr.data, EncodeMode.Canonical);
  return `${rr.name.key}|${rr.type}|${rr.class}|${Buffer.from(keyWriter.toBytes()).toString('latin1')}`;
}

/** Adds one received record to `zone`, refusing records outside it and an SOA off the apex. */
function addChecked(zone: Zone, origin: Name, rr: ResourceRecord): void {
  if (!rr.name.isSubdomainOf(origin)) {
    throw new TransferError(origin.toString(), `out-of-zone record ${rr.name.toString()} ${rr.type} in the transfer`);
  }
  if (rr.type === RRType.SOA && !rr.name.equals(origin)) {
    throw new TransferError(origin.toString(), `SOA at ${rr.name.toString()}, not at the apex`);
  }
  zone.add(rr);
}

/** Builds and checks a zone from records (SOA first); throws TransferError naming the problem. */
function buildZone(origin: Name, records: Iterable<ResourceRecord>): Zone {
  const zone = new Zone(origin);
  for (const rr of records) addChecked(zone, origin, rr);
  return finishZone(origin, zone);
}

/** Finishes and checks a zone built from a transfer. */
function finishZone(origin: Name, zone: Zone): Zone {
  zone.finish();
  // Only errors reject a transfer: the warnings (which cost a name and a decoded record each) are not looked for.
  const errors = checkZone(zone, origin.toString(), { warnings: false }).filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new TransferError(origin.toString(), `the received zone fails its checks: ${errors.map((e) => e.reason).join('; ')}`);
  return zone;
}

/** Every record of a zone (decoded). */
function* recordsOf(zone: Zone): Generator<ResourceRecord> {
  for (const node of zone.allNodes()) {
    for (let i = 0, n = node.setCount; i < n; i++) {
      const s = node.setAt(i);
      const data = s instanceof ZoneRRset ? s.decode() : s.rdata;
      for (const d of data) yield { name: node.name, type: s.type, class: s.class, ttl: s.ttl, data: d };
    }
  }
}

/**
 * AXFR-style records (SOA, ..., SOA) as a zone, each record decoded and added: an IXFR answered
 * with a whole zone, and the reference the wire-built AXFR (axfr-in.ts) is tested against.
 */
export function fromAxfr(origin: Name, records: ResourceRecord[]): Zone {
  const first = records[0]!;
  const last = records[records.length - 1]!;
  if (records.length < 2 || last.type !== RRType.SOA) throw new TransferError(origin.toString(), 'the transfer does not end with an SOA');
  if (serialOf(first) !== serialOf(last)) {
    throw new TransferError(origin.toString(), `first and last SOA differ (serial ${serialOf(first)} and ${serialOf(last)})`);
  }
  return buildZone(origin, records.slice(0, -1));
}

/** Applies an incremental IXFR (RFC 1995 §4) to `current`: a new zone. */
function applyIxfr(origin: Name, current: Zone, records: ResourceRecord[]): Zone {
  const byKey = new Map<string, ResourceRecord>();
  for (const rr of recordsOf(current)) if (rr.type !== RRType.SOA) byKey.set(recordKey(rr), rr);
  let soa: ResourceRecord | undefined;
  let at = current.serial ?? 0;
  let i = 1;
  const n = records.length - 1; // the closing SOA
  while (i < n) {
    const oldSoa = records[i]!;
    if (oldSoa.type !== RRType.SOA || serialOf(oldSoa) !== at) {
      throw new TransferError(origin.toString(), `IXFR difference starts at serial ${oldSoa.type === RRType.SOA ? serialOf(oldSoa) : '(not an SOA)'}, we are at ${at}`);
    }
    i++;
    for (; i < n && records[i]!.type !== RRType.SOA; i++) {
      const rr = records[i]!;
      const k = recordKey(rr);
      if (!byKey.delete(k)) throw new TransferError(origin.toString(), `IXFR deletes ${rr.name.toString()} ${rr.type}, which the zone does not have`);
    }
    if (i >= n) throw new TransferError(origin.toString(), 'IXFR difference without its new SOA');
    soa = records[i++]!;
    for (; i < n && records[i]!.type !== RRType.SOA; i++) {
      const rr = records[i]!;
      if (!rr.name.isSubdomainOf(origin)) throw new TransferError(origin.toString(), `out-of-zone record ${rr.name.toString()} in the IXFR`);
      byKey.set(recordKey(rr), rr);
    }
    at = serialOf(soa);
  }
  if (soa === undefined || serialOf(soa) !== serialOf(records[0]!)) {
    throw new TransferError(origin.toString(), `IXFR ends at serial ${at}, announced ${serialOf(records[0]!)}`);
  }
  return buildZone(origin, [soa, ...byKey.values()]);
}

/**
 * Brings `current` (or nothing) up to the primary's version: IXFR first when we hold a copy,
 * AXFR when the primary refuses IXFR or we hold nothing. Throws TransferError.
 */
export async function fetchZone(origin: Name, current: Zone | undefined, opts: FetchOptions): Promise<FetchResult> {
  const have = current?.soa;
  if (have !== undefined) {
    const r = await pull(origin, RRType.IXFR, have, opts);
    if (r.rcode === Rcode.NOERROR) {
      const first = r.records[0]!;
      const theirs = serialOf(first);
      if (r.records.length === 1 || serialCompare(theirs, serialOf(have)) !== 1) return { kind: 'uptodate', serial: theirs };
      const incremental = r.records[1]!.type === RRType.SOA && serialOf(r.records[1]!) !== theirs;
      const zone = incremental ? applyIxfr(origin, current!, r.records) : fromAxfr(origin, r.records);
      return { kind: incremental ? 'ixfr' : 'axfr', zone, serial: theirs, records: r.records.length, messages: r.messages, bytes: r.bytes };
    }
    if (r.rcode === Rcode.NOTAUTH || r.rcode === Rcode.REFUSED) {
      throw new TransferError(origin.toString(), `${opts.primary.address}#${opts.primary.port} answered IXFR with RCODE ${r.rcode}`);
    }
    // NOTIMP, FORMERR...: the primary does no IXFR; fall back to AXFR (RFC 1995 §4).
  }
  // AXFR: built from the wire as it arrives (axfr-in.ts), then checked like a loaded zone.
  const r = await pullAxfr(origin, opts);
  if (r.rcode !== Rcode.NOERROR || !('zone' in r)) {
    throw new TransferError(origin.toString(), `${opts.primary.address}#${opts.primary.port} answered AXFR with RCODE ${r.rcode}`);
  }
  const zone = finishZone(origin, r.zone);
  return { kind: 'axfr', zone, serial: zone.serial ?? 0, records: r.count, messages: r.messages, bytes: r.bytes };
}

/** Writes the zone to `file` atomically: a temp file beside it, fsync, rename, directory fsync. */
export function writeZoneFile(zone: Zone, file: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let chunk = `; zone ${zone.origin.toString()} serial ${zone.serial}, received by transfer\n$ORIGIN ${zone.origin.toString()}\n`;
    for (const line of printZone(zone)) {
      chunk += line + '\n';
      if (chunk.length > 1 << 16) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const d = openSync(dirname(file), 'r');
    try { fsyncSync(d); } finally { closeSync(d); }
  } catch { /* directories cannot always be synced */ }
}


let tmpSeq = 0;

/**
 * writeZoneFile without blocking: the text is printed and written in chunks (each write goes
 * to libuv's pool, so queries are answered between them), fsynced, then renamed over `file`
 * only when `commit()` still says so (a newer copy written meanwhile wins; the temp file is
 * removed). Nothing awaits between commit() and the rename, so a synchronous writeZoneFile
 * cannot slip in between. Resolves true when the copy was put in place.
 */
export async function writeZoneFileAsync(zone: Zone, file: string, commit: () => boolean = () => true): Promise<boolean> {
  const tmp = `${file}.tmp-${process.pid}-${++tmpSeq}`;
  const fh = await open(tmp, 'w');
  let written = false;
  try {
    let chunk = `; zone ${zone.origin.toString()} serial ${zone.serial}, received by transfer\n$ORIGIN ${zone.origin.toString()}\n`;
    for (const line of printZone(zone)) {
      chunk += line + '\n';
      if (chunk.length > 1 << 18) {
        await fh.write(chunk);
        chunk = '';
      }
    }
    await fh.write(chunk);
    await fh.sync();
    written = true;
  } finally {
    await fh.close();
    if (!written) await unlink(tmp).catch(() => {});
  }
  if (!commit()) {
    await unlink(tmp).catch(() => {});
    return false;
  }
  renameSync(tmp, file);
  syncDirectoryOf(file);
  return true;
}

function syncDirectoryOf(file: string): void {
  try {
    const d = openSync(dirname(file), 'r');
    try { fsyncSync(d); } finally { closeSync(d); }
  } catch { /* directories cannot always be synced */ }
}
