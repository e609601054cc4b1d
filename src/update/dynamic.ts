/**
 * The zones that take dynamic updates (`allowUpdate` or `updatePolicy`): each one's journal, the
 * unsigned version being served, and the zone file it came from. Owns the UPDATE opcode for
 * them: checks, processUpdate, journal append with fsync, then the new version goes to the
 * server (`publish`: signing, catalog, answer cache, IXFR history, NOTIFY) and only then NOERROR.
 * The fsync (fdatasync) runs in the thread pool, not on the event loop: queries are answered
 * while it runs, and updates that arrive meanwhile are judged against the newest accepted
 * version, written behind it and made durable by one shared flush (group commit), each
 * acknowledged, in order, only after the flush that covers it.
 *
 * Durability (the journal's checkpoints, src/journal/journal.ts): the zone file plus the
 * differences after the checkpoint whose hash is the file's give the last acknowledged state.
 * `sync` writes the file atomically (temp, fsync), appends the checkpoint of what it wrote,
 * renames, then compacts the journal to the IXFR history plus that checkpoint; a crash anywhere
 * in between leaves a file matching one checkpoint.
 *
 * A zone file edited by hand while updates are on (its hash matches no checkpoint): when
 * acknowledged updates exist only in the journal (not yet written to the file) the file is
 * REFUSED with a log line, as BIND refuses a journal that does not match its zone: at start the
 * zone is not loaded, at reload the running version keeps serving, and `sync` will not overwrite
 * it; the operator syncs first (`sovereign zone sync`), or deletes the journal to drop those
 * updates. When nothing is pending the edited file is taken as the new version (its difference
 * recorded for IXFR), as a reload of a static zone is.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Catalog } from '../authority/catalog.js';
import type { ZoneConfig } from '../config/schema.js';
import { zoneDifference } from '../journal/difference.js';
import { Journal, type JournalDifference, type JournalEntry, journalPathFor } from '../journal/journal.js';
import type { Logger } from '../logging.js';
import { type QueryContext, replyTo } from '../server/query-context.js';
import { Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { EncodeMode, RRType, encodeRData } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { loadZone } from '../zone/load.js';
import { printZone } from '../zone/printer.js';
import { Zone, ZoneRRset } from '../zone/zone.js';
import { type UpdateAuth, updateAuthFrom } from './policy.js';
import { type SerialMethod, processUpdate } from './process.js';

/** Versions kept for IXFR when `ixfrHistory` is not set (as src/transfer/manager.ts). */
const DEFAULT_HISTORY = 100;

export interface DynamicHost {
  /**
   * Serves `source` (the new unsigned version) in place of the current one: signs it when the
   * zone is signed, puts it in the catalog, drops cached answers, records IXFR history, sends
   * NOTIFY. Called after the change is durable, before the reply goes back.
   */
  publish(zc: ZoneConfig, source: Zone, difference: JournalDifference): void;
  /** The catalog now served (zone section: are we authoritative at all?). */
  catalog(): Catalog;
  logger: Logger;
  maxUdpSize: () => number;
  /** Seconds since the epoch (serial methods). */
  now?: () => number;
}

/** One dynamic zone's state. */
interface DynamicZone {
  zc: ZoneConfig;
  origin: Name;
  auth: UpdateAuth;
  serialMethod: SerialMethod;
  journal: Journal;
  /** The unsigned version being served. */
  source: Zone;
  /** SHA-256 of the zone file as we last read or wrote it. */
  fileHash: Buffer;
  /** Serial of what the zone file holds (updates after it live only in the journal). */
  fileSerial: number;
  /** IXFR history of the unsigned versions (oldest first, ending at source's serial). */
  history: JournalDifference[];
  /** When an update first made the file stale (ms, for the sync timer); undefined when in sync. */
  dirtySince: number | undefined;
  /** Updates since the file was last written. */
  pending: number;
  /**
   * The newest accepted version: `source`, or ahead of it by the updates written to the
   * journal and waiting for their flush (the next update is judged against this one).
   */
  head: Zone;
  /** Updates the running journal flush covers (undefined when none runs). */
  flushing: Waiting[] | undefined;
  /** Updates written after that flush started: the next flush covers them all (group commit). */
  queued: Waiting[];
}

/** An update written to the journal, waiting for the flush that makes it durable. */
interface Waiting {
  zone: Zone;
  difference: JournalDifference;
  who: Record<string, unknown>;
  notes: string[];
  done: (rcode: number) => void;
}

export interface LoadOutcome {
  /** The unsigned zone to serve, or undefined when it could not be loaded/was refused. */
  zone: Zone | undefined;
  problems: string[];
  /** True when the running version stays (the file is what we know). */
  kept: boolean;
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** Every record of a zone, decoded. */
function* recordsOf(zone: Zone): Generator<ResourceRecord> {
  for (const node of zone.allNodes()) {
    for (let i = 0, n = node.setCount; i < n; i++) {
      const s = node.setAt(i);
      const data = s instanceof ZoneRRset ? s.decode() : s.rdata;
      for (const d of data) yield { name: node.name, type: s.type, class: s.class, ttl: s.ttl, data: d };
    }
  }
}

const keyWriter = new Writer();
function recordKey(rr: ResourceRecord): string {
  keyWriter.reset();
  encodeRData(rr.type, keyWriter, rr.data, EncodeMode.Canonical);
  return `${rr.name.key}|${rr.type}|${rr.class}|${rr.ttl}|${Buffer.from(keyWriter.toBytes()).toString('latin1')}`;
}

/**
 * Applies journal differences (each starting at the serial the previous ended) to `zone`: a new
 * zone. Throws Error when a difference does not follow or removes a record the zone lacks.
 */
export function applyDifferences(zone: Zone, diffs: readonly JournalDifference[]): Zone {
  if (diffs.length === 0) return zone;
  const byKey = new Map<string, ResourceRecord>();
  for (const rr of recordsOf(zone)) byKey.set(recordKey(rr), rr);
  let at = zone.serial ?? 0;
  for (const d of diffs) {
    if (d.fromSerial !== at) throw new Error(`journal difference ${d.fromSerial} -> ${d.toSerial} does not follow serial ${at}`);
    for (const rr of d.removed) {
      if (!byKey.delete(recordKey(rr))) throw new Error(`journal difference ${d.fromSerial} -> ${d.toSerial} removes ${rr.name.toString()} type ${rr.type}, which the zone lacks`);
    }
    for (const rr of d.added) byKey.set(recordKey(rr), rr);
    at = d.toSerial;
  }
  const next = new Zone(zone.origin, zone.class);
  const all = [...byKey.values()];
  for (const rr of all) if (rr.type === RRType.SOA) next.add(rr);
  for (const rr of all) if (rr.type !== RRType.SOA) next.add(rr);
  next.finish();
  return next;
}

/** The zone as master-file text (what `sync` writes). */
function zoneText(zone: Zone, why: string): string {
  let text = `; zone ${zone.origin.toString()} serial ${zone.serial}, ${why}\n$ORIGIN ${zone.origin.toString()}\n`;
  for (const line of printZone(zone)) text += line + '\n';
  return text;
}

function syncDir(path: string): void {
  try {
    const d = openSync(dirname(path), 'r');
    try { fsyncSync(d); } finally { closeSync(d); }
  } catch { /* some file systems refuse fsync on directories */ }
}

export interface SyncResult {
  zone: string;
  ok: boolean;
  serial?: number;
  written?: boolean;
  error?: string;
}

/** How a cluster worker reaches the one that owns the journals (src/update/cluster-link.ts). */
export interface UpdateLink {
  /** This process applies updates and writes journals and zone files. */
  isOwner(): boolean;
  /** May this process write journals while loading (the first worker at start)? */
  writesAtLoad(): boolean;
  /** Has the owner apply `req`; its RCODE. */
  forward(req: Message, keyName: string | undefined, address: string, port: number): Promise<number>;
  /** Sends a durable difference to every other worker; resolves when all serve it. */
  distribute(origin: Name, d: JournalDifference): Promise<void>;
}

export class DynamicZones {
  private readonly zones = new Map<string, DynamicZone>();
  private timer: NodeJS.Timeout | undefined;
  /** Set in cluster workers. */
  link: UpdateLink | undefined;

  constructor(private readonly host: DynamicHost) {}

  /** True when `zc` takes updates. */
  static configured(zc: ZoneConfig): boolean {
    return (zc.allowUpdate?.length ?? 0) > 0 || (zc.updatePolicy?.length ?? 0) > 0;
  }

  /** The unsigned version of a dynamic zone (undefined for other zones). */
  source(origin: Name): Zone | undefined {
    return this.zones.get(origin.key)?.source;
  }

  /** True when this process applies updates itself (no cluster link, or it owns the journals). */
  get owner(): boolean {
    return this.link === undefined || this.link.isOwner();
  }

  /** The unsigned IXFR history of a dynamic zone, or undefined when it is not one. */
  history(origin: Name): readonly JournalDifference[] | undefined {
    return this.zones.get(origin.key)?.history;
  }

  /** Forgets zones no longer configured for updates (reload). */
  retain(configured: readonly ZoneConfig[]): void {
    const keep = new Set(configured.filter(DynamicZones.configured).map((zc) => Name.fromText(zc.name.endsWith('.') ? zc.name : zc.name + '.').key));
    for (const [k, dz] of [...this.zones]) {
      if (keep.has(k)) continue;
      this.flushNow(dz);
      dz.journal.close();
      this.zones.delete(k);
    }
  }

  /**
   * Loads a dynamic zone at start or reload: the file plus the journal's differences after its
   * checkpoint; at reload an unchanged file keeps the running version (it may be ahead of the
   * file), a changed one is refused while updates are pending (see the module comment).
   */
  load(zc: ZoneConfig, origin: Name): LoadOutcome {
    const logger = this.host.logger;
    const name = origin.toString();
    const have = this.zones.get(origin.key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(zc.file);
    } catch (err) {
      return { zone: undefined, problems: [(err as Error).message], kept: false };
    }
    const hash = sha256(bytes);
    const auth = updateAuthFrom(zc.allowUpdate, zc.updatePolicy, origin)!;
    if (have !== undefined) {
      // Updates waiting for their flush are settled first: what follows compares and rewrites.
      this.flushNow(have);
      have.zc = zc;
      have.auth = auth;
      have.serialMethod = zc.serialUpdateMethod ?? 'increment';
      if (have.fileHash.equals(hash)) return { zone: have.source, problems: [], kept: true };
      if (this.writtenByOwner(have, hash)) return { zone: have.source, problems: [], kept: true };
      if (have.pending > 0) {
        const why = `zone file ${zc.file} was changed on disk while ${have.pending} acknowledged update(s) exist only in the journal; ` +
          'refusing it (the running version keeps serving). Run `sovereign zone sync ' + name + '` and edit the written file, or remove ' +
          `${journalPathFor(zc.file)} to drop those updates`;
        logger.error({ zone: name, file: zc.file, pending: have.pending }, why);
        return { zone: undefined, problems: [why], kept: false };
      }
    }
    const r = loadZone(zc.file, origin, { checks: zc.checks });
    const problems = r.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}`);
    if (r.zone === undefined) return { zone: undefined, problems, kept: false };
    const fileZone = r.zone;
    const fileSerial = fileZone.serial ?? 0;
    const jpath = journalPathFor(zc.file);
    let opened;
    try {
      opened = Journal.open(jpath, logger, { readOnly: !(this.link?.writesAtLoad() ?? true) });
    } catch (err) {
      return { zone: undefined, problems: [...problems, `journal ${jpath}: ${(err as Error).message}`], kept: false };
    }
    const { journal: opened0, entries } = opened;
    // Cluster workers other than the first only read at load: one process writes a journal.
    const writes = this.link?.writesAtLoad() ?? true;
    const journal = opened0;
    const rewrite = (list: JournalEntry[]): void => {
      if (writes) journal.rewriteEntries(list);
    };
    const limit = zc.ixfrHistory ?? DEFAULT_HISTORY;
    const checkpoint = { kind: 'checkpoint', checkpoint: { serial: fileSerial, hash } } as const satisfies JournalEntry;
    if (have !== undefined) {
      // Edited by hand with nothing pending: the file is the new version, as a static reload.
      const d = zoneDifference(have.source, fileZone);
      const history = d !== undefined && d.fromSerial !== d.toSerial ? [...have.history, d].slice(-limit) : [];
      rewrite([...history.map((x) => ({ kind: 'difference', difference: x }) as const), checkpoint]);
      logger.warn({ zone: name, file: zc.file, serial: fileSerial }, 'zone file changed on disk with no updates pending; loaded it as the new version');
      if (have.journal !== journal) have.journal.close();
      this.zones.set(origin.key, { ...have, source: fileZone, head: fileZone, fileHash: hash, fileSerial, history, dirtySince: undefined, pending: 0, journal });
      return { zone: fileZone, problems, kept: false };
    }
    // Start: find the checkpoint of this very file; replay what follows it.
    let at = -1;
    let anyCheckpoint = false;
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.kind !== 'checkpoint') continue;
      anyCheckpoint = true;
      if (e.checkpoint.hash.equals(hash)) {
        at = i;
        break;
      }
    }
    const diffs = entries.filter((e): e is Extract<JournalEntry, { kind: 'difference' }> => e.kind === 'difference').map((e) => e.difference);
    let after: JournalDifference[];
    let history: JournalDifference[];
    if (at >= 0) {
      after = entries.slice(at + 1).flatMap((e) => (e.kind === 'difference' ? [e.difference] : []));
      history = diffs;
    } else if (anyCheckpoint) {
      let lastCp = entries.length - 1;
      while (lastCp >= 0 && entries[lastCp]!.kind !== 'checkpoint') lastCp--;
      const pending = entries.slice(lastCp + 1).filter((e) => e.kind === 'difference').length;
      if (pending > 0) {
        const why = `zone file ${zc.file} does not match the journal ${jpath} (edited by hand?) while ${pending} acknowledged update(s) exist only ` +
          'in the journal; refusing to load it. Restore the file Sovereign wrote, or remove the journal to drop those updates';
        logger.error({ zone: name, file: zc.file, journal: jpath, pending }, why);
        return { zone: undefined, problems: [...problems, why], kept: false };
      }
      logger.warn({ zone: name, file: zc.file }, 'zone file changed while the server was down, no updates pending; IXFR history starts again');
      after = [];
      history = [];
      rewrite([checkpoint]);
    } else {
      // A journal from before updates were on (IXFR history of reloads): the chain from the file's serial.
      const start = diffs.findIndex((d) => d.fromSerial === fileSerial);
      after = start < 0 ? [] : diffs.slice(start);
      history = diffs;
      rewrite([
        ...diffs.slice(0, start < 0 ? diffs.length : start).map((d) => ({ kind: 'difference', difference: d }) as const),
        checkpoint,
        ...after.map((d) => ({ kind: 'difference', difference: d }) as const),
      ]);
    }
    let source: Zone;
    try {
      source = applyDifferences(fileZone, after);
    } catch (err) {
      const why = `journal ${jpath} cannot be replayed onto ${zc.file}: ${(err as Error).message}; refusing to load the zone. Remove the journal to serve the file alone`;
      logger.error({ zone: name, journal: jpath }, why);
      return { zone: undefined, problems: [...problems, why], kept: false };
    }
    if (history.length > 0 && history.at(-1)!.toSerial !== source.serial) history = [];
    if (after.length > 0) logger.info({ zone: name, from: fileSerial, to: source.serial, updates: after.length }, 'journal replayed onto the zone file');
    this.zones.set(origin.key, {
      zc, origin, auth, serialMethod: zc.serialUpdateMethod ?? 'increment', journal, source, fileHash: hash, fileSerial,
      history: history.slice(-limit), dirtySince: after.length > 0 ? Date.now() : undefined, pending: after.length,
      head: source, flushing: undefined, queued: [],
    });
    return { zone: source, problems, kept: false };
  }

  /**
   * The UPDATE opcode (RFC 2136): the reply to send. Zone section first (§3.1: FORMERR, NOTAUTH),
   * then permission (allowUpdate: REFUSED before prerequisites, as BIND), then processUpdate.
   */
  handle(ctx: QueryContext): Message | Promise<Message> {
    const req = ctx.request;
    const max = this.host.maxUdpSize();
    const link = this.link;
    if (link !== undefined && !link.isOwner()) {
      // Another worker owns the journals: it applies the update and every worker serves the
      // new version before the RCODE comes back here (src/update/cluster-link.ts).
      return link.forward(req, ctx.tsig?.key.name.toString(), ctx.clientAddress, ctx.clientPort)
        .then((rcode) => replyTo(req, rcode, max), () => replyTo(req, Rcode.SERVFAIL, max));
    }
    const r = this.apply(req, ctx.tsig?.key.name.toString(), ctx.clientAddress, ctx.clientPort);
    return typeof r === 'number' ? replyTo(req, r, max) : r.then((rcode) => replyTo(req, rcode, max));
  }

  /**
   * Applies one UPDATE (in the process owning the journals): its RCODE, once the change is
   * durable and served (after every worker has it, in a cluster). `trusted`: the operator's own
   * change through the authenticated control endpoint (src/control/api/zones.ts): the zone's
   * allowUpdate/updatePolicy, which judge network clients, are not asked.
   */
  apply(req: Message, keyText: string | undefined, address: string, port: number, trusted = false): number | Promise<number> {
    if (req.question.length !== 1 || req.question[0]!.type !== RRType.SOA) return Rcode.FORMERR;
    const q = req.question[0]!;
    const dz = this.zones.get(q.name.key);
    if (dz === undefined) {
      // Ours but static: REFUSED (BIND: update-policy/allow-update absent); not ours: NOTAUTH.
      return this.host.catalog().get(q.name) !== undefined ? Rcode.REFUSED : Rcode.NOTAUTH;
    }
    if (q.class !== dz.source.class) return Rcode.NOTAUTH;
    const key = keyText === undefined ? undefined : keyText.toLowerCase().replace(/\.$/, '');
    const keyName = key === undefined ? undefined : Name.fromText(key + '.');
    const auth = dz.auth;
    const logger = this.host.logger;
    const who = { zone: dz.origin.toString(), client: `${address}#${port}`, key: key ?? null };
    if (!trusted && auth.kind === 'acl' && !auth.acl.allows(address, keyName)) {
      logger.info(who, 'update denied');
      return Rcode.REFUSED;
    }
    const r = processUpdate(req, dz.head, {
      allowed: trusted || auth.kind === 'acl' ? () => true : (rr) => auth.policy.allows(key, rr.name, rr.type),
      serialMethod: dz.serialMethod,
      now: this.host.now?.() ?? Math.floor(Date.now() / 1000),
    });
    if (r.rcode !== Rcode.NOERROR) {
      logger.info({ ...who, rcode: r.rcode, why: r.notes }, 'update failed');
      return r.rcode;
    }
    if (r.zone === undefined || r.difference === undefined) {
      if (r.notes.length > 0) logger.info({ ...who, ignored: r.notes }, 'update changed nothing');
      return Rcode.NOERROR;
    }
    try {
      dz.journal.write([{ kind: 'difference', difference: r.difference }]);
    } catch (err) {
      logger.error({ ...who, err }, 'update: journal write failed; update not applied');
      return Rcode.SERVFAIL;
    }
    if (dz.zc.journalFsync === false) {
      this.accepted(dz, { zone: r.zone, difference: r.difference, who, notes: r.notes, done: () => {} });
      return this.distributed(dz, r.difference, who);
    }
    // Durable before anything is served or acknowledged: the flush runs in the thread pool (the
    // event loop answers queries meanwhile); updates arriving during it are judged against this
    // version, written, and made durable together by the next flush, each acknowledged after it.
    dz.head = r.zone;
    const difference = r.difference;
    const notes = r.notes;
    const zone = r.zone;
    return new Promise<number>((done) => {
      dz.queued.push({ zone, difference, who, notes, done });
      if (dz.flushing === undefined) this.flush(dz);
    }).then((rcode) => (rcode === Rcode.NOERROR ? this.distributed(dz, difference, who) : rcode));
  }

  /** NOERROR once every cluster worker serves the new version (at once without a cluster link). */
  private distributed(dz: DynamicZone, d: JournalDifference, who: Record<string, unknown>): number | Promise<number> {
    if (this.link === undefined) return Rcode.NOERROR;
    return this.link.distribute(dz.origin, d).then(() => Rcode.NOERROR, (err: unknown) => {
      this.host.logger.error({ ...who, err }, 'update: not every worker confirmed the new version');
      return Rcode.NOERROR;
    });
  }

  /** A durable update: served, logged, acknowledged. */
  private accepted(dz: DynamicZone, w: Waiting): void {
    this.commit(dz, w.zone, w.difference);
    this.host.logger.info({ ...w.who, serial: w.zone.serial, removed: w.difference.removed.length - 1, added: w.difference.added.length - 1, ignored: w.notes },
      'update applied');
    w.done(Rcode.NOERROR);
  }

  /** Starts the flush of every queued update (one fdatasync for all of them). */
  private flush(dz: DynamicZone): void {
    const batch = dz.queued;
    dz.queued = [];
    dz.flushing = batch;
    dz.journal.syncAsync((err) => {
      // Settled meanwhile by flushNow (sync, reload): nothing left to do for this batch.
      if (dz.flushing !== batch) return;
      dz.flushing = undefined;
      if (err !== undefined) {
        this.abandon(dz, err);
        return;
      }
      for (const w of batch) this.accepted(dz, w);
      if (dz.queued.length > 0) this.flush(dz);
    });
  }

  /**
   * The flush failed: no update waiting for it (nor any queued behind, judged against them) is
   * durable. They are cut from the journal, answered SERVFAIL, and the zone stays as served.
   */
  private abandon(dz: DynamicZone, err: unknown): void {
    const lost = [...(dz.flushing ?? []), ...dz.queued];
    dz.flushing = undefined;
    dz.queued = [];
    dz.head = dz.source;
    dz.journal.discardUnsynced();
    this.host.logger.error({ zone: dz.origin.toString(), err, updates: lost.length }, 'update: journal flush failed; updates not applied');
    for (const w of lost) w.done(Rcode.SERVFAIL);
  }

  /**
   * Settles every update waiting for a flush now, on this thread (before the zone file is
   * written or the journal compacted, which must not lose or reorder them).
   */
  private flushNow(dz: DynamicZone): void {
    if (dz.flushing === undefined && dz.queued.length === 0) return;
    const all = [...(dz.flushing ?? []), ...dz.queued];
    dz.flushing = undefined;
    dz.queued = [];
    try {
      dz.journal.syncNow();
    } catch (err) {
      dz.flushing = all;
      this.abandon(dz, err);
      return;
    }
    for (const w of all) this.accepted(dz, w);
  }

  /**
   * In a cluster worker that does not own the journals: the zone file on disk is one the owning
   * worker wrote (its hash is a checkpoint in the journal) and this worker serves at least that
   * serial: then the running version stays, and the file is taken as known.
   */
  private writtenByOwner(dz: DynamicZone, hash: Buffer): boolean {
    if (this.link === undefined || this.link.isOwner()) return false;
    try {
      const buf = Journal.open(dz.journal.path, this.host.logger, { readOnly: true });
      let after = 0;
      for (let i = buf.entries.length - 1; i >= 0; i--) {
        const e = buf.entries[i]!;
        if (e.kind === 'difference') {
          after++;
          continue;
        }
        if (!e.checkpoint.hash.equals(hash)) continue;
        dz.fileHash = hash;
        dz.fileSerial = e.checkpoint.serial;
        dz.pending = after;
        return true;
      }
    } catch { /* unreadable: treated as not ours */ }
    return false;
  }

  /** Makes `zone` the served version of `dz` (after its difference is in the journal). */
  private commit(dz: DynamicZone, zone: Zone, d: JournalDifference): void {
    dz.source = zone;
    if (dz.flushing === undefined && dz.queued.length === 0) dz.head = zone;
    const limit = dz.zc.ixfrHistory ?? DEFAULT_HISTORY;
    dz.history.push(d);
    if (dz.history.length > limit * 2) dz.history = dz.history.slice(-limit);
    dz.pending++;
    dz.dirtySince ??= Date.now();
    this.host.publish(dz.zc, zone, d);
  }

  /**
   * Applies a difference another process already made durable (cluster workers that do not own
   * the journal); false when it does not follow the version served here.
   */
  applyRemote(origin: Name, d: JournalDifference): boolean {
    const dz = this.zones.get(origin.key);
    if (dz === undefined || dz.source.serial !== d.fromSerial) return false;
    const zone = applyDifferences(dz.source, [d]);
    dz.source = zone;
    dz.head = zone;
    dz.history.push(d);
    // Pending here too: a hand edit is refused by every worker alike (see writtenByOwner).
    dz.pending++;
    this.host.publish(dz.zc, zone, d);
    return true;
  }

  /**
   * Writes the zone file from memory (`sovereign zone sync`, rndc sync): temp file, fsync,
   * checkpoint in the journal, rename, then the journal compacted. Refuses when the file on disk
   * is not what we last read or wrote (edited by hand).
   */
  sync(origin: Name, force = false): SyncResult {
    const dz = this.zones.get(origin.key);
    const name = origin.toString();
    if (dz === undefined) return { zone: name, ok: false, error: 'not a zone that takes dynamic updates' };
    if (this.link !== undefined && !this.link.isOwner()) return { zone: name, ok: true, serial: dz.source.serial ?? 0, written: false };
    const logger = this.host.logger;
    this.flushNow(dz);
    if (dz.pending === 0 && !force) return { zone: name, ok: true, serial: dz.source.serial ?? 0, written: false };
    const file = dz.zc.file;
    try {
      const onDisk = existsSync(file) ? sha256(readFileSync(file)) : undefined;
      if (onDisk !== undefined && !onDisk.equals(dz.fileHash)) {
        const error = `zone file ${file} was changed on disk since Sovereign read or wrote it; not overwriting it (${dz.pending} update(s) are safe in the journal). ` +
          'Restore it, or reload after removing the journal to take the edited file';
        logger.error({ zone: name, file }, error);
        return { zone: name, ok: false, error };
      }
      const text = Buffer.from(zoneText(dz.source, 'written by sovereign from dynamic updates'), 'utf8');
      const hash = sha256(text);
      const tmp = `${file}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } catch (err) {
        closeSync(fd);
        try { unlinkSync(tmp); } catch { /* gone */ }
        throw err;
      }
      closeSync(fd);
      const serial = dz.source.serial ?? 0;
      const checkpoint = { kind: 'checkpoint', checkpoint: { serial, hash } } as const satisfies JournalEntry;
      dz.journal.appendEntries([checkpoint], true);
      renameSync(tmp, file);
      syncDir(file);
      // Compacted: the IXFR history (it ends at `serial`), then the checkpoint of the file.
      const limit = dz.zc.ixfrHistory ?? DEFAULT_HISTORY;
      dz.history = dz.history.slice(-limit);
      dz.journal.rewriteEntries([...dz.history.map((d) => ({ kind: 'difference', difference: d }) as const), checkpoint]);
      dz.fileHash = hash;
      dz.fileSerial = serial;
      dz.pending = 0;
      dz.dirtySince = undefined;
      logger.info({ zone: name, file, serial }, 'zone file written from memory; journal compacted');
      return { zone: name, ok: true, serial, written: true };
    } catch (err) {
      logger.error({ zone: name, file, err }, 'zone sync failed; the updates stay in the journal');
      return { zone: name, ok: false, error: (err as Error).message };
    }
  }

  /** Syncs every zone (or the one named) with pending updates. */
  syncAll(only?: Name): SyncResult[] {
    const out: SyncResult[] = [];
    for (const dz of this.zones.values()) if (only === undefined || only.equals(dz.origin)) out.push(this.sync(dz.origin));
    return out;
  }

  /** Writes zone files whose updates are older than their `syncInterval` (checked every few seconds). */
  startTimer(checkMs = 1000): void {
    this.stopTimer();
    this.timer = setInterval(() => {
      if (this.link !== undefined && !this.link.isOwner()) return;
      const now = Date.now();
      for (const dz of this.zones.values()) {
        if (dz.dirtySince !== undefined && now - dz.dirtySince >= (dz.zc.syncInterval ?? 900) * 1000) this.sync(dz.origin);
      }
    }, checkMs);
    this.timer.unref();
  }

  /** Closes the journals (server stop). */
  close(): void {
    for (const dz of this.zones.values()) {
      this.flushNow(dz);
      dz.journal.close();
    }
  }

  stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
