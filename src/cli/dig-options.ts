/**
 * What `sovereign dig` is asked to do, as parsed from its command line (dig-args.ts) and its
 * +options (dig-plus-options.ts): the option record, its defaults (BIND 9.18 dig's), and the
 * usage error every parse problem becomes.
 */
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

/** Every option at dig's default, before the command line is read. */
export function digDefaults(argv: string[]): DigOptions {
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
