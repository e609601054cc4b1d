/**
 * Latency histograms as plain arrays, so they survive JSON and IPC and merge across cluster workers
 * by adding element-wise. Buckets are not cumulative here (`counts[i]` = observations in
 * (bound[i-1], bound[i]]; the last element is above the largest bound); /metrics makes them cumulative.
 */

/** Upper bounds in seconds (Prometheus `le`): 0.5 ms to 10 s covers loopback to a dying upstream. */
export const LATENCY_BOUNDS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A histogram with every bucket at zero. */
export function newLatencyBuckets(): number[] {
  return new Array<number>(LATENCY_BOUNDS_S.length + 1).fill(0);
}

/** Counts one observation of `ms` milliseconds (a scan of 14 bounds: no allocation). */
export function observeMs(counts: number[], ms: number): void {
  const s = ms / 1000;
  let i = 0;
  while (i < LATENCY_BOUNDS_S.length && s > LATENCY_BOUNDS_S[i]!) i++;
  counts[i] = (counts[i] ?? 0) + 1;
}

/**
 * Upper bounds in seconds for answer latency (the engine's time from a query's arrival to its
 * reply): 10 µs (an answer-cache hit) up to 10 s (a resolution that waited for a dying upstream).
 */
export const ANSWER_LATENCY_BOUNDS_S: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
