/**
 * Dynamic update with several workers (node:cluster): one worker, the owner, applies updates and
 * writes journals and zone files; the others forward each UPDATE to it through the primary and
 * take every new version it makes. The owner is the first worker; when it dies the primary names
 * the live worker with the lowest id (it holds every version: each was delivered to it before the
 * update was acknowledged).
 *
 * Order of one update: worker W gets it (TSIG verified there) -> primary -> owner: prerequisites,
 * journal append + fsync, serves it -> primary sends the difference to every other worker, each
 * applies it and acknowledges -> primary tells the owner -> owner's RCODE -> primary -> W, which
 * signs and sends the reply. So NOERROR leaves only once every worker serves the new version.
 *
 * Invariants: messages are plain data (base64 wire bytes); a worker that does not acknowledge
 * within DISTRIBUTE_TIMEOUT_MS is logged, not waited for forever (it may be dying).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logging.js';
import { decodeDifferenceRecord, encodeDifference, type JournalDifference } from '../journal/journal.js';
import { Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { DynamicZones, UpdateLink } from './dynamic.js';

const FORWARD = 'sovereign:update-forward';
const RESULT = 'sovereign:update-result';
const DIFF = 'sovereign:update-diff';
const APPLIED = 'sovereign:update-applied';
const DISTRIBUTED = 'sovereign:update-distributed';
const OWNER = 'sovereign:update-owner';

const FORWARD_TIMEOUT_MS = 15_000;
const DISTRIBUTE_TIMEOUT_MS = 5_000;

interface Msg {
  type: string;
  id?: string;
  bytes?: string;
  key?: string | null;
  address?: string;
  port?: number;
  rcode?: number;
  zone?: string;
  diff?: string;
  ok?: boolean;
  owner?: boolean;
}

function isMsg(m: unknown): m is Msg {
  return typeof m === 'object' && m !== null && typeof (m as Msg).type === 'string' && (m as Msg).type.startsWith('sovereign:update-');
}

let seq = 0;
function newId(): string {
  return `${process.pid}-${++seq}`;
}

/** In a worker: the link to the owner (installed on the worker's DynamicZones). */
export function workerLink(dynamic: DynamicZones, logger: Logger): UpdateLink {
  // Worker ids are never reused: id 1 is the first worker of the first start, never a replacement.
  let owner = cluster.worker?.id === 1;
  const waiting = new Map<string, { resolve: (v: number) => void; timer: NodeJS.Timeout }>();
  const distributing = new Map<string, { resolve: () => void; timer: NodeJS.Timeout }>();
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    switch (m.type) {
      case OWNER:
        owner = m.owner === true;
        logger.info({ owner }, owner ? 'this worker now applies dynamic updates' : 'another worker applies dynamic updates');
        return;
      case FORWARD: {
        // We are the owner: apply and answer with the RCODE.
        let rcode: number | Promise<number>;
        try {
          const req = Message.decode(Buffer.from(m.bytes ?? '', 'base64'));
          rcode = dynamic.apply(req, m.key ?? undefined, m.address ?? '', m.port ?? 0);
        } catch (err) {
          logger.error({ err }, 'forwarded update failed');
          rcode = Rcode.SERVFAIL;
        }
        void Promise.resolve(rcode).then((r) => process.send?.({ type: RESULT, id: m.id, rcode: r } satisfies Msg));
        return;
      }
      case RESULT: {
        const w = waiting.get(m.id ?? '');
        if (w === undefined) return;
        waiting.delete(m.id!);
        clearTimeout(w.timer);
        w.resolve(m.rcode ?? Rcode.SERVFAIL);
        return;
      }
      case DIFF: {
        let ok = false;
        try {
          ok = dynamic.applyRemote(Name.fromText(m.zone ?? '.'), decodeDifferenceRecord(Buffer.from(m.diff ?? '', 'base64')));
        } catch (err) {
          logger.error({ err, zone: m.zone }, 'could not apply a dynamic update from the owning worker');
        }
        if (!ok) logger.error({ zone: m.zone }, 'dynamic update from the owning worker does not follow the version served here; reload to catch up');
        process.send?.({ type: APPLIED, id: m.id, ok } satisfies Msg);
        return;
      }
      case DISTRIBUTED: {
        const d = distributing.get(m.id ?? '');
        if (d === undefined) return;
        distributing.delete(m.id!);
        clearTimeout(d.timer);
        d.resolve();
        return;
      }
    }
  });
  return {
    isOwner: () => owner,
    writesAtLoad: () => owner,
    forward(req, keyName, address, port) {
      return new Promise((resolve) => {
        const id = newId();
        const timer = setTimeout(() => {
          waiting.delete(id);
          logger.error({ id }, 'forwarded update: no answer from the owning worker');
          resolve(Rcode.SERVFAIL);
        }, FORWARD_TIMEOUT_MS);
        waiting.set(id, { resolve, timer });
        process.send?.({ type: FORWARD, id, bytes: Buffer.from(req.encode()).toString('base64'), key: keyName ?? null, address, port } satisfies Msg);
      });
    },
    distribute(origin: Name, d: JournalDifference) {
      return new Promise((resolve) => {
        const id = newId();
        const timer = setTimeout(() => {
          distributing.delete(id);
          resolve();
        }, DISTRIBUTE_TIMEOUT_MS * 2);
        distributing.set(id, { resolve, timer });
        process.send?.({ type: DIFF, id, zone: origin.toString(), diff: encodeDifference(d).toString('base64') } satisfies Msg);
      });
    },
  };
}

/** In the primary: relays forwarded updates to the owner and new versions to every worker. */
export function relayUpdates(logger: Logger): void {
  let ownerId: number | undefined;
  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
  const owner = (): Worker | undefined => {
    const ws = live().sort((a, b) => a.id - b.id);
    const current = ws.find((w) => w.id === ownerId);
    if (current !== undefined) return current;
    const next = ws[0];
    if (next === undefined) return undefined;
    const first = ownerId === undefined;
    ownerId = next.id;
    // Worker 1 knows it owns from the start; a later owner is told.
    if (!first || next.id !== 1) next.send({ type: OWNER, owner: true } satisfies Msg);
    return next;
  };
  /** Forwarded requests waiting for the owner's RCODE: id -> asking worker. */
  const asked = new Map<string, Worker>();
  cluster.on('exit', (w) => {
    if (w.id === ownerId) {
      ownerId = undefined;
      // Name the next one now, so it owns the journals before the next update.
      if (live().length > 0) owner();
    }
  });
  cluster.on('message', (w: Worker, m: unknown) => {
    if (!isMsg(m)) return;
    if (m.type === FORWARD) {
      const o = owner();
      if (o === undefined || o === w) {
        w.send({ type: RESULT, id: m.id, rcode: Rcode.SERVFAIL } satisfies Msg);
        return;
      }
      asked.set(m.id!, w);
      o.send(m);
    } else if (m.type === RESULT) {
      const from = asked.get(m.id!);
      asked.delete(m.id!);
      if (from?.isConnected() === true) from.send(m);
    } else if (m.type === DIFF) {
      const others = live().filter((x) => x !== w);
      let left = others.length;
      const done = (): void => {
        if (w.isConnected()) w.send({ type: DISTRIBUTED, id: m.id } satisfies Msg);
      };
      if (left === 0) {
        done();
        return;
      }
      const timer = setTimeout(() => {
        logger.error({ zone: m.zone, missing: left }, 'dynamic update: workers did not confirm the new version in time');
        left = -1;
        done();
      }, DISTRIBUTE_TIMEOUT_MS);
      const onApplied = (x: Worker, a: unknown): void => {
        if (!isMsg(a) || a.type !== APPLIED || a.id !== m.id || !others.includes(x)) return;
        if (--left === 0) {
          clearTimeout(timer);
          cluster.off('message', onApplied);
          done();
        }
      };
      cluster.on('message', onApplied);
      setTimeout(() => cluster.off('message', onApplied), DISTRIBUTE_TIMEOUT_MS + 1000).unref();
      for (const x of others) x.send(m);
    }
  });
}
