/**
 * The secondary's side of a zone (RFC 1034 §4.3.5, RFC 1035 §3.3.13): the refresh / retry /
 * expire machine driven by the SOA timers, SOA checks with serial arithmetic (RFC 1982), IXFR
 * with AXFR fallback (RFC 1995 §4, through fetchZone), NOTIFY-triggered checks (RFC 1996 §3.11)
 * and the local copy (written atomically by writeZoneFile, its mtime touched on every successful
 * contact with a primary, so a restart knows how long the copy may still be served, as BIND
 * does).
 *
 * Invariants: at most one refresh of a zone runs at a time (a NOTIFY or command arriving
 * meanwhile queues exactly one more); a failed refresh never replaces the copy being served; a
 * zone whose primaries were not reached for `expire` seconds is withdrawn (SERVFAIL, as BIND
 * and Knot do) until a transfer succeeds; nothing here throws into a timer (every failure is
 * logged, counted and retried with back-off). Primaries are tried in order, starting with the
 * last one that answered (failover).
 *
 * In a cluster only the lead process runs the machine (`transfers: true`); the others are
 * followers that load the copy from the file when the lead says a new one is there.
 */
import { existsSync, statSync, utimesSync } from 'node:fs';
import { exchange } from '../client/exchange.js';
import type { ZoneConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { KeyStore, TsigKey } from '../tsig/key.js';
import { epochSeconds, findTsig, signMessage, tsigErrorText, verifyMessage } from '../tsig/tsig.js';
import { Rcode, rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import { loadZone } from '../zone/load.js';
import { serialCompare } from '../zone/serial.js';
import type { Zone } from '../zone/zone.js';
import { fetchZone, writeZoneFile, writeZoneFileAsync } from './inbound.js';
import { type ServerSpec, parseServerSpec } from './notify.js';

/** Timers below these are raised (Knot's refresh-min-interval is 2 s; short timers are for tests). */
const MIN_REFRESH_S = 1;
const MIN_RETRY_S = 1;
/** Retry when we hold no copy at all (no SOA to take timers from), seconds; doubles per failure. */
const BOOTSTRAP_RETRY_S = 5;
/** Longest delay setTimeout takes (a longer one fires at once); longer waits re-arm. */
const MAX_TIMER_MS = 0x7fffffff;
/** Longest wait between attempts when failing, seconds. */
const MAX_BACKOFF_S = 3600;

/** What `zone status` shows for a secondary zone. */
export interface SecondaryStatus {
  primaries: string[];
  /** Serial of the copy served, null when none. */
  serial: number | null;
  /** This process runs the refresh machine (false: a cluster follower loading the lead's copy). */
  transfers: boolean;
  /** Last time a primary answered (SOA check or transfer), ISO 8601; null when never. */
  lastRefresh: string | null;
  /** When the next SOA check is due, ISO 8601. */
  nextRefresh: string | null;
  /** When the copy expires unless a primary answers before, ISO 8601. */
  expires: string | null;
  /** Past `expire` without a primary: answered SERVFAIL. */
  expired: boolean;
  /** The last refresh's outcome in words. */
  lastResult: string | null;
  /** Failed refreshes in a row. */
  failures: number;
  lastTransfer: { kind: 'axfr' | 'ixfr'; serial: number; records: number; messages: number; bytes: number; ms: number; from: string; at: string } | null;
  transfersIn: number;
  transferFailures: number;
  /** Octets of DNS messages received by the transfers in, and the time they took (ms), since start. */
  transferBytes: number;
  transferMs: number;
}

/** What a SecondaryZone needs from the server around it. */
export interface SecondaryHost {
  logger: Logger;
  keys: () => KeyStore;
  /** Serve `zone` as the new version of `zc`'s zone; undefined: withdraw it (expired, SERVFAIL). */
  install(zc: ZoneConfig, zone: Zone | undefined, reason: string): void;
  /** In a cluster: tell the other processes that a new copy is in the file (or the zone expired). */
  broadcast?: (zone: string, event: 'loaded' | 'expired') => void;
  nowMs?: () => number;
  /** Wait for each message of a transfer or SOA answer, ms (default 10000 / 2000). */
  timeoutMs?: number;
}

export type RefreshMode = 'check' | 'retransfer';

function canonical(name: string): Name {
  return Name.fromText(name.endsWith('.') ? name : name + '.');
}

const soaTimers = (zone: Zone | undefined): { refresh: number; retry: number; expire: number } | undefined => {
  const d = zone?.soa?.data as { refresh: number; retry: number; expire: number } | undefined;
  return d === undefined ? undefined : { refresh: d.refresh, retry: d.retry, expire: d.expire };
};

export class SecondaryZone {
  readonly origin: Name;
  zc: ZoneConfig;
  /** The copy being served (undefined: none yet, or expired). */
  zone: Zone | undefined;
  expired = false;
  private primaries: ServerSpec[];
  /** Index of the primary that answered last (tried first). */
  private preferred = 0;
  private timer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private lastContactMs: number | undefined;
  private nextRefreshMs: number | undefined;
  private expiresMs: number | undefined;
  private lastResult: string | null = null;
  private failures = 0;
  private lastTransfer: SecondaryStatus['lastTransfer'] = null;
  private transfersIn = 0;
  private transferFailures = 0;
  private transferBytes = 0;
  private transferMs = 0;
  private running: Promise<void> | undefined;
  /** What to do once the running refresh ends (a NOTIFY or command came meanwhile). */
  private queued: RefreshMode | undefined;
  /**
   * The copy on disk is written after the zone is live (as BIND dumps a received zone after it
   * serves it): the newest zone still to be written, the write running, and a generation that a
   * synchronous write at stop() bumps so a background write finishing later does not replace it.
   */
  private copyPending: Zone | undefined;
  private copyWriting: Promise<void> | undefined;
  private copyGeneration = 0;
  private stopped = false;
  private readonly now: () => number;

  constructor(zc: ZoneConfig, private readonly host: SecondaryHost, readonly transfers: boolean) {
    this.zc = zc;
    this.origin = canonical(zc.name);
    this.primaries = (zc.primaries ?? []).map((p) => parseServerSpec(p));
    this.now = host.nowMs ?? Date.now;
  }

  /** A new config for the same zone (reload): primaries may have changed. */
  reconfigure(zc: ZoneConfig): void {
    this.zc = zc;
    this.primaries = (zc.primaries ?? []).map((p) => parseServerSpec(p));
    if (this.preferred >= this.primaries.length) this.preferred = 0;
  }

  /**
   * Takes the copy loaded from the file at start (if any): served at once unless it is older
   * than its expire timer (the file's mtime is the last contact, as BIND keeps it); then a
   * refresh soon (the lead only).
   */
  start(loaded: Zone | undefined): void {
    this.zone = loaded;
    if (loaded !== undefined) {
      let mtime = this.now();
      try {
        mtime = statSync(this.zc.file).mtimeMs;
      } catch { /* just loaded it; keep now */ }
      this.lastContactMs = mtime;
      this.armExpire();
      if (this.expiresMs !== undefined && this.expiresMs <= this.now()) this.expire();
    }
    if (this.transfers) this.schedule(0);
  }

  /** Stops the timers (zone removed, server stopping); a running transfer finishes but installs nothing. */
  stop(): void {
    this.stopped = true;
    // A copy still being written in the background: written now, whole, so a restart serves
    // what was served (the background write sees the new generation and drops its temp file).
    if ((this.copyPending !== undefined || this.copyWriting !== undefined) && this.zone !== undefined) {
      this.copyGeneration++;
      this.copyPending = undefined;
      try {
        writeZoneFile(this.zone, this.zc.file);
      } catch (err) {
        this.host.logger.error({ err, zone: this.zc.name }, 'secondary: cannot write the copy of the zone');
      }
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.expireTimer !== undefined) clearTimeout(this.expireTimer);
    this.timer = undefined;
    this.expireTimer = undefined;
  }

  /**
   * A NOTIFY from a primary (RFC 1996 §3.11): check now, unless it announced a serial that is not
   * newer than ours. Returns what was decided, for the log.
   */
  notified(serial: number | undefined): 'refresh' | 'uptodate' | 'queued' {
    if (this.zone !== undefined && serial !== undefined && serialCompare(serial, this.zone.serial ?? 0) !== 1) return 'uptodate';
    if (this.running !== undefined) {
      this.queued ??= 'check';
      return 'queued';
    }
    this.schedule(0);
    return 'refresh';
  }

  /** `zone refresh` (SOA check now) or `zone retransfer` (AXFR whatever the serial); returns at once. */
  request(mode: RefreshMode): void {
    if (this.running !== undefined) {
      if (this.queued !== 'retransfer') this.queued = mode;
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.startRefresh(mode);
  }

  /** Resolves when the refresh in progress (if any) ends. */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** In a cluster follower: the lead wrote a new copy (or the zone expired). */
  follow(event: 'loaded' | 'expired'): void {
    if (event === 'expired') {
      this.zone = undefined;
      this.expired = true;
      this.host.install(this.zc, undefined, 'expired');
      return;
    }
    const r = loadZone(this.zc.file, this.origin, { checks: { names: 'warn', glue: 'warn' } });
    if (r.zone === undefined) {
      this.host.logger.error({ zone: this.zc.name, file: this.zc.file }, 'secondary: the copy the lead wrote does not load');
      return;
    }
    this.zone = r.zone;
    this.expired = false;
    this.host.install(this.zc, r.zone, 'copy from the transferring process');
  }

  status(): SecondaryStatus {
    const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      primaries: this.primaries.map((p) => `${p.address}#${p.port}${p.key === undefined ? '' : ` key ${p.key}`}`),
      serial: this.zone?.serial ?? null,
      transfers: this.transfers,
      lastRefresh: iso(this.lastContactMs),
      nextRefresh: this.transfers ? iso(this.nextRefreshMs) : null,
      expires: iso(this.expiresMs),
      expired: this.expired,
      lastResult: this.lastResult,
      failures: this.failures,
      lastTransfer: this.lastTransfer,
      transfersIn: this.transfersIn,
      transferFailures: this.transferFailures,
      transferBytes: this.transferBytes,
      transferMs: this.transferMs,
    };
  }

  private schedule(delayMs: number): void {
    if (this.stopped || !this.transfers) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // SOA timers go up to 2^31-1 seconds (catalog zones use that expire); timers do not.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    this.nextRefreshMs = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running === undefined) this.startRefresh('check');
      else this.queued ??= 'check';
    }, delayMs);
    this.timer.unref();
  }

  private armExpire(): void {
    const t = soaTimers(this.zone);
    if (t === undefined || this.lastContactMs === undefined) return;
    this.expiresMs = this.lastContactMs + Math.max(t.expire, MIN_REFRESH_S) * 1000;
    if (this.expireTimer !== undefined) clearTimeout(this.expireTimer);
    if (this.stopped) return;
    this.expireTimer = setTimeout(() => {
      this.expireTimer = undefined;
      if (this.expiresMs !== undefined && this.expiresMs <= this.now() + 50) this.expire();
      else this.armExpire();
    }, Math.min(MAX_TIMER_MS, Math.max(0, this.expiresMs - this.now())));
    this.expireTimer.unref();
  }

  /** RFC 1035 §3.3.13: past EXPIRE the zone is no longer authoritative: SERVFAIL until a transfer. */
  private expire(): void {
    if (this.expired || this.stopped) return;
    this.expired = true;
    this.host.logger.error({ zone: this.zc.name, serial: this.zone?.serial, lastRefresh: this.lastContactMs === undefined ? null : new Date(this.lastContactMs).toISOString() },
      'secondary zone expired: no primary answered within the SOA expire time; answering SERVFAIL');
    this.zone = undefined;
    this.host.install(this.zc, undefined, 'expired');
    if (this.transfers) this.host.broadcast?.(this.zc.name, 'expired');
  }

  /** The primary answered: the copy is good for another `expire`; its file's mtime says so after a restart. */
  /** Writes `zone` to the copy's file in the background, after any write running (the newest pending zone wins). */
  private persist(zone: Zone): void {
    this.copyPending = zone;
    if (this.copyWriting !== undefined) return;
    this.copyWriting = this.writeCopies().finally(() => { this.copyWriting = undefined; });
  }

  private async writeCopies(): Promise<void> {
    while (this.copyPending !== undefined && !this.stopped) {
      const zone = this.copyPending;
      this.copyPending = undefined;
      const generation = this.copyGeneration;
      const started = this.now();
      try {
        const done = await writeZoneFileAsync(zone, this.zc.file, () => generation === this.copyGeneration && !this.stopped);
        if (!done) continue;
        this.host.logger.debug({ zone: this.zc.name, serial: zone.serial, ms: Math.round(this.now() - started) }, 'secondary: copy written');
        this.host.broadcast?.(this.zc.name, 'loaded');
      } catch (err) {
        this.host.logger.error({ err, zone: this.zc.name }, 'secondary: cannot write the copy of the zone');
      }
    }
  }

  /** Resolves once the copy on disk holds the zone served (no background write pending). */
  async copyWritten(): Promise<void> {
    while (this.copyWriting !== undefined) await this.copyWriting;
  }

  private contacted(): void {
    this.lastContactMs = this.now();
    this.failures = 0;
    if (this.zone !== undefined && existsSync(this.zc.file)) {
      try {
        const t = new Date(this.lastContactMs);
        utimesSync(this.zc.file, t, t);
      } catch (err) {
        this.host.logger.warn({ err, zone: this.zc.name }, 'secondary: cannot touch the copy (expire after a restart counts from the last transfer)');
      }
    }
    this.armExpire();
  }

  private keyOf(p: ServerSpec): TsigKey | undefined {
    if (p.key === undefined) return undefined;
    const k = this.host.keys().get(canonical(p.key));
    if (k === undefined) throw new Error(`key ${p.key} is not configured`);
    return k;
  }

  /** The primary's SOA serial (RFC 1034 §4.3.5: the SOA query over UDP), its reply TSIG-checked. */
  private async soaSerial(p: ServerSpec, key: TsigKey | undefined): Promise<number | undefined> {
    const q = Message.query(this.origin, RRType.SOA, { rd: false });
    let requestMac: Uint8Array | undefined;
    const now = this.now;
    const r = await exchange(q, { address: p.address, port: p.port }, {
      timeoutMs: 2000, tries: 2,
      ...(key === undefined ? {} : {
        sign: (b: Uint8Array) => {
          const s = signMessage(b, key, { timeSigned: epochSeconds(now()) });
          requestMac = s.mac;
          return s.bytes;
        },
      }),
    });
    if (key !== undefined) {
      const rec = findTsig(r.bytes);
      if (rec === undefined) throw new Error(`the SOA answer is not signed with ${p.key}`);
      const v = verifyMessage(r.bytes, r.bytes.length, rec, key, { now: epochSeconds(now()), ...(requestMac === undefined ? {} : { priorMac: requestMac }) });
      if (rec.error !== 0) throw new Error(`TSIG error ${tsigErrorText(rec.error)} in the SOA answer`);
      if (v.error !== 0) throw new Error(`TSIG ${tsigErrorText(v.error)} on the SOA answer`);
    }
    const m = r.message;
    // Knot refuses ordinary queries to a catalog zone (RFC 9432 §7: not meant to be queried),
    // while it transfers it: then the IXFR itself is the serial check (undefined).
    if (m.rcode === Rcode.REFUSED) return undefined;
    if (m.rcode !== Rcode.NOERROR) throw new Error(`SOA query answered ${rcodeToString(m.rcode)}`);
    if (!m.aa) throw new Error('SOA answer is not authoritative (AA=0)');
    const soa = m.answer.find((rr) => rr.type === RRType.SOA && rr.name.equals(this.origin));
    if (soa === undefined) throw new Error('no SOA in the answer');
    return (soa.data as { serial: number }).serial;
  }

  /** One refresh: SOA check (unless retransfer), transfer when newer, then the next timer. */
  private async refresh(mode: RefreshMode): Promise<void> {
    const log = this.host.logger;
    const name = this.zc.name;
    const order = this.primaries.map((_, i) => (i + this.preferred) % this.primaries.length);
    const reasons: string[] = [];
    let ok = false;
    try {
      for (const i of order) {
        const p = this.primaries[i]!;
        const label = `${p.address}#${p.port}`;
        try {
          const key = this.keyOf(p);
          const have = mode === 'retransfer' ? undefined : this.zone;
          if (have !== undefined) {
            const theirs = await this.soaSerial(p, key);
            const cmp = theirs === undefined ? 1 : serialCompare(theirs, have.serial ?? 0);
            if (cmp !== 1) {
              if (cmp === -1) log.warn({ zone: name, primary: label, ours: have.serial, theirs }, 'secondary: the primary\'s serial is lower than ours; keeping ours');
              this.lastResult = `up to date at serial ${have.serial} (${label})`;
              log.debug({ zone: name, serial: have.serial, primary: label }, 'secondary: zone up to date');
              this.preferred = i;
              this.contacted();
              ok = true;
              break;
            }
          }
          const started = this.now();
          const r = await fetchZone(this.origin, have, {
            primary: p, key, timeoutMs: this.host.timeoutMs ?? 10_000, nowMs: this.now,
          });
          if (this.stopped) return;
          this.preferred = i;
          if (r.kind === 'uptodate') {
            this.lastResult = `up to date at serial ${r.serial} (${label})`;
            this.contacted();
            ok = true;
            break;
          }
          // Served at once; the copy on disk follows in the background (persist), and cluster
          // followers, which load that copy, are told when it is in place.
          const previous = this.zone?.serial;
          this.zone = r.zone;
          this.expired = false;
          this.host.install(this.zc, r.zone, `${r.kind} from ${label}`);
          this.persist(r.zone);
          const ms = Math.round(this.now() - started);
          this.transfersIn++;
          this.transferBytes += r.bytes;
          this.transferMs += ms;
          this.lastTransfer = { kind: r.kind, serial: r.serial, records: r.records, messages: r.messages, bytes: r.bytes, ms, from: label, at: new Date(this.now()).toISOString() };
          this.lastResult = `${r.kind.toUpperCase()} of serial ${r.serial} from ${label}`;
          log.info({ zone: name, kind: r.kind, from: label, serial: r.serial, previous: previous ?? null, records: r.records, messages: r.messages, ms },
            'secondary: transfer done');
          this.contacted();
          ok = true;
          break;
        } catch (err) {
          const why = (err as Error).message;
          reasons.push(`${label}: ${why}`);
          log.warn({ zone: name, primary: label, error: why }, 'secondary: refresh from this primary failed');
        }
      }
    } finally {
      if (!ok && !this.stopped) {
        this.failures++;
        this.transferFailures++;
        this.lastResult = `failed: ${reasons.join('; ') || 'no primary'}`;
      }
    }
    if (this.stopped) return;
    const t = soaTimers(this.zone);
    let delayS: number;
    if (ok) {
      delayS = Math.max(t?.refresh ?? BOOTSTRAP_RETRY_S, MIN_REFRESH_S);
    } else {
      // RFC 1035: RETRY after a failed refresh; doubled per failure in a row (bad or gone
      // primaries are not hammered), never longer than the refresh interval or an hour.
      const retry = Math.max(t?.retry ?? BOOTSTRAP_RETRY_S, MIN_RETRY_S);
      const cap = Math.max(retry, Math.min(t?.refresh ?? MAX_BACKOFF_S, MAX_BACKOFF_S));
      delayS = Math.min(retry * 2 ** Math.min(this.failures - 1, 16), cap);
      log.error({ zone: name, failures: this.failures, retryInS: delayS, reasons }, 'secondary: refresh failed; retrying');
    }
    // A NOTIFY or command that came meanwhile runs next (startRefresh), instead of the timer.
    if (this.queued === undefined) this.schedule(delayS * 1000);
  }

  /** Runs a refresh as the one in progress; then the one queued meanwhile, if any. */
  private startRefresh(mode: RefreshMode): void {
    const p: Promise<void> = this.refresh(mode).catch((err: unknown) => {
      this.host.logger.error({ err, zone: this.zc.name }, 'secondary: refresh failed unexpectedly');
      this.schedule(BOOTSTRAP_RETRY_S * 1000);
    }).then(() => {
      if (this.running === p) this.running = undefined;
      const q = this.queued;
      this.queued = undefined;
      if (q !== undefined && !this.stopped) this.startRefresh(q);
    });
    this.running = p;
  }
}
