/**
 * NOTIFY out (RFC 1996): when a zone gets a new serial, tell its secondaries — the name servers
 * in its apex NS set (their addresses from the zone's own glue; never the primary named in the
 * SOA MNAME nor our own listening addresses, §3.6) and the configured `notify:` addresses — so
 * they check at once instead of waiting for the refresh timer.
 *
 * Invariants: each target gets its own exchange with retries (§3.6: until answered, a bounded
 * number of times); a newer serial for the same zone cancels the older rounds; close() stops
 * every pending retry. Queries are signed when the target names a key.
 */
import { exchange } from '../client/exchange.js';
import type { Logger } from '../logging.js';
import type { KeyStore } from '../tsig/key.js';
import { epochSeconds, signMessage } from '../tsig/tsig.js';
import { Opcode, Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/zone.js';

/** `ADDR`, `ADDR:PORT`, `[V6]:PORT`, optionally followed by `key NAME`. */
export interface ServerSpec {
  address: string;
  port: number;
  key: string | undefined;
}

/** Parses a `notify:` / `primaries:` entry; throws Error saying what is wrong. */
export function parseServerSpec(text: string, defaultPort = 53): ServerSpec {
  const m = /^\s*(\[[^\]]+\]|[^\s]+?)(?::(\d+))?(?:\s+key\s+"?([^"\s]+)"?)?\s*$/i.exec(text);
  if (m === null) throw new Error(`"${text}" is not ADDRESS[:PORT] [key NAME]`);
  let address = m[1]!;
  if (address.startsWith('[')) address = address.slice(1, -1);
  else if (m[2] === undefined && address.includes(':') && !address.includes('.')) address = address; // bare IPv6
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!/^[0-9a-fA-F:.]+$/.test(address)) throw new Error(`"${text}": ${address} is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${text}": port ${m[2]} is not 1 to 65535`);
  return { address, port, key: m[3] };
}

export interface NotifierOptions {
  logger: Logger;
  /** The TSIG keys (current config). */
  keys: () => KeyStore;
  /** Addresses we listen on: never notified (RFC 1996 §3.6: not ourselves). */
  ownAddresses: () => readonly string[];
  /** Attempts per target (first one included); default 5, as BIND. */
  attempts?: number;
  /** Wait for each answer, ms; default 2000. */
  timeoutMs?: number;
  nowMs?: () => number;
}

export interface NotifyStats {
  sent: number;
  answered: number;
  failed: number;
}

/** The addresses of the apex NS hosts found in the zone itself (glue), without the SOA MNAME's. */
export function nsAddresses(zone: Zone): string[] {
  const ns = zone.apex.get(RRType.NS);
  const soa = zone.soa;
  if (ns === undefined || soa === undefined) return [];
  const mname = (soa.data as { mname: Name }).mname;
  const out: string[] = [];
  for (const d of ns.rdata) {
    const host = (d as { nsdname: Name }).nsdname;
    if (host.equals(mname) || !host.isSubdomainOf(zone.origin)) continue;
    for (const t of [RRType.A, RRType.AAAA]) {
      const set = zone.getRRset(host, t);
      if (set !== undefined) for (const a of set.rdata) out.push((a as { address: string }).address);
    }
  }
  return out;
}

export class Notifier {
  readonly stats: NotifyStats = { sent: 0, answered: 0, failed: 0 };
  /** Per zone: the round in progress (a newer serial aborts it). */
  private readonly rounds = new Map<string, AbortController>();
  private readonly opts: NotifierOptions;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  /**
   * Sends NOTIFY for `zone` (its current SOA) to its NS hosts and `extra` targets. Returns when
   * every target answered or ran out of attempts; nothing thrown.
   */
  async notify(zone: Zone, extra: readonly ServerSpec[], toNsHosts = true): Promise<void> {
    const key = zone.origin.key;
    this.rounds.get(key)?.abort();
    const round = new AbortController();
    this.rounds.set(key, round);
    const own = new Set(this.opts.ownAddresses());
    const targets: ServerSpec[] = [];
    const seen = new Set<string>();
    if (toNsHosts) for (const address of nsAddresses(zone)) targets.push({ address, port: 53, key: undefined });
    targets.push(...extra);
    const unique = targets.filter((t) => {
      const id = `${t.address}#${t.port}`;
      if (seen.has(id) || (t.port === 53 && own.has(t.address))) return false;
      seen.add(id);
      return true;
    });
    await Promise.all(unique.map((t) => this.notifyOne(zone, t, round.signal)));
    if (this.rounds.get(key) === round) this.rounds.delete(key);
  }

  private async notifyOne(zone: Zone, target: ServerSpec, signal: AbortSignal): Promise<void> {
    const attempts = this.opts.attempts ?? 5;
    const soa = zone.soa!;
    const q = Message.query(zone.origin, RRType.SOA, { rd: false });
    q.opcode = Opcode.NOTIFY;
    q.aa = true; // RFC 1996 §3.7
    q.answer.push(soa);
    const key = target.key === undefined ? undefined : this.opts.keys().get(nameOf(target.key));
    if (target.key !== undefined && key === undefined) {
      this.opts.logger.error({ zone: zone.origin.toString(), target: target.address, key: target.key }, 'notify: unknown key');
      return;
    }
    const now = this.opts.nowMs ?? Date.now;
    // From an address we serve on: secondaries accept NOTIFY from their primaries' addresses only.
    const v6 = target.address.includes(':');
    const source = this.opts.ownAddresses().find((a) => a.includes(':') === v6 && a !== '0.0.0.0' && a !== '::');
    for (let i = 0; i < attempts && !signal.aborted; i++) {
      this.stats.sent++;
      try {
        const r = await exchange(q, { address: target.address, port: target.port }, {
          timeoutMs: this.opts.timeoutMs ?? 2000, signal, ...(source === undefined ? {} : { localAddress: source }),
          ...(key === undefined ? {} : { sign: (b: Uint8Array) => signMessage(b, key, { timeSigned: epochSeconds(now()) }).bytes }),
        });
        if (r.message.opcode === Opcode.NOTIFY && r.message.rcode === Rcode.NOERROR) {
          this.stats.answered++;
          this.opts.logger.info({ zone: zone.origin.toString(), serial: zone.serial, target: `${target.address}#${target.port}` }, 'notify answered');
          return;
        }
        this.opts.logger.warn({ zone: zone.origin.toString(), target: `${target.address}#${target.port}`, rcode: r.message.rcode }, 'notify refused');
        if (r.message.rcode === Rcode.REFUSED || r.message.rcode === Rcode.NOTAUTH || r.message.rcode === Rcode.NOTIMP) break;
      } catch {
        // Timeout or network error: try again (RFC 1996 §3.6), unless this round was cancelled.
      }
    }
    if (!signal.aborted) {
      this.stats.failed++;
      this.opts.logger.warn({ zone: zone.origin.toString(), target: `${target.address}#${target.port}` }, 'notify: no answer');
    }
  }

  /** Stops every round in progress. */
  close(): void {
    for (const r of this.rounds.values()) r.abort();
    this.rounds.clear();
  }
}

function nameOf(text: string): Name {
  return Name.fromText(text.endsWith('.') ? text : text + '.');
}
