// Trace: the path from the root to the answer for one name (GET /v1/trace), drawn as a picture:
// one box per hop (zone asked, server, round trip), arrows labelled with each referral, and the
// answer (or NXDOMAIN, NODATA, error) at the end.
import { useState } from 'preact/hooks';
import { type Trace, type TraceHop, api, q } from '../api.js';
import { ErrorLine } from '../util.js';

const BOX_W = 560;
const BOX_H = 66;
const GAP = 46;
const X = 30;

function color(kind: string): string {
  switch (kind) {
    case 'referral': return '#e8effc';
    case 'answer': case 'cname': return '#e3f4ea';
    case 'nodata': return '#fff6df';
    default: return '#fbe6e5';
  }
}

function label(h: TraceHop): string {
  switch (h.kind) {
    case 'referral': return `referral to ${h.referral ?? ''}`;
    case 'answer': return `answer${h.aa ? ' (authoritative)' : ''}: ${h.records.length} record${h.records.length === 1 ? '' : 's'}`;
    case 'cname': return 'CNAME (the trace stops at an alias)';
    case 'nxdomain': return 'NXDOMAIN: no such name';
    case 'nodata': return 'NODATA: the name has no records of this type';
    case 'timeout': return 'no answer';
    default: return `error ${h.rcode}`;
  }
}

export function TraceDrawing({ trace }: { trace: Trace }) {
  const hops = trace.hops;
  const height = hops.length * (BOX_H + GAP) + 10;
  return (
    <svg class="trace" id="trace-svg" width={BOX_W + 2 * X + 200} height={height} viewBox={`0 0 ${BOX_W + 2 * X + 200} ${height}`} role="img"
      aria-label={`Resolution path of ${trace.name} ${trace.type}`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#667085" />
        </marker>
      </defs>
      {hops.map((h, i) => {
        const y = 5 + i * (BOX_H + GAP);
        return (
          <g class="hop" data-zone={h.zone} data-kind={h.kind}>
            <rect x={X} y={y} width={BOX_W} height={BOX_H} rx="6" fill={color(h.kind)} stroke="#98a2b3" />
            <text x={X + 12} y={y + 20} font-weight="600">{h.zone === '.' ? '. (root)' : h.zone}</text>
            <text x={X + 12} y={y + 38} class="mono">{h.serverName} {h.server}</text>
            <text x={X + 12} y={y + 56}>{label(h)}</text>
            <text x={X + BOX_W - 12} y={y + 20} text-anchor="end" class="mono">{h.rttMs} ms</text>
            {h.kind !== 'referral' && h.records.length > 0 && (
              <text x={X + BOX_W + 12} y={y + 20} class="mono">{h.records.slice(0, 3).map((r, j) => <tspan x={X + BOX_W + 12} dy={j === 0 ? 0 : 14}>{r.split('\t').slice(3).join(' ')}</tspan>)}</text>
            )}
            {i < hops.length - 1 && (
              <g>
                <line x1={X + 40} y1={y + BOX_H} x2={X + 40} y2={y + BOX_H + GAP - 2} stroke="#667085" stroke-width="1.5" marker-end="url(#arrow)" />
                <text x={X + 52} y={y + BOX_H + GAP / 2 + 4} class="muted">{h.referral ?? ''}</text>
              </g>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export function TracePage() {
  const [form, setForm] = useState({ name: '', type: 'A' });
  const [trace, setTrace] = useState<Trace | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setTrace(await api<Trace>('GET', '/v1/trace' + q(form)));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h2>Trace</h2>
      <form class="bar" onSubmit={run}>
        <label>name<input id="trace-name" value={form.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} /></label>
        <label>type<input id="trace-type" size={6} value={form.type} onInput={(e) => setForm({ ...form, type: (e.target as HTMLInputElement).value })} /></label>
        <button type="submit" id="trace-run" disabled={busy}>{busy ? 'Tracing…' : 'Trace from the root'}</button>
      </form>
      <ErrorLine error={error} />
      {trace !== null && (
        <div class="card">
          <p id="trace-outcome">{trace.name} {trace.type}: <b>{trace.outcome}</b> after {trace.hops.length} queries, {trace.totalMs} ms</p>
          <TraceDrawing trace={trace} />
        </div>
      )}
    </section>
  );
}
