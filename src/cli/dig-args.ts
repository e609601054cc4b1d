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
import { parseIPv6 } from '../wire/rdata/addresses.js';
import { DigUsageError, type DigLookup, type DigOptions, digDefaults } from './dig-options.js';
import { plusOption, setShort } from './dig-plus-options.js';

export { DEFAULT_BUFSIZE, DigUsageError, defaultDisplay, type DigDisplay, type DigLookup, type DigOptions } from './dig-options.js';
export { setShort } from './dig-plus-options.js';

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
  const global = base === undefined ? digDefaults(argv) :
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
