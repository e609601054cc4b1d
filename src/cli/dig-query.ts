/**
 * What every dig lookup needs, apart from printing: dig's exit codes, the server to ask (the
 * @server or resolv.conf's first nameserver, its address), the query dig would build for a
 * lookup, and dig's send-and-retry loop. Used by dig.ts (plain lookups), dig-trace.ts (+trace)
 * and nslookup.ts, none of which import each other for these.
 */
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { exchangeHttps } from '../client/doh.js';
import { exchangeTls } from '../client/dot.js';
import { type ExchangeResult, type ServerAddress, exchange, randomId } from '../client/exchange.js';
import { AbortedError, NetworkError, TimeoutError } from '../errors.js';
import { type Edns, type EdnsOption, newEdns, option, paddingFor } from '../wire/edns.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { CommandIO } from './command.js';
import { type DigLookup, type DigOptions, DigUsageError } from './dig-args.js';
import type { DigTsig } from './dig-tsig.js';

/** dig's output sink (the commands' one). */
export type DigIO = CommandIO;

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_NO_REPLY = 9;
export const EXIT_INTERNAL = 10;
/** dig exits 8 when the -f batch file cannot be opened. */
export const EXIT_BATCH_FILE = 8;

/**
 * The resolv.conf dig reads: SOVEREIGN_RESOLV_CONF when set (tests point it at a temporary file),
 * else /etc/resolv.conf.
 */
export function resolvConfPath(): string {
  return process.env.SOVEREIGN_RESOLV_CONF ?? '/etc/resolv.conf';
}

/** The search list and ndots of a resolv.conf (`search`/`domain` lines, `options ndots:N`). */
export function readSearch(path = resolvConfPath()): { search: string[]; ndots: number } {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch { /* none: no search list */ }
  let search: string[] = [];
  let ndots = 1;
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'search' || words[0] === 'domain') search = words.slice(1).filter((w) => !w.startsWith('#') && !w.startsWith(';'));
    if (words[0] === 'options') for (const w of words.slice(1)) if (/^ndots:\d+$/.test(w)) ndots = Math.min(15, Number(w.slice(6)));
  }
  return { search, ndots };
}

/**
 * The names dig +search tries for `name`, in order: a relative name with fewer dots than ndots
 * gets each search domain (+domain=NAME first), then itself; any other name is tried as given.
 */
export function searchCandidates(name: string, o: Pick<DigOptions, 'search' | 'ndots' | 'domain'>, path = resolvConfPath()): string[] {
  if (!o.search || name.endsWith('.')) return [name];
  const conf = readSearch(path);
  const ndots = o.ndots ?? conf.ndots;
  const dots = name.split('.').length - 1;
  if (dots >= ndots) return [name];
  const list = o.domain !== undefined ? [o.domain] : conf.search;
  return [...list.map((d) => `${name}.${d.replace(/\.$/, '')}.`), `${name}.`];
}

/** First `nameserver` of resolv.conf (of the wanted family), or the loopback address. */
export function defaultServer(family: 4 | 6 | undefined, path = resolvConfPath()): string {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch { /* no resolv.conf: fall back as BIND does */ }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m === null) continue;
    const addr = m[1]!.replace(/%.*$/, '');
    const fam = isIP(addr);
    if (fam === 0) continue;
    if (family === undefined || fam === family) return addr;
  }
  return family === 6 ? '::1' : '127.0.0.1';
}

/** Resolves @server to an address: literals as they are, names through the system resolver. */
export async function serverAddress(server: string, family: 4 | 6 | undefined): Promise<string> {
  if (isIP(server) !== 0) return server;
  try {
    const r = await dnsLookup(server, family === undefined ? {} : { family });
    return r.address;
  } catch (e) {
    throw new DigUsageError(`couldn't get address for '${server}': ${(e as NodeJS.ErrnoException).code ?? 'not found'}`);
  }
}

/**
 * The query dig would send for `l` under `o`, and the client cookie in it. EDNS options go in
 * dig 9.18's order: NSID, CLIENT-SUBNET, COOKIE, EXPIRE, KEEPALIVE, the +ednsopt ones, PADDING
 * (last, RFC 8467 §4, sized so the whole query is a multiple of the block).
 */
export function buildQuery(l: DigLookup, o: DigOptions): { query: Message; cookie: Uint8Array | undefined } {
  const name = Name.fromText(l.name.endsWith('.') ? l.name : l.name + '.');
  const q = Message.query(name, l.type, { rd: o.recurse, class: l.class });
  q.id = o.qid ?? randomId();
  q.ad = o.ad;
  q.cd = o.cd;
  q.aa = o.aa;
  q.tc = o.tc;
  q.ra = o.ra;
  q.z = o.z;
  q.opcode = o.opcode;
  if (l.ixfrSerial !== undefined) {
    // RFC 1995 §3: the serial we have, as an SOA in the authority section (dig's `. .` and zero timers).
    q.authority.push({ name, type: RRType.SOA, class: l.class, ttl: 0, data: {
      mname: Name.ROOT, rname: Name.ROOT, serial: l.ixfrSerial, refresh: 0, retry: 0, expire: 0, minimum: 0,
    } });
  }
  // +header-only: dig sends the header (and OPT) without a question (RFC 7873 §5.4 cookie refresh style).
  if (o.headerOnly) q.question = [];
  let cookie: Uint8Array | undefined;
  // +dnssec, +nsid, +subnet and +cookie all need EDNS; +noedns drops it unless they ask for it.
  if (o.edns !== undefined || o.dnssec) {
    const options: EdnsOption[] = [];
    if (o.nsid) options.push(option.nsid());
    if (o.subnet !== undefined) options.push(option.clientSubnet(o.subnet.address, o.subnet.prefix));
    if (o.cookie) {
      // +cookie=HEX sends those bytes (client cookie, and a server cookie when longer than 8).
      const sent = o.cookieValue ?? new Uint8Array(randomBytes(8));
      cookie = sent.subarray(0, 8);
      options.push({ code: 10, data: sent });
    }
    if (o.expire) options.push({ code: 9, data: new Uint8Array(0) });
    if (o.keepalive) options.push(option.tcpKeepalive());
    for (const x of o.ednsOptions) options.push({ code: x.code, data: x.data });
    const edns: Edns = newEdns({
      version: o.edns ?? 0, udpSize: o.bufsize, dnssecOk: o.dnssec, options, zFlags: (o.ednsFlags | (o.co ? CO_FLAG : 0)) & 0x7fff,
    });
    q.edns = edns;
    if (o.padding > 0) {
      edns.options.push(option.padding(0));
      const unpadded = q.encode().length;
      edns.options[edns.options.length - 1] = option.padding(paddingFor(unpadded, o.padding));
    }
  }
  return { query: q, cookie };
}

/** The EDNS CO flag (compact denial of existence OK, 0x4000 of the flags word after DO); dig's +coflag. */
export const CO_FLAG = 0x4000;

/** The query as dig prints it with +qr: padding is added after printing, so it shows empty. */
export function queryAsPrinted(query: Message): Message {
  const copy = Message.decode(query.encode());
  if (copy.edns !== undefined) copy.edns.options = copy.edns.options.map((x) => (x.code === 12 ? { code: 12, data: new Uint8Array(0) } : x));
  return copy;
}

/**
 * One exchange over DoT (+tls, RFC 7858) or DoH (+https, RFC 8484) with the client the forwarder
 * uses. As dig: the certificate is checked only with +tls-ca (against that file, or the system
 * CAs), and then against +tls-hostname or the server address.
 */
async function exchangeEncrypted(query: Message, server: ServerAddress, o: DigOptions, timeoutMs: number): Promise<ExchangeResult> {
  const verify = o.tlsCa !== false;
  const ca = typeof o.tlsCa === 'string' ? readFileSync(o.tlsCa) : undefined;
  const tls = {
    timeoutMs, rejectUnauthorized: verify, ...(ca === undefined ? {} : { ca }),
    ...(o.tlsHostname === undefined ? {} : { servername: o.tlsHostname }),
  };
  if (o.transport === 'http') throw new DigUsageError('+http-plain: DNS over cleartext HTTP/2 is not supported', 1, true);
  try {
    if (o.transport === 'tls') return await exchangeTls(query, server, { ...tls, tries: 1, keepId: true });
    return await exchangeHttps(query, server, { ...tls, path: o.httpsPath, keepId: true, method: o.httpsGet ? 'GET' : 'POST' });
  } catch (e) {
    // dig reports a failed certificate check on one line and gives up on that server.
    if (e instanceof NetworkError) {
      const why = /self[- ]signed/i.test(e.message) ? 'self-signed certificate' : /altnames|hostname/i.test(e.message) ? 'hostname mismatch'
        : /unable to (get|verify)|certificate/i.test(e.message) ? 'certificate verify failed' : undefined;
      if (why !== undefined) throw new TlsVerifyError(`;; TLS peer certificate verification for ${server.address}#${server.port} failed: ${why}`);
    }
    throw e;
  }
}

/** The server's certificate failed the +tls-ca check; the message is dig's line for it. */
export class TlsVerifyError extends Error {}

/** The port dig uses when -p is not given: 853 for +tls, 443 for +https, 80 for +http-plain. */
export function defaultPort(o: DigOptions): number {
  if (o.portGiven) return o.port;
  return o.transport === 'tls' ? 853 : o.transport === 'https' ? 443 : o.transport === 'http' ? 80 : o.port;
}

export interface LookupOutcome {
  result: ExchangeResult | undefined;
  exitCode: number;
}

/** Sends the query with dig's retry rules, printing dig's progress notes; undefined when no reply. */
export async function sendWithRetries(query: Message, server: ServerAddress, serverName: string, o: DigOptions, io: DigIO,
  qname: string, tsig?: DigTsig): Promise<ExchangeResult | undefined> {
  const timeoutMs = o.timeSeconds * 1000;
  const common = {
    timeoutMs, tries: 1, ignoreTruncation: true, keepId: true, ...(o.source === undefined ? {} : { localAddress: o.source }),
    ...(tsig === undefined ? {} : { sign: tsig.sign }),
  };
  // dig 9.18 asks ANY over TCP unless +notcp was given; +tls and +https are stream transports.
  const tcp = o.transport !== 'dns' || (o.tcp ?? query.question[0]?.type === RRType.ANY);
  const tries = o.tries;
  for (let i = 0; i < tries; i++) {
    try {
      if (o.transport !== 'dns') return await exchangeEncrypted(query, server, o, timeoutMs);
      const r = await exchange(query, server, { ...common, transport: tcp ? 'tcp' : 'udp' });
      if (r.transport === 'udp' && r.message.tc && !o.ignoreTruncation) {
        io.out(';; Truncated, retrying in TCP mode.\n');
        return await exchange(query, server, { ...common, transport: 'tcp' }).then((t) => ({ ...t, truncatedRetry: true }));
      }
      return r;
    } catch (e) {
      if (e instanceof AbortedError) throw e;
      if (!(e instanceof TimeoutError || e instanceof NetworkError)) throw e;
      const why = e instanceof TimeoutError ? 'timed out' : /refused/.test(e.message) ? 'connection refused' : e.message.replace(/^[^ ]+: /, '');
      if (tcp) {
        // dig 9.18 reports each failed TCP attempt as a lookup of its own.
        io.out(`;; Connection to ${server.address}#${server.port}(${serverName}) for ${qname} failed: ${why}.\n;; no servers could be reached\n`);
        continue;
      }
      io.out(`;; communications error to ${server.address}#${server.port}: ${why}\n`);
    }
  }
  return undefined;
}

