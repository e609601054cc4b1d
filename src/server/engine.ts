/**
 * Turns query bytes into reply bytes, whatever the transport: header-only accept check, decode,
 * protocol checks (EDNS version, question count), the handler chain, the outermost guard, and
 * size-limited encoding.
 *
 * Invariants: nothing thrown by decoding or by a handler escapes (FORMERR, or SERVFAIL with an
 * Extended DNS Error, logged once per kind); an undecodable header or a message with QR set
 * gets no reply at all (RFC 1035 §4.1.1 gives no way to answer either safely). The reply is
 * written into the caller's Writer, so no buffer is allocated here per query.
 */
import { DnsError, WireFormatError } from '../errors.js';
import type { Logger } from '../logging.js';
import { EdeCode, Flag, Opcode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import { HEADER_SIZE, Message } from '../wire/message.js';
import type { Writer } from '../wire/writer.js';
import type { Handler } from './chain.js';
import { QueryContext, type TransportKind, replyTo } from './query-context.js';
import type { ServerStats } from './stats.js';

/** What to do with a packet, decided from the 12-octet header alone. */
export const Verdict = { ACCEPT: 0, DROP: 1, NOTIMP: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Header-only accept check (before any decoding work). */
export function acceptHeader(buf: Uint8Array, len: number): Verdict {
  if (len < HEADER_SIZE) return Verdict.DROP;
  const b2 = buf[2]!;
  if ((b2 & 0x80) !== 0) return Verdict.DROP; // a response: never answer it (reflection loops)
  const opcode = (b2 >> 3) & 0xf;
  if (opcode === Opcode.QUERY || opcode === Opcode.NOTIFY || opcode === Opcode.UPDATE) return Verdict.ACCEPT;
  return Verdict.NOTIMP;
}

/** A reply still being computed by an asynchronous chain. */
export class PendingReply {
  constructor(readonly ctx: QueryContext, readonly promise: Promise<Message>) {}
}

export interface EngineOptions {
  maxUdpSize: number;
  logger: Logger;
  stats: ServerStats;
}

export class QueryEngine {
  private handler: Handler;
  private readonly opts: EngineOptions;
  private readonly loggedErrors = new Set<string>();

  constructor(handler: Handler, opts: EngineOptions) {
    this.handler = handler;
    this.opts = opts;
  }

  /** Swaps the chain (reload): queries already running finish with the old one. */
  setHandler(h: Handler): void {
    this.handler = h;
  }

  /**
   * Processes one query message. Returns the reply's length in `w.buf` (-1: send nothing) when
   * the chain answered synchronously, or a PendingReply to hand to `settle`.
   */
  process(buf: Uint8Array, len: number, transport: TransportKind, address: string, port: number, w: Writer): number | PendingReply {
    const stats = this.opts.stats;
    const verdict = acceptHeader(buf, len);
    if (verdict === Verdict.DROP) {
      stats.dropped++;
      return -1;
    }
    if (verdict === Verdict.NOTIMP) return this.headerOnly(buf, w, Rcode.NOTIMP);
    let request: Message;
    try {
      request = Message.decode(len === buf.length ? buf : buf.subarray(0, len));
    } catch (err) {
      if (!(err instanceof WireFormatError)) this.logOnce('decode', err);
      return this.headerOnly(buf, w, Rcode.FORMERR);
    }
    if (request.question.length > 0) stats.qtypes[request.question[0]!.type]!++;
    const ctx = new QueryContext(request, transport, address, port, this.opts.maxUdpSize);
    // Protocol checks every handler relies on.
    if (request.edns !== undefined && request.edns.version > 0) {
      // RFC 6891 §6.1.3: BADVERS, with an OPT of the highest version we do (0).
      return this.encode(replyTo(request, Rcode.BADVERS, this.opts.maxUdpSize), ctx, w);
    }
    if (request.opcode === Opcode.QUERY && request.question.length !== 1) {
      return this.encode(replyTo(request, Rcode.FORMERR, this.opts.maxUdpSize), ctx, w);
    }
    let result: Message | Promise<Message>;
    try {
      result = this.handler(ctx);
    } catch (err) {
      return this.encode(this.failure(ctx, err), ctx, w);
    }
    if (result instanceof Message) return this.encode(result, ctx, w);
    return new PendingReply(ctx, result);
  }

  /**
   * Waits for a pending reply, then encodes it into `w` and calls `done` with the length in the
   * same tick (so nothing else can use `w` in between).
   */
  settle(p: PendingReply, w: Writer, done: (len: number) => void): void {
    p.promise.then(
      (reply) => done(this.encode(reply, p.ctx, w)),
      (err: unknown) => done(this.encode(this.failure(p.ctx, err), p.ctx, w)),
    );
  }

  private encode(reply: Message, ctx: QueryContext, w: Writer): number {
    const stats = this.opts.stats;
    let len: number;
    try {
      len = reply.encodeInto(w, ctx.maxSize);
    } catch (err) {
      len = this.failure(ctx, err).encodeInto(w, ctx.maxSize);
    }
    stats.responses++;
    stats.rcodes[reply.rcode & 0xfff]!++;
    if ((w.buf[2]! & (Flag.TC >> 8)) !== 0) stats.truncated++;
    return len;
  }

  /** The outermost guard: anything thrown becomes SERVFAIL (or the error's RCODE) with an EDE. */
  private failure(ctx: QueryContext, err: unknown): Message {
    this.opts.stats.internalErrors++;
    const rcode = err instanceof DnsError ? err.rcode : Rcode.SERVFAIL;
    const reply = replyTo(ctx.request, rcode, this.opts.maxUdpSize);
    if (reply.edns !== undefined) {
      const ede = err instanceof DnsError && err.ede !== undefined ? err.ede : EdeCode.OTHER;
      reply.edns.options.push(option.extendedError(ede, err instanceof DnsError ? err.message.slice(0, 200) : 'internal error'));
    }
    if (!(err instanceof DnsError) || err.rcode === Rcode.SERVFAIL) this.logOnce('handler', err);
    return reply;
  }

  /** A reply carrying only the header (ID, opcode, RD copied; counts zero): for FORMERR and NOTIMP. */
  private headerOnly(buf: Uint8Array, w: Writer, rcode: number): number {
    this.opts.stats.responses++;
    this.opts.stats.rcodes[rcode]!++;
    w.reset();
    w.u16((buf[0]! << 8) | buf[1]!);
    w.u16(Flag.QR | (buf[2]! & 0x79) << 8 | rcode); // keep opcode and RD
    w.u32(0);
    w.u32(0);
    return w.pos;
  }

  private logOnce(kind: string, err: unknown): void {
    const key = `${kind}:${err instanceof Error ? err.message : String(err)}`;
    if (this.loggedErrors.has(key)) return;
    if (this.loggedErrors.size < 1000) this.loggedErrors.add(key);
    this.opts.logger.error({ err }, `query ${kind} failed`);
  }
}
