// The cache browser (the router's `/ip dns cache print`): name, type, TTL, time left, records,
// filtered by name and type; flush one name, a subtree, or everything (POST /v1/cache/flush).
import { useState } from 'preact/hooks';
import { type CacheRow, api, q } from '../api.js';
import { ErrorLine, usePoll } from '../util.js';

function left(s: number): string {
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor(s / 60) % 60}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function CachePage() {
  const [filter, setFilter] = useState({ name: '', type: '' });
  const [applied, setApplied] = useState(filter);
  const [rows, setRows] = useState<CacheRow[]>([]);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [tick, setTick] = useState(0);
  usePoll(async () => {
    try {
      const r = await api<{ entries: CacheRow[] }>('GET', '/v1/cache' + q(applied));
      setRows(r.entries);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 5000, [applied, tick]);
  const flush = async (name: string | undefined, subtree: boolean) => {
    if (name === undefined && !confirm('Flush the whole cache?')) return;
    try {
      const r = await api<{ removed: number }>('POST', '/v1/cache/flush' + q({ name, subtree: subtree ? '1' : undefined }));
      setNote(`flushed ${name ?? 'everything'}${subtree ? ' and below' : ''}: ${r.removed} removed`);
      setTick(tick + 1);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h2>Cache</h2>
      <form class="bar" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        <label>name (exact)<input id="cache-name" value={filter.name} onInput={(e) => setFilter({ ...filter, name: (e.target as HTMLInputElement).value })} /></label>
        <label>type<input id="cache-type" size={6} value={filter.type} onInput={(e) => setFilter({ ...filter, type: (e.target as HTMLInputElement).value })} /></label>
        <button type="submit" id="cache-filter">Filter</button>
        <button type="button" class="danger" id="flush-all" onClick={() => flush(undefined, false)}>Flush all</button>
      </form>
      <ErrorLine error={error} />
      {note !== '' && <p class="ok" id="cache-note">{note}</p>}
      <div class="card">
        <table id="cache-table">
          <thead><tr><th>name</th><th>type</th><th>kind</th><th class="num">TTL</th><th class="num">time left</th><th>records</th><th /></tr></thead>
          <tbody>{rows.map((r) => (
            <tr data-name={r.name} data-type={r.type}>
              <td class="mono">{r.name}</td><td>{r.type}</td><td>{r.kind}{r.stale ? ' (stale)' : ''}</td>
              <td class="num">{r.originalTtl}</td><td class="num">{left(r.remainingTtl)}</td>
              <td class="mono">{r.records.map((t) => <div>{t.split('\t').slice(4).join(' ') || t}</div>)}</td>
              <td><button class="ghost flush-name" onClick={() => flush(r.name, false)}>Flush</button>{' '}
                <button class="ghost" onClick={() => flush(r.name, true)}>Subtree</button></td>
            </tr>
          ))}</tbody>
        </table>
        {rows.length === 0 && <p class="muted">The cache holds nothing{applied.name !== '' || applied.type !== '' ? ' that matches' : ''}.</p>}
      </div>
    </section>
  );
}
