/**
 * What the control endpoint can do, independent of HTTP: print and flush the cache, reload,
 * and report statistics. `LocalBackend` acts on the DnsServer in this process;
 * `ClusterBackend` (in the cluster primary) sends each operation to every worker over IPC and
 * merges the answers, so `sovereign cache flush` empties every worker's cache and
 * `sovereign stats` shows the sum.
 *
 * Invariant: operations and results are plain data (they cross process boundaries); a bad
 * argument is a ControlError with HTTP status 400, never a crash.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { ControlError } from './control-error.js';
import { isTransferLead } from '../server/cluster.js';
import type { DnsServer } from '../server/server.js';
import type { DnssecZoneStatus } from '../server/zone-signing.js';
import type { SyncResult } from '../update/dynamic.js';
import { nonZero, rateLimitSnapshot } from '../server/stats.js';
import { rcodeToString } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { recordToString } from '../wire/record.js';
import { RRType, classToString, typeFromString, typeToString } from '../wire/types.js';
import { type ProcessMetrics, processMetrics, startProcessMetrics } from './metrics.js';
import { type HealthRow } from '../balance/health.js';
import { mergeHealthRows } from '../balance/balancer.js';
import { type CacheRow, type ReloadReport, type StatsSnapshot, mergeStats } from './snapshot.js';
import { type QueryLogQuery, compileQueryLogQuery, mergeQueryLogs } from '../querylog/search.js';
import type { QueryLogResult } from '../querylog/entry.js';
import { type TopSnapshot, mergeTop } from '../server/top-talkers.js';
import { redactConfig } from './api/config.js';
import { type TraceResult, traceName } from './api/trace.js';
import { type RecordEdit, type RecordEditResult, type RecordRow, type ZoneRow, editRecord, listZones, zoneRecords } from './api/zones.js';

export type ReloadWhat = 'all' | 'zones' | 'hosts';

export type ControlOp =
  | { op: 'cache'; name?: string | undefined; type?: string | undefined }
  | { op: 'flush'; name?: string | undefined; subtree?: boolean | undefined }
  | { op: 'reload'; what: ReloadWhat }
  | { op: 'stats' }
  | { op: 'nta'; action: 'add' | 'remove' | 'list'; name?: string | undefined; lifetimeSec?: number | undefined }
  | { op: 'ready' }
  | { op: 'dnssec'; action: 'status' | 'checkds'; zone: string; what?: 'published' | 'withdrawn' | undefined; tag?: number | undefined }
  | { op: 'zone'; action: ZoneAction; name: string }
  | { op: 'sync'; name?: string | undefined }
  | { op: 'metrics' }
  | { op: 'health-checks' }
  | ({ op: 'querylog' } & QueryLogQuery)
  | { op: 'top'; limit?: number | undefined }
  | { op: 'zones' }
  | { op: 'records'; zone: string; name?: string | undefined; type?: string | undefined }
  | { op: 'recordEdit'; edit: RecordEdit }
  | { op: 'config' }
  | { op: 'trace'; name: string; type?: string | undefined };

/** `sovereign zone refresh|retransfer|notify NAME` (rndc's refresh, retransfer, notify). */
export type ZoneAction = 'refresh' | 'retransfer' | 'notify';

/** What a zone command did: `queued` by the process that transfers / sends NOTIFY. */
export interface ZoneActionResult {
  zone: string;
  action: ZoneAction;
  queued: boolean;
  message: string;
}

/** What each operation answers. */
export interface ControlResults {
  cache: CacheRow[];
  flush: { removed: number };
  reload: ReloadReport;
  stats: StatsSnapshot;
  /** Readiness: listening on every configured address. */
  ready: { ready: boolean; reason?: string };
  nta: NtaResult;
  /** `sovereign dnssec status|checkds`: the zone's keys (after the change, with the tags changed). */
  dnssec: DnssecZoneStatus & { changed?: number[] };
  zone: ZoneActionResult;
  /** `sovereign zone sync`: the zone files written from memory + journal (rndc sync). */
  sync: { zones: SyncResult[]; ok: boolean };
  /** Process and Node.js metrics of every process serving (the primary's and each worker's), for /metrics. */
  metrics: ProcessMetrics[];
  /** `sovereign health`: each health-checked address of the load balancer (src/balance). */
  'health-checks': HealthRow[];
  /** `GET /v1/querylog`: matching query log entries, newest first, and how many matched in all. */
  querylog: QueryLogResult;
  /** Top query names and clients from a sample of the queries (src/server/top-talkers.ts). */
  top: TopSnapshot;
  /** Configured zones: kind, serial, records, transfer state (src/control/api/zones.ts). */
  zones: ZoneRow[];
  records: { zone: string; serial: number | null; records: RecordRow[]; truncated: boolean };
  /** A record added or deleted through the dynamic-update path. */
  recordEdit: RecordEditResult;
  /** The configuration in force, secrets redacted (src/control/api/config.ts). */
  config: unknown;
  /** The path from the root to the answer (src/control/api/trace.ts). */
  trace: TraceResult;
}

/** `sovereign nta`: the negative trust anchors after the change (RFC 7646). */
export interface NtaResult {
  changed: boolean;
  ntas: { name: string; expiresInSec: number }[];
}

export interface ControlBackend {
  run<O extends ControlOp>(op: O): Promise<ControlResults[O['op']]>;
}

export { ControlError, apiCodeForStatus } from './control-error.js';

function parseName(text: string): Name {
  try {
    return Name.fromText(text.endsWith('.') ? text : text + '.');
  } catch (err) {
    throw new ControlError(`bad name "${text}": ${(err as Error).message}`);
  }
}

function parseType(text: string): number {
  const t = typeFromString(text);
  if (t === undefined) throw new ControlError(`unknown type "${text}"`);
  return t;
}

/** Statistics of one DnsServer as a snapshot. */
export function serverSnapshot(server: DnsServer, startedAt: number): StatsSnapshot {
  const s = server.stats;
  const qtypes = nonZero(s.qtypes, typeToString);
  const rcodes = nonZero(s.rcodes, rcodeToString);
  const cache = server.cache;
  const fwd = server.forwarder;
  const hosts = server.hosts;
  const local = server.localData;
  const resolver = server.resolver;
  return {
    processes: 1,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    queries: { udp: s.udpQueries, tcp: s.tcpQueries },
    responses: s.responses, dropped: s.dropped, truncated: s.truncated, internalErrors: s.internalErrors,
    tcpConnections: s.tcpConnections, qtypes, rcodes,
    cache: { size: cache.size, ...cache.stats },
    forwarder: {
      cacheAnswers: fwd?.cacheAnswers ?? 0, upstreamAnswers: fwd?.upstreamAnswers ?? 0, failures: fwd?.failures ?? 0,
      routes: fwd?.snapshot() ?? [],
      ...(server.forwarderValidation !== undefined ? { validation: server.forwarderValidation.stats } : {}),
    },
    resolver: resolver === undefined ? null : { ...resolver.stats, stubZones: resolver.stubZoneSnapshot() },
    hosts: hosts === undefined ? null : { path: hosts.path, names: hosts.table.size, loads: hosts.loads },
    localData: local === undefined ? null : { records: local.recordCount },
    zones: server.zoneStatus(),
    ...(server.balancer !== undefined ? { balance: server.balancer.snapshot() } : {}),
    policy: server.policyStats.snapshot(),
    transfers: {
      tsigVerified: s.tsigVerified, tsigFailed: s.tsigFailed, xfrOut: s.xfrOut, xfrOutRefused: s.xfrOutRefused,
      xfrOutMessages: s.xfrOutMessages, xfrOutMs: s.xfrOutMs, notifySent: server.transfers.notifier.stats.sent,
      notifyAnswered: server.transfers.notifier.stats.answered, notifyFailed: server.transfers.notifier.stats.failed,
    },
    rateLimit: rateLimitSnapshot(s),
    ...(server.hasViews ? { views: { refused: s.viewRefused } } : {}),
    ...(server.hasDns64 ? { dns64: { ...server.dns64Stats } } : {}),
    ...(server.queryLog !== undefined ? { queryLog: server.queryLog.counters() } : {}),
    answerLatency: { buckets: Array.from(s.answerLatency), sumMs: s.answerLatencySumMs, count: s.answerLatencyCount },
  };
}

/**
 * A zone command in this process: refresh/retransfer queue the secondary zone's machine (the
 * transferring process only; others answer queued: false); notify sends NOTIFY for the zone's
 * current serial to its NS hosts and `notify:` targets (the lead process only).
 */
function zoneCommand(server: DnsServer, action: ZoneAction, text: string): ZoneActionResult {
  const name = parseName(text);
  const zone = name.toString();
  const zc = server.configuredZone(name);
  if (zc === undefined) throw new ControlError(`no zone "${text}" is configured`, 404);
  const lead = isTransferLead();
  if (action === 'notify') {
    const z = server.zones().find((x) => x.origin.equals(name));
    if (z === undefined) throw new ControlError(`zone ${zone} is not loaded: nothing to announce`, 400);
    if (!lead) return { zone, action, queued: false, message: 'sent by the lead worker' };
    server.transfers.announce(zc, z, true);
    return { zone, action, queued: true, message: `NOTIFY for serial ${z.serial} queued` };
  }
  const sz = server.secondaries.get(name);
  if (sz === undefined) throw new ControlError(`zone ${zone} is not a secondary zone (no primaries)`, 400);
  if (!sz.transfers) return { zone, action, queued: false, message: 'done by the transferring worker' };
  sz.request(action === 'retransfer' ? 'retransfer' : 'check');
  return { zone, action, queued: true, message: action === 'retransfer' ? 'zone retransfer queued (AXFR)' : 'zone refresh queued' };
}

/** Acts on the DnsServer of this process. */
export class LocalBackend implements ControlBackend {
  private readonly startedAt = Date.now();

  constructor(private readonly server: DnsServer) {}

  run<O extends ControlOp>(op: O): Promise<ControlResults[O['op']]> {
    return this.dispatch(op) as Promise<ControlResults[O['op']]>;
  }

  private async dispatch(op: ControlOp): Promise<ControlResults[ControlOp['op']]> {
    const server = this.server;
    switch (op.op) {
      case 'cache': {
        const name = op.name !== undefined && op.name !== '' ? parseName(op.name) : undefined;
        const type = op.type !== undefined && op.type !== '' ? parseType(op.type) : undefined;
        return server.cache.dump(name, type).map((e): CacheRow => ({
          name: e.name.toString(), type: e.kind === 'nxdomain' ? 'ANY' : typeToString(e.type), class: classToString(e.class),
          kind: e.kind, rank: e.rank, originalTtl: e.originalTtl, remainingTtl: e.remainingTtl, stale: e.stale,
          records: (e.kind === 'positive' ? e.records : e.soa).map((r) => recordToString(r)),
        }));
      }
      case 'flush': {
        const name = op.name !== undefined && op.name !== '' ? parseName(op.name) : undefined;
        // Denials synthesised from cached NSEC (RFC 8198) go with the cache they came from, and so
        // do key states and bogus verdicts (as `rndc flush` and `unbound-control flush_zone` drop the
        // key cache): a DS or DNSKEY changed at the source is seen by the next query.
        server.resolver?.validation?.reset();
        server.forwarderValidation?.reset();
        server.resolver?.forgetFailures(name, op.subtree === true);
        return { removed: server.cache.flush(name, { subtree: op.subtree === true }) };
      }
      case 'reload':
        return server.reloadParts(op.what);
      case 'stats':
        return serverSnapshot(server, this.startedAt);
      case 'nta': {
        const now = Math.floor(Date.now() / 1000);
        let changed = false;
        if (op.action !== 'list') {
          if (op.name === undefined || op.name === '') throw new ControlError('name= is required');
          const name = parseName(op.name);
          if (op.action === 'add') {
            const life = op.lifetimeSec ?? 3600;
            server.ntas.add(name, life > 0 ? now + life : 0);
            changed = true;
          } else changed = server.ntas.remove(name);
          // Validation verdicts below the name are stale now: forget them (and the data's status).
          server.resolver?.validation?.reset();
          server.forwarderValidation?.reset();
          server.cache.flush(name, { subtree: true });
        }
        return { changed, ntas: server.ntas.list(now) };
      }
      case 'ready':
        return server.addresses.length > 0 ? { ready: true } : { ready: false, reason: 'not listening yet' };
      case 'dnssec': {
        const origin = parseName(op.zone);
        let changed: number[] | undefined;
        if (op.action === 'checkds') {
          if (op.what !== 'published' && op.what !== 'withdrawn') throw new ControlError('what= must be published or withdrawn');
          if (server.signing.signerOf(origin) === undefined) throw new ControlError(`${origin.toString()} is not signed by this server`, 404);
          try {
            changed = server.signing.dsSeen(origin, op.what, op.tag, (z) => server.swapZone(z));
          } catch (err) {
            throw new ControlError((err as Error).message);
          }
        }
        const st = server.signing.status(origin);
        if (st === undefined) throw new ControlError(`${origin.toString()} is not signed by this server`, 404);
        return changed === undefined ? st : { ...st, changed };
      }
      case 'zone':
        return zoneCommand(server, op.action, op.name);
      case 'sync': {
        const name = op.name !== undefined && op.name !== '' ? parseName(op.name) : undefined;
        const zones = server.dynamic.syncAll(name);
        if (name !== undefined && zones.length === 0) throw new ControlError(`${name.toString()} is not a zone that takes dynamic updates`, 404);
        return { zones, ok: zones.every((z) => z.ok) };
      }
      case 'metrics':
        return [await processMetrics()];
      case 'health-checks':
        return server.balancer?.checker?.snapshot() ?? [];
      case 'querylog': {
        const f = compileQueryLogQuery(op, (m) => new ControlError(m));
        const log = server.queryLog;
        if (log === undefined) throw new ControlError('the query log is off (set queryLog.enabled: true and reload)', 409);
        return log.search(f);
      }
      case 'top':
        return server.stats.top.snapshot(op.limit ?? 20);
      case 'zones':
        return listZones(server);
      case 'records':
        return zoneRecords(server, op.zone, op.name, op.type);
      case 'recordEdit':
        return editRecord(server, op.edit);
      case 'config':
        return redactConfig(server.currentConfig);
      case 'trace': {
        if (!server.currentConfig.resolver.enabled) throw new ControlError('tracing needs the recursive resolver (resolver.enabled: true, with its root hints)', 409, 'ERR_NO_RESOLVER');
        const name = parseName(op.name);
        const type = op.type === undefined || op.type === '' ? RRType.A : parseType(op.type.toUpperCase());
        return traceName(name, type, { hints: server.rootHints() });
      }
      default:
        throw new ControlError(`unknown operation "${(op as { op: string }).op}"`);
    }
  }
}

/**
 * Each worker has its own cache, often holding the same data: rows equal but for their remaining
 * TTL become one row listing the workers (`workers`), with the longest remaining TTL.
 */
export function mergeCacheRows(perWorker: readonly (readonly CacheRow[])[], ids: readonly number[]): CacheRow[] {
  const merged = new Map<string, CacheRow>();
  perWorker.forEach((rows, i) => {
    for (const row of rows) {
      // Record text is "owner TTL class type data": the TTL column is left out of the key.
      const data = row.records.map((t) => t.split('\t').filter((_, j) => j !== 1).join('\t')).join('\n');
      const key = `${row.name}|${row.type}|${row.class}|${row.kind}|${row.stale}|${data}`;
      const have = merged.get(key);
      if (have === undefined) merged.set(key, { ...row, worker: ids[i]!, workers: [ids[i]!] });
      else {
        have.workers!.push(ids[i]!);
        if (row.remainingTtl > have.remainingTtl) have.remainingTtl = row.remainingTtl;
      }
    }
  });
  return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type) || (a.worker ?? 0) - (b.worker ?? 0));
}

/** IPC message names between the primary's ClusterBackend and the workers. */
const REQUEST = 'sovereign:control';
const REPLY = 'sovereign:control-reply';

interface IpcRequest {
  type: typeof REQUEST;
  id: string;
  op: ControlOp;
}

interface IpcReply {
  type: typeof REPLY;
  id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  status?: number;
  code?: string;
}

/** In a worker: answers the primary's control requests with this process's LocalBackend. */
export function serveWorkerControl(backend: LocalBackend): void {
  // Event-loop lag and GC figures cover the worker's whole run, not only from the first scrape.
  startProcessMetrics();
  process.on('message', (m: unknown) => {
    const req = m as IpcRequest;
    if (typeof m !== 'object' || m === null || req.type !== REQUEST) return;
    backend.run(req.op).then(
      (result) => process.send?.({ type: REPLY, id: req.id, ok: true, result } satisfies IpcReply),
      (err: unknown) => process.send?.({
        type: REPLY, id: req.id, ok: false, error: (err as Error).message,
        status: err instanceof ControlError ? err.status : 500,
        ...(err instanceof ControlError ? { code: err.apiCode } : {}),
      } satisfies IpcReply),
    );
  });
}

/** In the primary: fans each operation out to every worker and merges the answers. */
export class ClusterBackend implements ControlBackend {
  constructor(private readonly timeoutMs = 5000) {}

  run<O extends ControlOp>(op: O): Promise<ControlResults[O['op']]> {
    return this.dispatch(op) as Promise<ControlResults[O['op']]>;
  }

  private async dispatch(op: ControlOp): Promise<ControlResults[ControlOp['op']]> {
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected());
    if (workers.length === 0) {
      if (op.op === 'ready') return { ready: false, reason: 'no worker is running' };
      throw new ControlError('no worker is running', 503);
    }
    // Read-only views every worker holds alike (and a trace, which sends queries): one worker answers.
    if (op.op === 'records' || op.op === 'config' || op.op === 'trace') return this.ask(workers[0]!, op) as Promise<ControlResults[ControlOp['op']]>;
    const results = await Promise.all(workers.map((w) => this.ask(w!, op)));
    switch (op.op) {
      case 'cache':
        return mergeCacheRows(results as CacheRow[][], workers.map((w) => w!.id));
      case 'ready': {
        const notReady = (results as { ready: boolean; reason?: string }[]).findIndex((r) => !r.ready);
        return notReady < 0 ? { ready: true } : { ready: false, reason: `worker ${workers[notReady]!.id}: ${(results[notReady] as { reason?: string }).reason ?? 'not ready'}` };
      }
      case 'flush':
        return { removed: results.reduce((n: number, r) => n + (r as { removed: number }).removed, 0) };
      case 'reload': {
        // Every worker loads the same files: report the first, but fail if any failed.
        const reports = results as ReloadReport[];
        const bad = reports.find((r) => !r.ok);
        return bad ?? reports[0];
      }
      case 'stats':
        return mergeStats(results as StatsSnapshot[]);
      case 'nta': {
        const rs = results as NtaResult[];
        return { changed: rs.some((r) => r.changed), ntas: rs[0]!.ntas };
      }
      case 'dnssec':
        // The workers share the key directory: after a checkds each re-read it, so the first's view is everyone's.
        return results[0] as ControlResults['dnssec'];
      case 'zone': {
        // Only the lead worker transfers and sends NOTIFY: its answer is the one.
        const rs = results as ZoneActionResult[];
        return rs.find((r) => r.queued) ?? rs[0]!;
      }
      case 'sync': {
        // Only the worker owning the journals writes: per zone, its answer (written or failed) wins.
        const byZone = new Map<string, SyncResult>();
        for (const r of results as { zones: SyncResult[] }[]) {
          for (const z of r.zones) {
            const have = byZone.get(z.zone);
            if (have === undefined || z.written === true || !z.ok) byZone.set(z.zone, z);
          }
        }
        const zones = [...byZone.values()];
        return { zones, ok: zones.every((z) => z.ok) };
      }
      case 'top':
        return mergeTop(results as TopSnapshot[], op.limit ?? 20);
      case 'zones': {
        // Every worker serves the same zones; the secondary's state is the transferring worker's.
        const lists = results as ZoneRow[][];
        return lists[0]!.map((z) => {
          for (const l of lists) {
            const w = l.find((x) => x.name === z.name);
            if (w?.transfer !== null && w?.transfer !== undefined && w.transfer.lastRefresh !== null) return { ...z, transfer: w.transfer };
          }
          return z;
        });
      }
      case 'recordEdit': {
        // Only the worker owning the journals applies it (then every worker serves the new version).
        const rs = results as RecordEditResult[];
        return rs.find((r) => r.applied) ?? rs[0]!;
      }
      case 'metrics':
        // The primary's own (it holds the control endpoint and the workers' sockets) and each worker's.
        return [await processMetrics(), ...(results as ProcessMetrics[][]).flat()];
      case 'health-checks':
        // Each worker checks on its own (src/balance/health.ts): up only where every worker sees it up.
        return mergeHealthRows(results as HealthRow[][]);
      case 'querylog':
        // Each worker keeps its own ring: newest first across all of them, up to the limit.
        return mergeQueryLogs(results as QueryLogResult[], compileQueryLogQuery(op, (m) => new ControlError(m)).limit);
      default:
        throw new ControlError(`unknown operation "${(op as { op: string }).op}"`);
    }
  }

  private ask(worker: NonNullable<typeof cluster.workers>[number] & object, op: ControlOp): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off('message', onMessage);
        reject(new ControlError(`worker ${worker.id} did not answer within ${this.timeoutMs} ms`, 504));
      }, this.timeoutMs);
      const onMessage = (m: unknown): void => {
        const r = m as IpcReply;
        if (typeof m !== 'object' || m === null || r.type !== REPLY || r.id !== id) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        if (r.ok) resolve(r.result);
        else reject(new ControlError(r.error ?? 'worker failed', r.status ?? 500, r.code));
      };
      worker.on('message', onMessage);
      worker.send({ type: REQUEST, id, op } satisfies IpcRequest);
    });
  }
}
