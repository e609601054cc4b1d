/**
 * `sovereign nslookup [-option...] name [server]`: BIND 9.18's nslookup (its interactive mode,
 * commands read from stdin, is in nslookup-interactive.ts), with its output layout (`Server:` /
 * `Address:` header, `Non-authoritative answer:`, `Name:` / `Address:` pairs, `mail exchanger = ...` and friends, `** server can't find`).
 *
 * Options: -type=T (also -query=, -q=, -ty=), -class=C, -port=N, -timeout=S, -retry=N,
 * -[no]recurse, -[no]vc. With no type, A and then AAAA are asked (as nslookup 9.18 does); an IP
 * address as the name asks for its PTR record. Exit code 0 when answered, 1 on an error RCODE or
 * no reply (as nslookup).
 */
import { isIP } from 'node:net';
import { type ExchangeResult, type ServerAddress, exchange } from '../client/exchange.js';
import { AbortedError, NetworkError, TimeoutError } from '../errors.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType, classFromString, classToString, printRData, typeFromString, typeToString } from '../wire/types.js';
import { reverseName } from './dig-args.js';
import { type Command, stdio } from './command.js';
import { type DigIO, defaultServer, serverAddress } from './dig-query.js';
import { runInteractive } from './nslookup-interactive.js';
import type { NslookupOptions } from './nslookup-options.js';

export class NslookupUsageError extends Error {}

export type { NslookupOptions } from './nslookup-options.js';

export function defaultNslookupOptions(): NslookupOptions {
  return {
    name: '', server: undefined, type: undefined, class: RRClass.IN, port: 53, timeoutSeconds: 2, tries: 2, recurse: true, tcp: false,
    debug: false, interactive: false, warnings: [],
  };
}

/**
 * Applies one option (`type=MX`, `norecurse`, ...: the text after `-` on the command line or after
 * `set ` in interactive mode) to `o`. Returns nslookup's warning when it is ignored, as nslookup
 * warns and carries on.
 */
export function applyNslookupOption(o: NslookupOptions, body: string): string | undefined {
  const eq = body.indexOf('=');
  const key = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  const num = (what: string): number | undefined => {
    if (value === undefined || !/^\d+$/.test(value)) return undefined;
    const n = Number(value);
    return what === 'port' && n > 65535 ? undefined : n;
  };
  if (['type', 'ty', 'query', 'q', 'querytype'].includes(key)) {
    const t = value === undefined ? undefined : typeFromString(value);
    if (t === undefined) return `unknown query type: ${value ?? ''}`;
    o.type = t;
  } else if (key === 'class' || key === 'cl') {
    const c = value === undefined ? undefined : classFromString(value);
    if (c === undefined) return `unknown query class: ${value ?? ''}`;
    o.class = c;
  } else if (key === 'port' || key === 'po') {
    const n = num('port');
    if (n === undefined) return `invalid port '${value ?? ''}': not a valid number`;
    o.port = n;
  } else if (key === 'timeout' || key === 'ti') {
    const n = num('timeout');
    if (n === undefined) return `invalid timeout '${value ?? ''}': not a valid number`;
    o.timeoutSeconds = Math.max(1, n);
  } else if (key === 'retry' || key === 'ret') {
    const n = num('retry');
    if (n === undefined) return `invalid retry '${value ?? ''}': not a valid number`;
    o.tries = Math.max(1, n);
  } else if (key === 'recurse' || key === 'rec') {
    o.recurse = true;
  } else if (key === 'norecurse' || key === 'norec') {
    o.recurse = false;
  } else if (key === 'vc') {
    o.tcp = true;
  } else if (key === 'novc') {
    o.tcp = false;
  } else if (key === 'debug' || key === 'deb') {
    o.debug = true;
  } else if (key === 'nodebug' || key === 'nodeb' || key === 'nod2') {
    o.debug = false;
  } else if (['domain', 'do', 'srchlist', 'search', 'nosearch', 'ndots', 'fail', 'nofail', 'd2', 'nod2'].includes(key)) {
    // Search-list settings: accepted; names are looked up as given (absolute). d2 is BIND's
    // internal trace of its own lookup machinery, which has no counterpart here.
  } else {
    return `*** Invalid option: ${body}`;
  }
  return undefined;
}

/** Parses nslookup's argv. Unknown options become warnings, as in nslookup. Throws NslookupUsageError. */
export function parseNslookupArgs(argv: string[]): NslookupOptions {
  const o = defaultNslookupOptions();
  const positionals: string[] = [];
  for (const a of argv) {
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const warning = applyNslookupOption(o, a.slice(1));
    if (warning !== undefined) o.warnings.push(warning);
  }
  if (positionals.length > 2) throw new NslookupUsageError(`too many arguments: ${positionals.slice(2).join(' ')}`);
  // `nslookup` alone or `nslookup - server`: interactive mode.
  o.interactive = positionals.length === 0 || positionals[0] === '-';
  o.name = o.interactive ? '' : positionals[0]!;
  o.server = positionals[1];
  return o;
}

function bare(n: Name): string {
  const s = n.toString();
  return s === '.' ? '.' : s.slice(0, -1);
}

/** One record as nslookup prints it; `answer` selects the `Name:/Address:` form for A/AAAA. */
export function nslookupRecord(rr: ResourceRecord, answer: boolean): string {
  const owner = bare(rr.name);
  const d = rr.data as Record<string, unknown>;
  switch (rr.type) {
    case RRType.A:
      return answer ? `Name:\t${owner}\nAddress: ${d.address as string}` : `${owner}\tinternet address = ${d.address as string}`;
    case RRType.AAAA:
      return answer ? `Name:\t${owner}\nAddress: ${d.address as string}` : `${owner}\thas AAAA address ${d.address as string}`;
    case RRType.CNAME: return `${owner}\tcanonical name = ${printRData(rr.type, rr.data)}`;
    case RRType.MX: return `${owner}\tmail exchanger = ${printRData(rr.type, rr.data)}`;
    case RRType.NS: return `${owner}\tnameserver = ${printRData(rr.type, rr.data)}`;
    case RRType.PTR: return `${owner}\tname = ${printRData(rr.type, rr.data)}`;
    case RRType.TXT: return `${owner}\ttext = ${printRData(rr.type, rr.data)}`;
    case RRType.SRV: return `${owner}\tservice = ${printRData(rr.type, rr.data)}`;
    case RRType.HINFO: return `${owner}\thinfo = ${printRData(rr.type, rr.data)}`;
    case RRType.SOA: {
      const s = d as { mname: Name; rname: Name; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return [`${owner}`, `\torigin = ${bare(s.mname)}`, `\tmail addr = ${bare(s.rname)}`, `\tserial = ${s.serial}`,
        `\trefresh = ${s.refresh}`, `\tretry = ${s.retry}`, `\texpire = ${s.expire}`, `\tminimum = ${s.minimum}`].join('\n');
    }
    default:
      return `${owner}\trdata_${rr.type} = ${printRData(rr.type, rr.data)}`;
  }
}

/** The body nslookup prints for one reply (after the Server/Address header). */
export function formatNslookupReply(m: Message, textName: string, qtype: number, defaultLookups: boolean, last: boolean,
  answeredBefore = false): { lines: string[]; failed: boolean } {
  const lines: string[] = [];
  if (m.rcode !== 0) {
    lines.push(`** server can't find ${textName}: ${rcodeToString(m.rcode)}`);
    return { lines, failed: true };
  }
  if (!m.aa) lines.push('Non-authoritative answer:');
  if (m.answer.length > 0) {
    // With A and AAAA both asked, the CNAME chain is shown once (with the A reply).
    for (const rr of m.answer) if (!(answeredBefore && rr.type === RRType.CNAME)) lines.push(nslookupRecord(rr, true));
  } else if (!defaultLookups || (last && !answeredBefore)) {
    lines.push(`*** Can't find ${textName}: No answer`);
  }
  if (!m.aa && qtype !== RRType.A && qtype !== RRType.AAAA) {
    lines.push('', 'Authoritative answers can be found from:');
    for (const rr of m.authority) lines.push(nslookupRecord(rr, false));
    for (const rr of m.additional) lines.push(nslookupRecord(rr, false));
  }
  return { lines, failed: false };
}

/**
 * Sends with nslookup's tries; the reply, or the lines nslookup prints when none came: one
 * `communications error` line per refused try, or `connection timed out`.
 */
async function ask(q: Message, server: ServerAddress, o: NslookupOptions): Promise<ExchangeResult | { refused: string[] }> {
  const refused: string[] = [];
  for (let i = 0; i < o.tries; i++) {
    try {
      return await exchange(q, server, { transport: o.tcp ? 'tcp' : 'udp', timeoutMs: o.timeoutSeconds * 1000, tries: 1 });
    } catch (e) {
      if (!(e instanceof TimeoutError || e instanceof NetworkError || e instanceof AbortedError)) throw e;
      if (e instanceof NetworkError && /refused/i.test(e.message)) refused.push(`;; communications error to ${server.address}#${server.port}: connection refused`);
    }
  }
  return { refused };
}

/** nslookup's debug block for one reply: each section's records with their TTLs. */
export function debugBlock(m: Message): string[] {
  const out = ['------------', '    QUESTIONS:'];
  for (const q of m.question) out.push(`\t${bare(q.name)}, type = ${typeToString(q.type)}, class = ${classToString(q.class)}`);
  const section = (title: string, rrs: ResourceRecord[]): void => {
    out.push(`    ${title}:`);
    for (const rr of rrs) {
      const text = nslookupRecord(rr, false);
      const tab = text.indexOf(rr.type === RRType.SOA ? '\n' : '\t');
      out.push(`    ->  ${bare(rr.name)}`, ...text.slice(tab + 1).split('\n').map((l) => (l.startsWith('\t') ? l : `\t${l}`)), `\tttl = ${rr.ttl}`);
    }
  };
  section('ANSWERS', m.answer);
  section('AUTHORITY RECORDS', m.authority);
  section('ADDITIONAL RECORDS', m.additional);
  out.push('------------');
  return out;
}

/**
 * Runs a parsed nslookup lookup; returns the exit code. `trailingBlank`: the command-line form
 * ends with an empty line; interactive lookups follow each other directly (nslookup).
 */
export async function runNslookup(o: NslookupOptions, io: DigIO, trailingBlank = true, serverAddr?: string): Promise<number> {
  const serverText = o.server ?? defaultServer(undefined);
  const address = serverAddr ?? await serverAddress(serverText, undefined);
  const server = { address, port: o.port };
  let name = o.name;
  let types: number[] = o.type === undefined ? [RRType.A, RRType.AAAA] : [o.type];
  const defaultLookups = o.type === undefined;
  // nslookup turns an address into its reverse name and asks for PTR, whatever -type says; the
  // Server/Address header is left out of such a lookup unless a type was given (nslookup 9.18).
  const reverse = isIP(name) !== 0;
  if (reverse) {
    name = reverseName(name);
    types = [RRType.PTR];
  }
  const textName = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
  const qname = Name.fromText(name.endsWith('.') ? name : name + '.');
  const out: string[] = reverse && o.type === undefined ? [] : [`Server:\t\t${serverText}`, `Address:\t${address}#${o.port}`, ''];
  let exitCode = 0;
  let answered = false;
  for (let i = 0; i < types.length; i++) {
    const q = Message.query(qname, types[i]!, { rd: o.recurse, class: o.class });
    const r = await ask(q, server, o);
    if ('refused' in r) {
      // A refused connection is reported without the Server/Address header (nslookup).
      if (r.refused.length > 0) out.length = 0;
      out.push(...r.refused, r.refused.length > 0 ? ';; no servers could be reached' : ';; connection timed out; no servers could be reached',
        ...(trailingBlank ? [''] : []));
      io.out(out.join('\n') + '\n');
      return 1;
    }
    const { lines, failed } = formatNslookupReply(r.message, textName, types[i]!, defaultLookups && types.length > 1, i === types.length - 1,
      answered);
    if (r.message.answer.length > 0) answered = true;
    // With A and AAAA asked, "Non-authoritative answer:" is printed once.
    if (i > 0 && lines[0] === 'Non-authoritative answer:' && out.includes('Non-authoritative answer:')) lines.shift();
    if (o.debug) out.push(...debugBlock(r.message));
    out.push(...lines);
    if (failed) {
      exitCode = 1;
      break;
    }
  }
  if (trailingBlank) out.push('');
  io.out(out.join('\n') + '\n');
  return exitCode;
}

export const command: Command = {
  summary: 'look up a name the way nslookup does (interactive without a name)',
  usage: 'usage: sovereign nslookup [-option ...] name [server]\n       sovereign nslookup [-option ...] [- [server]]   (interactive: commands on stdin)\n\noptions (also `set OPTION` in interactive mode):\n  -type=T, -query=T   record type (default A and AAAA; PTR for an address)\n  -class=C            record class\n  -port=N             server port (default 53)\n  -timeout=S          seconds per try\n  -retry=N            tries\n  -[no]recurse        ask for recursion (default on)\n  -[no]vc             use TCP\n  -[no]debug          print each reply\'s sections\n\ninteractive commands: NAME [SERVER], server NAME, lserver NAME, set OPTION, exit\n',
  async run(argv: string[]): Promise<number> {
    const io = stdio;
    let o: NslookupOptions;
    try {
      o = parseNslookupArgs(argv);
    } catch (e) {
      if (e instanceof NslookupUsageError) {
        io.err(`${e.message}\n`);
        return 1;
      }
      throw e;
    }
    for (const w of o.warnings) io.out(`${w}\n`);
    try {
      if (o.interactive) {
        return await runInteractive(o, process.stdin, io, process.stdin.isTTY === true, { applyOption: applyNslookupOption, lookup: runNslookup });
      }
      return await runNslookup(o, io);
    } catch (e) {
      io.err(`nslookup: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
