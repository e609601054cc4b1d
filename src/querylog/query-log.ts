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
import { type CompiledFilter, type QueryLogResult, searchRing } from './entry.js';
import { type LineSink, RotatingFileSink, StdoutSink } from './file-sink.js';
import { LineFormatter } from './line-format.js';
import { type LineMemo, QueryRing } from './ring.js';

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

/** The query log's counters (stats `queryLog`, /metrics `sovereign_querylog_*`). */
export interface QueryLogCounters {
  /** Entries recorded (in the ring; sampled queries only). */
  recorded: number;
  /** Lines handed to the file and/or stdout writers, and their octets. */
  written: number;
  bytes: number;
  /** Entries the line writer never saw (the ring came round first). */
  lost: number;
  /** Lines dropped because the file or stdout took them too slowly. */
  dropped: number;
  /** Size rotations of the file. */
  rotations: number;
  /** dnstap frames written, and dropped (no collector, or too many waiting). */
  dnstapSent: number;
  dnstapDropped: number;
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
  /** Lines handed to the files/stdout, and their octets (summed over sinks: each gets every line). */
  linesWritten = 0;
  bytesWritten = 0;
  readonly dnstap: DnstapWriter | undefined;
  private readonly lines = new LineFormatter();
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
    // One buffer of octets per batch, formatted from the ring's columns (line-format.ts).
    const f = this.lines;
    f.begin(end - s);
    const n = end - s;
    for (; s < end; s++) {
      const i = ring.slot(s);
      f.line(ring, i, ring.memo[i]);
    }
    this.written = end;
    const out = f.end();
    for (const k of this.sinks) {
      k.write(out);
      this.linesWritten += n;
      this.bytesWritten += out.length;
    }
  }

  search(filter: CompiledFilter): QueryLogResult {
    return searchRing(this.ring, filter, this.held);
  }

  /** Counters for stats and /metrics (see QueryLogCounters). */
  counters(): QueryLogCounters {
    let dropped = 0;
    let rotations = 0;
    for (const k of this.sinks) {
      dropped += k.dropped;
      rotations += k.rotations;
    }
    return {
      recorded: this.ring.seq, written: this.linesWritten, bytes: this.bytesWritten, lost: this.lost, dropped, rotations,
      dnstapSent: this.dnstap?.sent ?? 0, dnstapDropped: this.dnstap?.dropped ?? 0,
    };
  }

  close(): void {
    this.flush();
    for (const k of this.sinks) k.close();
    this.dnstap?.close();
  }
}
