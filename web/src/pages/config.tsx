// The configuration in force (secrets redacted by the server), and reload.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorLine, usePoll } from '../util.js';

export function ConfigPage() {
  const [cfg, setCfg] = useState<unknown>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  usePoll(async () => {
    try {
      setCfg((await api<{ config: unknown }>('GET', '/v1/config')).config);
    } catch (err) {
      setError((err as Error).message);
    }
  }, 30_000);
  const reload = async () => {
    try {
      const r = await api<{ ok: boolean; error?: string; zones: { name: string; ok: boolean; problems: string[] }[] }>('POST', '/v1/reload?what=all');
      setNote(r.ok ? `reloaded: ${r.zones.length} zone(s)` : `rejected: ${r.error ?? r.zones.filter((z) => !z.ok).map((z) => `${z.name}: ${z.problems.join('; ')}`).join(', ')}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h2>Configuration</h2>
      <p><button id="reload" onClick={reload}>Reload config, zones and hosts</button> {note !== '' && <span id="reload-note">{note}</span>}</p>
      <ErrorLine error={error} />
      <pre class="card mono" id="config-json">{cfg === null ? '' : JSON.stringify(cfg, null, 2)}</pre>
    </section>
  );
}
