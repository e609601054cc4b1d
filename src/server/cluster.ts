/**
 * One worker process per core (node:cluster). The primary only supervises: it forks workers,
 * forwards SIGHUP to them as a reload, restarts a worker that dies, and stops them all on
 * SIGINT/SIGTERM. Workers share the listening sockets (SCHED_NONE: the kernel spreads queries,
 * no round-trip through the primary).
 */
import cluster from 'node:cluster';
import type { Logger } from '../logging.js';

export interface ClusterOptions {
  workers: number;
  logger: Logger;
  /** Called in the primary once every worker reported ready. */
  onReady?: () => void;
}

/** Message a worker sends when it listens, and the primary sends to ask for a reload. */
export const READY = 'sovereign:ready';
export const RELOAD = 'sovereign:reload';

/** How long workers get to finish in-flight work after SIGTERM before they are killed. */
const STOP_DEADLINE_MS = 5000;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** Runs the supervising primary; resolves when it has been asked to stop and workers are gone. */
export function runPrimary(opts: ClusterOptions): Promise<void> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let ready = 0;
  const fork = (): void => {
    const w = cluster.fork();
    w.on('message', (m: unknown) => {
      if (m === READY && ++ready === opts.workers) opts.onReady?.();
    });
  };
  for (let i = 0; i < opts.workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    opts.logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(fork, 500);
  });
  process.on('SIGHUP', () => {
    opts.logger.info({ workers: opts.workers }, 'reloading');
    for (const w of Object.values(cluster.workers ?? {})) w?.send(RELOAD);
  });
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      opts.logger.info({ reason: signal }, 'stopping');
      const workers = Object.values(cluster.workers ?? {});
      let left = workers.length;
      if (left === 0) resolve();
      // Signal the process itself: Worker.kill() disconnects IPC first and waits for the worker's
      // shared handles to close, which never happens while its server holds them.
      const deadline = setTimeout(() => {
        for (const w of workers) if (w !== undefined && w.process.exitCode === null) w.process.kill('SIGKILL');
      }, STOP_DEADLINE_MS);
      for (const w of workers) {
        w?.once('exit', () => {
          if (--left === 0) {
            clearTimeout(deadline);
            resolve();
          }
        });
        w?.process.kill('SIGTERM');
      }
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
