import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatsSeries, foldPoints, pointBetween, quantileMs } from '../../../src/control/api/series.js';
import { mergeStats, type StatsSnapshot } from '../../../src/control/snapshot.js';
import { newLatencyBuckets } from '../../../src/histogram.js';

function snap(udp: number, noerror: number, nx: number, hits: number): StatsSnapshot {
  const s = mergeStats([]);
  s.processes = 1;
  s.queries = { udp, tcp: 0 };
  s.responses = udp;
  s.rcodes = { NOERROR: noerror, NXDOMAIN: nx };
  s.qtypes = { A: udp };
  s.cache.hits = hits;
  return s;
}

test('a point is the difference of two snapshots; counters going back count from zero', () => {
  const p = pointBetween(snap(100, 90, 10, 5), snap(160, 140, 20, 9), 10_000, 10);
  assert.deepEqual([p.queries, p.qps, p.rcodes, p.qtypes, p.cacheHits, p.latency], [60, 6, { NOERROR: 50, NXDOMAIN: 10 }, { A: 60 }, 4, null]);
  const restarted = pointBetween(snap(1000, 900, 100, 0), snap(30, 30, 0, 0), 20_000, 10);
  assert.equal(restarted.queries, 30);
  assert.deepEqual(restarted.rcodes, { NOERROR: 30 });
});

test('quantiles come from the latency histogram bucket bounds', () => {
  const b = newLatencyBuckets();
  b[0] = 50; // <= 0.5 ms
  b[4] = 45; // <= 10 ms
  b[8] = 5; // <= 250 ms
  assert.deepEqual([quantileMs(b, 0.5), quantileMs(b, 0.9), quantileMs(b, 0.99)], [0.5, 10, 250]);
});

test('minute points fold six 10 s points; the hour ring keeps the last 360', async () => {
  let q = 0;
  let t = 0;
  const s = new StatsSeries({ snapshot: async () => snap(q, q, 0, 0), now: () => t, stepMs: 10_000 });
  for (let i = 0; i < 400; i++) {
    q += 10 * (i + 1);
    t += 10_000;
    await s.sample();
  }
  const hour = s.points('hour');
  assert.equal(hour.points.length, 360);
  assert.equal(hour.stepSeconds, 10);
  assert.equal(hour.points[359]!.queries, 4000);
  const day = s.points('day');
  assert.equal(day.stepSeconds, 60);
  assert.equal(day.points.length, Math.floor(399 / 6));
  const f = foldPoints([pointBetween(snap(0, 0, 0, 0), snap(60, 60, 0, 0), 1, 10), pointBetween(snap(60, 60, 0, 0), snap(120, 120, 0, 0), 2, 10)]);
  assert.deepEqual([f.queries, f.seconds, f.qps, f.t], [120, 20, 6, 2]);
  assert.ok(!('buckets' in hour.points[0]!));
});
