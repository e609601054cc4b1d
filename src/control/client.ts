/**
 * The CLI side of the control endpoint: one HTTP request over TCP or a Unix socket, with the
 * bearer token, a deadline, and the JSON error body turned into an Error message.
 */
import { request } from 'node:http';

export interface ControlTarget {
  address?: string;
  port?: number;
  socketPath?: string;
  token?: string;
}

/** A non-2xx answer from the endpoint (or no answer at all: `status` 0). */
export class ControlRequestError extends Error {
  /** The API's error code (`ERR_...`), when the endpoint sent one. */
  readonly code: string | undefined;

  constructor(readonly status: number, message: string, code?: string) {
    super(message);
    this.name = 'ControlRequestError';
    this.code = code;
  }
}

/**
 * The message (and code) of an error body: `{ error: { code, message } }` now, `{ error: "..." }`
 * from endpoints of earlier versions, or plain text.
 */
export function errorOf(body: string): { message: string; code: string | undefined } {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof e === 'string') return { message: e, code: undefined };
    if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
      const o = e as { message: string; code?: unknown };
      return { message: o.message, code: typeof o.code === 'string' ? o.code : undefined };
    }
  } catch { /* not JSON */ }
  return { message: body.trim(), code: undefined };
}

export interface ControlReply {
  status: number;
  contentType: string;
  body: string;
}

/** Sends `method path` and resolves with the reply; rejects with ControlRequestError. */
export function controlRequest(target: ControlTarget, method: 'GET' | 'POST', path: string, timeoutMs = 10_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
    const req = request({
      method, path, headers, timeout: timeoutMs,
      ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : { host: target.address ?? '127.0.0.1', port: target.port ?? 8053 }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        if (status >= 200 && status < 300 || status === 409) {
          resolve({ status, contentType, body });
          return;
        }
        const { message, code } = errorOf(body);
        reject(new ControlRequestError(status, `control endpoint answered ${status}: ${message}`, code));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      const where = target.socketPath ?? `${target.address ?? '127.0.0.1'}:${target.port ?? 8053}`;
      reject(new ControlRequestError(0, `cannot reach the control endpoint at ${where}: ${err.message}`));
    });
    req.end();
  });
}

/** `controlRequest` and JSON.parse of the body. */
export async function controlJson<T>(target: ControlTarget, method: 'GET' | 'POST', path: string): Promise<{ status: number; data: T }> {
  const r = await controlRequest(target, method, path);
  return { status: r.status, data: JSON.parse(r.body) as T };
}
