/**
 * Query IDs and reply matching, shared by every transport of the client (UDP, TCP, DoT, DoH).
 *
 * Invariants:
 * - IDs come from node:crypto, never Math.random; the caller's Message is never modified (a
 *   fresh ID is patched into the encoded bytes).
 * - A reply is accepted only when its ID, QR bit and question (name, type, class) match the query
 *   (RFC 5452 §9.1); the source is checked by the transport. Anything else is a reason, not an
 *   exception, so transports can ignore and count it.
 */
import { randomInt } from 'node:crypto';
import { Message } from '../wire/message.js';
import { Reader } from '../wire/reader.js';
import { type Question, decodeQuestion } from '../wire/record.js';

/** Where to send a query. */
export interface ServerAddress {
  /** IPv4 or IPv6 literal. */
  address: string;
  port: number;
}

/** Why a received message was not accepted as the reply. */
export type IgnoredReason = 'source' | 'id' | 'malformed' | 'not-response' | 'question';

/** Told about every message that was received but not accepted (for logs and counters). */
export type IgnoredHook = (reason: IgnoredReason, from: ServerAddress, bytes: Uint8Array) => void;

/** `address#port`, as dig prints servers. */
export function serverLabel(server: ServerAddress): string {
  return `${server.address}#${server.port}`;
}

/** A fresh crypto-random 16-bit message ID. */
export function randomId(): number {
  return randomInt(0, 0x10000);
}

/** Writes `id` into the header of the encoded message `bytes`. */
export function setId(bytes: Uint8Array, id: number): void {
  bytes[0] = id >>> 8;
  bytes[1] = id & 0xff;
}

/** The ID in the header of the encoded message `bytes` (at least 2 octets). */
export function getId(bytes: Uint8Array): number {
  return (bytes[0]! << 8) | bytes[1]!;
}

/** Encodes `query`, with a fresh crypto-random ID unless `keepId` (the Message is not modified). */
export function encodeQuery(query: Message, keepId: boolean | undefined): Uint8Array {
  const bytes = query.encode();
  if (keepId !== true) setId(bytes, randomId());
  return bytes;
}

/** Counts the messages an exchange ignored and passes each to the caller's hook. */
export class IgnoredTally {
  count = 0;

  constructor(private readonly hook: IgnoredHook | undefined) {}

  note(reason: IgnoredReason, from: ServerAddress, bytes: Uint8Array): void {
    this.count++;
    this.hook?.(reason, from, bytes);
  }
}

/** Decides whether a received message is the reply to our query. */
export class ReplyMatcher {
  /** Messages accepted so far. */
  private accepted = 0;

  /**
   * `stream`: a multi-message reply (AXFR/IXFR), whose messages after the first may leave the
   * question section empty (RFC 5936 §2.2.1).
   */
  constructor(readonly id: number, readonly question: Question | undefined, readonly matchCase: boolean, readonly stream = false) {}

  /** Returns the decoded reply, or the reason it is not acceptable. */
  check(bytes: Uint8Array): Message | IgnoredReason {
    if (bytes.length < 12) return 'malformed';
    if (getId(bytes) !== this.id) return 'id';
    if ((bytes[2]! & 0x80) === 0) return 'not-response';
    let m: Message;
    try {
      m = Message.decode(bytes);
    } catch {
      return 'malformed';
    }
    if (this.stream && this.accepted > 0 && m.question.length === 0) return m;
    if (!this.questionMatches(m)) return 'question';
    this.accepted++;
    return m;
  }

  /**
   * check() for a caller that walks the message itself (an inbound AXFR, src/transfer/axfr-in.ts):
   * the same tests on the header and the question, without decoding the records. Undefined when
   * the reply is acceptable.
   */
  checkHead(bytes: Uint8Array): IgnoredReason | undefined {
    if (bytes.length < 12) return 'malformed';
    if (getId(bytes) !== this.id) return 'id';
    if ((bytes[2]! & 0x80) === 0) return 'not-response';
    const qd = (bytes[4]! << 8) | bytes[5]!;
    const rcode = bytes[3]! & 0xf;
    if (this.stream && this.accepted > 0 && qd === 0) return undefined;
    let q: Question | undefined;
    if (qd === 1) {
      try {
        q = decodeQuestion(new Reader(bytes, 12));
      } catch {
        return 'malformed';
      }
    } else if (qd > 1) {
      return 'question';
    }
    const want = this.question;
    const ok = want === undefined ? q === undefined
      : q === undefined ? rcode !== 0
        : q.type === want.type && q.class === want.class && (this.matchCase ? sameBytes(q.name.wire, want.name.wire) : q.name.equals(want.name));
    if (!ok) return 'question';
    this.accepted++;
    return undefined;
  }

  /**
   * RFC 5452 §9.1: the question must come back. An error reply (FORMERR, NOTIMP, ...) may carry
   * no question section at all (RFC 6891 §7 servers that reject EDNS do this), so an empty
   * question is accepted only together with a non-zero RCODE.
   */
  questionMatches(m: Message): boolean {
    const q = this.question;
    if (q === undefined) return m.question.length === 0;
    if (m.question.length === 0) return m.rcode !== 0;
    if (m.question.length !== 1) return false;
    const r = m.question[0]!;
    if (r.type !== q.type || r.class !== q.class) return false;
    if (!this.matchCase) return r.name.equals(q.name);
    const a = r.name.wire;
    const b = q.name.wire;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
