// The dashboard: a login page asking for the control token, then pages chosen by the URL's hash
// (#/overview, #/querylog, #/cache, #/zones, #/upstreams, #/trace, #/config).
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, getToken, setToken, whenUnauthorized } from './api.js';
import { CachePage } from './pages/cache.js';
import { ConfigPage } from './pages/config.js';
import { Overview } from './pages/overview.js';
import { QueryLogPage } from './pages/querylog.js';
import { TracePage } from './pages/trace.js';
import { UpstreamsPage } from './pages/upstreams.js';
import { ZonesPage } from './pages/zones.js';

const PAGES: [string, string, () => preact.JSX.Element][] = [
  ['overview', 'Overview', () => <Overview />],
  ['querylog', 'Query log', () => <QueryLogPage />],
  ['cache', 'Cache', () => <CachePage />],
  ['zones', 'Zones', () => <ZonesPage />],
  ['upstreams', 'Upstreams', () => <UpstreamsPage />],
  ['trace', 'Trace', () => <TracePage />],
  ['config', 'Config', () => <ConfigPage />],
];

function pageFromHash(): string {
  const h = location.hash.replace(/^#\/?/, '');
  return PAGES.some(([id]) => id === h) ? h : 'overview';
}

function Login({ onLogin }: { onLogin: () => void }) {
  const [token, setT] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('GET', '/v1/stats', undefined, token.trim());
      setToken(token.trim());
      onLogin();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} id="login-form">
        <h1>Sovereign</h1>
        <p>The control token is in the file <code>control.tokenFile</code> names (readable by the server's user only).</p>
        <label>Control token <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setT((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Sign in</button>
        {error !== '' && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}

function App() {
  const [loggedIn, setLoggedIn] = useState(getToken() !== null);
  const [page, setPage] = useState(pageFromHash());
  useEffect(() => {
    const f = () => setPage(pageFromHash());
    addEventListener('hashchange', f);
    whenUnauthorized(() => {
      setToken(null);
      setLoggedIn(false);
    });
    return () => removeEventListener('hashchange', f);
  }, []);
  if (!loggedIn) return <Login onLogin={() => setLoggedIn(true)} />;
  const current = PAGES.find(([id]) => id === page)!;
  return (
    <div class="shell">
      <nav>
        <span class="brand">Sovereign</span>
        {PAGES.map(([id, label]) => <a href={`#/${id}`} class={id === page ? 'active' : ''} id={`nav-${id}`}>{label}</a>)}
        <button class="logout" onClick={() => { setToken(null); setLoggedIn(false); }}>Sign out</button>
      </nav>
      <main id={`page-${page}`}>{current[2]()}</main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
