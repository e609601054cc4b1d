/**
 * The control endpoint's bearer token: a random secret in a file only its owner can read.
 * `serve` creates it at first start when absent (mode 0600, in a 0700 folder it creates);
 * the CLI commands read the same file. A system service without a home directory keeps it in
 * its state directory (`$STATE_DIRECTORY`, else /var/lib/sovereign).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/** The system-wide state directory a service account without a home uses (systemd's StateDirectory=sovereign). */
export const SYSTEM_STATE_DIR = '/var/lib/sovereign';

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the server keeps its token when the config does not say, first match:
 * `$STATE_DIRECTORY/control.token` (systemd's StateDirectory=), then
 * `$XDG_CONFIG_HOME` or `~/.config/sovereign/control.token` when the home directory exists and is
 * writable, then `/var/lib/sovereign/control.token` (a system user without a home).
 */
export function defaultTokenFile(): string {
  const state = process.env.STATE_DIRECTORY;
  if (state !== undefined && state !== '') return join(state.split(':')[0]!, 'control.token');
  const xdg = process.env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== '') return join(xdg, 'sovereign', 'control.token');
  const home = homedir();
  if (home !== '' && home !== '/' && existsSync(home) && writable(home)) return join(home, '.config', 'sovereign', 'control.token');
  return join(SYSTEM_STATE_DIR, 'control.token');
}

/**
 * Where a CLI command looks for the token when nothing says: the server's default for this user,
 * then the system state directory (a server run as a system user); the first that exists wins.
 */
export function clientTokenFile(): string {
  const own = defaultTokenFile();
  const candidates = [own, join(SYSTEM_STATE_DIR, 'control.token')];
  return candidates.find((p) => existsSync(p)) ?? own;
}

/** Reads the token (first line, trimmed). Throws ConfigError when missing, unreadable or empty, with what to do. */
export function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fix = code === 'EACCES'
      ? 'the token belongs to the user the server runs as: run this command as that user (e.g. `sudo -u sovereign sovereign stats`) or as root, or pass --token-file'
      : code === 'ENOENT'
        ? 'start `sovereign serve` once (it creates the token), or pass --token-file / set control.tokenFile to the file the server uses (a system service keeps it in $STATE_DIRECTORY or /var/lib/sovereign)'
        : 'check the path, or pass --token-file';
    throw new ConfigError('control.tokenFile', `cannot read ${path}: ${(err as Error).message}`, fix);
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 16) throw new ConfigError('control.tokenFile', `${path} holds no usable token`, 'delete it and restart the server to get a new one');
  return token;
}

/** Writes a fresh token to `path` atomically (temp file created 0600, then renamed over). */
function writeNewToken(path: string, exclusive: boolean): string {
  const token = randomBytes(32).toString('base64url');
  if (exclusive) {
    // 'wx': never overwrite a token another process created a moment ago.
    writeFileSync(path, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, token + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return token;
}

/**
 * Returns the token in `path`, creating it (32 random octets, base64url, mode 0600, in a 0700
 * folder) when the file does not exist. A token file found readable by others is treated as
 * leaked: a new token replaces it (atomically, mode 0600) and the caller is told, so old
 * copies stop working.
 */
export function ensureToken(path: string): { token: string; created: boolean; regenerated: boolean } {
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) return { token: writeNewToken(path, false), created: false, regenerated: true };
    return { token: readToken(path), created: false, regenerated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return { token: writeNewToken(path, true), created: true, regenerated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: readToken(path), created: false, regenerated: false };
    throw err;
  }
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
