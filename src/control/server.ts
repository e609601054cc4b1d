/**
 * The local control endpoint: HTTP on a loopback address (bearer token required) or on a Unix
 * socket (file mode 0600; the file system is the access check, a token is not required).
 *
 * Routes (JSON unless said otherwise):
 *   GET  /v1/cache?name=N&type=T          cache rows (name, type, original and remaining TTL, records)
 *   POST /v1/cache/flush?name=N&subtree=1 flush all, one name, or a subtree -> { removed }
 *   POST /v1/reload?what=all|zones|hosts  reload -> report (409 when something was rejected)
 *   POST /v1/zone/sync[?name=ZONE]  write dynamic zones' files from memory + journal (409 on failure)
 *   GET  /v1/stats                        statistics snapshot
 *   GET  /v1/dnssec/status?zone=Z         a signed zone's keys, their states and next events
 *   POST /v1/dnssec/checkds?zone=Z&what=published|withdrawn[&key=TAG]   the parent's DS seen (rndc dnssec -checkds)
 *   POST /v1/zone/refresh?name=Z          secondary: SOA check now (rndc refresh); also retransfer (AXFR), notify
 *   GET  /metrics                         Prometheus text format (no token when `metricsAuth` is false)
 *   GET  /health, /health/live             liveness: 200 while the process answers (no token)
 *   GET  /health/ready                     readiness: 200 when serving DNS, else 503 (no token)
 *   GET  /v1/querylog?name=&client=&rcode=&type=&since=&until=&limit=   query log entries, newest first (409 when off)
 *   GET  /v1/stats/series, /v1/top, /v1/zones, /v1/zones/{zone}/records (GET, POST, DELETE),
 *        /v1/upstreams, /v1/config, /v1/trace   the dashboard's API (src/control/api/routes.ts)
 *   GET  /, /assets/...                    the web dashboard's files (no token: they hold no data)
 *
 * Every route is described in docs/openapi.yaml.
 *
 * Invariants: every request but the health checks (and /metrics when so configured) is
 * authenticated before any work; health answers reveal nothing but ready or not; bodies are read only
 * for record edits (JSON, at most 16 KiB), arguments are otherwise query parameters; errors are
 * JSON `{ error: { code, message } }` with a 4xx/5xx status, never a crash.
 */
import { rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, ListenError } from '../errors.js';
import type { Logger } from '../logging.js';
import { type ControlBackend, ControlError, type ReloadWhat, type ZoneAction, apiCodeForStatus } from './backend.js';
import { API_PATHS, apiRoute } from './api/routes.js';
import { StatsSeries } from './api/series.js';
import { StaticFiles } from './static.js';
import { renderMetrics, startProcessMetrics } from './metrics.js';
import { bearerMatches } from './token.js';

export interface ControlServerOptions {
  backend: ControlBackend;
  logger: Logger;
  /** HTTP listen address (loopback) and port; ignored when `socketPath` is set. */
  address?: string;
  port?: number;
  /** Unix socket path instead of TCP. */
  socketPath?: string;
  /** Bearer token required on TCP (and on the socket too, when given there). */
  token?: string;
  /** Require the token for /metrics (default true); scrapers usually come without one. */
  metricsAuth?: boolean;
  /** Statistics series resolution, ms (default 10 000; 0 = no sampling, no /v1/stats/series). */
  seriesStepMs?: number;
  /** The dashboard's built files (default dist/dashboard). */
  dashboardDir?: string;
}

/** An API error body: a stable code and words for people (see docs/openapi.yaml, Error). */
function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  send(res, status, { error: { code, message }, ...extra });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 1) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** What to do when the control port is taken: usually another instance with the same defaults. */
const CONTROL_HINT = ' (another Sovereign instance probably uses it: give this one its own control.listen port or control.socket, or control.enabled: false)';

const RELOAD_WHAT = new Set<ReloadWhat>(['all', 'zones', 'hosts']);

export class ControlServer {
  private readonly http: Server;
  private readonly opts: ControlServerOptions;
  private readonly statics: StaticFiles;
  /** Statistics over time (sampled here, in the process holding the endpoint). */
  readonly series: StatsSeries | undefined;
  /** Where it listens: `http://address:port` or the socket path. */
  endpoint = '';

  constructor(opts: ControlServerOptions) {
    this.opts = opts;
    startProcessMetrics();
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof ControlError ? err.status : 500;
        if (status >= 500) opts.logger.error({ err }, 'control request failed');
        if (!res.headersSent) sendError(res, status, err instanceof ControlError ? err.apiCode : apiCodeForStatus(status), (err as Error).message);
        else res.end();
      });
    });
    this.http.headersTimeout = 5000;
    this.http.requestTimeout = 30_000;
    this.statics = new StaticFiles(opts.dashboardDir);
    this.series = opts.seriesStepMs === 0 ? undefined : new StatsSeries({
      snapshot: () => opts.backend.run({ op: 'stats' }), stepMs: opts.seriesStepMs ?? 10_000,
      onError: (err) => opts.logger.debug({ err }, 'statistics sample failed'),
    });
  }

  async listen(): Promise<string> {
    const o = this.opts;
    if (o.socketPath !== undefined) {
      rmSync(o.socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        this.http.once('error', (err) => reject(new ListenError('control', o.socketPath!, 0, err)));
        // Created under umask 077, so the socket is 0600 from its first instant (a chmod after
        // listen leaves a window in which anyone may connect). bind() runs within listen().
        const umask = process.umask(0o177);
        try {
          this.http.listen(o.socketPath, () => resolve());
        } finally {
          process.umask(umask);
        }
      });
      this.endpoint = o.socketPath;
    } else {
      if (o.token === undefined) throw new ConfigError('control.tokenFile', 'control over TCP needs a token', 'give control.tokenFile, or use control.socket');
      const address = o.address ?? '127.0.0.1';
      const port = o.port ?? 8053;
      await new Promise<void>((resolve, reject) => {
        this.http.once('error', (err) => reject(new ListenError('control', address, port, err, CONTROL_HINT)));
        this.http.listen(port, address, () => resolve());
      });
      const a = this.http.address() as AddressInfo;
      this.endpoint = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    }
    this.opts.logger.info({ endpoint: this.endpoint }, 'control endpoint listening');
    this.series?.start();
    return this.endpoint;
  }

  /** The bound TCP port (after listen). */
  get port(): number {
    const a = this.http.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  async close(): Promise<void> {
    this.series?.stop();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    if (this.opts.socketPath !== undefined) rmSync(this.opts.socketPath, { force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const o = this.opts;
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && (path === '/health' || path === '/health/live')) {
      send(res, 200, { status: 'alive' });
      return;
    }
    if (req.method === 'GET' && path === '/health/ready') {
      const r = await o.backend.run({ op: 'ready' });
      send(res, r.ready ? 200 : 503, r.ready ? { status: 'ready' } : { status: 'not ready', reason: r.reason });
      return;
    }
    // The dashboard's page and assets: public (no data in them), every API call they make needs the token.
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === '/' || path.startsWith('/assets/')) && this.statics.serve(path, res, req.method === 'HEAD')) return;
    const open = o.metricsAuth === false && req.method === 'GET' && path === '/metrics';
    if (!open && (o.socketPath === undefined || o.token !== undefined)) {
      if (o.token === undefined || !bearerMatches(req.headers.authorization, o.token)) {
        res.setHeader('www-authenticate', 'Bearer realm="sovereign"');
        sendError(res, 401, 'ERR_UNAUTHORIZED', 'missing or wrong bearer token (see control.tokenFile)');
        return;
      }
    }
    const url = new URL(req.url ?? '/', 'http://control');
    const p = url.searchParams;
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    const b = o.backend;
    const api = await apiRoute(req, url, b, this.series, o.logger);
    if (api !== undefined) {
      send(res, api.status, api.body);
      return;
    }
    switch (route) {
      case 'GET /v1/cache':
        send(res, 200, { entries: await b.run({ op: 'cache', name: p.get('name') ?? undefined, type: p.get('type') ?? undefined }) });
        return;
      case 'POST /v1/cache/flush': {
        const r = await b.run({ op: 'flush', name: p.get('name') ?? undefined, subtree: p.get('subtree') === '1' || p.get('subtree') === 'true' });
        // `name` is the logger's own field (pino): the flushed name goes under `qname`.
        o.logger.info({ qname: p.get('name') ?? '(all)', subtree: p.get('subtree') === '1' || p.get('subtree') === 'true', removed: r.removed }, 'cache flushed');
        send(res, 200, r);
        return;
      }
      case 'POST /v1/reload': {
        const what = (p.get('what') ?? 'all') as ReloadWhat;
        if (!RELOAD_WHAT.has(what)) throw new ControlError(`what= must be all, zones or hosts, not "${what}"`, 400, 'ERR_BAD_PARAMETER');
        const r = await b.run({ op: 'reload', what });
        send(res, r.ok ? 200 : 409, r);
        return;
      }
      case 'POST /v1/zone/sync': {
        const r = await b.run({ op: 'sync', name: p.get('name') ?? undefined });
        send(res, r.ok ? 200 : 409, r);
        return;
      }
      case 'GET /v1/nta':
        send(res, 200, await b.run({ op: 'nta', action: 'list' }));
        return;
      case 'POST /v1/nta/add':
      case 'POST /v1/nta/remove': {
        const life = p.get('lifetime');
        const lifetimeSec = life === null ? undefined : Number(life);
        if (lifetimeSec !== undefined && (!Number.isInteger(lifetimeSec) || lifetimeSec < 0)) throw new ControlError('lifetime= must be whole seconds (0 = no expiry)');
        const action = url.pathname.endsWith('/add') ? 'add' : 'remove';
        const r = await b.run({ op: 'nta', action, name: p.get('name') ?? undefined, lifetimeSec });
        o.logger.info({ name: p.get('name'), action }, 'negative trust anchor changed');
        send(res, 200, r);
        return;
      }
      case 'GET /v1/dnssec/status':
        send(res, 200, await b.run({ op: 'dnssec', action: 'status', zone: p.get('zone') ?? '' }));
        return;
      case 'POST /v1/dnssec/checkds': {
        const tag = p.get('key');
        const t = tag === null ? undefined : Number(tag);
        if (t !== undefined && (!Number.isInteger(t) || t < 0 || t > 65535)) throw new ControlError('key= must be a key tag (0-65535)');
        const what = p.get('what');
        if (what !== 'published' && what !== 'withdrawn') throw new ControlError('what= must be published or withdrawn');
        const r = await b.run({ op: 'dnssec', action: 'checkds', zone: p.get('zone') ?? '', what, tag: t });
        o.logger.info({ zone: r.zone, what, keyTags: r.changed ?? [] }, 'DS state set by checkds');
        send(res, 200, r);
        return;
      }
      case 'POST /v1/zone/refresh':
      case 'POST /v1/zone/retransfer':
      case 'POST /v1/zone/notify': {
        const name = p.get('name');
        if (name === null || name === '') throw new ControlError('name= is required');
        const action = url.pathname.slice('/v1/zone/'.length) as ZoneAction;
        const r = await b.run({ op: 'zone', action, name });
        o.logger.info({ zone: r.zone, action }, 'zone command');
        send(res, 200, r);
        return;
      }
      case 'GET /v1/stats':
        send(res, 200, await b.run({ op: 'stats' }));
        return;
      case 'GET /v1/health-checks':
        send(res, 200, { checks: await b.run({ op: 'health-checks' }) });
        return;
      case 'GET /v1/querylog':
        send(res, 200, await b.run({
          op: 'querylog', name: p.get('name') ?? undefined, client: p.get('client') ?? undefined, rcode: p.get('rcode') ?? undefined,
          type: p.get('type') ?? undefined, since: p.get('since') ?? undefined, until: p.get('until') ?? undefined, limit: p.get('limit') ?? undefined,
        }));
        return;
      case 'GET /metrics': {
        const m = await renderMetrics(await b.run({ op: 'stats' }), await b.run({ op: 'metrics' }));
        res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
        res.end(m.body);
        return;
      }
      default: {
        const known = [...API_PATHS, '/v1/cache', '/v1/cache/flush', '/v1/reload', '/v1/stats', '/metrics', '/health', '/health/live', '/health/ready', '/v1/nta', '/v1/nta/add', '/v1/nta/remove', '/v1/dnssec/status', '/v1/dnssec/checkds', '/v1/zone/refresh', '/v1/zone/retransfer', '/v1/zone/notify', '/v1/zone/sync', '/v1/health-checks', '/v1/querylog'];
        if (known.includes(url.pathname)) sendError(res, 405, 'ERR_METHOD_NOT_ALLOWED', `${req.method ?? ''} not allowed on ${url.pathname}`);
        else sendError(res, 404, 'ERR_NO_ROUTE', `no route ${url.pathname}`, { routes: known });
      }
    }
  }
}
