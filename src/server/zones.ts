/**
 * One set of served zones and their lifecycle: static zones from their files, secondary zones
 * (refresh machine, NOTIFY in), zones taking dynamic updates (journal), generated and consumed
 * catalog zones (RFC 9432), and the transfer side (AXFR/IXFR out, IXFR history, NOTIFY out).
 * A server without views has one set; with `views:` each view has its own (src/server/views.ts).
 *
 * Reload is atomic per zone: each zone is loaded and checked aside; one that fails keeps its old
 * version serving (the reason is logged); the new catalog replaces the old one in one assignment
 * and the host rebuilds its chain. Queries already running finish with what they started with.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Catalog, UnloadedZone } from '../authority/catalog.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import { DynamicZones } from '../update/dynamic.js';
import type { Logger } from '../logging.js';
import { Name } from '../wire/name.js';
import type { Message } from '../wire/message.js';
import { loadZone } from '../zone/load.js';
import { printZone } from '../zone/printer.js';
import type { Zone } from '../zone/zone.js';
import type { TransferHook } from './engine.js';
import type { QueryContext } from './query-context.js';
import type { ServerStats } from './stats.js';
import { TransferManager } from '../transfer/manager.js';
import { SecondaryZones } from '../transfer/secondaries.js';
import type { SecondaryStatus } from '../transfer/secondary.js';
import { isTransferLead, sendSecondaryEvent } from './cluster.js';
import { catalogMembers, generateCatalog } from '../transfer/catalog-zone.js';
import { writeZoneFile } from '../transfer/inbound.js';
import { journalPathFor } from '../journal/journal.js';
import { serialAdd, serialCompare } from '../zone/serial.js';
import type { ZoneSigning } from './zone-signing.js';

/** A configured domain name (`corp.example` or `corp.example.`) as a Name. */
export function zoneName(text: string): Name {
  return Name.fromText(text.endsWith('.') ? text : text + '.');
}

export interface ZoneLoadReport {
  name: string;
  ok: boolean;
  serial?: number | undefined;
  records?: number;
  problems: string[];
  /** The view the zone is served in (with `views:`). */
  view?: string;
}

/** One configured zone as `stats` and `/metrics` show it. */
export interface ZoneStatus {
  name: string;
  /** Serving (this load or an earlier version). */
  loaded: boolean;
  /** SOA serial being served, null when nothing is. */
  serial: number | null;
  /** Loads (start, reloads) that failed since the process started. */
  loadFailures: number;
  /** Why the last load failed, null when it succeeded. */
  error: string | null;
  /** For a secondary zone: its refresh machine (timers, last transfer); absent for primaries. */
  secondary?: SecondaryStatus | null;
}

/** What a zone set needs from the server that holds it. */
export interface ZoneSetHost {
  logger: Logger;
  stats: ServerStats;
  signing: ZoneSigning;
  /** The config whose `zones` this set serves (a view's set: the view's zones). */
  config: () => Config;
  /** The catalog changed: the chain that reads it must be rebuilt. */
  changed: () => void;
  /** The transfer hook or keys changed (start, reload, a new secondary version). */
  transfersChanged: () => void;
  /** A zone changed in place (dynamic update): answers cached from it must go. */
  invalidateAnswers: () => void;
  maxUdpSize: () => number;
  ownAddresses: () => readonly string[];
  /** Zones served as secondaries beyond the config's (the RPZ feeds of `rpz:`, src/policy/setup.ts). */
  extraZones?: () => readonly ZoneConfig[];
  /** Cluster worker: only the lead transfers; the others load its copies. */
  shared: boolean;
  now?: (() => number) | undefined;
}

export class ZoneSet {
  catalog = new Catalog();
  private zoneState = new Map<string, ZoneStatus>();
  /** Zone transfers, their history and NOTIFY (src/transfer). */
  readonly transfers: TransferManager;
  /** Secondary zones: refresh/retry/expire, NOTIFY in, UPDATE forwarding (src/transfer/secondaries.ts). */
  readonly secondaries: SecondaryZones;
  /** Zones that take dynamic updates, their journals and sync (src/update). */
  readonly dynamic: DynamicZones;
  /** The AXFR/IXFR hook for the engine, rebuilt with the catalog. */
  transferHook: TransferHook | undefined = undefined;
  /**
   * Static zones loaded in the current (re)load pass by any set, by origin and file: a zone
   * several views name is loaded once and is the same Zone object in each (set by the server).
   */
  loadedFiles: Map<string, Zone> | undefined = undefined;

  constructor(private readonly host: ZoneSetHost) {
    this.dynamic = new DynamicZones({
      logger: host.logger, catalog: () => this.catalog, maxUdpSize: host.maxUdpSize,
      publish: (zc, source) => this.publishUpdate(zc, source),
      ...(host.now === undefined ? {} : { now: host.now }),
    });
    this.transfers = new TransferManager({
      logger: host.logger, stats: host.stats, ownAddresses: host.ownAddresses,
      dynamicHistory: (origin) => this.dynamic.history(origin),
    });
    // Secondary zones: in a cluster only the lead worker transfers; the others load its copy.
    const shared = host.shared;
    this.secondaries = new SecondaryZones({
      logger: host.logger, keys: () => this.transfers.keys, transfers: !shared || isTransferLead(),
      install: (zc, zone, why) => this.installSecondary(zc, zone, why),
      ...(shared ? {
        broadcast: (zone: string, event: 'loaded' | 'expired') => sendSecondaryEvent({ zone, what: event }),
        toLead: (zone: string, what: 'notify' | 'check' | 'retransfer', serial?: number) => sendSecondaryEvent({ zone, what, ...(serial === undefined ? {} : { serial }) }),
      } : {}),
    });
  }

  /** UPDATE for a secondary zone is the secondary's (REFUSED or forwarded to its primary); the rest is the dynamic zones'. */
  update(ctx: QueryContext): Message | Promise<Message> {
    return this.secondaries.update(ctx, this.host.maxUdpSize()) ?? this.dynamic.handle(ctx);
  }

  /** Serves a new version of a secondary zone (a transfer), or withdraws it (expired: SERVFAIL). */
  private installSecondary(zc: ZoneConfig, zone: Zone | undefined, reason: string): void {
    const origin = zoneName(zc.name);
    if (!this.zoneConfigs().zones.some((z) => zoneName(z.name).equals(origin))) return;
    const previous = this.catalog.clone();
    this.catalog.add(zone ?? new UnloadedZone(origin, reason));
    // RFC 9432: a new version of a consumed catalog adds and removes member zones.
    if (zc.catalogRole === 'consume' && zone !== undefined) this.applyMembers();
    const key = origin.toString();
    const before = this.zoneState.get(key);
    this.zoneState.set(key, {
      name: key, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: before?.loadFailures ?? 0,
      error: zone === undefined ? reason : null,
    });
    this.host.changed();
    this.refreshTransfers(previous);
  }

  /**
   * A dynamic update's new version (durable in the journal already): signed when the zone is,
   * served at once (the catalog is shared by the chain), cached answers dropped, IXFR history
   * and NOTIFY. Runs before the update's NOERROR is encoded.
   */
  private publishUpdate(zc: ZoneConfig, source: Zone): void {
    const origin = source.origin;
    const served = zc.dnssec !== undefined ? this.host.signing.sign(zc, origin, source) : source;
    const old = this.catalog.get(origin);
    this.catalog.add(served);
    this.host.invalidateAnswers();
    const name = origin.toString();
    const st = this.zoneState.get(name);
    if (st !== undefined) st.serial = served.serial ?? null;
    this.transfers.recordUpdate(zc, old, served);
  }

  /** TSIG keys, IXFR history, NOTIFY and the AXFR/IXFR hook follow the config and catalog (start, reload). */
  refreshTransfers(previous: Catalog | undefined): void {
    this.transferHook = this.transfers.update(this.zoneConfigs(), previous, this.catalog);
    this.host.transfersChanged();
  }

  /**
   * Loads every zone. A zone that fails (missing or unreadable file, syntax error, failed
   * checks) does not stop the others: it is reported (log, `stats`, `/metrics`) and answered
   * SERVFAIL until a reload loads it, as BIND and Knot do.
   */
  load(): ZoneLoadReport[] {
    const { catalog, reports } = this.loadCatalog(undefined);
    this.catalog = catalog;
    this.applyMembers();
    this.secondaries.sync(this.zoneConfigs(), (o) => catalog.get(o));
    this.host.changed();
    this.refreshTransfers(undefined);
    return reports;
  }

  /** Loads every zone again; zones that fail keep their old version (the reports say which). */
  reload(): ZoneLoadReport[] {
    const { catalog, reports } = this.loadCatalog(this.catalog);
    const previous = this.catalog;
    this.catalog = catalog;
    this.applyMembers();
    this.secondaries.sync(this.zoneConfigs(), (o) => catalog.get(o));
    this.host.changed();
    this.refreshTransfers(previous);
    return reports;
  }

  /** Timers that run once the server listens. */
  start(): void {
    this.transfers.listening();
    this.secondaries.start();
    this.dynamic.startTimer();
  }

  stop(): void {
    this.transfers.close();
    this.secondaries.stop();
    this.dynamic.stopTimer();
    // As BIND at shutdown: zone files of dynamic zones written from memory (the journal has it all anyway).
    this.dynamic.syncAll();
    this.dynamic.close();
  }

  /** The zone `name` as master-file text (what a replacement worker asks its siblings for), or null. */
  zoneText(name: string): string | null {
    const zone = this.catalog.get(zoneName(name));
    if (zone === undefined) return null;
    let text = '';
    for (const line of printZone(zone)) text += line + '\n';
    return text;
  }

  /**
   * Serves `text` (a sibling's copy) for a configured zone that failed to load here; true when
   * it loaded. The zone's status keeps the local failure in its count.
   */
  adoptZoneText(name: string, text: string): boolean {
    const origin = zoneName(name);
    const dir = mkdtempSync(join(tmpdir(), 'sovereign-zone-'));
    try {
      const file = join(dir, 'zone');
      writeFileSync(file, text, { mode: 0o600 });
      const r = loadZone(file, origin, { file: `${name} (from a sibling worker)` });
      if (r.zone === undefined) return false;
      this.catalog.add(r.zone);
      const key = origin.toString();
      const before = this.zoneState.get(key);
      this.zoneState.set(key, { name: key, loaded: true, serial: r.zone.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: before?.error ?? null });
      this.host.changed();
      return true;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** How each configured zone stands: loaded (with its serial) or not, and how often loading failed. */
  zoneStatus(): ZoneStatus[] {
    return [...this.zoneState.values()].map((z) => {
      const sz = this.secondaries.get(zoneName(z.name));
      return sz === undefined ? { ...z } : { ...z, secondary: sz.status() };
    });
  }

  /** Serves a re-signed zone in place of its current version (signature refresh); false when this set does not serve it. */
  swapZone(zone: Zone): boolean {
    // Only the set whose zone is signed here (with views another view may serve other data under the same name).
    if (this.catalog.get(zone.origin) === undefined || this.configuredZone(zone.origin)?.dnssec === undefined) return false;
    this.catalog.add(zone);
    this.host.changed();
    return true;
  }

  /** The configuration of the zone named `name`, if it is configured. */
  configuredZone(name: Name): ZoneConfig | undefined {
    return this.zoneConfigs().zones.find((zc) => zoneName(zc.name).equals(name));
  }

  /** The zones being served now. */
  zones(): Zone[] {
    return [...this.catalog.all()];
  }

  private loadCatalog(previous: Catalog | undefined): { catalog: Catalog; reports: ZoneLoadReport[] } {
    const catalog = new Catalog();
    const reports: ZoneLoadReport[] = [];
    const state = new Map<string, ZoneStatus>();
    const config = this.host.config();
    this.dynamic.retain(config.zones);
    for (const zc of this.zoneConfigs().zones) {
      const origin = zoneName(zc.name);
      if (zc.catalogRole === 'generate') {
        this.generateCatalogZone(zc, origin, previous, catalog, reports, state);
        continue;
      }
      if (zc.primaries !== undefined && this.loadSecondary(zc, origin, previous, catalog, reports, state)) continue;
      let zone: Zone | undefined;
      const problems: string[] = [];
      if (DynamicZones.configured(zc)) {
        try {
          const r = this.dynamic.load(zc, origin);
          problems.push(...r.problems);
          const kept = r.kept ? previous?.get(origin) : undefined;
          zone = kept ?? (r.zone !== undefined && zc.dnssec !== undefined ? this.host.signing.sign(zc, origin, r.zone) : r.zone);
        } catch (err) {
          zone = undefined;
          problems.push((err as Error).message);
        }
      } else {
        // Another view loaded this file in this pass: the same Zone object serves both.
        const fileKey = zc.primaries === undefined && zc.dnssec === undefined ? `${origin.key}\0${zc.file}` : undefined;
        const done = fileKey === undefined ? undefined : this.loadedFiles?.get(fileKey);
        if (done !== undefined) {
          zone = done;
        } else try {
          // A secondary's copy is checked as BIND checks secondaries (check-names warn).
          const r = loadZone(zc.file, origin, { checks: zc.primaries !== undefined ? { names: 'warn', glue: 'warn' } : zc.checks });
          for (const p of r.problems) {
            problems.push(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}`);
          }
          zone = r.zone;
          // Signed here when configured; a key problem rejects this version like a failed check.
          if (zone !== undefined && zc.dnssec !== undefined) zone = this.host.signing.sign(zc, origin, zone);
          if (zone !== undefined && fileKey !== undefined) this.loadedFiles?.set(fileKey, zone);
        } catch (err) {
          zone = undefined;
          problems.push((err as Error).message);
        }
      }
      const name = origin.toString();
      const before = this.zoneState.get(name);
      if (zone !== undefined) {
        catalog.add(zone);
        reports.push({ name, ok: true, serial: zone.serial, records: zone.recordCount, problems });
        state.set(name, { name, loaded: true, serial: zone.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: null });
      } else {
        const old = previous?.get(origin);
        const error = problems.length > 0 ? problems.join('; ') : 'not loaded';
        // The old version keeps serving; a zone never loaded answers SERVFAIL.
        catalog.add(old ?? new UnloadedZone(origin, error));
        reports.push({ name, ok: false, problems });
        state.set(name, {
          name, loaded: old !== undefined, serial: old?.serial ?? null, loadFailures: (before?.loadFailures ?? 0) + 1, error,
        });
      }
    }
    this.zoneState = state;
    return { catalog, reports };
  }

  /** Zones of catalogs we consume (RFC 9432), as secondary zones of the catalog's primaries. */
  private members: { zc: ZoneConfig; catalog: string }[] = [];

  /** The config with the catalog members' zones added. */
  zoneConfigs(): Config {
    const config = this.host.config();
    const extra = this.host.extraZones?.() ?? [];
    if (this.members.length === 0 && extra.length === 0) return config;
    return { ...config, zones: [...config.zones, ...this.members.map((m) => m.zc), ...extra] };
  }

  /**
   * Follows the consumed catalog zones (RFC 9432 §5): members listed now and not before become
   * secondary zones (served from their copy at once when one is on disk), members no longer
   * listed stop being served and their copy and journal are deleted (as BIND does). A zone
   * configured in the file wins over a member of the same name.
   */
  private applyMembers(): void {
    const config = this.host.config();
    const statics = new Set(config.zones.map((z) => zoneName(z.name).key));
    const next: { zc: ZoneConfig; catalog: string }[] = [];
    const seen = new Set<string>();
    for (const cz of config.zones) {
      if (cz.catalogRole !== 'consume') continue;
      const cat = this.catalog.get(zoneName(cz.name));
      const names = cat === undefined ? undefined : catalogMembers(cat);
      if (names === undefined) {
        if (cat !== undefined) this.host.logger.warn({ zone: cz.name }, 'catalog zone of an unknown schema version (RFC 9432 §4.2.1): members left as they were');
        for (const m of this.members) if (m.catalog === cz.name && !seen.has(m.zc.name)) { next.push(m); seen.add(m.zc.name); }
        continue;
      }
      for (const n of names) {
        const name = n.toString();
        if (statics.has(n.key) || seen.has(name)) continue;
        seen.add(name);
        next.push({
          catalog: cz.name,
          zc: {
            name, file: join(dirname(cz.file), `${name}zone`), primaries: cz.primaries, checks: { names: 'warn', glue: 'warn' },
            ...(cz.allowTransfer === undefined ? {} : { allowTransfer: cz.allowTransfer }),
            ...(cz.allowNotify === undefined ? {} : { allowNotify: cz.allowNotify }),
          } as ZoneConfig,
        });
      }
    }
    const before = new Map(this.members.map((m) => [m.zc.name, m]));
    const after = new Set(next.map((m) => m.zc.name));
    if (before.size === after.size && [...after].every((n) => before.has(n))) return;
    this.members = next;
    for (const [name, m] of before) {
      if (after.has(name)) continue;
      this.catalog.remove(zoneName(name));
      this.zoneState.delete(name);
      for (const f of [m.zc.file, journalPathFor(m.zc.file)]) rmSync(f, { force: true });
      this.host.logger.info({ zone: name, catalog: m.catalog }, 'catalog member removed');
    }
    for (const m of next) {
      if (before.has(m.zc.name)) continue;
      const origin = zoneName(m.zc.name);
      let zone: Zone | undefined;
      if (existsSync(m.zc.file)) zone = loadZone(m.zc.file, origin, { checks: m.zc.checks }).zone;
      this.catalog.add(zone ?? new UnloadedZone(origin, 'not transferred yet'));
      this.zoneState.set(m.zc.name, {
        name: m.zc.name, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: 0, error: zone === undefined ? 'not transferred yet' : null,
      });
      this.host.logger.info({ zone: m.zc.name, catalog: m.catalog }, 'catalog member added');
    }
    this.secondaries.sync(this.zoneConfigs(), (o) => this.catalog.get(o));
  }

  /**
   * A generated catalog zone (RFC 9432, Knot's catalog-role: generate): its members are the
   * configured zones naming it in `catalogZone`. The serial stays while the members do, and
   * goes up (at least to the time in seconds) when they change; a copy goes to its file.
   */
  private generateCatalogZone(zc: ZoneConfig, origin: Name, previous: Catalog | undefined, catalog: Catalog,
    reports: ZoneLoadReport[], state: Map<string, ZoneStatus>): void {
    const members = this.host.config().zones.filter((z) => z.catalogZone !== undefined && zoneName(z.catalogZone).equals(origin)).map((z) => zoneName(z.name));
    let old = previous?.get(origin);
    if (old === undefined && existsSync(zc.file)) old = loadZone(zc.file, origin).zone;
    const same = (z: Zone): boolean => {
      const had = catalogMembers(z);
      return had !== undefined && had.length === members.length && had.every((n) => members.some((m) => m.equals(n)));
    };
    let zone: Zone;
    if (old !== undefined && same(old)) {
      zone = old;
    } else {
      const now = Math.floor(Date.now() / 1000);
      const serial = old?.serial === undefined || serialCompare(now, old.serial) === 1 ? now : serialAdd(old.serial, 1);
      zone = generateCatalog(origin, members, serial);
      try {
        writeZoneFile(zone, zc.file);
      } catch (err) {
        this.host.logger.warn({ err, zone: zc.name }, 'generated catalog: cannot write its copy');
      }
    }
    const name = origin.toString();
    catalog.add(zone);
    reports.push({ name, ok: true, serial: zone.serial, records: zone.recordCount, problems: [] });
    state.set(name, { name, loaded: true, serial: zone.serial ?? null, loadFailures: 0, error: null });
  }

  /**
   * A secondary zone in a (re)load: the copy its machine holds (a reload never re-reads it from
   * the file), or, first time, nothing when the file is not there yet (transferred once the
   * server starts; SERVFAIL until then, as BIND). False: load it from its file like a primary.
   */
  private loadSecondary(zc: ZoneConfig, origin: Name, previous: Catalog | undefined, catalog: Catalog,
    reports: ZoneLoadReport[], state: Map<string, ZoneStatus>): boolean {
    const name = origin.toString();
    const sz = this.secondaries.get(origin);
    const before = this.zoneState.get(name);
    if (sz !== undefined) {
      const zone = sz.zone ?? previous?.get(origin);
      const why = sz.expired ? 'expired' : 'not transferred yet';
      catalog.add(zone ?? new UnloadedZone(origin, why));
      reports.push({ name, ok: true, serial: zone?.serial, records: zone?.recordCount ?? 0, problems: [] });
      state.set(name, { name, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: zone === undefined ? why : null });
      return true;
    }
    if (existsSync(zc.file)) return false;
    catalog.add(new UnloadedZone(origin, 'not transferred yet'));
    reports.push({ name, ok: true, records: 0, problems: ['no local copy yet: transferred from the primaries'] });
    state.set(name, { name, loaded: false, serial: null, loadFailures: 0, error: 'not transferred yet' });
    return true;
  }
}
