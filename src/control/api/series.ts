/**
 * Statistics as time series (`GET /v1/stats/series?window=hour|day`): the process holding the
 * control endpoint (the cluster primary, or the only process) takes a statistics snapshot every
 * `stepMs` (10 s) and keeps the differences: the last hour at 10 s resolution (360 points) and
 * the last day at 1 min (1440 points, each the sum of six 10 s points).
 *
 * Invariants: sampling costs one snapshot per step and nothing on the query path; rings are
 * bounded; counters that went backwards (a worker restarted) count from zero, never negative.
 */
import { ANSWER_LATENCY_BOUNDS_S, LATENCY_BOUNDS_S } from '../../histogram.js';
import type { StatsSnapshot } from '../snapshot.js';

/** One interval. Counts are queries in the interval; `qps` = queries / seconds. */
export interface SeriesPoint {
  /** End of the interval, ms since the epoch. */
  t: number;
  /** Length of the interval, seconds. */
  seconds: number;
  queries: number;
  qps: number;
  responses: number;
  rcodes: Record<string, number>;
  qtypes: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  /** Latency of answers that needed upstream work (recursion, forwarding), ms; null without any. */
  latency: { p50: number; p90: number; p99: number; count: number } | null;
  /**
   * Latency of every kind of answer (authoritative, cached, recursive), query in to reply out as
   * the engine measured it on a sample of the queries, ms; null without any (or from older code).
   */
  answerLatency: { p50: number; p90: number; p99: number; count: number } | null;
  /** Histogram counts behind `latency` and `answerLatency` (kept for merging into minute points; not sent). */
  buckets?: number[];
  answerBuckets?: number[];
}

export type SeriesWindow = 'hour' | 'day';

const HOUR_POINTS = 360;
const DAY_POINTS = 1440;
/** 10 s points folded into one day point. */
const PER_MINUTE = 6;

function sub(a: number, b: number): number {
  return a >= b ? a - b : a;
}

function subRecord(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) {
    const d = sub(v, before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

function addRecord(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Resolution times and forwarder RTTs, as one histogram (src/histogram.ts buckets). */
function latencyBuckets(s: StatsSnapshot): number[] {
  const out = new Array<number>(LATENCY_BOUNDS_S.length + 1).fill(0);
  const add = (b: readonly number[] | undefined): void => {
    if (b !== undefined) for (let i = 0; i < out.length; i++) out[i]! += b[i] ?? 0;
  };
  add(s.resolver?.resolutionBuckets);
  for (const r of s.forwarder.routes) for (const u of r.upstreams) add(u.rttBuckets);
  return out;
}

/** The `p` quantile of a histogram: the upper bound (ms) of the bucket holding it. */
export function quantileMs(buckets: readonly number[], p: number, bounds: readonly number[] = LATENCY_BOUNDS_S): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= p * total) return (bounds[i] ?? bounds[bounds.length - 1]! * 2) * 1000;
  }
  return 0;
}

function latencyOf(buckets: number[], bounds: readonly number[] = LATENCY_BOUNDS_S): SeriesPoint['latency'] {
  const count = buckets.reduce((a, b) => a + b, 0);
  if (count === 0) return null;
  return { p50: quantileMs(buckets, 0.5, bounds), p90: quantileMs(buckets, 0.9, bounds), p99: quantileMs(buckets, 0.99, bounds), count };
}

/** The engine's answer latency histogram of a snapshot (zeros from older code). */
function answerBucketsOf(s: StatsSnapshot): number[] {
  const out = new Array<number>(ANSWER_LATENCY_BOUNDS_S.length + 1).fill(0);
  const b = s.answerLatency?.buckets;
  if (b !== undefined) for (let i = 0; i < out.length; i++) out[i] = b[i] ?? 0;
  return out;
}

/** The interval between two snapshots. */
export function pointBetween(before: StatsSnapshot, now: StatsSnapshot, t: number, seconds: number): SeriesPoint {
  const queries = sub(now.queries.udp + now.queries.tcp, before.queries.udp + before.queries.tcp);
  const b0 = latencyBuckets(before);
  const buckets = latencyBuckets(now).map((v, i) => sub(v, b0[i]!));
  const a0 = answerBucketsOf(before);
  const answerBuckets = answerBucketsOf(now).map((v, i) => sub(v, a0[i]!));
  return {
    t, seconds, queries, qps: seconds > 0 ? Math.round((queries / seconds) * 10) / 10 : 0,
    responses: sub(now.responses, before.responses),
    rcodes: subRecord(now.rcodes, before.rcodes), qtypes: subRecord(now.qtypes, before.qtypes),
    cacheHits: sub(now.cache.hits, before.cache.hits), cacheMisses: sub(now.cache.misses, before.cache.misses),
    latency: latencyOf(buckets), buckets,
    answerLatency: latencyOf(answerBuckets, ANSWER_LATENCY_BOUNDS_S), answerBuckets,
  };
}

/** Sums consecutive points into one (the day ring's minutes). */
export function foldPoints(points: readonly SeriesPoint[]): SeriesPoint {
  const last = points[points.length - 1]!;
  const out: SeriesPoint = {
    t: last.t, seconds: 0, queries: 0, qps: 0, responses: 0, rcodes: {}, qtypes: {}, cacheHits: 0, cacheMisses: 0, latency: null,
    buckets: new Array<number>(LATENCY_BOUNDS_S.length + 1).fill(0), answerLatency: null,
    answerBuckets: new Array<number>(ANSWER_LATENCY_BOUNDS_S.length + 1).fill(0),
  };
  for (const p of points) {
    out.seconds += p.seconds;
    out.queries += p.queries;
    out.responses += p.responses;
    out.cacheHits += p.cacheHits;
    out.cacheMisses += p.cacheMisses;
    addRecord(out.rcodes, p.rcodes);
    addRecord(out.qtypes, p.qtypes);
    p.buckets?.forEach((v, i) => { out.buckets![i]! += v; });
    p.answerBuckets?.forEach((v, i) => { out.answerBuckets![i]! += v; });
  }
  out.qps = out.seconds > 0 ? Math.round((out.queries / out.seconds) * 10) / 10 : 0;
  out.latency = latencyOf(out.buckets!);
  out.answerLatency = latencyOf(out.answerBuckets!, ANSWER_LATENCY_BOUNDS_S);
  return out;
}

/** A bounded ring of points, oldest first when read. */
class Ring {
  private readonly items: SeriesPoint[] = [];
  constructor(private readonly size: number) {}
  push(p: SeriesPoint): void {
    this.items.push(p);
    if (this.items.length > this.size) this.items.shift();
  }
  list(): SeriesPoint[] {
    return this.items.slice();
  }
}

export interface SeriesOptions {
  /** Takes one statistics snapshot (the backend's `stats` operation). */
  snapshot: () => Promise<StatsSnapshot>;
  /** Resolution of the hour window, ms (default 10 000; tests shorten it). */
  stepMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export class StatsSeries {
  private readonly hour = new Ring(HOUR_POINTS);
  private readonly day = new Ring(DAY_POINTS);
  private pendingMinute: SeriesPoint[] = [];
  private last: { snap: StatsSnapshot; t: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  readonly stepMs: number;

  constructor(private readonly opts: SeriesOptions) {
    this.stepMs = opts.stepMs ?? 10_000;
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one snapshot and records the interval since the previous one. */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const snap = await this.opts.snapshot();
      const t = this.opts.now?.() ?? Date.now();
      if (this.last !== undefined) {
        const p = pointBetween(this.last.snap, snap, t, (t - this.last.t) / 1000);
        this.hour.push(p);
        this.pendingMinute.push(p);
        if (this.pendingMinute.length >= PER_MINUTE) {
          this.day.push(foldPoints(this.pendingMinute));
          this.pendingMinute = [];
        }
      }
      this.last = { snap, t };
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.busy = false;
    }
  }

  /** The window's points, oldest first, without the internal histograms. */
  points(window: SeriesWindow): { window: SeriesWindow; stepSeconds: number; points: SeriesPoint[] } {
    const list = window === 'hour' ? this.hour.list() : this.day.list();
    return {
      window, stepSeconds: (this.stepMs / 1000) * (window === 'hour' ? 1 : PER_MINUTE),
      points: list.map(({ buckets: _b, answerBuckets: _a, ...p }) => p),
    };
  }
}
