// Small pieces the pages share: polling, an error line, a uPlot chart, number formatting.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';

/** Runs `f` now and every `ms` while the page is shown; `deps` restart it. */
export function usePoll(f: () => Promise<void> | void, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        await f();
      } finally {
        if (!stopped) timer = setTimeout(tick, ms);
      }
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, deps);
}

export function ErrorLine({ error }: { error: string }) {
  return error === '' ? null : <p class="error" role="alert">{error}</p>;
}

export const fmt = (n: number): string => n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(Math.round(n * 10) / 10);

/** A line chart: `data[0]` times (s), the rest one array per series. */
export function Chart({ title, data, series, id }: { title: string; data: (number | null)[][]; series: { label: string; stroke: string }[]; id: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    const w = el.current?.clientWidth ?? 600;
    setWidth(Math.max(300, w - 8));
  }, []);
  useEffect(() => {
    if (el.current === null) return;
    if (plot.current === null || plot.current.width !== width) {
      plot.current?.destroy();
      plot.current = new uPlot({
        width, height: 200, title,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false }))],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
      }, data as uPlot.AlignedData, el.current);
    } else {
      plot.current.setData(data as uPlot.AlignedData);
    }
  }, [data, width]);
  useEffect(() => () => plot.current?.destroy(), []);
  return <div class="card chart" id={id} ref={el} />;
}

export function KeyCounts({ title, counts, id }: { title: string; counts: Record<string, number>; id: string }) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = rows[0]?.[1] ?? 1;
  return (
    <div class="card" id={id}>
      <h3>{title}</h3>
      {rows.length === 0 ? <p class="muted">none yet</p> : (
        <table><tbody>
          {rows.map(([k, v]) => (
            <tr><td class="mono">{k}</td><td class="num bar-cell">{fmt(v)}<span class="fill" style={{ width: `${(v / max) * 100}%` }} /></td></tr>
          ))}
        </tbody></table>
      )}
    </div>
  );
}
