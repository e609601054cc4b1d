/**
 * The web dashboard's files (built by `npm run build` into dist/dashboard, see dashboard/build.mjs),
 * served by the control endpoint at `/` without a token: they hold no data; every API call the
 * page makes carries the token the operator typed in.
 *
 * Invariants: only the files present at the first request are served (read once, kept in
 * memory; no path from the URL reaches the file system); each goes out with its content type,
 * `nosniff` and a Content-Security-Policy allowing nothing but this origin (no inline script, no
 * CDN, no framing).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Where the build puts the bundle: dist/dashboard beside dist/src. */
export function defaultDashboardDir(): string {
  return fileURLToPath(new URL('../../dashboard/', import.meta.url));
}

interface StaticFile {
  type: string;
  body: Buffer;
}

export class StaticFiles {
  private files: Map<string, StaticFile> | undefined;

  constructor(private readonly dir: string = defaultDashboardDir()) {}

  private load(): Map<string, StaticFile> {
    if (this.files !== undefined) return this.files;
    const files = new Map<string, StaticFile>();
    const walk = (sub: string): void => {
      const here = join(this.dir, sub);
      if (!existsSync(here)) return;
      for (const e of readdirSync(here, { withFileTypes: true })) {
        const rel = sub === '' ? e.name : `${sub}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (TYPES[extname(e.name)] !== undefined) files.set('/' + rel, { type: TYPES[extname(e.name)]!, body: readFileSync(join(here, e.name)) });
      }
    };
    walk('');
    this.files = files;
    return files;
  }

  /** True when `path` is a dashboard file (or `/`, the page itself). */
  has(path: string): boolean {
    return this.load().has(path === '/' ? '/index.html' : path);
  }

  /** Sends the file; false when there is none (the dashboard was not built). */
  serve(path: string, res: ServerResponse, head = false): boolean {
    const f = this.load().get(path === '/' ? '/index.html' : path);
    if (f === undefined) return false;
    res.writeHead(200, {
      'content-type': f.type, 'content-length': f.body.length, 'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
      'cache-control': path === '/' || path.endsWith('.html') ? 'no-cache' : 'max-age=300',
    });
    res.end(head ? undefined : f.body);
    return true;
  }
}
