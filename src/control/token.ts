/**
 * The control endpoint's bearer token: a random secret in a file only its owner can read.
 * `serve` creates it at first start when absent (mode 0600, in a 0700 folder it creates);
 * the CLI commands read the same file.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/** Where the token lives when the config does not say: `$XDG_CONFIG_HOME/sovereign/control.token`. */
export function defaultTokenFile(): string {
  const base = process.env.XDG_CONFIG_HOME !== undefined && process.env.XDG_CONFIG_HOME !== ''
    ? process.env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'sovereign', 'control.token');
}

/** Reads the token (first line, trimmed). Throws ConfigError when missing or empty. */
export function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('control.tokenFile', `cannot read ${path}: ${(err as Error).message}`,
      'start `sovereign serve` once (it creates the token) or point control.tokenFile at the server\'s token');
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 16) throw new ConfigError('control.tokenFile', `${path} holds no usable token`, 'delete it and restart the server to get a new one');
  return token;
}

/**
 * Returns the token in `path`, creating it (32 random octets, base64url, mode 0600) when the
 * file does not exist. A token file others can read is made private (and the caller is told).
 */
export function ensureToken(path: string): { token: string; created: boolean; tightened: boolean } {
  try {
    const st = statSync(path);
    let tightened = false;
    if ((st.mode & 0o077) !== 0) {
      chmodSync(path, 0o600);
      tightened = true;
    }
    return { token: readToken(path), created: false, tightened };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': never overwrite a token another process created a moment ago.
    writeFileSync(path, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: readToken(path), created: false, tightened: false };
    throw err;
  }
  return { token, created: true, tightened: false };
}

/** Constant-time check of an `Authorization: Bearer ...` header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m === null) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
