/**
 * The HTTP API routes added for the dashboard (stats series, top talkers, zones and records,
 * upstreams, config, trace): each parses its parameters, runs one backend operation and returns
 * status + JSON body. Documented in docs/openapi.yaml (test/control/api.test.ts checks every
 * route against it).
 *
 * Invariant: a bad parameter is a ControlError (400 with a code) before any work is done.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../logging.js';
import type { ControlBackend } from '../backend.js';
import { ControlError } from '../control-error.js';
import type { StatsSeries } from './series.js';
import type { RecordEdit } from './zones.js';

export interface ApiReply {
  status: number;
  body: unknown;
}

/** Largest JSON body accepted (a record edit is a few hundred octets). */
const MAX_BODY = 16 * 1024;

/** Reads a JSON object body of at most MAX_BODY octets. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) throw new ControlError('the body must be JSON (content-type: application/json)', 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    // Past the limit the rest is read and dropped (not kept), so the client gets the 413 rather
    // than a reset connection; the server's requestTimeout bounds how long that may take.
    if (size <= MAX_BODY) chunks.push(c);
  }
  if (size > MAX_BODY) throw new ControlError(`the body is larger than ${MAX_BODY} octets`, 413, 'ERR_BODY_TOO_LARGE');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ControlError(`the body is not valid JSON: ${(err as Error).message}`, 400, 'ERR_BAD_JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ControlError('the body must be a JSON object', 400, 'ERR_BAD_JSON');
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new ControlError(`"${key}" is required`, 400, 'ERR_MISSING_FIELD');
    return undefined;
  }
  if (typeof v !== 'string') throw new ControlError(`"${key}" must be a string`, 400, 'ERR_BAD_FIELD');
  return v;
}

/** Paths served by these routes (for 404/405 and the route list). */
export const API_PATHS = ['/v1/stats/series', '/v1/top', '/v1/zones', '/v1/zones/{zone}/records', '/v1/upstreams', '/v1/config', '/v1/trace'];

const ZONE_RECORDS = /^\/v1\/zones\/([^/]+)\/records$/;

/**
 * Answers `method path` when it is one of these routes; undefined otherwise. `series` is the
 * recorder of this endpoint (undefined when sampling is off).
 */
export async function apiRoute(req: IncomingMessage, url: URL, backend: ControlBackend, series: StatsSeries | undefined, logger: Logger):
  Promise<ApiReply | undefined> {
  const p = url.searchParams;
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const get = (k: string): string | undefined => p.get(k) ?? undefined;
  const zm = ZONE_RECORDS.exec(path);
  if (zm !== null) {
    const zone = decodeURIComponent(zm[1]!);
    if (method === 'GET') return { status: 200, body: await backend.run({ op: 'records', zone, name: get('name'), type: get('type') }) };
    if (method === 'POST') {
      const b = await readJson(req);
      const ttl = b.ttl;
      if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl))) throw new ControlError('"ttl" must be whole seconds', 400, 'ERR_BAD_TTL');
      const edit: RecordEdit = { action: 'add', zone, name: str(b, 'name', true)!, type: str(b, 'type', true)!, ttl: ttl as number | undefined, data: str(b, 'data', true)! };
      const r = await backend.run({ op: 'recordEdit', edit });
      logger.info({ zone: r.zone, owner: edit.name, type: edit.type, serial: r.serial }, 'record added through the control endpoint');
      return { status: 200, body: r };
    }
    if (method === 'DELETE') {
      const name = get('name');
      if (name === undefined || name === '') throw new ControlError('name= is required', 400, 'ERR_MISSING_FIELD');
      const edit: RecordEdit = { action: 'delete', zone, name, type: get('type'), data: get('data') };
      const r = await backend.run({ op: 'recordEdit', edit });
      logger.info({ zone: r.zone, owner: name, type: edit.type ?? 'ANY', serial: r.serial }, 'records deleted through the control endpoint');
      return { status: 200, body: r };
    }
    throw new ControlError(`${method} not allowed on ${path}`, 405);
  }
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /v1/stats/series': {
      const w = get('window') ?? 'hour';
      if (w !== 'hour' && w !== 'day') throw new ControlError(`window= must be hour or day, not "${w}"`, 400, 'ERR_BAD_PARAMETER');
      if (series === undefined) throw new ControlError('statistics sampling is off on this endpoint', 404, 'ERR_NOT_AVAILABLE');
      return { status: 200, body: series.points(w) };
    }
    case 'GET /v1/top': {
      const l = get('limit');
      const limit = l === undefined ? 20 : Number(l);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new ControlError('limit= must be 1-200', 400, 'ERR_BAD_PARAMETER');
      return { status: 200, body: await backend.run({ op: 'top', limit }) };
    }
    case 'GET /v1/zones':
      return { status: 200, body: { zones: await backend.run({ op: 'zones' }) } };
    case 'GET /v1/upstreams': {
      const s = await backend.run({ op: 'stats' });
      return { status: 200, body: { routes: s.forwarder.routes, stubZones: s.resolver?.stubZones ?? [] } };
    }
    case 'GET /v1/config':
      return { status: 200, body: { config: await backend.run({ op: 'config' }) } };
    case 'GET /v1/trace': {
      const name = get('name');
      if (name === undefined || name === '') throw new ControlError('name= is required', 400, 'ERR_MISSING_FIELD');
      return { status: 200, body: await backend.run({ op: 'trace', name, type: get('type') }) };
    }
    default:
      return undefined;
  }
}
