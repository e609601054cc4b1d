// Upstream health: forwarding routes with each upstream's state, smoothed RTT and counters, and
// the recursive resolver's stub zones (GET /v1/upstreams).
import { useState } from 'preact/hooks';
import { type Upstream, api } from '../api.js';
import { ErrorLine, usePoll } from '../util.js';

interface Upstreams {
  routes: { zone: string; kind: string; upstreams: Upstream[] }[];
  stubZones: { zone: string; servers: { server: string; srttMs: number; queries: number; timeouts: number }[] }[];
}

export function UpstreamsPage() {
  const [u, setU] = useState<Upstreams | null>(null);
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      setU(await api<Upstreams>('GET', '/v1/upstreams'));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 3000);
  return (
    <section>
      <h2>Upstreams</h2>
      <ErrorLine error={error} />
      {u !== null && u.routes.length === 0 && u.stubZones.length === 0 && <p class="muted" id="no-upstreams">No forwarders or stub zones are configured.</p>}
      {u?.routes.map((r) => (
        <div class="card">
          <h3>{r.kind} {r.zone}</h3>
          <table class="upstreams-table">
            <thead><tr><th>upstream</th><th>state</th><th class="num">SRTT ms</th><th class="num">queries</th><th class="num">answers</th><th class="num">failures</th><th class="num">timeouts</th></tr></thead>
            <tbody>{r.upstreams.map((x) => (
              <tr><td class="mono">{x.upstream}</td><td class={x.up ? 'up' : 'down'}>{x.up ? 'up' : 'down'}</td><td class="num">{x.srttMs}</td>
                <td class="num">{x.queries}</td><td class="num">{x.answers}</td><td class="num">{x.failures}</td><td class="num">{x.timeouts}</td></tr>
            ))}</tbody>
          </table>
        </div>
      ))}
      {u?.stubZones.map((z) => (
        <div class="card">
          <h3>stub {z.zone}</h3>
          <table><thead><tr><th>server</th><th class="num">SRTT ms</th><th class="num">queries</th><th class="num">timeouts</th></tr></thead>
            <tbody>{z.servers.map((s) => <tr><td class="mono">{s.server}</td><td class="num">{s.srttMs < 0 ? '–' : s.srttMs}</td><td class="num">{s.queries}</td><td class="num">{s.timeouts}</td></tr>)}</tbody></table>
        </div>
      ))}
    </section>
  );
}
