// Zones: the list (kind, serial, records, transfer state of secondaries), a zone's records with
// a filter, and for zones taking dynamic updates an editor: add a record, delete one (POST and
// DELETE /v1/zones/{zone}/records, applied as RFC 2136 updates by the server).
import { useState } from 'preact/hooks';
import { type RecordRow, type ZoneRow, api, q } from '../api.js';
import { ErrorLine, usePoll } from '../util.js';

function Records({ zone, onChange }: { zone: ZoneRow; onChange: () => void }) {
  const [filter, setFilter] = useState({ name: '', type: '' });
  const [applied, setApplied] = useState(filter);
  const [rows, setRows] = useState<RecordRow[]>([]);
  const [serial, setSerial] = useState<number | null>(null);
  const [draft, setDraft] = useState({ name: '', type: 'A', ttl: '', data: '' });
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [tick, setTick] = useState(0);
  const path = `/v1/zones/${encodeURIComponent(zone.name)}/records`;
  usePoll(async () => {
    try {
      const r = await api<{ serial: number | null; records: RecordRow[] }>('GET', path + q(applied));
      setRows(r.records);
      setSerial(r.serial);
    } catch (err) {
      setError((err as Error).message);
    }
  }, 10_000, [zone.name, applied, tick]);
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ serial: number | null; changed: boolean }>('POST', path, {
        name: draft.name, type: draft.type, data: draft.data, ...(draft.ttl !== '' ? { ttl: Number(draft.ttl) } : {}),
      });
      setNote(r.changed ? `added; serial now ${r.serial}` : 'nothing changed (the record was there already)');
      setError('');
      setTick(tick + 1);
      onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const del = async (r: RecordRow) => {
    try {
      const res = await api<{ serial: number | null; changed: boolean }>('DELETE', path + q({ name: r.name, type: r.type, data: r.data }));
      setNote(res.changed ? `deleted; serial now ${res.serial}` : 'nothing changed');
      setError('');
      setTick(tick + 1);
      onChange();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const input = (k: keyof typeof draft, label: string, size = 12) => (
    <label>{label}<input id={`rec-${k}`} size={size} value={draft[k]} onInput={(e) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <div class="card" id="zone-records">
      <h3>{zone.name} <span class="muted">serial {serial ?? '–'}</span></h3>
      {zone.editable ? (
        <form class="bar" id="record-add" onSubmit={add}>
          {input('name', 'name (relative or absolute)')}{input('type', 'type', 6)}{input('ttl', 'TTL', 6)}{input('data', 'data', 28)}
          <button type="submit" id="record-add-button">Add record</button>
        </form>
      ) : <p class="muted">This zone does not take dynamic updates (allowUpdate / updatePolicy): read only.</p>}
      <ErrorLine error={error} />
      {note !== '' && <p class="ok" id="record-note">{note}</p>}
      <form class="bar" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        <label>name<input id="rec-filter-name" value={filter.name} onInput={(e) => setFilter({ ...filter, name: (e.target as HTMLInputElement).value })} /></label>
        <label>type<input size={6} value={filter.type} onInput={(e) => setFilter({ ...filter, type: (e.target as HTMLInputElement).value })} /></label>
        <button type="submit" class="ghost">Filter</button>
      </form>
      <table id="records-table">
        <thead><tr><th>name</th><th class="num">TTL</th><th>type</th><th>data</th><th /></tr></thead>
        <tbody>{rows.map((r) => (
          <tr data-name={r.name} data-type={r.type}>
            <td class="mono">{r.name}</td><td class="num">{r.ttl}</td><td>{r.type}</td><td class="mono">{r.data}</td>
            <td>{zone.editable && r.type !== 'SOA' && <button class="danger record-delete" onClick={() => del(r)}>Delete</button>}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  );
}

export function ZonesPage() {
  const [zones, setZones] = useState<ZoneRow[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  usePoll(async () => {
    try {
      const r = await api<{ zones: ZoneRow[] }>('GET', '/v1/zones');
      setZones(r.zones);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 5000, [tick]);
  const zone = zones.find((z) => z.name === selected);
  return (
    <section>
      <h2>Zones</h2>
      <ErrorLine error={error} />
      <div class="card">
        <table id="zones-table">
          <thead><tr><th>zone</th><th>kind</th><th class="num">serial</th><th class="num">records</th><th>state</th><th /></tr></thead>
          <tbody>{zones.map((z) => (
            <tr data-zone={z.name}>
              <td class="mono">{z.name}</td><td>{z.kind}</td><td class="num">{z.serial ?? '–'}</td><td class="num">{z.records}</td>
              <td>{!z.loaded ? <span class="down">not loaded{z.error !== null ? `: ${z.error}` : ''}</span>
                : z.transfer !== null ? <span class={z.transfer.expired ? 'down' : 'up'}>{z.transfer.expired ? 'expired' : 'in sync'}{z.transfer.lastResult !== null ? ` — ${z.transfer.lastResult}` : ''}{z.transfer.nextRefresh !== null ? `, next check ${z.transfer.nextRefresh}` : ''}</span>
                : <span class="up">loaded</span>}</td>
              <td><button class="ghost zone-open" onClick={() => setSelected(z.name)}>Records</button></td>
            </tr>
          ))}</tbody>
        </table>
        {zones.length === 0 && <p class="muted">No zones are configured.</p>}
      </div>
      {zone !== undefined && <Records zone={zone} onChange={() => setTick(tick + 1)} />}
    </section>
  );
}
