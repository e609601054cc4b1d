/**
 * What a handler knows about one query: the decoded request, who sent it and over what, and
 * the size its answer must fit. Built once per query by the transport; derived facts are
 * computed on first use.
 */
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { TsigKey } from '../tsig/key.js';
import type { LiveHit } from './live-answer.js';

/** A query that came signed with a key we hold and verified (RFC 8945 §5.2): its reply is signed too. */
export interface QueryTsig {
  key: TsigKey;
  /** The request's MAC, which the reply's MAC covers first (RFC 8945 §4.3.2). */
  requestMac: Uint8Array;
}

/** How the query came: plain UDP/TCP, DNS over TLS (RFC 7858) or DNS over HTTPS (RFC 8484). */
export type TransportKind = 'udp' | 'tcp' | 'tls' | 'https';

/** Smallest UDP payload a server may assume (RFC 1035 §4.2.1); EDNS sizes below it count as it. */
export const MIN_UDP_SIZE = 512;

export class QueryContext {
  readonly request: Message;
  readonly transport: TransportKind;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** Largest reply this query may get: the EDNS size capped by config, 512 without EDNS, 65535 on streams (TCP, TLS, HTTPS). */
  readonly maxSize: number;
  /**
   * Set by a handler whose answer depends on nothing but the query's bytes (question, header
   * flags, OPT): how many distinct answers there are (round-robin rotations). 0: do not cache.
   */
  cacheVariants = 0;
  /** When >= 0, the round-robin offset to answer with (used to build the cached variants). */
  rotation = -1;
  /** Set when a chain element not marked `pure` saw the query: its answer must not be cached. */
  clientDependent = false;
  /**
   * Set by a resolver or forwarder element that answered from its cache: the entries the answer
   * was built from, so the engine can serve repeats from bytes until one of them changes (see live-answer.ts).
   */
  live: LiveHit | undefined = undefined;
  /**
   * Set by an element whose answer comes from data that can change at run time (the zone
   * catalog): the engine's cached copy is served only while `content.version` is unchanged.
   */
  content: { readonly version: number } | undefined = undefined;
  /** Set by the engine when the query carried a valid TSIG (RFC 8945). */
  tsig: QueryTsig | undefined = undefined;
  /** The request exactly as received: set by the engine for UPDATE only (forwarded unchanged, TSIG intact). */
  wire: Uint8Array | undefined = undefined;
  /** A reply relayed byte for byte (a forwarded UPDATE's answer): sent instead of encoding the returned Message. */
  rawReply: Uint8Array | undefined = undefined;
  /**
   * DNS Cookies (RFC 7873): the query's COOKIE option data when it had one (its first 8 octets
   * are the client cookie our reply echoes), and whether its server cookie was ours and fresh.
   * Rate limiting exempts clients with a valid cookie from forced TC (RFC 7873 §5.4).
   */
  cookie: Uint8Array | undefined = undefined;
  validCookie = false;
  /** Which policy shaped the answer ("rpz:ZONE:TRIGGER", "blocklist:LIST", "rrl:slip", "dns64", "view:NAME", "lb:failover"...): set by that element, read by the query log and stats. */
  policy: string | undefined = undefined;
  /** The view the query belongs to (index into the server's views), -1 without views (src/policy/views.ts). */
  view = -1;
  /** Our address the query came to, when the transport knows it (views' `destinations`). */
  localAddress: string | undefined = undefined;
  /** The chain element that answered (the innermost one the query reached; set by composeChain), read by the query log. */
  answeredBy: string | undefined = undefined;

  constructor(request: Message, transport: TransportKind, clientAddress: string, clientPort: number, maxUdpSize: number) {
    this.request = request;
    this.transport = transport;
    this.clientAddress = clientAddress;
    this.clientPort = clientPort;
    if (transport !== 'udp') {
      this.maxSize = 65535;
    } else {
      const e = request.edns;
      // RFC 6891 §6.2.5: below 512 is treated as 512; we cap at our configured maximum.
      const asked = e === undefined ? MIN_UDP_SIZE : Math.max(MIN_UDP_SIZE, e.udpSize);
      this.maxSize = e === undefined ? MIN_UDP_SIZE : Math.min(asked, maxUdpSize);
    }
  }

  get qname(): Name {
    return this.request.question[0]!.name;
  }

  get qtype(): number {
    return this.request.question[0]!.type;
  }

  get qclass(): number {
    return this.request.question[0]!.class;
  }

  /** DO bit (RFC 3225): the client wants DNSSEC records. */
  get dnssecOk(): boolean {
    return this.request.edns?.dnssecOk === true;
  }
}

/**
 * Starts a reply to `request`: same ID, opcode, question, RD and CD (RFC 1035 §4.1.1,
 * RFC 4035 §3.1.6), QR set, and an OPT of our own when the request had one (RFC 6891 §7).
 */
export function replyTo(request: Message, rcode = 0, udpSize = 1232): Message {
  const m = new Message();
  m.id = request.id;
  m.qr = true;
  m.opcode = request.opcode;
  m.rd = request.rd;
  m.cd = request.cd;
  m.rcode = rcode;
  m.question = request.question;
  if (request.edns !== undefined) {
    m.edns = { version: 0, udpSize, dnssecOk: request.edns.dnssecOk, zFlags: 0, options: [] };
  }
  return m;
}
