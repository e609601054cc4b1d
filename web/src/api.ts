// The control endpoint's API as the dashboard calls it: every request carries the bearer token
// the operator typed in (kept in sessionStorage: gone when the tab closes). Errors come back as
// ApiError with the endpoint's code (`{ error: { code, message } }`, docs/openapi.yaml).

const TOKEN_KEY = 'sovereign-control-token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Told when the token is refused (back to the login page). */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, token = getToken()): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (res.status === 401) onUnauthorized();
  if (!res.ok && res.status !== 409) {
    const e = (data as { error?: { code?: string; message?: string } | string } | undefined)?.error;
    const code = typeof e === 'object' && e !== null ? e.code ?? 'ERR' : 'ERR';
    const message = typeof e === 'string' ? e : typeof e === 'object' && e !== null ? e.message ?? text : text;
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 409) {
    const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (typeof e === 'object' && e !== null) throw new ApiError(409, e.code ?? 'ERR_CONFLICT', e.message ?? text);
  }
  return data as T;
}

export const q = (params: Record<string, string | number | undefined>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s === '' ? '' : '?' + s;
};

// Shapes of the API's answers (the parts shown here).
export interface SeriesPoint {
  t: number; seconds: number; queries: number; qps: number; responses: number;
  rcodes: Record<string, number>; qtypes: Record<string, number>; cacheHits: number; cacheMisses: number;
  latency: { p50: number; p90: number; p99: number; count: number } | null;
  answerLatency: { p50: number; p90: number; p99: number; count: number } | null;
}
export interface Series { window: string; stepSeconds: number; points: SeriesPoint[] }
export interface Stats {
  uptimeSeconds: number; queries: { udp: number; tcp: number }; responses: number;
  rcodes: Record<string, number>; qtypes: Record<string, number>;
  cache: { size: number; hits: number; misses: number };
}
export interface Top { every: number; names: { key: string; count: number }[]; clients: { key: string; count: number }[] }
export interface CacheRow { name: string; type: string; kind: string; originalTtl: number; remainingTtl: number; stale: boolean; records: string[] }
export interface ZoneRow {
  name: string; kind: string; loaded: boolean; serial: number | null; records: number; editable: boolean; error: string | null;
  transfer: { primaries: string[]; lastRefresh: string | null; nextRefresh: string | null; expired: boolean; lastResult: string | null; failures: number } | null;
}
export interface RecordRow { name: string; type: string; ttl: number; data: string; text: string }
export interface Upstream { upstream: string; up: boolean; srttMs: number; queries: number; answers: number; failures: number; timeouts: number }
export interface TraceHop {
  zone: string; server: string; serverName: string; question: string; kind: string; rcode: string; aa: boolean;
  referral: string | null; records: string[]; rttMs: number;
}
export interface Trace { name: string; type: string; hops: TraceHop[]; outcome: string; totalMs: number }
export interface QueryLogEntry {
  time: string; client: string; port: number; transport: string; name: string; type: string; flags: string; rcode: string;
  answer: string; handler: string; policy: string | null; latencyUs: number; cacheHit: boolean;
}
