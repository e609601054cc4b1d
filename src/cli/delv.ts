/**
 * `sovereign delv [@server] [-p port] [-a anchor-file] [-t type] [+vtrace] name [type]`: asks a
 * resolver as BIND's delv does (RD=1, CD=1, DO=1), validates the answer itself from the trust
 * anchors down (DS and DNSKEY fetched through the same resolver), and prints it as delv 9.18:
 * `; fully validated`, `; unsigned answer`, `; negative response, ...` or `;; resolution failed: ...`.
 * `+vtrace` adds one line per link of the chain of trust (DS -> DNSKEY -> RRSIG: key tags,
 * algorithms, validity).
 */
import { exchange } from '../client/exchange.js';
import { TrustAnchorSet, Validator, type FetchResult } from '../dnssec/validator/index.js';
import { Rcode, rcodeToString } from '../wire/constants.js';
import { newEdns } from '../wire/edns.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, typeFromString, typeToString, type RRSIGData } from '../wire/types.js';
import { digRData, formatRecord } from './dig-format.js';
import { defaultServer } from './dig-query.js';
import type { Command } from './command.js';

export interface DelvArgs {
  server: string | undefined;
  port: number;
  anchorFile: string | undefined;
  name: string;
  type: number;
  vtrace: boolean;
}

const USAGE = 'usage: sovereign delv [@server] [-p port] [-a anchor-file] [-t type] [+vtrace] name [type]';

/** Parses delv's command line (the options Sovereign implements); throws with a message. */
export function parseDelvArgs(argv: string[]): DelvArgs {
  const out: DelvArgs = { server: undefined, port: 53, anchorFile: undefined, name: '', type: RRType.A, vtrace: false };
  let name: string | undefined;
  let type: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a.startsWith('@')) out.server = a.slice(1);
    else if (a === '-p') {
      out.port = Number(value());
      if (!Number.isInteger(out.port) || out.port < 1 || out.port > 65535) throw new Error('-p takes a port number');
    } else if (a === '-a') out.anchorFile = value();
    else if (a === '-t') {
      const v = value();
      type = typeFromString(v.toUpperCase());
      if (type === undefined) throw new Error(`unknown type ${v}`);
    } else if (a === '-q') name = value();
    else if (a === '+vtrace') out.vtrace = true;
    else if (a === '+novtrace') out.vtrace = false;
    else if (a.startsWith('+') || a.startsWith('-')) throw new Error(`unsupported option ${a} (${USAGE})`);
    else if (name === undefined) name = a;
    else if (type === undefined && typeFromString(a.toUpperCase()) !== undefined) type = typeFromString(a.toUpperCase());
    else throw new Error(`unexpected argument "${a}"`);
  }
  if (name === undefined) throw new Error(USAGE);
  out.name = name;
  if (type !== undefined) out.type = type;
  return out;
}

/** delv's short form of an authority record in a negative response (`; owner TYPE rdata`, RRSIGs abbreviated). */
function negativeLine(r: ResourceRecord): string {
  if (r.type === RRType.RRSIG) return `; ${r.name.toString()} RRSIG ${typeToString((r.data as RRSIGData).typeCovered)} ...`;
  return `; ${r.name.toString()} ${typeToString(r.type)} ${digRData(r.type, r.data)}`;
}

/** Runs delv; returns the lines to print and the exit status (delv exits 0 even when validation fails). */
export async function runDelv(args: DelvArgs, write: (s: string) => void, writeErr: (s: string) => void = write): Promise<number> {
  const server = { address: args.server ?? defaultServer(undefined), port: args.port };
  const anchors = args.anchorFile !== undefined ? TrustAnchorSet.fromFiles([args.anchorFile]) : TrustAnchorSet.builtin();
  const trace = args.vtrace ? (line: string): void => write(`;${line}\n`) : undefined;
  const ask = async (name: Name, type: number): Promise<FetchResult> => {
    const q = Message.query(name, type, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: true }) });
    q.cd = true;
    trace?.(`; fetch: ${name.isRoot ? '.' : name.toString().slice(0, -1)}/${typeToString(type)}`);
    const m = (await exchange(q, server, { timeoutMs: 5000, tries: 2 })).message;
    // delv reports a SERVFAIL from the resolver as "failure" (ISC_R_FAILURE).
    if (m.rcode !== Rcode.NOERROR && m.rcode !== Rcode.NXDOMAIN) throw new Error(m.rcode === Rcode.SERVFAIL ? 'failure' : rcodeToString(m.rcode));
    return { rcode: m.rcode, answer: m.answer, authority: m.authority };
  };
  const validator = new Validator({ anchors, fetch: ask });
  const qname = Name.fromText(args.name.endsWith('.') ? args.name : `${args.name}.`);
  let res: FetchResult;
  try {
    res = await ask(qname, args.type);
  } catch (err) {
    writeErr(`;; resolution failed: ${(err as Error).message}\n`);
    return 0;
  }
  const vr = await validator.validate(qname, args.type, res, { trace });
  if (vr.status === 'bogus') {
    // delv prints the failure on stderr.
    if (args.vtrace && vr.ede !== undefined) write(`;; validation failed (EDE ${vr.ede.code}): ${vr.ede.text}\n`);
    writeErr(';; resolution failed: failure\n');
    return 0;
  }
  const secure = vr.status === 'secure';
  const negative = res.rcode === Rcode.NXDOMAIN || !res.answer.some((r) => r.type === args.type || (args.type === RRType.ANY && r.type !== RRType.RRSIG));
  if (negative) {
    write(`; negative response, ${secure ? 'fully validated' : 'unsigned answer'}\n`);
    printAnswer(res.answer, vr.rrsets, write, writeErr);
    const nx = res.rcode === Rcode.NXDOMAIN;
    const soa = res.authority.find((r) => r.type === RRType.SOA);
    write(`; ${qname.toString()}\t\t${soa?.ttl ?? 0}\tIN\t\\-${nx ? 'ANY' : typeToString(args.type)}\t;-$${nx ? 'NXDOMAIN' : 'NXRRSET'}\n`);
    for (const r of res.authority) write(negativeLine(r) + '\n');
    writeErr(`;; resolution failed: ncache ${nx ? 'nxdomain' : 'nxrrset'}\n`);
    return 0;
  }
  printAnswer(res.answer, vr.rrsets, write, writeErr, true);
  return 0;
}

const STATUS_LINE: Record<string, string> = {
  secure: '; fully validated', insecure: '; unsigned answer', indeterminate: '; unsigned answer', bogus: '; validation failed',
};

/**
 * The answer RRsets as delv prints them: each with its RRSIGs, a status line whenever the status
 * changes along a CNAME/DNAME chain, a DNAME shown under the name it was applied to and its
 * synthesised CNAME left out.
 */
function printAnswer(answer: readonly ResourceRecord[], statuses: readonly { name: Name; type: number; status: string }[],
  write: (s: string) => void, writeErr: (s: string) => void, header = false): void {
  const sets = new Map<string, ResourceRecord[]>();
  for (const r of answer) {
    if (r.type === RRType.RRSIG) continue;
    const k = r.name.key + '/' + r.type;
    const s = sets.get(k);
    if (s === undefined) sets.set(k, [r]);
    else s.push(r);
  }
  let last = '';
  let dname: ResourceRecord | undefined;
  for (const set of sets.values()) {
    const first = set[0]!;
    const sigs = answer.filter((r) => r.type === RRType.RRSIG && r.name.equals(first.name) && (r.data as RRSIGData).typeCovered === first.type);
    if (first.type === RRType.CNAME && sigs.length === 0 && dname !== undefined && first.name.isSubdomainOf(dname.name)) {
      // The CNAME synthesised from the DNAME: delv shows the DNAME under this name instead.
      const st = statuses.find((x) => x.type === RRType.DNAME && x.name.equals(dname!.name))?.status ?? 'insecure';
      if (header && STATUS_LINE[st] !== last) write(`${(last = STATUS_LINE[st]!)}\n`);
      const dsigs = answer.filter((r) => r.type === RRType.RRSIG && r.name.equals(dname!.name) && (r.data as RRSIGData).typeCovered === RRType.DNAME);
      for (const r of [dname, ...dsigs]) write(formatRecord({ ...r, name: first.name }) + '\n');
      dname = undefined;
      continue;
    }
    if (first.type === RRType.DNAME) {
      dname = first;
      continue;
    }
    const st = statuses.find((x) => x.name.equals(first.name) && x.type === first.type)?.status ?? 'insecure';
    if (header && STATUS_LINE[st] !== last) write(`${(last = STATUS_LINE[st]!)}\n`);
    if (st !== 'secure' && sigs.length > 0) writeErr(`;; validating ${first.name.toString().slice(0, -1)}/${typeToString(first.type)}: no valid signature found\n`);
    for (const r of [...set, ...sigs]) write(formatRecord(r) + '\n');
  }
}

export const command: Command = {
  summary: 'resolve and validate a name as BIND\'s delv does (; fully validated / ; unsigned answer)',
  usage: `${USAGE}\n\noptions:\n  @server          the resolver to ask (default: the first resolv.conf nameserver)\n  -p PORT          its port (default 53)\n  -a FILE          trust anchors (BIND trust-anchors clause or DS/DNSKEY records; default: the root KSKs)\n  -t TYPE          the type (default A)\n  +vtrace          show each link of the chain of trust\n`,
  async run(argv: string[]): Promise<number> {
    let args: DelvArgs;
    try {
      args = parseDelvArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign delv: ${(err as Error).message}\n`);
      return 2;
    }
    try {
      return await runDelv(args, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    } catch (err) {
      process.stderr.write(`sovereign delv: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
