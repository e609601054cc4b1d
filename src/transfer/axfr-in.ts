/**
 * Inbound AXFR (RFC 5936) built straight from the wire: each message's answer records go into
 * the new zone as the bytes the zone stores (owner names and RDATA copied, names inside RDATA
 * decompressed by the type table's layout, src/zone/wire-rdata.ts), without a Message, Name or
 * RDATA object per record. A million-record transfer thus costs about what the zone's storage
 * costs; the records are never held decoded.
 *
 * Invariants: the zone is the one decoding every record and adding it would build (the tests
 * compare both record for record), and every input that decoding would refuse is refused
 * (TransferError naming the record). The stream must start with the zone's SOA and end with an
 * SOA of the same serial (RFC 5936 §2.2); records outside the zone, an SOA off the apex, or
 * anything after the closing SOA are refused. The builder's zone is unfinished until finish().
 */
import { TcpConnection } from '../client/exchange.js';
import { NetworkError, TimeoutError, TransferError, WireFormatError } from '../errors.js';
import type { TsigKey } from '../tsig/key.js';
import { TsigStreamVerifier, epochSeconds, signMessage } from '../tsig/tsig.js';
import { Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { RRClass, RRType, decodeRData, typeToString } from '../wire/types.js';
import { MAX_STORED, lastNameEnd, readName, storeWire, wirePlan } from '../zone/wire-rdata.js';
import { Zone } from '../zone/zone.js';
import type { ServerSpec } from './notify.js';

/** Builds a zone from the messages of one AXFR, as they arrive (see the module comment). */
export class WireAxfrBuilder {
  readonly zone: Zone;
  /** Answer records read, both SOAs included. */
  count = 0;
  /** The closing SOA has come. */
  done = false;
  /** Serial of the first SOA (-1 before it). */
  serial = -1;
  private readonly originWire: Uint8Array;
  private readonly owner = new Uint8Array(256);
  private readonly scratchName = new Uint8Array(256);
  private readonly rdata = Buffer.allocUnsafeSlow(MAX_STORED);

  /** `label` prefixes every error (the primary, `ADDR#PORT: `). */
  constructor(private readonly origin: Name, private readonly label = '') {
    this.zone = new Zone(origin);
    this.originWire = origin.wire;
  }

  /**
   * Reads one message whose header and question were checked (ReplyMatcher.checkHead) and
   * whose RCODE is NOERROR. Throws TransferError.
   */
  addMessage(msg: Uint8Array): void {
    const n = msg.length;
    const qd = (msg[4]! << 8) | msg[5]!;
    const an = (msg[6]! << 8) | msg[7]!;
    const rest = ((msg[8]! << 8) | msg[9]!) + ((msg[10]! << 8) | msg[11]!);
    let p = 12;
    for (let i = 0; i < qd; i++) {
      if (readName(msg, p, n, this.scratchName, 0) < 0) this.malformed(p, 'question name');
      p = lastNameEnd() + 4;
      if (p > n) this.malformed(p, 'question runs past the end');
    }
    if (this.count === 0 && an === 0) this.fail('the transfer does not start with an SOA');
    for (let i = 0; i < an; i++) {
      const ownerEnd = readName(msg, p, n, this.owner, 0);
      if (ownerEnd < 0) this.malformed(p, 'owner name');
      p = lastNameEnd();
      if (p + 10 > n) this.malformed(p, 'record header runs past the end');
      const type = (msg[p]! << 8) | msg[p + 1]!;
      const cls = (msg[p + 2]! << 8) | msg[p + 3]!;
      const ttl = ((msg[p + 4]! << 24) >>> 0) + ((msg[p + 5]! << 16) | (msg[p + 6]! << 8) | msg[p + 7]!);
      const end = p + 10 + ((msg[p + 8]! << 8) | msg[p + 9]!);
      if (end > n) this.malformed(p + 8, 'RDLENGTH runs past the end of the message');
      this.record(msg, ownerEnd, type, cls, ttl, p + 10, end);
      p = end;
    }
    // Authority and additional (TSIG, OPT): walked for their structure only (TSIG is verified
    // on the bytes, src/tsig/tsig.ts).
    let opt = false;
    for (let i = 0; i < rest; i++) {
      const at = p;
      if (readName(msg, p, n, this.scratchName, 0) < 0) this.malformed(p, 'owner name');
      p = lastNameEnd();
      if (p + 10 > n) this.malformed(p, 'record header runs past the end');
      const type = (msg[p]! << 8) | msg[p + 1]!;
      p += 10 + ((msg[p + 8]! << 8) | msg[p + 9]!);
      if (p > n) this.malformed(at, 'RDLENGTH runs past the end of the message');
      if (type === RRType.OPT) {
        // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
        if (opt || i < rest - ((msg[10]! << 8) | msg[11]!) || this.scratchName[0] !== 0) this.malformed(at, 'misplaced OPT record');
        opt = true;
      }
    }
    if (p !== n) this.malformed(p, `${n - p} octets of trailing data`);
  }

  private record(msg: Uint8Array, ownerLen: number, type: number, cls: number, ttl: number, start: number, end: number): void {
    if (this.done) this.fail('records after the closing SOA');
    this.count++;
    if (type === RRType.OPT) this.malformed(start, 'OPT in the answer section');
    if (start === end && (cls === RRClass.ANY || cls === RRClass.NONE)) {
      this.fail(`a ${typeToString(type)} record of class ${cls} without RDATA in the transfer`);
    }
    const out = this.rdata;
    const plan = wirePlan(type);
    let len = plan === undefined ? -1 : storeWire(msg, start, end, plan, out);
    let data: unknown;
    if (len < 0) {
      // No plan for the type, or an input the plan refuses: decoding gives the table's verdict.
      try {
        data = decodeRData(type, new Reader(msg, start, msg.length), end);
      } catch (e) {
        if (e instanceof WireFormatError) this.fail(`${this.ownerText(ownerLen)} ${typeToString(type)}: ${e.message}`, e);
        throw e;
      }
    }
    if (type === RRType.SOA) {
      const serial = data === undefined ? readU32(out, len - 20) : (data as { serial: number }).serial;
      if (this.count === 1) {
        this.serial = serial;
      } else {
        // RFC 5936 §2.2: the closing SOA, not part of the zone.
        if (serial !== this.serial) this.fail(`first and last SOA differ (serial ${this.serial} and ${serial})`);
        this.done = true;
        return;
      }
      if (!this.isOrigin(ownerLen)) this.fail(`SOA at ${this.ownerText(ownerLen)}, not at the apex`);
    } else if (this.count === 1) {
      this.fail('the transfer does not start with an SOA');
    }
    try {
      if (data === undefined) {
        this.zone.addStored(this.owner, ownerLen, type, cls, ttl, out, len, plan!.equals);
      } else {
        this.zone.add({ name: Name.fromWire(this.owner.subarray(0, ownerLen)), type, class: cls, ttl, data });
      }
    } catch (e) {
      if (e instanceof RangeError) this.fail(`out-of-zone record ${this.ownerText(ownerLen)} ${type} in the transfer`);
      throw e;
    }
  }

  /** The zone, checked by the caller (RFC 5936 §2.2: it ended with the SOA it began with). */
  finish(): Zone {
    if (!this.done) this.fail('the transfer does not end with an SOA');
    return this.zone;
  }

  private isOrigin(ownerLen: number): boolean {
    const a = this.owner;
    const b = this.originWire;
    if (ownerLen !== b.length) return false;
    for (let i = 0; i < ownerLen; i++) if (a[i] !== b[i] && (a[i]! | 0x20) !== (b[i]! | 0x20)) return false;
    return true;
  }

  private ownerText(ownerLen: number): string {
    return Name.fromWire(this.owner.subarray(0, ownerLen)).toString();
  }

  private malformed(at: number, why: string): never {
    this.fail(`malformed message: ${why} (offset ${at})`);
  }

  private fail(why: string, cause?: unknown): never {
    throw new TransferError(this.origin.toString(), this.label + why, cause);
  }
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export interface AxfrPullOptions {
  primary: ServerSpec;
  key?: TsigKey | undefined;
  timeoutMs?: number;
  localAddress?: string;
  nowMs?: () => number;
  maxRecords?: number;
}

/**
 * One AXFR from `opts.primary` into a new (unfinished-checks) zone: every message TSIG-verified
 * when a key is given (RFC 8945 §5.3.1). A non-zero RCODE is returned for the caller to word;
 * everything else that goes wrong is a TransferError.
 */
export async function pullAxfr(origin: Name, opts: AxfrPullOptions):
  Promise<{ zone: Zone; count: number; messages: number; bytes: number; rcode: 0 } | { rcode: number }> {
  const q = Message.query(origin, RRType.AXFR, { rd: false });
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
  const builder = new WireAxfrBuilder(origin, `${label}: `);
  const max = opts.maxRecords ?? 50_000_000;
  let messages = 0;
  let octets = 0;
  let verifier: TsigStreamVerifier | undefined;
  try {
    for await (const bytes of conn.streamBytes(q, { idleTimeoutMs: timeoutMs, ...(sign === undefined ? {} : { sign }) })) {
      messages++;
      octets += bytes.length;
      const rcode = bytes[3]! & 0xf;
      if (rcode === Rcode.NOERROR) {
        builder.addMessage(bytes);
      }
      if (key !== undefined) {
        verifier ??= new TsigStreamVerifier(key, requestMac!, () => epochSeconds(now()));
        const why = verifier.check(bytes, builder.done || rcode !== 0);
        if (why !== undefined) throw new TransferError(origin.toString(), `${label}: ${why}`);
      }
      if (rcode !== Rcode.NOERROR) return { rcode };
      if (builder.count > max) throw new TransferError(origin.toString(), `${label}: more than ${max} records`);
      if (builder.done) return { zone: builder.finish(), count: builder.count, messages, bytes: octets, rcode: 0 };
    }
  } catch (e) {
    if (e instanceof TransferError) throw e;
    if (e instanceof NetworkError || e instanceof TimeoutError) {
      throw new TransferError(origin.toString(), `${label}: transfer cut short after ${builder.count} records (${e.message})`, e);
    }
    throw e;
  } finally {
    conn.close();
  }
  throw new TransferError(origin.toString(), `${label}: transfer ended before its closing SOA`);
}
