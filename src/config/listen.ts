/**
 * Listen addresses: the one parser behind `listen`, `control.listen`, `--listen` and `--control`.
 *
 * Accepted forms: `127.0.0.1:53`, `[::1]:5300`, `::1` and `127.0.0.1` (port 53), `localhost:5300` and
 * `localhost` (127.0.0.1 and ::1), and a bare port `5300` (loopback on that port, as the default
 * listens: write `0.0.0.0:53` to serve the network). Ports are decimal digits only (no `0x35`, `1e3`,
 * no empty port after the colon); 0 asks the kernel for an ephemeral port.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

export interface ListenAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

const LISTEN_FIX = 'write "address:port" ("127.0.0.1:5300", "[::1]:5300", "localhost:5300") or a port number';

function parsePort(text: string, whole: string): number {
  // Number() would take "0x35", "1e3", " 53" and "" (as 0): only plain decimal digits are a port.
  if (!/^\d{1,5}$/.test(text)) throw new ConfigError('listen', `"${whole}" has a bad port "${text}"`, LISTEN_FIX);
  const port = Number(text);
  if (port > 65535) throw new ConfigError('listen', `"${whole}" has a port above 65535`, LISTEN_FIX);
  return port;
}

/**
 * Expands one listen entry into the addresses it names (`localhost` and a bare port name two).
 * Throws ConfigError (path `listen`) with the fix.
 */
export function expandListen(entry: string | number, defaultPort = 53): ListenAddress[] {
  const text = typeof entry === 'number' ? String(entry) : entry.trim();
  if (text === '') throw new ConfigError('listen', 'empty address', LISTEN_FIX);
  if (/^\d+$/.test(text)) {
    const port = parsePort(text, text);
    return [{ address: '127.0.0.1', port, family: 4 }, { address: '::1', port, family: 6 }];
  }
  let host = text;
  let port = defaultPort;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = parsePort(bracket[2], text);
  } else {
    const first = text.indexOf(':');
    if (first >= 0 && first === text.lastIndexOf(':')) {
      host = text.slice(0, first);
      port = parsePort(text.slice(first + 1), text);
    }
  }
  if (host.toLowerCase() === 'localhost') {
    return [{ address: '127.0.0.1', port, family: 4 }, { address: '::1', port, family: 6 }];
  }
  const family = isIP(host);
  if (family === 0) {
    // Host names other than localhost are not looked up: the server may be the resolver they need.
    throw new ConfigError('listen', `"${text}" is not an IP address (or localhost) with an optional port`, LISTEN_FIX);
  }
  return [{ address: host, port, family: family as 4 | 6 }];
}

/** Parses one address that must name exactly one socket (`localhost` means 127.0.0.1 here). */
export function parseListen(text: string): ListenAddress {
  return expandListen(text)[0]!;
}

/** The canonical text of an address: `127.0.0.1:53`, `[::1]:53`. */
export function formatListen(l: ListenAddress): string {
  return l.family === 6 ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x (the addresses only this host can reach). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a === '0:0:0:0:0:0:0:1' || a.startsWith('::ffff:127.');
}

/** An encrypted (or proxied HTTP) listener: `tls://ADDR[:PORT]`, `https://ADDR[:PORT][/path]`, `http://ADDR[:PORT][/path]`. */
export interface EncryptedListen extends ListenAddress {
  /** tls: DNS over TLS (RFC 7858); https: DNS over HTTPS (RFC 8484); http: DoH in clear behind a reverse proxy. */
  scheme: 'tls' | 'https' | 'http';
  /** The DoH URI template's path (RFC 8484 §3); `/dns-query` when none is given. Empty for tls. */
  path: string;
}

const ENCRYPTED_FIX = 'write "tls://ADDR:PORT" (DNS over TLS, port 853 by default), "https://ADDR:PORT/dns-query" (DNS over HTTPS, 443) or "http://ADDR:PORT/dns-query" (DoH behind a reverse proxy, 80)';
const DEFAULT_PORTS = { tls: 853, https: 443, http: 80 } as const;

/** True when a listen entry names an encrypted or HTTP transport. */
export function isEncryptedListen(text: string): boolean {
  return /^(tls|https|http):\/\//i.test(text.trim());
}

/** Parses `tls://`, `https://` and `http://` listen entries (`localhost` names two addresses). */
export function expandEncryptedListen(entry: string): EncryptedListen[] {
  const text = entry.trim();
  const m = /^(tls|https|http):\/\/(\[[^\]]*\]|[^/[\]]*)(\/.*)?$/i.exec(text);
  if (m === null) throw new ConfigError('listen', `"${text}" is not a listener URL`, ENCRYPTED_FIX);
  const scheme = m[1]!.toLowerCase() as 'tls' | 'https' | 'http';
  let path = m[3] ?? '';
  if (scheme === 'tls' && path !== '') throw new ConfigError('listen', `"${text}": DNS over TLS has no path`, ENCRYPTED_FIX);
  if (scheme !== 'tls') {
    if (path === '' || path === '/') path = '/dns-query';
    if (/[?#\s]/.test(path)) throw new ConfigError('listen', `"${text}": the DoH path may not hold ?, # or spaces`, ENCRYPTED_FIX);
  }
  const hostPort = m[2]!;
  if (hostPort === '') throw new ConfigError('listen', `"${text}" names no address`, ENCRYPTED_FIX);
  const addrs = expandListen(hostPort, DEFAULT_PORTS[scheme]);
  return addrs.map((a) => ({ ...a, scheme, path }));
}

/** The canonical text of an encrypted listener: `tls://127.0.0.1:853`, `https://[::1]:443/dns-query`. */
export function formatEncryptedListen(l: EncryptedListen): string {
  return `${l.scheme}://${formatListen(l)}${l.path}`;
}
