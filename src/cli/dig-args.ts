/**
 * Command-line parsing for `sovereign dig`, apart from running it.
 *
 *   dig [@server] [-p port] [-4|-6] [-t type] [-c class] [-x addr] [-q name] [-b addr]
 *       [name] [type] [class] [+options]
 *
 * Follows BIND 9.18 dig: positionals that are a type or class mnemonic set the type or class of
 * the current lookup, any other positional is a name (a second name starts a second lookup);
 * `+option` / `+nooption` may be abbreviated to any unique prefix; with no name the query is
 * `. NS`. Invariant: parsing never touches the network or the file system; every problem is a
 * DigUsageError carrying dig's one-line message (exit code 1).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { Name } from '../wire/name.js';
import { RRClass, RRType, classFromString, typeFromString } from '../wire/types.js';
import { parseIPv6 } from '../wire/rdata/fields.js';

/** A usage error: dig prints the message (and usage) and exits with 1. */
export class DigUsageError extends Error {
  /** 1 for usage errors; dig exits 10 when an option's value cannot be parsed. */
  /** `oneLine`: print just `dig: message` (no usage synopsis). */
  constructor(message: string, readonly exitCode = 1, readonly oneLine = false) {
    super(message);
  }
}

export interface DigLookup {
  /** Name as typed (made absolute when querying). */
  name: string;
  type: number;
  class: number;
  /** True when the type was given explicitly. */
  typeSet: boolean;
  /** `IXFR=SERIAL`: the serial the client has (RFC 1995 §3), sent as an SOA in the authority section. */
  ixfrSerial?: number;
  /**
   * The options of this lookup: the global ones (given before the first name) as they stood
   * when its name was given, plus the options given after its name (dig's local options).
   */
  opts?: DigOptions;
}

/** Which parts of the output are printed (dig's +[no]cmd, +[no]comments, ...). */
export interface DigDisplay {
  cmd: boolean;
  comments: boolean;
  question: boolean;
  answer: boolean;
  authority: boolean;
  additional: boolean;
  stats: boolean;
  /** Print the query too (+qr). */
  qr: boolean;
  /** +short: rdata of answers only. */
  short: boolean;
  /** +[no]ttlid: TTL column. */
  ttlid: boolean;
  /** +[no]class: class column. */
  showClass: boolean;
  /** +identify: with +short, the server each answer came from. */
  identify: boolean;
  json: boolean;
  /** +[no]multiline: long records split over lines in parentheses, with BIND's comments. */
  multiline: boolean;
  /** +[no]rrcomments; undefined: dig's default (on with +multiline, off otherwise). */
  rrComments: boolean | undefined;
  /** +ttlunits: TTLs as `1h30m` (BIND's short units). */
  ttlUnits: boolean;
  /** +unknownformat: every record in RFC 3597 form (`CLASS1 TYPE1 \# 4 C0000201`). */
  unknownFormat: boolean;
  /** +split=W: hex/base64 fields cut into W-character chunks (0: never); default 56. */
  split: number;
  /** +[no]crypto: print key, signature and digest material (off: `[omitted]` / `[key id = N]`). */
  crypto: boolean;
  /** +yaml: the messages as BIND's YAML documents. */
  yaml: boolean;
  /** +onesoa: an AXFR prints only the opening SOA. */
  oneSoa: boolean;
  /** -u: query times in microseconds. */
  usec: boolean;
  /** +idnout: names printed in Unicode (punycode labels converted back). */
  idnOut: boolean;
}

export interface DigOptions {
  /** @server as given (address or host name); undefined: the first resolv.conf nameserver. */
  server: string | undefined;
  port: number;
  /** -p was given (else +tls and +https pick 853 and 443). */
  portGiven: boolean;
  family: 4 | 6 | undefined;
  /** -b: source address. */
  source: string | undefined;
  lookups: DigLookup[];
  /** +[no]tcp; undefined: UDP, except TCP for ANY queries (dig 9.18). */
  tcp: boolean | undefined;
  /** +ignore: don't retry over TCP on truncation. */
  ignoreTruncation: boolean;
  recurse: boolean;
  dnssec: boolean;
  cd: boolean;
  ad: boolean;
  nsid: boolean;
  cookie: boolean;
  /** EDNS version to send, or undefined for +noedns. */
  edns: number | undefined;
  bufsize: number;
  /** +subnet=addr/len (EDNS Client Subnet). */
  subnet: { address: string; prefix: number } | undefined;
  timeSeconds: number;
  tries: number;
  trace: boolean;
  /** +hints=FILE (Sovereign's own): root hints for +trace without @server; default the IANA set. */
  hintsFile: string | undefined;
  display: DigDisplay;
  /** The arguments as given, for the `; <<>> ... <<>>` line. */
  argv: string[];
  help: boolean;
  /** -f FILE: batch file, one dig command line per line, run after the command line's lookups. */
  batchFile: string | undefined;
  version: boolean;
  /** Warnings dig prints to stderr and carries on (an invalid -t type or -c class). */
  warnings: string[];
  /** Header bits to set in the query: +aaflag, +zflag, +tcflag, +raflag. */
  aa: boolean;
  z: boolean;
  tc: boolean;
  ra: boolean;
  /** +qid=N: the message ID (undefined: random). */
  qid: number | undefined;
  /** +opcode=N|mnemonic. */
  opcode: number;
  /** +header-only: a query without a question section. */
  headerOnly: boolean;
  /** +expire, +keepalive: empty EXPIRE (RFC 7314) and TCP keepalive (RFC 7828) options. */
  expire: boolean;
  keepalive: boolean;
  /** +padding=B: RFC 8467 block padding of the query (0: none). */
  padding: number;
  /** +ednsopt=code[:hex]: extra options, in the order given; +noednsopt clears them. */
  ednsOptions: { code: number; data: Uint8Array }[];
  /** +ednsflags=N: the EDNS flags word's must-be-zero bits; +coflag sets 0x4000 (CO). */
  ednsFlags: number;
  co: boolean;
  /** +cookie=HEX: the client (and server) cookie to send instead of a random one. */
  cookieValue: Uint8Array | undefined;
  /** +[no]fail: on SERVFAIL, go on to the next server (dig's default: stop). */
  fail: boolean;
  /** +[no]keepopen: one TCP connection for all lookups. */
  keepOpen: boolean;
  /** +[no]search / +[no]defname, +ndots=D, +domain=NAME, +showsearch: resolv.conf's search list. */
  search: boolean;
  ndots: number | undefined;
  domain: string | undefined;
  showSearch: boolean;
  /** +[no]idnin: Unicode names converted to punycode (url.domainToASCII, IDNA2008-compatible
   *  UTS #46); undefined: as dig, only when stdout is a terminal (else the UTF-8 octets are the label). */
  idnIn: boolean | undefined;
  /** +nssearch: the zone's SOA from each of its name servers. */
  nssearch: boolean;
  /** +tls / +https[=path] (+https-get, +http-plain...): the transport. */
  transport: 'dns' | 'tls' | 'https' | 'http';
  /** DoH: the URL path and whether to use GET. */
  httpsPath: string;
  httpsGet: boolean;
  /** +tls-ca[=FILE]: verify the server certificate (against FILE, or the system CAs). */
  tlsCa: string | boolean;
  tlsHostname: string | undefined;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** -y [ALG:]NAME:SECRET: a TSIG key given inline (RFC 8945); dig's default algorithm is hmac-md5. */
  tsig: { algorithm: string; name: string; secret: string } | undefined;
  /** -k FILE: a TSIG key file in BIND's syntax (read when the query is sent). */
  keyFile: string | undefined;
  /** -r -m -i: accepted as dig does (no ~/.digrc is read; no memory debugging; -i is obsolete). */
}

export function defaultDisplay(): DigDisplay {
  return {
    cmd: true, comments: true, question: true, answer: true, authority: true, additional: true, stats: true,
    qr: false, short: false, ttlid: true, showClass: true, identify: false, json: false, multiline: false,
    rrComments: undefined, ttlUnits: false, unknownFormat: false, split: 56, crypto: true, yaml: false, oneSoa: false, usec: false,
    idnOut: false,
  };
}

/** dig's default EDNS UDP size since 9.16 (DNS flag day 2020). */
export const DEFAULT_BUFSIZE = 1232;

function defaults(argv: string[]): DigOptions {
  return {
    server: undefined, port: 53, portGiven: false, family: undefined, source: undefined, lookups: [], tcp: undefined, ignoreTruncation: false,
    recurse: true, dnssec: false, cd: false, ad: true, nsid: false, cookie: true, edns: 0, bufsize: DEFAULT_BUFSIZE,
    subnet: undefined, timeSeconds: 5, tries: 3, trace: false, hintsFile: undefined, display: defaultDisplay(), argv, help: false, version: false, batchFile: undefined,
    warnings: [], aa: false, z: false, tc: false, ra: false, qid: undefined, opcode: 0, headerOnly: false, expire: false, keepalive: false,
    padding: 0, ednsOptions: [], ednsFlags: 0, co: false, cookieValue: undefined, fail: false, keepOpen: false, search: false,
    ndots: undefined, domain: undefined, showSearch: false, idnIn: undefined, nssearch: false, transport: 'dns', httpsPath: '/dns-query',
    httpsGet: false, tlsCa: false, tlsHostname: undefined, tlsCertFile: undefined, tlsKeyFile: undefined, tsig: undefined, keyFile: undefined,
  };
}

type BoolSetter = (o: DigOptions, on: boolean) => void;

/** Boolean +options, by canonical name. */
const BOOL_OPTIONS: Record<string, BoolSetter> = {
  tcp: (o, on) => { o.tcp = on; },
  vc: (o, on) => { o.tcp = on; },
  ignore: (o, on) => { o.ignoreTruncation = on; },
  recurse: (o, on) => { o.recurse = on; },
  dnssec: (o, on) => { o.dnssec = on; },
  cdflag: (o, on) => { o.cd = on; },
  adflag: (o, on) => { o.ad = on; },
  nsid: (o, on) => { o.nsid = on; },
  cookie: (o, on) => { o.cookie = on; },
  trace: (o, on) => {
    o.trace = on;
    // dig: +trace implies +dnssec, and prints each hop's answer and authority without comments.
    if (on) {
      o.dnssec = true;
      o.display.comments = false;
      o.display.additional = false;
      o.display.stats = true;
    }
  },
  short: (o, on) => {
    o.display.short = on;
    if (on) {
      const d = o.display;
      d.cmd = false; d.comments = false; d.question = false; d.authority = false; d.additional = false; d.stats = false;
      d.answer = true;
    }
  },
  all: (o, on) => {
    const d = o.display;
    d.cmd = on; d.comments = on; d.question = on; d.answer = on; d.authority = on; d.additional = on; d.stats = on;
  },
  cmd: (o, on) => { o.display.cmd = on; },
  comments: (o, on) => { o.display.comments = on; },
  question: (o, on) => { o.display.question = on; },
  answer: (o, on) => { o.display.answer = on; },
  authority: (o, on) => { o.display.authority = on; },
  additional: (o, on) => { o.display.additional = on; },
  stats: (o, on) => { o.display.stats = on; },
  qr: (o, on) => { o.display.qr = on; },
  ttlid: (o, on) => { o.display.ttlid = on; },
  class: (o, on) => { o.display.showClass = on; },
  identify: (o, on) => { o.display.identify = on; },
  json: (o, on) => { o.display.json = on; },
  multiline: (o, on) => { o.display.multiline = on; },
  edns: (o, on) => { o.edns = on ? 0 : undefined; },
  aaflag: (o, on) => { o.aa = on; },
  aaonly: (o, on) => { o.aa = on; },
  zflag: (o, on) => { o.z = on; },
  tcflag: (o, on) => { o.tc = on; },
  raflag: (o, on) => { o.ra = on; },
  rdflag: (o, on) => { o.recurse = on; },
  coflag: (o, on) => { o.co = on; },
  do: (o, on) => { o.dnssec = on; },
  rrcomments: (o, on) => { o.display.rrComments = on; },
  ttlunits: (o, on) => { o.display.ttlUnits = on; },
  unknownformat: (o, on) => { o.display.unknownFormat = on; },
  crypto: (o, on) => { o.display.crypto = on; },
  yaml: (o, on) => { o.display.yaml = on; },
  onesoa: (o, on) => { o.display.oneSoa = on; },
  'header-only': (o, on) => { o.headerOnly = on; },
  expire: (o, on) => { o.expire = on; },
  keepalive: (o, on) => { o.keepalive = on; },
  fail: (o, on) => { o.fail = on; },
  keepopen: (o, on) => { o.keepOpen = on; },
  search: (o, on) => { o.search = on; },
  defname: (o, on) => { o.search = on; },
  showsearch: (o, on) => { o.showSearch = on; if (on) o.search = true; },
  idnin: (o, on) => { o.idnIn = on; },
  idnout: (o, on) => { o.display.idnOut = on; },
  nssearch: (o, on) => {
    o.nssearch = on;
    // dig: +nssearch prints one line per server and nothing else.
    if (on) {
      const d = o.display;
      d.cmd = false; d.comments = false; d.question = false; d.answer = false; d.authority = false; d.additional = false; d.stats = false;
    }
  },
  tls: (o, on) => { o.transport = on ? 'tls' : 'dns'; },
  https: (o, on) => { o.transport = on ? 'https' : 'dns'; o.httpsGet = false; o.httpsPath = '/dns-query'; },
  'https-get': (o, on) => { o.transport = on ? 'https' : 'dns'; o.httpsGet = on; o.httpsPath = '/dns-query'; },
  'https-post': (o, on) => { o.transport = on ? 'https' : 'dns'; o.httpsGet = false; o.httpsPath = '/dns-query'; },
  'http-plain': (o, on) => { o.transport = on ? 'http' : 'dns'; o.httpsGet = false; o.httpsPath = '/dns-query'; },
  'http-plain-get': (o, on) => { o.transport = on ? 'http' : 'dns'; o.httpsGet = on; o.httpsPath = '/dns-query'; },
  'http-plain-post': (o, on) => { o.transport = on ? 'http' : 'dns'; o.httpsGet = false; o.httpsPath = '/dns-query'; },
  'tls-ca': (o, on) => { o.tlsCa = on; if (on && o.transport === 'dns') o.transport = 'tls'; },
  'tls-hostname': (o, on) => { if (!on) o.tlsHostname = undefined; },
  'tls-certfile': (o, on) => { if (!on) o.tlsCertFile = undefined; },
  'tls-keyfile': (o, on) => { if (!on) o.tlsKeyFile = undefined; },
  ednsopt: (o, on) => { if (!on) o.ednsOptions = []; else throw new DigUsageError('ednsopt: missing code'); },
  opcode: (o, on) => { if (!on) o.opcode = 0; },
  subnet: (o, on) => { if (!on) o.subnet = undefined; },
  // Accepted without effect on what is printed here (dig's defaults hold): +besteffort prints
  // malformed replies, +badcookie/+showbadcookie concern BADCOOKIE retries, +ednsnegotiation
  // EDNS version negotiation (done on BADVERS anyway), +fuzztime TSIG signing times, +dns64prefix.
  besteffort: () => {},
  badcookie: () => {},
  showbadcookie: () => {},
  ednsnegotiation: () => {},
  fuzztime: () => {},
  ednsflags: (o, on) => { if (!on) o.ednsFlags = 0; },
  padding: (o, on) => { if (!on) o.padding = 0; },
  ndots: () => {},
  split: (o, on) => { o.display.split = on ? 56 : 0; },
  timeout: () => {},
  // Removed from dig long ago; 9.18 warns and carries on.
  sigchase: (o) => { o.warnings.push(';; +sigchase option is deprecated'); },
  topdown: (o) => { o.warnings.push(';; +topdown option is deprecated'); },
  mapped: (o) => { o.warnings.push(';; +mapped option is deprecated'); },
  unexpected: (o) => { o.warnings.push(';; +unexpected option is deprecated'); },
};

/** +[no]short on `o`; exported for batch-file lines, whose +short holds for the lines after them (dig). */
export function setShort(o: DigOptions, on: boolean): void {
  BOOL_OPTIONS.short!(o, on);
}

/** +options that take a value: `+name=value`. */
const VALUE_OPTIONS: Record<string, (o: DigOptions, value: string, raw: string) => void> = {
  bufsize: (o, v, raw) => { o.bufsize = intIn(v, 0, 65535, raw); },
  time: (o, v, raw) => { o.timeSeconds = Math.max(1, intIn(v, 0, 0xffffffff, raw)); },
  tries: (o, v, raw) => { o.tries = Math.max(1, intIn(v, 0, 0xffffffff, raw)); },
  retry: (o, v, raw) => { o.tries = intIn(v, 0, 0xffffffff, raw) + 1; },
  edns: (o, v, raw) => { o.edns = intIn(v, 0, 255, raw); },
  subnet: (o, v, raw) => { o.subnet = parseSubnet(v, raw); },
  timeout: (o, v, raw) => { o.timeSeconds = Math.max(1, intIn(v, 0, 0xffffffff, raw)); },
  qid: (o, v, raw) => { o.qid = intIn(v, 0, 0xffff, raw); },
  opcode: (o, v, raw) => { o.opcode = parseOpcode(v, raw); },
  padding: (o, v, raw) => { o.padding = intIn(v, 0, 512, raw); },
  // dig reads +ednsflags in C's base-prefix notation (0x80, 0200, 128).
  ednsflags: (o, v, raw) => { o.ednsFlags = intIn(/^0x[0-9a-f]+$/i.test(v) ? String(parseInt(v, 16)) : v, 0, 0xffff, raw) & 0x7fff; },
  ednsopt: (o, v, raw) => { o.ednsOptions.push(parseEdnsOpt(v, raw)); },
  cookie: (o, v, raw) => {
    o.cookie = true;
    o.cookieValue = parseHex(v, raw);
    if (o.cookieValue.length < 8 || o.cookieValue.length > 40) throw new DigUsageError(`invalid value '${v}' in ${raw}: bad cookie length`, 10);
  },
  ndots: (o, v, raw) => { o.ndots = intIn(v, 0, 0xffffffff, raw); },
  domain: (o, v) => { o.domain = v; },
  split: (o, v, raw) => {
    let n = intIn(v, 0, 0xffffffff, raw);
    // dig rounds the width up to a multiple of 4 (one base64 quantum) and says so.
    if (n % 4 !== 0) {
      n += 4 - (n % 4);
      o.warnings.push(`;; Warning, split must be a multiple of 4; adjusting to ${n}`);
    }
    o.display.split = n;
  },
  https: (o, v) => { o.transport = 'https'; o.httpsGet = false; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'https-get': (o, v) => { o.transport = 'https'; o.httpsGet = true; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'https-post': (o, v) => { o.transport = 'https'; o.httpsGet = false; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'http-plain': (o, v) => { o.transport = 'http'; o.httpsGet = false; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'http-plain-get': (o, v) => { o.transport = 'http'; o.httpsGet = true; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'http-plain-post': (o, v) => { o.transport = 'http'; o.httpsGet = false; o.httpsPath = v.length > 0 ? v : '/dns-query'; },
  'tls-ca': (o, v) => { o.tlsCa = v.length > 0 ? v : true; if (o.transport === 'dns') o.transport = 'tls'; },
  'tls-hostname': (o, v) => { o.tlsHostname = v; if (o.transport === 'dns') o.transport = 'tls'; },
  'tls-certfile': (o, v) => { o.tlsCertFile = v; if (o.transport === 'dns') o.transport = 'tls'; },
  'tls-keyfile': (o, v) => { o.tlsKeyFile = v; if (o.transport === 'dns') o.transport = 'tls'; },
  fuzztime: () => {},
  dscp: (o) => { o.warnings.push(';; +dscp option is obsolete and has no effect'); },
  'trusted-key': (o) => { o.warnings.push(';; +trusted-key option is deprecated'); },
  hints: (o, v, raw) => {
    if (v.length === 0) throw new DigUsageError(`Invalid option: ${raw}`);
    o.hintsFile = v;
  },
};

/** Short forms dig accepts besides unique prefixes. */
const ALIASES: Record<string, string> = { cd: 'cdflag', ad: 'adflag', rec: 'recurse', cl: 'class' };

function intIn(v: string, min: number, max: number, raw: string): number {
  if (!/^\d+$/.test(v)) throw new DigUsageError(`invalid value '${v}' in ${raw}: not a valid number`, 10);
  const n = Number(v);
  if (n < min || n > max) throw new DigUsageError(`invalid value '${v}' in ${raw}: out of range ${min}..${max}`, 10);
  return n;
}

const OPCODES = ['QUERY', 'IQUERY', 'STATUS', 'RESERVED3', 'NOTIFY', 'UPDATE'];

function parseOpcode(v: string, raw: string): number {
  const i = OPCODES.indexOf(v.toUpperCase());
  if (i >= 0) return i;
  return intIn(v, 0, 15, raw);
}

function parseHex(v: string, raw: string): Uint8Array {
  if (v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) throw new DigUsageError(`invalid value '${v}' in ${raw}: bad hex`, 10);
  const out = new Uint8Array(v.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(v.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** EDNS option names dig accepts in +ednsopt (BIND's `ednsoptscodes`). */
const EDNS_OPTION_NAMES: Record<string, number> = {
  LLQ: 1, UL: 2, NSID: 3, DAU: 5, DHU: 6, N3U: 7, ECS: 8, 'CLIENT-SUBNET': 8, EXPIRE: 9, COOKIE: 10, KEEPALIVE: 11,
  'TCP-KEEPALIVE': 11, PADDING: 12, CHAIN: 13, 'KEY-TAG': 14, EDE: 15, 'EXTENDED-ERROR': 15, 'CLIENT-TAG': 16, 'SERVER-TAG': 17,
};

function parseEdnsOpt(v: string, raw: string): { code: number; data: Uint8Array } {
  const colon = v.indexOf(':');
  const codeText = colon < 0 ? v : v.slice(0, colon);
  const named = EDNS_OPTION_NAMES[codeText.toUpperCase()];
  const code = named ?? intIn(codeText, 0, 65535, raw);
  return { code, data: colon < 0 ? new Uint8Array(0) : parseHex(v.slice(colon + 1), raw) };
}

function parseSubnet(v: string, raw: string): { address: string; prefix: number } {
  const slash = v.indexOf('/');
  const address = slash < 0 ? v : v.slice(0, slash);
  if (!isIPv4(address) && !isIPv6(address)) throw new DigUsageError(`Invalid option: ${raw}: "${address}" is not an address`);
  const max = isIPv4(address) ? 32 : 128;
  const prefix = slash < 0 ? max : intIn(v.slice(slash + 1), 0, max, raw);
  return { address, prefix };
}

/** Resolves an abbreviated option name to its canonical one, or undefined. */
function canonical(name: string, table: Record<string, unknown>): string | undefined {
  if (name in table) return name;
  const alias = ALIASES[name];
  if (alias !== undefined && alias in table) return alias;
  const hits = Object.keys(table).filter((k) => k.startsWith(name));
  return hits.length === 1 ? hits[0] : undefined;
}

function plusOption(o: DigOptions, arg: string): void {
  const body = arg.slice(1);
  const eq = body.indexOf('=');
  let name = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  let on = true;
  if (name.startsWith('no') && canonical(name, BOOL_OPTIONS) === undefined && canonical(name, VALUE_OPTIONS) === undefined) {
    on = false;
    name = name.slice(2);
  }
  if (value !== undefined && on) {
    const v = canonical(name, VALUE_OPTIONS);
    if (v !== undefined) return VALUE_OPTIONS[v]!(o, value, arg);
  }
  const b = canonical(name, BOOL_OPTIONS);
  if (b !== undefined && value === undefined) return BOOL_OPTIONS[b]!(o, on);
  throw new DigUsageError(`Invalid option: ${arg}`);
}

/**
 * A name typed with non-ASCII characters, as dig takes it: with +idnin converted to punycode
 * (RFC 5891 A-labels, `url.domainToASCII`); without, its UTF-8 octets become `\DDD` escapes.
 */
export function idnName(name: string, idnIn: boolean): string {
  if (!/[^\x00-\x7f]/.test(name)) return name;
  if (idnIn) {
    const dot = name.endsWith('.') ? '.' : '';
    const ascii = domainToASCII(dot ? name.slice(0, -1) : name);
    if (ascii === '') throw new DigUsageError(`'${name}' is not a legal IDNA2008 name (idn conversion failed)`);
    return ascii + dot;
  }
  let out = '';
  for (const ch of name) {
    if (ch.charCodeAt(0) < 0x80) {
      out += ch;
      continue;
    }
    for (const b of new TextEncoder().encode(ch)) out += '\\' + String(b).padStart(3, '0');
  }
  return out;
}

/** The in-addr.arpa. / ip6.arpa. (nibble, RFC 3596 §2.5) name for `addr`. */
export function reverseName(addr: string): string {
  if (isIPv4(addr)) return addr.split('.').reverse().join('.') + '.in-addr.arpa.';
  if (isIPv6(addr)) {
    const bytes = parseIPv6(addr, '-x address');
    const nibbles: string[] = [];
    for (let i = bytes.length - 1; i >= 0; i--) nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
    return nibbles.join('.') + '.ip6.arpa.';
  }
  throw new DigUsageError(`Invalid IP address ${addr}`);
}


/** A positional is a type only when it is a mnemonic or TYPEnnn, never a bare number (dig). */
function asType(text: string): number | undefined {
  if (/^\d+$/.test(text)) return undefined;
  return typeFromString(text);
}

function asClass(text: string): number | undefined {
  if (/^\d+$/.test(text)) return undefined;
  return classFromString(text);
}

/** A copy of `o` that a lookup can change without touching the global options. */
function snapshot(o: DigOptions): DigOptions {
  return { ...o, display: { ...o.display }, subnet: o.subnet === undefined ? undefined : { ...o.subnet }, ednsOptions: [...o.ednsOptions] };
}

/**
 * Parses dig's argv (without the command name). Throws DigUsageError. Options before the first
 * name are global (`DigOptions` itself); options after a name belong to that lookup only
 * (`lookup.opts`), as in dig.
 */
export function parseDigArgs(argv: string[], base?: DigOptions): DigOptions {
  // A batch-file line starts from the command line's global options (dig's default lookup).
  const global = base === undefined ? defaults(argv) :
    { ...snapshot(base), argv, lookups: [], warnings: [], batchFile: undefined, help: false, version: false };
  let current: DigLookup | undefined;
  const lookup = (): DigLookup => {
    if (current === undefined) {
      current = { name: '', type: RRType.A, class: RRClass.IN, typeSet: false };
      global.lookups.push(current);
    }
    return current;
  };
  const setName = (name: string): void => {
    if (current !== undefined && current.name !== '') current = undefined;
    const l = lookup();
    l.name = name;
    l.opts = snapshot(global);
  };
  // Where options go: the current named lookup, or the global set before any name.
  let o = global;
  const retarget = (): void => {
    o = current !== undefined && current.name !== '' && current.opts !== undefined ? current.opts : global;
  };
  const needValue = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new DigUsageError(`Invalid option: ${flag} needs an argument`);
    return v;
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    retarget();
    if (a.startsWith('@')) {
      if (a.length === 1) throw new DigUsageError('Invalid option: @ needs a server');
      o.server = a.slice(1);
      continue;
    }
    if (a.startsWith('+')) {
      const wasShort = o.display.short;
      plusOption(o, a);
      // dig's +short is a global switch (short_form): given after a name it holds for every later lookup too.
      if (o !== global && o.display.short !== wasShort) setShort(global, o.display.short);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const flag = a.slice(0, 2);
      // dig accepts the value glued on (-p53) or as the next argument (-p 53).
      const glued = a.length > 2 ? a.slice(2) : undefined;
      const value = (): string => glued ?? needValue(i++, flag);
      switch (flag) {
        case '-4': o.family = 4; break;
        case '-6': o.family = 6; break;
        case '-h': o.help = true; break;
        // -r: do not read ~/.digrc (Sovereign never reads it); -m: BIND's memory-usage debugging;
        // -i: obsolete (IP6.INT). dig 9.18 accepts all three and prints the same answers.
        case '-r': case '-m': case '-i': if (glued !== undefined) throw new DigUsageError(`Invalid option: ${a}`); break;
        case '-u': o.display.usec = true; if (glued !== undefined) throw new DigUsageError(`Invalid option: ${a}`); break;
        case '-v': o.version = true; break;
        case '-p': {
          const v = value();
          if (!/^\d+$/.test(v) || Number(v) > 65535) throw new DigUsageError("Couldn't parse port number");
          o.port = Number(v);
          o.portGiven = true;
          break;
        }
        case '-t': {
          const v = value();
          const t = typeFromString(v);
          // dig warns and keeps the default type.
          if (t === undefined) {
            o.warnings.push(`;; Warning, ignoring invalid type ${v}`);
            break;
          }
          const l = lookup();
          l.type = t;
          l.typeSet = true;
          break;
        }
        case '-c': {
          const v = value();
          const c = classFromString(v);
          if (c === undefined) o.warnings.push(`;; Warning, ignoring invalid class ${v}`);
          else lookup().class = c;
          break;
        }
        case '-q': setName(value()); break;
        case '-f': {
          const v = value();
          if (base !== undefined) throw new DigUsageError('Invalid option: -f in a batch file');
          global.batchFile = v;
          break;
        }
        case '-y': {
          // -y [hmac:]name:secret (dig: the algorithm defaults to hmac-md5).
          const v = value();
          const parts = v.split(':');
          if (parts.length < 2 || parts.length > 3 || parts.some((x) => x === '')) throw new DigUsageError(`invalid TSIG key: ${v}`, 1, true);
          const [algorithm, name, secret] = parts.length === 3 ? parts as [string, string, string] : ['hmac-md5', parts[0]!, parts[1]!];
          o.tsig = { algorithm, name, secret };
          o.keyFile = undefined;
          break;
        }
        case '-k': o.keyFile = value(); o.tsig = undefined; break;
        case '-b': {
          const v = value();
          const addr = v.includes('#') ? v.slice(0, v.indexOf('#')) : v;
          if (!isIPv4(addr) && !isIPv6(addr)) throw new DigUsageError(`Invalid address: ${v}`);
          o.source = addr;
          break;
        }
        case '-x': {
          setName(reverseName(value()));
          const l = lookup();
          if (!l.typeSet) l.type = RRType.PTR;
          break;
        }
        default:
          throw new DigUsageError(`Invalid option: ${a}`);
      }
      continue;
    }
    // IXFR=SERIAL (dig): an IXFR query from that serial.
    const ixfr = /^ixfr=(\d+)$/i.exec(a);
    if (ixfr !== null && Number(ixfr[1]) <= 0xffffffff) {
      const l = lookup();
      l.type = RRType.IXFR;
      l.typeSet = true;
      l.ixfrSerial = Number(ixfr[1]);
      continue;
    }
    // Positional: type, class or name (BIND dig checks type first, then class).
    const t = asType(a);
    if (t !== undefined) {
      const l = lookup();
      l.type = t;
      l.typeSet = true;
      continue;
    }
    const c = asClass(a);
    if (c !== undefined) {
      lookup().class = c;
      continue;
    }
    setName(a);
  }
  // dig: no name means `. NS`, unless the names come from a batch file.
  if (global.lookups.length === 0 && global.batchFile === undefined) lookup();
  for (const l of global.lookups) {
    l.opts ??= snapshot(global);
    const lo = l.opts;
    if (lo.family === 4 && lo.server !== undefined && isIPv6(lo.server)) throw new DigUsageError(`address family mismatch: ${lo.server} with -4`);
    if (lo.family === 6 && lo.server !== undefined && isIPv4(lo.server)) throw new DigUsageError(`address family mismatch: ${lo.server} with -6`);
    // dig: no name means the root, and then the default type is NS.
    if (l.name === '') {
      l.name = '.';
      if (!l.typeSet) l.type = RRType.NS;
    }
    l.name = idnName(l.name, lo.idnIn ?? process.stdout.isTTY === true);
    try {
      Name.fromText(l.name.endsWith('.') ? l.name : l.name + '.');
    } catch (e) {
      throw new DigUsageError(`'${l.name}' is not a legal name (${(e as Error).message})`);
    }
  }
  return global;
}

export const DIG_USAGE = `Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}
            {global-d-opt} host [@local-server] {local-d-opt}
            [ host [@local-server] {local-d-opt} [...]]

Where:  domain    is in the Domain Name System
        q-class  is one of (in,hs,ch,...) [default: in]
        q-type   is one of (a,any,mx,ns,soa,hinfo,axfr,txt,...) [default:a]
        q-opt    is one of:
                 -4                  (use IPv4 query transport only)
                 -6                  (use IPv6 query transport only)
                 -b address[#port]   (bind to source address/port)
                 -c class            (specify query class)
                 -f filename         (batch mode)
                 -p port             (specify port number)
                 -q name             (specify query name)
                 -t type             (specify query type)
                 -x dot-notation     (shortcut for reverse lookups)
                 -r                  (do not read ~/.digrc; Sovereign never reads it)
                 -u                  (display times in usec instead of msec)
                 -m, -i              (accepted as dig does; no effect)
        d-opt    is of the form +keyword[=value], where keyword is:
                 +[no]adflag         (Set AD flag in query (default on))
                 +[no]additional     (Control display of additional section)
                 +[no]all            (Set or clear all display flags)
                 +[no]answer         (Control display of answer section)
                 +[no]authority      (Control display of authority section)
                 +bufsize=###        (Set EDNS0 Max UDP packet size)
                 +[no]cdflag         (Set checking disabled flag in query)
                 +[no]class          (Control display of class in records)
                 +[no]cmd            (Control display of command line)
                 +[no]comments       (Control display of packet header and section name comments)
                 +[no]cookie         (Add a COOKIE option to the request)
                 +[no]dnssec         (Request DNSSEC records)
                 +[no]edns[=###]     (Set EDNS version) [0]
                 +[no]identify       (ID responders in short answers)
                 +[no]ignore         (Don't revert to TCP for TC responses.)
                 +[no]json           (Print the reply as JSON)
                 +[no]multiline      (Print records in an expanded format)
                 +[no]nsid           (Request Name Server ID)
                 +[no]qr             (Print question before sending)
                 +[no]question       (Control display of question section)
                 +[no]recurse        (Recursive mode (+[no]rec))
                 +retry=###          (Set number of UDP retries) [2]
                 +[no]short          (Display nothing except short form of answers)
                 +[no]stats          (Control display of statistics)
                 +subnet=addr        (Set edns-client-subnet option)
                 +[no]tcp            (TCP mode (+[no]vc))
                 +time=###           (Set query timeout) [5]
                 +[no]trace          (Trace delegation down from root (implies +dnssec))
                 +hints=FILE         (Root hints for +trace without @server) [built-in IANA set]
                 +tries=###          (Set number of UDP attempts) [3]
                 +[no]ttlid          (Control display of ttls in records)
                 +[no]aaflag +[no]zflag +[no]tcflag +[no]raflag +[no]coflag  (header/EDNS bits in the query)
                 +qid=### +opcode=###|NAME +[no]header-only              (query ID, opcode, no question)
                 +[no]expire +[no]keepalive +padding=### +ednsopt=CODE[:HEX] +ednsflags=### +cookie=HEX
                 +[no]rrcomments +[no]ttlunits +[no]unknownformat +split=## +[no]crypto +[no]onesoa
                 +[no]yaml                               (Print the messages as YAML)
                 +[no]tls +tls-ca[=FILE] +tls-hostname=NAME  (DNS over TLS, port 853)
                 +[no]https[=/path] +https-get[=/path]   (DNS over HTTPS, port 443)
                 +[no]search +ndots=# +domain=NAME +[no]showsearch  (resolv.conf search list)
                 +[no]idnin +[no]idnout                  (IDN names in and out)
                 +[no]fail +[no]keepopen +timeout=###    (accepted as dig)
        -h                           (print help and exit)
        -v                           (print version and exit)
`;
