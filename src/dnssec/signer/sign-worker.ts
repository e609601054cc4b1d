/**
 * A worker thread of the parallel signer (parallel-sign.ts): takes batches (sign-batch.ts),
 * prints each RRset in master-file form, signs it with the keys it was given and prints the
 * RRSIGs after it, and hands back the batch's text. node:crypto's sign() is synchronous, so the
 * zone's RRsets are spread over threads to use the machine's cores.
 *
 * Invariants: the keys come once, in workerData (KeyObjects cross threads by structured clone);
 * a batch's text is its RRsets in the order received; nothing outlives a batch.
 */
import type { KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Name } from '../../wire/name.js';
import { recordToString } from '../../wire/record.js';
import { type SigningKey, signRrset } from '../rrsig.js';
import { SIGNER_KSK, SIGNER_NONE, readBatch } from './sign-batch.js';

/** What the main thread gives each worker. */
export interface WorkerKeys {
  inception: number;
  ksks: WorkerKey[];
  zsks: WorkerKey[];
}

export interface WorkerKey {
  owner: Uint8Array;
  algorithm: number;
  keyTag: number;
  privateKey: KeyObject;
}

export interface BatchRequest {
  id: number;
  buf: ArrayBuffer;
}

export interface BatchResult {
  id: number;
  text: string;
  signed: number;
}

function keysOf(list: WorkerKey[]): SigningKey[] {
  return list.map((k) => ({ owner: new Name(k.owner), algorithm: k.algorithm, keyTag: k.keyTag, privateKey: k.privateKey }));
}

const data = workerData as WorkerKeys;
const inception = data.inception;
const ksks = keysOf(data.ksks);
const zsks = keysOf(data.zsks);
const port = parentPort!;

port.on('message', (req: BatchRequest) => {
  const lines: string[] = [];
  let signed = 0;
  for (const set of readBatch(new Uint8Array(req.buf))) {
    for (const rr of set.records) lines.push(recordToString(rr));
    if (set.signer === SIGNER_NONE) continue;
    for (const k of set.signer === SIGNER_KSK ? ksks : zsks) {
      lines.push(recordToString(signRrset(set.records, k, { inception, expiration: set.expiration })));
    }
    signed++;
  }
  lines.push('');
  const res: BatchResult = { id: req.id, text: lines.join('\n'), signed };
  port.postMessage(res);
});
