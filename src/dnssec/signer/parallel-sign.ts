/**
 * Signing a whole zone into master-file text on several threads (`sovereign dnssec sign -n`, as
 * dnssec-signzone -n does). The main thread walks the zone (zone-walk.ts, the same walk as
 * signZone) and packs runs of RRsets into batches (sign-batch.ts); worker threads
 * (sign-worker.ts) print and sign them; the texts are written in walk order as they come back.
 *
 * Invariants: the output is the zone signZone would write (same records, same order, same
 * expirations for the same random source; only the signature octets differ, ECDSA being
 * randomized); at most two batches per worker are in flight, so memory stays bounded whatever
 * the zone's size; a worker that fails rejects the whole run and every worker is stopped.
 */
import { Worker } from 'node:worker_threads';
import { DnssecError } from '../../errors.js';
import type { Zone } from '../../zone/zone.js';
import type { DnssecKey } from '../key-file.js';
import { BatchWriter, SIGNER_KSK, SIGNER_NONE, SIGNER_ZSK, writeSet } from './sign-batch.js';
import { type SignZoneOptions, prepareSigning } from './sign-zone.js';
import type { BatchRequest, BatchResult, WorkerKey, WorkerKeys } from './sign-worker.js';
import { walkZone } from './zone-walk.js';

/** RRsets per batch: large enough to amortize the message, small enough to keep workers even. */
const BATCH_SETS = 1024;
const IN_FLIGHT_PER_WORKER = 2;
/**
 * A worker's young generation (V8's default lets it grow to 3 x 16 MiB semi-spaces): a batch's
 * garbage is short-lived, so a small nursery costs little time and keeps each thread's peak
 * RSS some 30 MiB lower (measured at 100k records: 276 MiB peak with the default, 216 with 8).
 */
const WORKER_YOUNG_MB = 8;

export interface ParallelSignOptions extends SignZoneOptions {
  /** Worker threads (at least 1). */
  threads: number;
  /** Receives the signed zone's text, in order (each piece ends with a newline). */
  write: (text: string) => void;
}

function workerKey(k: DnssecKey): WorkerKey {
  return { owner: k.owner.wire, algorithm: k.algorithm, keyTag: k.keyTag, privateKey: k.privateKey };
}

/** Signs `zone` (see the module comment); resolves with the number of RRsets signed. */
export async function signZoneParallel(zone: Zone, opts: ParallelSignOptions): Promise<{ signed: number }> {
  const walk = prepareSigning(zone, opts);
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0;
  const keys: WorkerKeys = { inception: opts.inception >>> 0, ksks: walk.ksks.map(workerKey), zsks: walk.zsks.map(workerKey) };
  const threads = Math.max(1, Math.floor(opts.threads));
  const workers: Worker[] = [];
  const busy: number[] = [];
  const results = new Map<number, string>();
  let nextWrite = 0;
  let signed = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL('./sign-worker.js', import.meta.url), { workerData: keys, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    w.on('message', (res: BatchResult) => {
      busy[i]!--;
      signed += res.signed;
      results.set(res.id, res.text);
      notify();
    });
    w.on('error', (err) => {
      failure ??= new DnssecError('ERR_DNSSEC_SIGN', `signing thread failed: ${err.message}`, { cause: err });
      notify();
    });
    w.on('exit', (code) => {
      if (code !== 0) failure ??= new DnssecError('ERR_DNSSEC_SIGN', `signing thread exited with code ${code}`);
      notify();
    });
    workers.push(w);
    busy.push(0);
  }
  const flush = (): void => {
    for (let t = results.get(nextWrite); t !== undefined; t = results.get(nextWrite)) {
      results.delete(nextWrite++);
      opts.write(t);
    }
  };
  const waitForResult = (): Promise<void> => new Promise((resolve) => { wake = resolve; });
  let nextId = 0;
  const send = async (buf: ArrayBuffer): Promise<void> => {
    for (;;) {
      if (failure !== undefined) throw failure;
      let best = 0;
      for (let i = 1; i < threads; i++) if (busy[i]! < busy[best]!) best = i;
      if (busy[best]! < IN_FLIGHT_PER_WORKER) {
        busy[best]!++;
        const req: BatchRequest = { id: nextId++, buf };
        workers[best]!.postMessage(req, [buf]);
        return;
      }
      await waitForResult();
      flush();
    }
  };
  try {
    const batch = new BatchWriter();
    for (const owner of walkZone(zone, walk)) {
      for (const set of owner.sets) {
        const s = set.signers;
        const signer = s === undefined ? SIGNER_NONE : s === walk.ksks ? SIGNER_KSK : SIGNER_ZSK;
        // Drawn in walk order for each signed RRset, as signZone does.
        const expiration = signer === SIGNER_NONE ? 0 : jitter > 0 ? opts.expiration - Math.floor(random() * jitter) : opts.expiration;
        writeSet(batch, owner.name, set, signer, expiration);
      }
      if (batch.sets >= BATCH_SETS) await send(batch.take());
      flush();
    }
    if (batch.sets > 0) await send(batch.take());
    while (nextWrite < nextId) {
      if (failure !== undefined) throw failure;
      flush();
      if (nextWrite < nextId) await waitForResult();
    }
    return { signed };
  } finally {
    for (const w of workers) {
      w.removeAllListeners('exit');
      await w.terminate();
    }
  }
}
