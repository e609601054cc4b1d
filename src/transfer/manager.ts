/**
 * The transfer side of a server, rebuilt with its config and catalog at start and at every
 * reload: the TSIG keys, each zone's history of differences (journal file beside the zone
 * file, bounded by `ixfrHistory`), the AXFR/IXFR hook, and NOTIFY on each new serial.
 *
 * Invariants: a zone's history always ends at the serial being served (a journal that does not
 * is discarded at start, with a log line); a reload whose serial went up appends the difference
 * old -> new before the new version is announced; history arrays are replaced, never changed in
 * place, so a transfer in progress keeps a consistent view.
 */
import { existsSync } from 'node:fs';
import type { Catalog } from '../authority/catalog.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import { zoneDifference } from '../journal/difference.js';
import { Journal, type JournalDifference, journalPathFor } from '../journal/journal.js';
import type { Logger } from '../logging.js';
import type { TransferHook } from '../server/engine.js';
import type { ServerStats } from '../server/stats.js';
import { KeyStore } from '../tsig/key.js';
import { Name } from '../wire/name.js';
import { serialCompare } from '../zone/serial.js';
import type { Zone } from '../zone/zone.js';
import { Notifier, type ServerSpec, parseServerSpec } from './notify.js';
import { keyStoreFromConfig, transfersFromConfig } from './setup.js';

/** Versions kept for IXFR when `ixfrHistory` is not set. */
export const DEFAULT_IXFR_HISTORY = 100;

interface History {
  journal: Journal | undefined;
  differences: readonly JournalDifference[];
}

export interface TransferManagerOptions {
  logger: Logger;
  stats: ServerStats;
  /** Addresses the server listens on (never sent NOTIFY). */
  ownAddresses: () => readonly string[];
  /** Send NOTIFY at all (off for tests that want silence); default true. */
  notify?: boolean;
  nowMs?: () => number;
  /**
   * The IXFR history of a zone that takes dynamic updates (src/update owns its journal), or
   * undefined for other zones: such zones' journals are never read or written here.
   */
  dynamicHistory?: (origin: Name) => readonly JournalDifference[] | undefined;
}

export class TransferManager {
  keys: KeyStore = new KeyStore();
  readonly notifier: Notifier;
  private readonly histories = new Map<string, History>();
  private readonly opts: TransferManagerOptions;
  /** NOTIFY rounds started (their promises, for tests and shutdown). */
  readonly pending = new Set<Promise<void>>();
  /**
   * Announcements made before the server listens (zones loaded at start), sent once it does:
   * NOTIFY must leave from an address we serve on, which secondaries check against their
   * primaries (RFC 1996 §3.10), and the listening addresses are known only then.
   */
  private held: (() => void)[] | undefined = [];

  constructor(opts: TransferManagerOptions) {
    this.opts = opts;
    this.notifier = new Notifier({
      logger: opts.logger, keys: () => this.keys, ownAddresses: opts.ownAddresses,
      ...(opts.nowMs === undefined ? {} : { nowMs: opts.nowMs }),
    });
  }

  /** The differences kept for `zone` (oldest first, ending at its serial when any). */
  history(zone: Zone): readonly JournalDifference[] {
    const key = zone.origin.key;
    const signed = this.signedUpdates.get(key);
    if (signed !== undefined) return signed;
    return this.opts.dynamicHistory?.(zone.origin) ?? this.histories.get(key)?.differences ?? [];
  }

  /** Differences of the served (signed) versions of signed dynamic zones: kept in memory only. */
  private readonly signedUpdates = new Map<string, JournalDifference[]>();

  /**
   * A dynamic update made `zone` the served version (its unsigned difference is in the zone's
   * journal already): for a signed zone the signed difference goes to the in-memory IXFR
   * history; NOTIFY goes out.
   */
  recordUpdate(zc: ZoneConfig, old: Zone | undefined, zone: Zone): void {
    const key = zone.origin.key;
    if (zc.dnssec !== undefined && old !== undefined) {
      const d = zoneDifference(old, zone);
      const list = this.signedUpdates.get(key) ?? [];
      if (d !== undefined) list.push(d);
      const limit = zc.ixfrHistory ?? DEFAULT_IXFR_HISTORY;
      this.signedUpdates.set(key, list.length > limit ? list.slice(-limit) : list);
    }
    this.announce(zc, zone, true);
  }

  /**
   * Takes the new config and catalog (`previous`: what was served before, undefined at start):
   * records differences for zones whose serial went up, announces new serials, and returns the
   * hook that serves transfers from `current`.
   */
  update(cfg: Config, previous: Catalog | undefined, current: Catalog): TransferHook {
    this.keys = keyStoreFromConfig(cfg);
    for (const zc of cfg.zones) {
      const origin = Name.fromText(zc.name.endsWith('.') ? zc.name : zc.name + '.');
      const zone = current.get(origin);
      if (zone === undefined) continue;
      const old = previous?.get(origin);
      if (old === zone) continue; // unchanged (kept after a failed reload)
      if (this.opts.dynamicHistory?.(origin) !== undefined) {
        // Journal owned by src/update; a signed one starts an in-memory history of signed versions.
        if (zc.dnssec !== undefined) this.signedUpdates.set(origin.key, []);
      } else {
        this.record(zc, old, zone);
      }
      // A new serial goes to the NS hosts and `notify:` targets; at start only to the latter
      // (the NS hosts' refresh timers cover a restart).
      if (old === undefined) this.announce(zc, zone, false);
      else if (serialCompare(old.serial ?? 0, zone.serial ?? 0) === -1) this.announce(zc, zone, true);
    }
    return transfersFromConfig(cfg, current, this.opts.stats, (z) => this.history(z));
  }

  private record(zc: ZoneConfig, old: Zone | undefined, zone: Zone): void {
    const limit = zc.ixfrHistory ?? DEFAULT_IXFR_HISTORY;
    const key = zone.origin.key;
    let h = this.histories.get(key);
    if (h === undefined) {
      h = { journal: undefined, differences: [] };
      // A journal is read when one exists, and made only when there is a first difference to keep.
      if (limit > 0 && existsSync(journalPathFor(zc.file))) {
        try {
          const r = Journal.open(journalPathFor(zc.file), this.opts.logger);
          h.journal = r.journal;
          const last = r.differences.at(-1);
          if (last !== undefined && last.toSerial === zone.serial) {
            h.differences = r.differences.slice(-limit);
          } else if (last !== undefined) {
            // The zone file changed while we were down (or the journal is another zone's): the
            // history no longer leads to what we serve.
            this.opts.logger.warn({ zone: zc.name, journalSerial: last.toSerial, zoneSerial: zone.serial },
              'journal does not end at the zone\'s serial; IXFR history starts again');
            r.journal.rewrite([]);
          }
        } catch (err) {
          this.opts.logger.error({ err, zone: zc.name }, 'journal unusable; IXFR history kept in memory only');
        }
      }
      this.histories.set(key, h);
    }
    if (old === undefined || limit === 0) return;
    const cmp = serialCompare(old.serial ?? 0, zone.serial ?? 0);
    if (cmp !== -1) {
      if (cmp === 1) {
        this.opts.logger.warn({ zone: zc.name, old: old.serial, new: zone.serial }, 'serial went backwards; IXFR history starts again');
        h.differences = [];
        h.journal?.rewrite([]);
      }
      return;
    }
    const d = zoneDifference(old, zone);
    if (d === undefined) return;
    let diffs = [...h.differences, d];
    try {
      h.journal ??= Journal.open(journalPathFor(zc.file), this.opts.logger).journal;
      if (diffs.length > limit) {
        diffs = diffs.slice(-limit);
        h.journal?.rewrite(diffs);
      } else {
        h.journal?.append(d);
      }
    } catch (err) {
      this.opts.logger.error({ err, zone: zc.name }, 'journal write failed; IXFR history kept in memory only');
    }
    h.differences = diffs;
    this.opts.logger.info({ zone: zc.name, from: d.fromSerial, to: d.toSerial, removed: d.removed.length - 1, added: d.added.length - 1 },
      'zone difference recorded');
  }

  /** The server listens now: announcements held since start go out. */
  listening(): void {
    const held = this.held;
    this.held = undefined;
    for (const f of held ?? []) f();
  }

  /** Sends NOTIFY for the zone's serial to its NS hosts and `notify:` targets (in the background). */
  announce(zc: ZoneConfig, zone: Zone, toNsHosts = true): void {
    if (this.opts.notify === false) return;
    if (this.held !== undefined) {
      this.held.push(() => this.announce(zc, zone, toNsHosts));
      return;
    }
    if (!toNsHosts && (zc.notify ?? []).length === 0) return;
    let extra: ServerSpec[] = [];
    try {
      extra = (zc.notify ?? []).map((t) => parseServerSpec(t));
    } catch (err) {
      this.opts.logger.error({ err, zone: zc.name }, 'notify: bad target');
    }
    const p = this.notifier.notify(zone, extra, toNsHosts);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  close(): void {
    this.notifier.close();
  }
}
