/**
 * DNS64 (RFC 6147): AAAA records synthesised from A records for clients of an IPv6-only network
 * behind a NAT64, and PTR queries for the prefix's ip6.arpa names mapped to in-addr.arpa.
 *
 * Rules (RFC 6147 section by section):
 * - §5.1.1-5.1.2: the AAAA query is answered as usual first; an answer with AAAA records stands.
 *   NXDOMAIN stands. NOERROR without AAAA (NODATA, perhaps after a CNAME chain), or any other
 *   RCODE (§5.1.2: "treated as though the RCODE were 0 and the answer section were empty"), is
 *   followed by an A query for the same name.
 * - §5.1.4: AAAA records in the excluded ranges (default ::ffff:0:0/96) do not count: they are
 *   dropped, and when none remain the A records are used.
 * - §5.1.6-5.1.7: each A record becomes an AAAA record with the IPv4 address in the prefix
 *   (RFC 6052 §2.2); CNAME/DNAME records of the chain are kept; the TTL is the minimum of the A
 *   record's TTL and the SOA MINIMUM (and SOA TTL) of the negative AAAA answer, or of 600 s
 *   when that answer had no SOA.
 * - §5.5: a query with DO and CD set gets no synthesis (a validating stub wants real data);
 *   synthesised answers never carry AD, and the A records' RRSIGs are dropped with them.
 * - §5.3.1: a PTR query under the prefix's ip6.arpa domain is answered with a CNAME to the
 *   embedded IPv4 address's in-addr.arpa name, followed (the PTR appended), as BIND does.
 *
 * Invariants: the handler never changes a Message it was given (replies from the cache are shared);
 * it builds new ones. Inner queries go down the same chain (forwarder/resolver) as stream queries
 * (no UDP size limit) from the same client.
 */
import { Acl } from '../resolver/acl.js';
import { replyTo, QueryContext } from '../server/query-context.js';
import type { Handler, Middleware } from '../server/chain.js';
import { Opcode, Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { formatIPv6, ipv4Into, ipv6Into } from '../wire/rdata/addresses.js';
import { RRClass, RRType } from '../wire/types.js';
import { type Dns64Prefix, parseDns64Prefix } from './dns64-prefix.js';

/** Counters of what DNS64 did (stats, /metrics). */
export interface Dns64Stats {
  /** AAAA answers synthesised from A records. */
  synthesised: number;
  /** PTR queries for the prefix's ip6.arpa names answered via in-addr.arpa. */
  ptrSynthesised: number;
  /** AAAA records dropped as excluded (RFC 6147 §5.1.4). */
  excluded: number;
}

export function newDns64Stats(): Dns64Stats {
  return { synthesised: 0, ptrSynthesised: 0, excluded: 0 };
}

export interface Dns64Options {
  prefix: string;
  clients: readonly string[];
  exclude: readonly string[];
  maxUdpSize: number;
  stats: Dns64Stats;
}

/** RFC 6147 §5.1.7: the TTL used when the negative answer carried no SOA. */
const NO_SOA_TTL = 600;
const IN_ADDR_ARPA = Name.fromText('in-addr.arpa.');

export class Dns64 {
  readonly prefix: Dns64Prefix;
  private readonly clients: Acl;
  private readonly exclude: Acl;
  /** The ip6.arpa domain of the prefix (PTR synthesis, RFC 6147 §5.3.1). */
  readonly reverseZone: Name;
  private readonly opts: Dns64Options;
  private readonly v4 = new Uint8Array(4);
  private readonly v6 = new Uint8Array(16);

  constructor(opts: Dns64Options) {
    this.opts = opts;
    this.prefix = parseDns64Prefix(opts.prefix);
    this.clients = new Acl(opts.clients);
    this.exclude = new Acl(opts.exclude);
    const nibbles: string[] = [];
    const b = this.prefix.bytes;
    for (let i = 0; i < this.prefix.length / 4; i++) nibbles.push(((b[i >>> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf).toString(16));
    this.reverseZone = Name.fromText(nibbles.reverse().join('.') + '.ip6.arpa.');
  }

  /** The chain element: AAAA and PTR queries of the configured clients; everything else passes. */
  middleware(): Middleware {
    return (next) => (ctx) => {
      const req = ctx.request;
      if (req.opcode !== Opcode.QUERY) return next(ctx);
      const q = req.question[0]!;
      if (q.class !== RRClass.IN) return next(ctx);
      if (q.type === RRType.AAAA) return this.aaaa(ctx, next);
      if (q.type === RRType.PTR && q.name.isSubdomainOf(this.reverseZone)) return this.ptr(ctx, next);
      return next(ctx);
    };
  }

  /** RFC 6147 §5.5: DO and CD together ask for unsynthesised, verifiable data. */
  private applies(ctx: QueryContext): boolean {
    const req = ctx.request;
    if (req.cd && req.edns?.dnssecOk === true) return false;
    return this.clients.allows(ctx.clientAddress);
  }

  private aaaa(ctx: QueryContext, next: Handler): Message | Promise<Message> {
    const r = next(ctx);
    // Whatever the client, an AAAA answer is not kept in the engine's byte cache: another client
    // (in or out of `clients`) asking the same bytes must come through here.
    if (r instanceof Message) {
      ctx.live = undefined;
      return this.applies(ctx) ? this.afterAaaa(ctx, next, r) : r;
    }
    return this.applies(ctx) ? r.then((m) => this.afterAaaa(ctx, next, m)) : r;
  }

  /** The AAAA answer is in: keep it, or ask for A and synthesise. */
  private afterAaaa(ctx: QueryContext, next: Handler, reply: Message): Message | Promise<Message> {
    if (reply.rcode === Rcode.NXDOMAIN) return reply;
    const q = ctx.request.question[0]!;
    let real = 0;
    let excluded = 0;
    for (const rr of reply.answer) {
      if (rr.type !== RRType.AAAA) continue;
      if (this.exclude.allows((rr.data as { address: string }).address)) excluded++;
      else real++;
    }
    if (reply.rcode === Rcode.NOERROR && real > 0) {
      if (excluded === 0) return reply;
      // §5.1.4: the excluded addresses go; the others are the answer.
      this.opts.stats.excluded += excluded;
      const out = copyHeader(reply);
      out.answer = reply.answer.filter((rr) => rr.type !== RRType.AAAA || !this.exclude.allows((rr.data as { address: string }).address));
      out.authority = reply.authority;
      out.additional = reply.additional;
      return out;
    }
    this.opts.stats.excluded += excluded;
    // §5.1.7: the negative answer's SOA bounds the synthesised TTL.
    let cap = NO_SOA_TTL;
    if (reply.rcode === Rcode.NOERROR) {
      for (const rr of reply.authority) {
        if (rr.type !== RRType.SOA) continue;
        cap = Math.min(rr.ttl, (rr.data as { minimum: number }).minimum);
        break;
      }
    }
    const actx = this.inner(ctx, q.name, RRType.A);
    const a = next(actx);
    return a instanceof Message ? this.synthesise(ctx, reply, a, cap) : a.then((m) => this.synthesise(ctx, reply, m, cap));
  }

  /** The AAAA answer from the A answer (or the AAAA answer as it was, when there is no A). */
  private synthesise(ctx: QueryContext, aaaaReply: Message, a: Message, cap: number): Message {
    if (a.rcode !== Rcode.NOERROR || !a.answer.some((rr) => rr.type === RRType.A)) return aaaaReply;
    const out = replyTo(ctx.request, Rcode.NOERROR, this.opts.maxUdpSize);
    out.ra = a.ra;
    out.aa = false;
    out.ad = false;
    const v4 = this.v4;
    for (const rr of a.answer) {
      if (rr.type === RRType.A) {
        if (!ipv4Into((rr.data as { address: string }).address, v4, 0)) continue;
        out.answer.push({
          name: rr.name, type: RRType.AAAA, class: rr.class, ttl: Math.min(rr.ttl, cap),
          data: { address: formatIPv6(this.prefix.embed(v4)) },
        });
      } else if (rr.type === RRType.RRSIG && (rr.data as { typeCovered: number }).typeCovered === RRType.A) {
        continue; // the signature is over records we do not send
      } else {
        out.answer.push(rr); // CNAME/DNAME of the chain and their signatures
      }
    }
    this.opts.stats.synthesised++;
    ctx.policy = 'dns64';
    return out;
  }

  /** RFC 6147 §5.3.1: a PTR for an address in the prefix: CNAME to its in-addr.arpa name, then that name's PTR. */
  private ptr(ctx: QueryContext, next: Handler): Message | Promise<Message> {
    if (!this.applies(ctx)) return next(ctx);
    const q = ctx.request.question[0]!;
    const target = this.ipv4Name(q.name);
    if (target === undefined) return next(ctx);
    const out = replyTo(ctx.request, Rcode.NOERROR, this.opts.maxUdpSize);
    out.answer.push({ name: q.name, type: RRType.CNAME, class: RRClass.IN, ttl: NO_SOA_TTL, data: { cname: target } });
    this.opts.stats.ptrSynthesised++;
    ctx.policy = 'dns64';
    const p = next(this.inner(ctx, target, RRType.PTR));
    const done = (m: Message): Message => {
      out.ra = m.ra;
      out.rcode = m.rcode === Rcode.NXDOMAIN ? Rcode.NXDOMAIN : m.rcode === Rcode.NOERROR ? Rcode.NOERROR : Rcode.SERVFAIL;
      for (const rr of m.answer) out.answer.push(rr);
      if (m.answer.length === 0) out.authority = m.authority;
      return out;
    };
    return p instanceof Message ? done(p) : p.then(done);
  }

  /** The in-addr.arpa name of the IPv4 address a 32-nibble ip6.arpa name embeds, if it is in the prefix. */
  private ipv4Name(name: Name): Name | undefined {
    // ip6.arpa names list the 32 nibbles least significant first (RFC 3596 §2.5).
    if (name.labelCount !== 34) return undefined;
    const labels = name.labels();
    const v6 = this.v6;
    for (let i = 0; i < 32; i++) {
      const l = labels[31 - i]!;
      if (l.length !== 1) return undefined;
      const n = parseInt(l, 16);
      if (Number.isNaN(n)) return undefined;
      if (i % 2 === 0) v6[i >>> 1] = n << 4;
      else v6[i >>> 1]! |= n;
    }
    if (!this.prefix.contains(v6)) return undefined;
    const v4 = this.prefix.extract(v6);
    return Name.fromLabels([String(v4[3]), String(v4[2]), String(v4[1]), String(v4[0])]).concat(IN_ADDR_ARPA);
  }

  /** A query for `name`/`type` from the same client, RD/CD/DO as the client sent them, with no UDP size limit. */
  private inner(ctx: QueryContext, name: Name, type: number): QueryContext {
    const req = ctx.request;
    const m = Message.query(name, type, { id: req.id, rd: req.rd, ...(req.edns === undefined ? {} : { edns: req.edns }) });
    m.cd = req.cd;
    const c = new QueryContext(m, 'tcp', ctx.clientAddress, ctx.clientPort, this.opts.maxUdpSize);
    c.view = ctx.view;
    return c;
  }
}

/** A reply with `m`'s header and question, sections empty. */
function copyHeader(m: Message): Message {
  const out = new Message();
  out.id = m.id;
  out.qr = m.qr;
  out.opcode = m.opcode;
  out.aa = m.aa;
  out.tc = m.tc;
  out.rd = m.rd;
  out.ra = m.ra;
  out.ad = m.ad;
  out.cd = m.cd;
  out.rcode = m.rcode;
  out.question = m.question;
  out.edns = m.edns;
  return out;
}

/** For tests and tools: the AAAA text of `v4` in `prefix`. */
export function synthesiseAddress(prefix: string, v4: string): string {
  const p = parseDns64Prefix(prefix);
  const b = new Uint8Array(4);
  if (!ipv4Into(v4, b, 0)) throw new RangeError(`${v4} is not an IPv4 address`);
  return formatIPv6(p.embed(b));
}

/** True when `address` (IPv6 text) lies in `prefix`. */
export function inPrefix(prefix: Dns64Prefix, address: string): boolean {
  const b = new Uint8Array(16);
  return ipv6Into(address, b, 0) && prefix.contains(b);
}

