/**
 * One worker process per core (node:cluster). The primary only supervises: it forks workers,
 * forwards SIGHUP to them as a reload, restarts a worker that dies, and stops them all on
 * SIGINT/SIGTERM. Workers share the listening sockets (SCHED_NONE: the kernel spreads queries,
 * no round-trip through the primary).
 *
 * Start-up is all or nothing: a worker that cannot start (an address it cannot bind, anything
 * thrown before it is ready) tells the primary why and exits; the primary then stops every
 * worker and resolves with a failure, so the process exits non-zero with that one reason
 * instead of running as "active" while answering nothing. After start-up, a worker that dies
 * is replaced after a delay that doubles with each death in a row (capped), so a worker that
 * crashes at once does not spin.
 */
import cluster from 'node:cluster';
import type { Logger } from '../logging.js';
import { clusterSecret } from './cluster-secret.js';

export interface ClusterOptions {
  workers: number;
  logger: Logger;
  /** Called in the primary once every worker reported ready. */
  onReady?: () => void;
  /** First restart delay and its cap (ms); tests shorten them. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** How the primary ended: `error` is set when start-up failed (the process must exit non-zero). */
export interface PrimaryResult {
  error?: string;
}

/** Message a worker sends when it listens, and the primary sends to ask for a reload. */
export const READY = 'sovereign:ready';
export const RELOAD = 'sovereign:reload';
/** Message a worker sends when it cannot start: `{ type: FAILED, error }`. */
export const FAILED = 'sovereign:failed';

/**
 * Zone hand-over for a replacement worker: it asks (ZONE_REQUEST) for the text of a zone it
 * could not load; the primary asks a serving worker (ZONE_DUMP), which answers (ZONE_TEXT) with
 * the zone it serves, and relays that back. So a worker started after a reload that rejected a
 * zone serves the same version as its siblings instead of SERVFAIL.
 */
export const ZONE_REQUEST = 'sovereign:zone-request';
export const ZONE_DUMP = 'sovereign:zone-dump';
export const ZONE_TEXT = 'sovereign:zone-text';
/** Set in a replacement worker's environment. */
export const REPLACEMENT_ENV = 'SOVEREIGN_REPLACEMENT';

interface ZoneMessage {
  type: string;
  id: string;
  zone: string;
  text?: string | null;
}

function isZoneMessage(m: unknown, type: string): m is ZoneMessage {
  return typeof m === 'object' && m !== null && (m as ZoneMessage).type === type && typeof (m as ZoneMessage).id === 'string';
}

/** In a worker: answers the primary's ZONE_DUMP requests with `dump(zone)` (null when it has none). */
export function serveZoneDumps(dump: (zone: string) => string | null): void {
  process.on('message', (m: unknown) => {
    if (!isZoneMessage(m, ZONE_DUMP)) return;
    let text: string | null = null;
    try {
      text = dump(m.zone);
    } catch {
      text = null;
    }
    process.send?.({ type: ZONE_TEXT, id: m.id, zone: m.zone, text } satisfies ZoneMessage);
  });
}

/** In a replacement worker: the text of `zone` as a sibling serves it, or null (none has it, or no answer in time). */
export function requestZoneText(zone: string, timeoutMs = 10_000): Promise<string | null> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      resolve(null);
      return;
    }
    const id = `${process.pid}-${Math.floor(performance.now() * 1000)}-${zone}`;
    const onMessage = (m: unknown): void => {
      if (!isZoneMessage(m, ZONE_TEXT) || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(typeof m.text === 'string' ? m.text : null);
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      resolve(null);
    }, timeoutMs);
    process.on('message', onMessage);
    process.send({ type: ZONE_REQUEST, id, zone } satisfies ZoneMessage);
  });
}

/**
 * Secondary zones in a cluster: only the lead worker (id 1) transfers. It tells the others
 * (`loaded`: a new copy is in the zone's file; `expired`), and they pass on what reaches them
 * (`notify`, `check`, `retransfer`); the primary relays both ways.
 */
export const SECONDARY = 'sovereign:secondary';

export interface SecondaryEvent {
  zone: string;
  what: 'loaded' | 'expired' | 'notify' | 'check' | 'retransfer';
  serial?: number;
}

function isSecondaryEvent(m: unknown): m is SecondaryEvent & { type: string } {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === SECONDARY && typeof (m as SecondaryEvent).zone === 'string';
}

/** Set in the environment of a worker that replaces a dead transferring worker: it transfers now. */
export const TRANSFER_LEAD_ENV = 'SOVEREIGN_TRANSFER_LEAD';

/** This process runs the secondary zones' transfers and sends NOTIFY: not a worker, worker 1, or its replacement. */
export function isTransferLead(): boolean {
  return !cluster.isWorker || cluster.worker?.id === 1 || process.env[TRANSFER_LEAD_ENV] === '1';
}

/** In a worker: sends a secondary-zone event to the primary (which relays it). */
export function sendSecondaryEvent(e: SecondaryEvent): void {
  process.send?.({ type: SECONDARY, ...e });
}

/** In a worker: receives the secondary-zone events the primary relays. */
export function onSecondaryEvents(fn: (e: SecondaryEvent) => void): void {
  process.on('message', (m: unknown) => {
    if (isSecondaryEvent(m)) fn(m);
  });
}

/** The workers' V8 young-generation semi-space cap in MiB (see runPrimary). */
const WORKER_SEMI_SPACE_MB = 2;

/** How long workers get to finish in-flight work after SIGTERM before they are killed. */
const STOP_DEADLINE_MS = 5000;
/** A worker that lived this long before dying resets the restart back-off. */
const STABLE_MS = 60_000;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary that start-up failed and why (then the caller exits). */
export function reportWorkerFailure(error: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      resolve();
      return;
    }
    process.send({ type: FAILED, error }, undefined, {}, () => resolve());
  });
}

/** Runs the supervising primary; resolves when it has been asked to stop (or start-up failed) and workers are gone. */
export function runPrimary(opts: ClusterOptions): Promise<PrimaryResult> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Workers start with a small young generation (V8 grows it to 16 MiB per semi-space while
  // loading, and it stays resident): a few MiB per worker at idle (issue 17). An operator's own
  // --max-semi-space-size wins; SOVEREIGN_SEMI_SPACE_MB=0 leaves V8's default.
  const semi = Number(process.env.SOVEREIGN_SEMI_SPACE_MB ?? WORKER_SEMI_SPACE_MB);
  if (semi > 0 && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
    cluster.setupPrimary({ execArgv: [...process.execArgv, `--max-semi-space-size=${semi}`] });
  }
  clusterSecret(); // before the first fork: every worker inherits it (cookies, TLS tickets)
  const firstDelay = opts.restartDelayMs ?? 500;
  const maxDelay = opts.maxRestartDelayMs ?? 30_000;
  let stopping = false;
  let allReady = false;
  let ready = 0;
  let deathsInRow = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  /** The worker that transfers secondary zones (the first; then whoever replaces it). */
  let leadId = 1;
  let leadLost = false;
  const readyIds = new Set<number>();
  const startedAt = new Map<number, number>();
  let finish: (r: PrimaryResult) => void = () => {};
  const done = new Promise<PrimaryResult>((resolve) => { finish = resolve; });

  const stop = (result: PrimaryResult): void => {
    if (stopping) return;
    stopping = true;
    if (restartTimer !== undefined) clearTimeout(restartTimer);
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.process.exitCode === null && w.process.signalCode === null);
    let left = workers.length;
    if (left === 0) {
      finish(result);
      return;
    }
    // Signal the process itself: Worker.kill() disconnects IPC first and waits for the worker's
    // shared handles to close, which never happens while its server holds them.
    const deadline = setTimeout(() => {
      for (const w of workers) if (w !== undefined && w.process.exitCode === null) w.process.kill('SIGKILL');
    }, STOP_DEADLINE_MS);
    for (const w of workers) {
      w!.once('exit', () => {
        if (--left === 0) {
          clearTimeout(deadline);
          finish(result);
        }
      });
      w!.process.kill('SIGTERM');
    }
  };

  const fork = (): void => {
    restartTimer = undefined;
    if (stopping) return;
    const w = cluster.fork({ ...(allReady ? { [REPLACEMENT_ENV]: '1' } : {}), ...(leadLost ? { [TRANSFER_LEAD_ENV]: '1' } : {}) });
    if (leadLost) {
      leadId = w.id;
      leadLost = false;
    }
    startedAt.set(w.id, Date.now());
    w.on('message', (m: unknown) => {
      if (m === READY) {
        readyIds.add(w.id);
        if (!allReady && ++ready === opts.workers) {
          allReady = true;
          opts.onReady?.();
        }
        return;
      }
      if (isZoneMessage(m, ZONE_REQUEST)) {
        relayZoneRequest(w, m);
        return;
      }
      if (isSecondaryEvent(m)) {
        // New copies and expiry go from the lead to the others; NOTIFY and commands to the lead.
        const toAll = m.what === 'loaded' || m.what === 'expired';
        for (const x of Object.values(cluster.workers ?? {})) {
          if (x === undefined || x === w || !x.isConnected() || (!toAll && x.id !== leadId)) continue;
          x.send(m);
        }
        return;
      }
      const f = m as { type?: unknown; error?: unknown };
      if (typeof m === 'object' && m !== null && f.type === FAILED) {
        // One reason, once: every worker would report the same bind failure.
        const error = typeof f.error === 'string' ? f.error : 'a worker could not start';
        if (allReady) {
          // A replacement that cannot start: its exit is handled like a crash (with back-off).
          opts.logger.error({ worker: w.process.pid, error }, 'replacement worker could not start');
          return;
        }
        // The caller prints the reason once; here only the detail of which worker said it.
        opts.logger.debug({ worker: w.process.pid, error }, 'worker could not start; stopping');
        stop({ error });
      }
    });
  };

  /** Asks serving workers in turn for the zone's text until one has it; answers `from` with it (or null). */
  const relayZoneRequest = (from: NonNullable<typeof cluster.workers>[number] & object, req: ZoneMessage): void => {
    const others = Object.values(cluster.workers ?? {}).filter((x) => x !== undefined && x !== from && readyIds.has(x.id) && x.isConnected());
    opts.logger.debug({ zone: req.zone, from: from.process.pid, asking: others.map((x) => x!.process.pid) }, 'zone hand-over requested');
    const tryNext = (i: number): void => {
      const other = others[i];
      if (other === undefined) {
        if (from.isConnected()) from.send({ type: ZONE_TEXT, id: req.id, zone: req.zone, text: null } satisfies ZoneMessage);
        return;
      }
      const onMessage = (m: unknown): void => {
        if (!isZoneMessage(m, ZONE_TEXT) || m.id !== req.id) return;
        clearTimeout(timer);
        other.off('message', onMessage);
        if (typeof m.text === 'string') {
          if (from.isConnected()) from.send(m);
        } else {
          tryNext(i + 1);
        }
      };
      const timer = setTimeout(() => {
        other.off('message', onMessage);
        tryNext(i + 1);
      }, 5000);
      other.on('message', onMessage);
      other.send({ type: ZONE_DUMP, id: req.id, zone: req.zone } satisfies ZoneMessage);
    };
    tryNext(0);
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!allReady) {
      // Died before the server ever served: the same would happen to the next one.
      const error = `worker ${worker.process.pid ?? '?'} exited during start-up (${signal ?? `code ${code}`})`;
      opts.logger.error({ worker: worker.process.pid, code, signal }, 'worker died during start-up; stopping');
      stop({ error });
      return;
    }
    readyIds.delete(worker.id);
    if (worker.id === leadId) leadLost = true;
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    deathsInRow = lived >= STABLE_MS ? 0 : deathsInRow + 1;
    const delay = Math.min(maxDelay, firstDelay * 2 ** Math.max(0, deathsInRow - 1));
    opts.logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; starting another');
    // A replacement counts as ready only for itself: `ready` stays at opts.workers.
    restartTimer = setTimeout(fork, delay);
  });
  process.on('SIGHUP', () => {
    opts.logger.info({ workers: opts.workers }, 'reloading');
    for (const w of Object.values(cluster.workers ?? {})) w?.send(RELOAD);
  });
  const onSignal = (signal: string): void => {
    if (!stopping) opts.logger.info({ reason: signal }, 'stopping');
    stop({});
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  for (let i = 0; i < opts.workers; i++) fork();
  return done;
}
