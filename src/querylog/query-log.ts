/**
 * The per-query log (BIND's querylog, Unbound's log-queries + log-replies): the engine calls
 * `record` once per answered query with the raw query and reply octets; they go to the ring
 * (ring.ts), which the control endpoint searches, and, in batches built after the current I/O
 * round (setImmediate), to JSON lines in a file and/or on standard output; and to dnstap
 * (dnstap.ts) when configured.
 *
 * Cost model: with the log off the engine holds no QueryLog and pays one `undefined` check per
 * query. With it on, `record` fills ring columns (no object, no string) and the JSON lines are
 * built once per batch from the ring; a batch the writer could not reach before the ring came
 * round again is counted in `lost`.
 */
import type { Logger } from '../logging.js';
import type { LocalAddress } from './local-address.js';
import { type DnstapOptions, DnstapWriter } from './dnstap.js';
import { type CompiledFilter, type QueryLogResult, entryAt, entryLine, lineMiddle, memoLine, searchRing } from './entry.js';
import { type LineSink, RotatingFileSink, StdoutSink } from './file-sink.js';
import { type LineMemo, QUERY_OCTETS, QueryRing } from './ring.js';

export interface QueryLogOptions {
  /** Entries the API can search (0: none). */
  ring: number;
  file?: string | undefined;
  stdout?: boolean | undefined;
  maxFileBytes?: number | undefined;
  maxFiles?: number | undefined;
  /** Record one query in `sample` (1: all); dnstap gets every query. */
  sample?: number | undefined;
  dnstap?: DnstapOptions | undefined;
  logger: Logger;
}

/** Ring entries kept for the file writer when the API keeps fewer (it needs room for one batch). */
const MIN_WRITER_RING = 4096;

/** The wire labels of the name at `at` (up to `end`), or undefined when cut short. */
function nameWire(buf: Uint8Array, at: number, end: number): Uint8Array | undefined {
  let p = at;
  while (p < end && buf[p] !== 0) p += buf[p]! + 1;
  return p < end ? buf.slice(at, p + 1) : undefined;
}

/** True when the name at `at` is spelled exactly as `name` (same octets, case included). */
function sameName(name: Uint8Array, buf: Uint8Array, at: number, len: number): boolean {
  if (name.length + 12 > len) return false;
  for (let k = 0; k < name.length; k++) if (buf[at + k] !== name[k]) return false;
  return true;
}

export class QueryLog {
  readonly ring: QueryRing;
  /** Newest entries the API may show (`ring` of the config). */
  readonly held: number;
  private readonly sinks: LineSink[] = [];
  private readonly sample: number;
  private sampleCount = 0;
  /** Sequence number up to which lines were written. */
  private written = 0;
  private scheduled = false;
  /** Entries the line writer never saw (the ring came round first). */
  lost = 0;
  readonly dnstap: DnstapWriter | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(opts: QueryLogOptions) {
    const o = opts;
    if (o.file !== undefined) this.sinks.push(new RotatingFileSink(o.file, o.maxFileBytes ?? 0, o.maxFiles ?? 5, o.logger));
    if (o.stdout === true) this.sinks.push(new StdoutSink());
    this.held = o.ring;
    this.ring = new QueryRing(this.sinks.length > 0 ? Math.max(o.ring, MIN_WRITER_RING) : o.ring);
    this.sample = Math.max(1, o.sample ?? 1);
    this.dnstap = o.dnstap === undefined ? undefined : new DnstapWriter(o.dnstap, o.logger);
  }

  /** True when entries go to the ring (and the files): some ring or sink is configured. */
  get keeps(): boolean {
    return this.held > 0 || this.sinks.length > 0;
  }

  /**
   * One answered query. `startedMs` is performance.now() when it arrived; `reply`/`replyLen` the
   * octets sent (replyLen < 0: nothing sent). Transport: 0 udp, 1 tcp, 2 tls, 3 https.
   */
  record(startedMs: number, transport: number, client: string, port: number, query: Uint8Array, queryLen: number,
    reply: Uint8Array, replyLen: number, handler: string | undefined, policy: string | undefined, cache: number,
    local?: LocalAddress, memo?: LineMemo): void {
    const endMs = performance.now();
    const d = this.dnstap;
    if (d !== undefined) d.clientMessage(startedMs, endMs, transport, client, port, query, queryLen, reply, replyLen, local);
    if (this.sample > 1 && ++this.sampleCount < this.sample) return;
    this.sampleCount = 0;
    if (!this.keeps) return;
    this.ring.record(performance.timeOrigin + startedMs, (endMs - startedMs) * 1000, transport, client, port,
      query, queryLen, reply, replyLen, handler, policy, cache, memo);
    if (this.sinks.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes the lines of the entries recorded since the last flush. */
  flush(): void {
    this.scheduled = false;
    const ring = this.ring;
    let s = this.written;
    if (s < ring.oldest) {
      this.lost += ring.oldest - s;
      s = ring.oldest;
    }
    const end = ring.seq;
    if (s >= end) return;
    let lines = '';
    for (; s < end; s++) {
      const i = ring.slot(s);
      const m = ring.memo[i];
      if (m !== undefined && m.name !== undefined && sameName(m.name, ring.query, i * QUERY_OCTETS + 12, ring.queryLen[i]!)) {
        lines += memoLine(ring, i, m.text);
        continue;
      }
      const e = entryAt(ring, i);
      if (m !== undefined) {
        m.text = lineMiddle(e);
        m.name = nameWire(ring.query, i * QUERY_OCTETS + 12, i * QUERY_OCTETS + ring.queryLen[i]!);
      }
      lines += entryLine(e);
    }
    this.written = end;
    for (const k of this.sinks) k.write(lines);
  }

  search(filter: CompiledFilter): QueryLogResult {
    return searchRing(this.ring, filter, this.held);
  }

  /** Counters for stats: lines lost or dropped, dnstap frames sent and dropped. */
  counters(): { recorded: number; lost: number; dropped: number; dnstapSent: number; dnstapDropped: number } {
    return {
      recorded: this.ring.seq, lost: this.lost, dropped: this.sinks.reduce((n, k) => n + k.dropped, 0),
      dnstapSent: this.dnstap?.sent ?? 0, dnstapDropped: this.dnstap?.dropped ?? 0,
    };
  }

  close(): void {
    this.flush();
    for (const k of this.sinks) k.close();
    this.dnstap?.close();
  }
}
