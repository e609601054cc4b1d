/**
 * Upstream server addresses as users write them (config files, `--forward`, dig's @server#port):
 * plain DNS, DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484). Parsing only; no I/O.
 * Bad text is an AddressError naming the text and the reason.
 */
import { isIP } from 'node:net';
import { AddressError } from '../errors.js';
import type { ServerAddress } from './exchange.js';

/** An upstream's address; `tls` set for DNS over TLS (RFC 7858), with the name its certificate must carry. */
export interface UpstreamAddress extends ServerAddress {
  tls?: { servername?: string | undefined } | undefined;
  /** DNS over HTTPS (RFC 8484): the URI template's path and the certificate name. */
  https?: { path: string; servername?: string | undefined } | undefined;
}

/**
 * Parses `address`, `address:port`, `[v6]:port` or `address#port` (dig spells it so), and
 * `tls://address[:port][#name]` for DNS over TLS (port 853; `#name` is the name the server's
 * certificate must carry, as in Unbound's forward-addr), and `https://address[:port]/path[#name]`
 * for DNS over HTTPS (port 443, path `/dns-query` when none is given).
 */
export function parseUpstream(text: string, defaultPort = 53): UpstreamAddress {
  const t = text.trim();
  if (t.toLowerCase().startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(t);
    } catch {
      throw new AddressError(text, 'is not a URL');
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // The address must be literal: looking a name up would need the resolver we are configuring.
    if (isIP(host) === 0) throw new AddressError(text, 'must name the server by IP address (put the certificate name after #)');
    const servername = url.hash.length > 1 ? decodeURIComponent(url.hash.slice(1)) : undefined;
    return {
      address: host, port: url.port === '' ? 443 : Number(url.port),
      https: { path: url.pathname === '/' ? '/dns-query' : url.pathname + url.search, servername },
    };
  }
  if (t.toLowerCase().startsWith('tls://')) {
    let rest = t.slice(6);
    let servername: string | undefined;
    const hash = rest.indexOf('#');
    if (hash >= 0) {
      servername = rest.slice(hash + 1);
      rest = rest.slice(0, hash);
      if (servername === '') throw new AddressError(text, 'has an empty name after #');
    }
    return { ...parseUpstream(rest, 853), tls: { servername } };
  }
  let host = t;
  let port = defaultPort;
  const hash = host.indexOf('#');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (hash >= 0) {
    port = Number(host.slice(hash + 1));
    host = host.slice(0, hash);
  } else if (bracket !== null) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if ((host.match(/:/g) ?? []).length === 1) {
    const i = host.indexOf(':');
    port = Number(host.slice(i + 1));
    host = host.slice(0, i);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AddressError(text, 'has a bad port');
  if (isIP(host) === 0) throw new AddressError(text, 'is not an IP address');
  return { address: host, port };
}
