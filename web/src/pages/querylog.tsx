// The query log (GET /v1/querylog): search by name, client, RCODE; newest first.
import { useState } from 'preact/hooks';
import { ApiError, type QueryLogEntry, api, q } from '../api.js';
import { ErrorLine, usePoll } from '../util.js';

export function QueryLogPage() {
  const [filter, setFilter] = useState({ name: '', client: '', rcode: '', type: '' });
  const [applied, setApplied] = useState(filter);
  const [rows, setRows] = useState<QueryLogEntry[] | null>(null);
  const [total, setTotal] = useState(0);
  const [off, setOff] = useState(false);
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      const r = await api<{ entries: QueryLogEntry[]; total: number }>('GET', '/v1/querylog' + q({ ...applied, limit: 200 }));
      setRows(r.entries);
      setTotal(r.total);
      setOff(false);
      setError('');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 404)) setOff(true);
      else setError((err as Error).message);
    }
  }, 3000, [applied]);
  const field = (k: keyof typeof filter, label: string) => (
    <label>{label}<input id={`ql-${k}`} value={filter[k]} onInput={(e) => setFilter({ ...filter, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <section>
      <h2>Query log</h2>
      <form class="bar" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        {field('name', 'name')}{field('client', 'client')}{field('type', 'type')}{field('rcode', 'RCODE')}
        <button type="submit">Search</button>
      </form>
      <ErrorLine error={error} />
      {off || (rows !== null && rows.length === 0 && total === 0) ? <p class="muted" id="querylog-off">The query log is off or not available (queryLog in the config), or nothing matched.</p> : (
        <div class="card">
          <p class="muted">{rows?.length ?? 0} of {total} entries</p>
          <table id="querylog-table">
            <thead><tr><th>time</th><th>client</th><th>transport</th><th>name</th><th>type</th><th>flags</th><th>RCODE</th><th>answer</th><th>by</th><th class="num">µs</th><th>cache</th></tr></thead>
            <tbody>{(rows ?? []).map((r) => (
              <tr><td class="mono">{r.time.replace('T', ' ').replace('Z', '')}</td><td class="mono">{r.client}#{r.port}</td><td>{r.transport}</td>
                <td class="mono">{r.name}</td><td>{r.type}</td><td>{r.flags}</td><td>{r.rcode}</td><td class="mono">{r.answer}</td>
                <td>{r.handler}{r.policy !== null ? ` (${r.policy})` : ''}</td><td class="num">{r.latencyUs}</td><td>{r.cacheHit ? 'hit' : ''}</td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
