/**
 * dig's +options (BIND 9.18): the table of boolean `+[no]name` options and of `+name=value`
 * options, each a setter on DigOptions, with dig's abbreviation rules (any unique prefix, a few
 * fixed aliases such as +cd and +rec) and dig's messages for values out of range.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { DigUsageError, type DigOptions } from './dig-options.js';

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

/** Applies one `+[no]option[=value]` argument to `o` (unique prefixes and aliases accepted). */
export function plusOption(o: DigOptions, arg: string): void {
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
