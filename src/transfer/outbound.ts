/**
 * Answers AXFR (RFC 5936) and IXFR (RFC 1995) queries for the zones we serve: access check,
 * then a stream of messages over TCP; over UDP, IXFR gets the current SOA alone (RFC 1995 §2,
 * "use TCP") and AXFR is left to the chain (FORMERR).
 *
 * Invariants: a transfer takes the zone object current when the query arrived and reads only
 * it (and its history up to it), so a reload while it runs never mixes versions.
 */
import type { Catalog } from '../authority/catalog.js';
import type { ReplyStream, TransferHook } from '../server/engine.js';
import { type QueryContext, replyTo } from '../server/query-context.js';
import type { ServerStats } from '../server/stats.js';
import { Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType } from '../wire/types.js';
import { serialCompare } from '../zone/serial.js';
import type { Zone } from '../zone/zone.js';
import { TransferAcl } from './acl.js';
import { ChainedRecords, ListRecords, type RecordSource, TransferStream, ZoneRecords } from './axfr-out.js';

/** Differences between versions of a zone, oldest first (see src/journal). */
export interface Difference {
  fromSerial: number;
  toSerial: number;
  /** Old SOA, then records removed (RFC 1995 §4 order). */
  removed: ResourceRecord[];
  /** New SOA, then records added. */
  added: ResourceRecord[];
}

export interface OutboundOptions {
  catalog: Catalog;
  /** Access list per zone (by origin key); zones absent get the default (loopback). */
  acls: ReadonlyMap<string, TransferAcl>;
  /** The zone's differences ending at its current serial, oldest first (empty: none kept). */
  history?: (zone: Zone) => readonly Difference[];
  stats: ServerStats;
  maxUdpSize: number;
}

const DEFAULT_ACL = new TransferAcl(['127.0.0.0/8', '::1']);

/** The chain of differences from `serial` to the newest, or undefined when history does not reach back to it. */
export function differencesFrom(history: readonly Difference[], serial: number): Difference[] | undefined {
  const start = history.findIndex((d) => d.fromSerial === serial);
  if (start < 0) return undefined;
  const out: Difference[] = [];
  let at = serial;
  for (let i = start; i < history.length; i++) {
    const d = history[i]!;
    if (d.fromSerial !== at) return undefined;
    out.push(d);
    at = d.toSerial;
  }
  return out;
}

export function transferHook(opts: OutboundOptions): TransferHook {
  return (ctx: QueryContext): Message | ReplyStream | undefined => {
    const req = ctx.request;
    const q = req.question[0]!;
    // AXFR over UDP is not a thing (RFC 5936 §4.2): the chain answers FORMERR.
    if (q.type === RRType.AXFR && ctx.transport !== 'tcp') return undefined;
    const zone = opts.catalog.get(q.name);
    if (zone === undefined || zone.soa === undefined) {
      // RFC 5936 §2.2.1 / BIND and Knot: not authoritative for that zone.
      opts.stats.xfrOutRefused++;
      return replyTo(req, Rcode.NOTAUTH, opts.maxUdpSize);
    }
    const acl = opts.acls.get(zone.origin.key) ?? DEFAULT_ACL;
    if (!acl.allows(ctx.clientAddress, ctx.tsig?.key.name)) {
      opts.stats.xfrOutRefused++;
      return replyTo(req, Rcode.REFUSED, opts.maxUdpSize);
    }
    const soa = zone.soa;
    const serial = (soa.data as { serial: number }).serial;
    if (q.type === RRType.IXFR) {
      // RFC 1995 §3: the client's SOA is in the authority section.
      const theirs = req.authority.find((rr) => rr.type === RRType.SOA);
      if (theirs === undefined) return replyTo(req, Rcode.FORMERR, opts.maxUdpSize);
      const their = (theirs.data as { serial: number }).serial;
      const cmp = serialCompare(their, serial);
      if (cmp === 0 || cmp === 1 || ctx.transport !== 'tcp') {
        // Up to date (or newer), or UDP: the current SOA alone (RFC 1995 §2, §4).
        const m = replyTo(req, Rcode.NOERROR, opts.maxUdpSize);
        m.aa = true;
        m.answer.push(soa);
        return m;
      }
      const diffs = opts.history === undefined ? undefined : differencesFrom(opts.history(zone), their);
      if (diffs !== undefined && diffs.length > 0 && diffs[diffs.length - 1]!.toSerial === serial) {
        const parts: RecordSource[] = [new ListRecords([soa])];
        for (const d of diffs) parts.push(new ListRecords(d.removed), new ListRecords(d.added));
        parts.push(new ListRecords([soa]));
        return new TransferStream(req, new ChainedRecords(parts));
      }
      // RFC 1995 §4: history does not reach the asked serial: the whole zone, AXFR-style.
    }
    return new TransferStream(req, new ChainedRecords([new ListRecords([soa]), new ZoneRecords(zone), new ListRecords([soa])]));
  };
}
