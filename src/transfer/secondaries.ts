/**
 * The secondary zones of a server: one SecondaryZone machine per zone configured with
 * `primaries`, kept across reloads (a reload that keeps the zone keeps its copy and timers),
 * and the protocol around them: NOTIFY in (RFC 1996 §3.7-3.11, answered as BIND answers it) and
 * UPDATE for a secondary zone (REFUSED, or forwarded unchanged to the first primary with
 * `forwardUpdates`, RFC 2136 §6).
 *
 * Invariants: NOTIFY is accepted only from a configured primary's address or an `allowNotify`
 * entry (address prefix or verified TSIG key); everything else is refused and counted. Nothing
 * here throws into the query path: the chain element gets a Message or a promise of one.
 */
import type { Config, ZoneConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { QueryContext } from '../server/query-context.js';
import { replyTo } from '../server/query-context.js';
import type { KeyStore } from '../tsig/key.js';
import { Opcode, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/zone.js';
import { TransferAcl } from './acl.js';
import { parseServerSpec } from './notify.js';
import { type RefreshMode, SecondaryZone } from './secondary.js';
import { forwardRaw } from './update-forward.js';

export interface SecondaryZonesOptions {
  logger: Logger;
  keys: () => KeyStore;
  /** This process runs the refresh machines (false: a cluster follower). */
  transfers: boolean;
  /** Serve a new version of a secondary zone (undefined: withdraw it, SERVFAIL). */
  install(zc: ZoneConfig, zone: Zone | undefined, reason: string): void;
  /** Cluster: tell the other processes a new copy is in the zone's file, or that it expired. */
  broadcast?: (zone: string, event: 'loaded' | 'expired') => void;
  /** Cluster follower: pass a NOTIFY or a refresh command on to the transferring process. */
  toLead?: (zone: string, what: 'notify' | RefreshMode, serial?: number) => void;
  nowMs?: () => number;
  timeoutMs?: number;
}

interface Entry {
  sz: SecondaryZone;
  notifyAcl: TransferAcl | undefined;
  primaryAddresses: Set<string>;
}

export interface SecondaryCounters {
  notifyIn: number;
  notifyRefused: number;
  updatesForwarded: number;
  updatesRefused: number;
}

function origin(name: string): Name {
  return Name.fromText(name.endsWith('.') ? name : name + '.');
}

/** `::ffff:192.0.2.1` (a v4 client on a dual-stack socket) compares as `192.0.2.1`. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a.toLowerCase();
}

export class SecondaryZones {
  private readonly entries = new Map<string, Entry>();
  readonly counters: SecondaryCounters = { notifyIn: 0, notifyRefused: 0, updatesForwarded: 0, updatesRefused: 0 };
  private started = false;
  /** Zones created since the last start, with the copy loaded from the file (started by start()). */
  private readonly waiting = new Map<SecondaryZone, Zone | undefined>();
  private configured = new Set<string>();

  constructor(private readonly opts: SecondaryZonesOptions) {}

  /** The machine of a configured secondary zone. */
  get(name: Name): SecondaryZone | undefined {
    return this.entries.get(name.key)?.sz;
  }

  /** Every secondary zone. */
  all(): SecondaryZone[] {
    return [...this.entries.values()].map((e) => e.sz);
  }

  /**
   * Follows the config after a (re)load: new secondary zones get a machine (`loaded`: the copy
   * read from their file, if any), removed ones stop, kept ones take their new settings.
   */
  sync(cfg: Config, loaded: (origin: Name) => Zone | undefined): void {
    const seen = new Set<string>();
    this.configured = new Set(cfg.zones.map((zc) => origin(zc.name).key));
    for (const zc of cfg.zones) {
      if (zc.primaries === undefined) continue;
      const o = origin(zc.name);
      seen.add(o.key);
      const primaryAddresses = new Set(zc.primaries.map((p) => plainAddress(parseServerSpec(p).address)));
      const notifyAcl = zc.allowNotify === undefined ? undefined : new TransferAcl(zc.allowNotify);
      const have = this.entries.get(o.key);
      if (have !== undefined) {
        have.sz.reconfigure(zc);
        have.notifyAcl = notifyAcl;
        have.primaryAddresses = primaryAddresses;
        continue;
      }
      const sz = new SecondaryZone(zc, {
        logger: this.opts.logger, keys: this.opts.keys, install: (c, z, why) => this.opts.install(c, z, why),
        ...(this.opts.broadcast === undefined ? {} : { broadcast: this.opts.broadcast }),
        ...(this.opts.nowMs === undefined ? {} : { nowMs: this.opts.nowMs }),
        ...(this.opts.timeoutMs === undefined ? {} : { timeoutMs: this.opts.timeoutMs }),
      }, this.opts.transfers);
      this.entries.set(o.key, { sz, notifyAcl, primaryAddresses });
      const copy = loaded(o);
      if (this.started) sz.start(copy);
      else this.waiting.set(sz, copy);
    }
    for (const [key, e] of this.entries) {
      if (seen.has(key)) continue;
      e.sz.stop();
      this.waiting.delete(e.sz);
      this.entries.delete(key);
    }
  }

  /** Starts the machines (once the server listens, so NOTIFY can be received). */
  start(): void {
    this.started = true;
    for (const [sz, copy] of this.waiting) sz.start(copy);
    this.waiting.clear();
  }

  stop(): void {
    for (const e of this.entries.values()) e.sz.stop();
  }

  /** `zone refresh` / `zone retransfer`; false when NAME is not a secondary zone here. */
  request(name: Name, mode: RefreshMode): boolean {
    const e = this.entries.get(name.key);
    if (e === undefined) return false;
    if (this.opts.transfers) e.sz.request(mode);
    else this.opts.toLead?.(e.sz.zc.name, mode);
    return true;
  }

  /** Cluster: a message from the transferring process or a follower, by zone name. */
  fromCluster(zone: string, what: 'loaded' | 'expired' | 'notify' | RefreshMode, serial?: number): void {
    const e = this.entries.get(origin(zone).key);
    if (e === undefined) return;
    if (what === 'loaded' || what === 'expired') {
      if (!this.opts.transfers) e.sz.follow(what);
    } else if (this.opts.transfers) {
      if (what === 'notify') e.sz.notified(serial);
      else e.sz.request(what);
    }
  }

  /**
   * NOTIFY (RFC 1996) as BIND answers it: FORMERR without one SOA question; NOTAUTH for a zone
   * not configured here; for a secondary zone REFUSED unless from a primary or `allowNotify`,
   * else NOERROR with AA and a check of the serial; for a primary zone NOERROR with AA.
   */
  notify(ctx: QueryContext, maxUdpSize: number): Message {
    const req = ctx.request;
    const q = req.question[0];
    if (req.question.length !== 1 || q === undefined || q.type !== RRType.SOA) {
      return replyTo(req, Rcode.FORMERR, maxUdpSize);
    }
    const e = this.entries.get(q.name.key);
    const log = this.opts.logger;
    const from = `${ctx.clientAddress}#${ctx.clientPort}`;
    if (e === undefined) {
      if (!this.configured.has(q.name.key)) {
        log.info({ zone: q.name.toString(), from }, 'notify for a zone not served here: NOTAUTH');
        return replyTo(req, Rcode.NOTAUTH, maxUdpSize);
      }
      const ok = replyTo(req, Rcode.NOERROR, maxUdpSize);
      ok.aa = true;
      return ok;
    }
    const address = plainAddress(ctx.clientAddress);
    const allowed = e.primaryAddresses.has(address) || e.notifyAcl?.allows(address, ctx.tsig?.key.name) === true;
    if (!allowed) {
      this.counters.notifyRefused++;
      log.warn({ zone: e.sz.zc.name, from }, 'notify refused: not from a primary of the zone (allowNotify)');
      return replyTo(req, Rcode.REFUSED, maxUdpSize);
    }
    this.counters.notifyIn++;
    const soa = req.answer.find((rr) => rr.type === RRType.SOA);
    const serial = soa === undefined ? undefined : (soa.data as { serial: number }).serial;
    if (this.opts.transfers) {
      const what = e.sz.notified(serial);
      log.info({ zone: e.sz.zc.name, from, serial: serial ?? null, ours: e.sz.zone?.serial ?? null, action: what }, 'notify received');
    } else {
      this.opts.toLead?.(e.sz.zc.name, 'notify', serial);
    }
    const ok = replyTo(req, Rcode.NOERROR, maxUdpSize);
    ok.aa = true;
    return ok;
  }

  /**
   * UPDATE for a secondary zone: REFUSED (BIND without allow-update-forwarding), or forwarded
   * unchanged to the first primary and its reply relayed (`forwardUpdates`). Undefined when the
   * zone is not a secondary here (the chain goes on).
   */
  update(ctx: QueryContext, maxUdpSize: number): Message | Promise<Message> | undefined {
    const req = ctx.request;
    const q = req.question[0];
    if (req.opcode !== Opcode.UPDATE || q === undefined) return undefined;
    const e = this.entries.get(q.name.key);
    if (e === undefined) return undefined;
    const zc = e.sz.zc;
    if (zc.forwardUpdates !== true || ctx.wire === undefined) {
      this.counters.updatesRefused++;
      return replyTo(req, Rcode.REFUSED, maxUdpSize);
    }
    const p = parseServerSpec(zc.primaries![0]!);
    const wire = ctx.wire;
    return forwardRaw(wire, p, this.opts.timeoutMs ?? 5000).then((reply) => {
      this.counters.updatesForwarded++;
      ctx.rawReply = reply;
      return replyTo(req, reply[3]! & 0xf, maxUdpSize);
    }, (err: unknown) => {
      this.opts.logger.warn({ zone: zc.name, primary: `${p.address}#${p.port}`, error: (err as Error).message }, 'update forwarding failed: SERVFAIL');
      return replyTo(req, Rcode.SERVFAIL, maxUdpSize);
    });
  }
}
