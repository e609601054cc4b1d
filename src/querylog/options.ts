/**
 * The query log's options from the `queryLog:` config block. In a cluster every worker logs its
 * own queries: files (the JSON lines and a dnstap file) get the worker's id appended
 * (`query.log-w2`), so two processes never rotate or interleave one file; a dnstap socket
 * takes one connection per worker, as a collector expects.
 */
import cluster from 'node:cluster';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { QueryLogOptions } from './query-log.js';

/** `path` as this process writes it (see the module comment). */
export function perWorkerPath(path: string): string {
  return cluster.isWorker && cluster.worker !== undefined ? `${path}-w${cluster.worker.id}` : path;
}

export function queryLogOptions(q: Config['queryLog'], logger: Logger): QueryLogOptions {
  const d = q.dnstap;
  return {
    ring: q.ring, file: q.file === undefined ? undefined : perWorkerPath(q.file), stdout: q.stdout,
    maxFileBytes: q.maxFileBytes, maxFiles: q.maxFiles, sample: q.sample, logger,
    dnstap: d === undefined ? undefined : {
      socket: d.socket, file: d.file === undefined ? undefined : perWorkerPath(d.file),
      identity: d.identity, version: d.version, messages: d.messages, queueFrames: d.queueFrames,
    },
  };
}
