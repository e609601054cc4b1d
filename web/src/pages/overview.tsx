// Overview: live QPS and latency (from /v1/stats/series, polled every 2 s), answers by RCODE and
// by type in the last hour, the cache hit rate, and the top names and clients (/v1/top).
import { useState } from 'preact/hooks';
import { type Series, type Stats, type Top, api } from '../api.js';
import { Chart, ErrorLine, KeyCounts, fmt, usePoll } from '../util.js';

function sumRecords(pts: Series['points'], pick: (p: Series['points'][number]) => Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pts) for (const [k, v] of Object.entries(pick(p))) out[k] = (out[k] ?? 0) + v;
  return out;
}

export function Overview() {
  const [series, setSeries] = useState<Series | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [top, setTop] = useState<Top | null>(null);
  const [win, setWin] = useState<'hour' | 'day'>('hour');
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      const [s, st, t] = await Promise.all([
        api<Series>('GET', `/v1/stats/series?window=${win}`), api<Stats>('GET', '/v1/stats'), api<Top>('GET', '/v1/top?limit=10'),
      ]);
      setSeries(s);
      setStats(st);
      setTop(t);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 2000, [win]);
  const pts = series?.points ?? [];
  const last = pts[pts.length - 1];
  const windowQueries = pts.reduce((a, p) => a + p.queries, 0);
  const hits = pts.reduce((a, p) => a + p.cacheHits, 0);
  const misses = pts.reduce((a, p) => a + p.cacheMisses, 0);
  const totalHits = stats === null ? 0 : stats.cache.hits;
  const totalLookups = stats === null ? 0 : stats.cache.hits + stats.cache.misses;
  const hitRate = hits + misses > 0 ? hits / (hits + misses) : totalLookups > 0 ? totalHits / totalLookups : null;
  const times = pts.map((p) => p.t / 1000);
  return (
    <section>
      <h2>Overview</h2>
      <ErrorLine error={error} />
      <div class="tiles">
        <div class="tile"><div class="v" id="qps">{last === undefined ? '–' : fmt(last.qps)}</div><div class="k">queries/s (last {series?.stepSeconds ?? 10} s)</div></div>
        <div class="tile"><div class="v" id="window-queries">{fmt(windowQueries)}</div><div class="k">queries in the last {win}</div></div>
        <div class="tile"><div class="v" id="total-queries">{stats === null ? '–' : fmt(stats.queries.udp + stats.queries.tcp)}</div><div class="k">queries since start</div></div>
        <div class="tile"><div class="v" id="hit-rate">{hitRate === null ? '–' : `${Math.round(hitRate * 1000) / 10}%`}</div><div class="k">cache hit rate</div></div>
        <div class="tile"><div class="v">{stats === null ? '–' : fmt(stats.cache.size)}</div><div class="k">cache entries</div></div>
        <div class="tile"><div class="v">{stats === null ? '–' : `${Math.floor(stats.uptimeSeconds / 3600)}h ${Math.floor(stats.uptimeSeconds / 60) % 60}m`}</div><div class="k">uptime</div></div>
        <div class="tile"><label class="k">window <select id="window" value={win} onChange={(e) => setWin((e.target as HTMLSelectElement).value as 'hour' | 'day')}>
          <option value="hour">last hour (10 s)</option><option value="day">last day (1 min)</option></select></label></div>
      </div>
      <div class="grid">
        <Chart id="chart-qps" title="Queries per second" data={[times, pts.map((p) => p.qps)]} series={[{ label: 'QPS', stroke: '#2f6fdb' }]} />
        <Chart id="chart-latency" title="Answer latency (query in to reply out, sampled), ms" data={[times, pts.map((p) => p.answerLatency?.p50 ?? null), pts.map((p) => p.answerLatency?.p90 ?? null), pts.map((p) => p.answerLatency?.p99 ?? null), pts.map((p) => p.latency?.p90 ?? null)]}
          series={[{ label: 'p50', stroke: '#1f8a4c' }, { label: 'p90', stroke: '#d68a00' }, { label: 'p99', stroke: '#c4312b' }, { label: 'upstream p90', stroke: '#7a4bc4' }]} />
      </div>
      <div class="grid">
        <KeyCounts id="rcodes" title={`Answers by RCODE (last ${win})`} counts={sumRecords(pts, (p) => p.rcodes)} />
        <KeyCounts id="qtypes" title={`Queries by type (last ${win})`} counts={sumRecords(pts, (p) => p.qtypes)} />
        <KeyCounts id="top-names" title={`Top names (1 in ${top?.every ?? 16} sampled)`} counts={Object.fromEntries((top?.names ?? []).map((r) => [r.key, r.count]))} />
        <KeyCounts id="top-clients" title="Top clients" counts={Object.fromEntries((top?.clients ?? []).map((r) => [r.key, r.count]))} />
      </div>
    </section>
  );
}
