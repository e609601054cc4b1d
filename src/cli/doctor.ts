/**
 * `sovereign doctor [NAME] [TYPE] [--resolver ADDR[:PORT]]... [--root-hints FILE] [--json]`: why
 * does this name not work from here, layer by layer (src/doctor). Exit 0 when nothing failed,
 * 1 when a check failed, 2 for a bad command line.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { ServerAddress } from '../client/exchange.js';
import { type DoctorOptions, formatJson, formatText, runDoctor } from '../doctor/index.js';
import { loadRootHints } from '../resolver/root-hints.js';
import { Name } from '../wire/name.js';
import { typeFromString } from '../wire/types.js';
import { type Command, type CommandIO, EXIT_FAILED, EXIT_PARSE, stdio } from './command.js';

const USAGE = `usage: sovereign doctor [NAME] [TYPE] [options]

Diagnoses NAME (default: the root) layer by layer: this host's resolvers (/etc/resolv.conf,
systemd-resolved), reaching them over UDP and TCP, recursion, DNSSEC validation, EDNS and large
answers (MTU), clock skew against signatures, the answer compared with Sovereign's own resolution
from the root (poisoning, filtering), and the domain's delegation (lame servers, NS and glue
mismatches, serials, open recursion or AXFR, DS). Each finding: ok, WARN or FAIL, and the fix.

options:
  --resolver ADDR[:PORT]   examine this resolver instead of resolv.conf's (repeatable; [V6]:PORT)
  --root-hints FILE        root hints for the resolution from the root (default: built-in IANA hints)
  --bogus NAME             a name known to fail DNSSEC validation (checks that the resolver refuses it)
  --large NAME/TYPE        a question with a large answer (default ./DNSKEY)
  --timeout MS             time allowed per query (default 2000)
  --now TIME               the doctor's clock (ISO 8601), to judge signature times as at TIME
  --json                   the report as JSON
exit status: 0 nothing failed, 1 a check failed, 2 bad arguments
`;

/** ADDR, ADDR:PORT, [V6] or [V6]:PORT. */
export function parseServer(text: string): ServerAddress {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let address = text;
  let port = 53;
  if (v6 !== null) {
    address = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(text) === 0 && text.lastIndexOf(':') > 0 && text.indexOf(':') === text.lastIndexOf(':')) {
    address = text.slice(0, text.indexOf(':'));
    port = Number(text.slice(text.indexOf(':') + 1));
  }
  if (isIP(address.replace(/%.*$/, '')) === 0) throw new Error(`--resolver ${text}: not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--resolver ${text}: bad port`);
  return { address, port };
}

export interface DoctorArgs {
  options: DoctorOptions;
  json: boolean;
}

export function parseDoctorArgs(argv: string[]): DoctorArgs {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, options: {
      resolver: { type: 'string', multiple: true }, 'root-hints': { type: 'string' }, bogus: { type: 'string' },
      large: { type: 'string' }, timeout: { type: 'string' }, now: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (positionals.length > 2) throw new Error(`one NAME and one TYPE at most (got ${positionals.join(' ')})`);
  const options: DoctorOptions = {};
  if (positionals[0] !== undefined) options.name = Name.fromText(positionals[0].endsWith('.') ? positionals[0] : positionals[0] + '.');
  if (positionals[1] !== undefined) {
    const t = typeFromString(positionals[1].toUpperCase());
    if (t === undefined) throw new Error(`unknown type "${positionals[1]}"`);
    options.type = t;
  }
  if (values.resolver !== undefined) options.resolvers = values.resolver.map(parseServer);
  if (values['root-hints'] !== undefined) options.hints = loadRootHints(values['root-hints']);
  if (values.bogus !== undefined) options.bogus = Name.fromText(values.bogus.endsWith('.') ? values.bogus : values.bogus + '.');
  if (values.large !== undefined) {
    const [n, t] = values.large.split('/');
    const type = typeFromString((t ?? 'TXT').toUpperCase());
    if (n === undefined || n === '' || type === undefined) throw new Error(`--large ${values.large}: give NAME/TYPE`);
    options.large = { name: Name.fromText(n.endsWith('.') ? n : n + '.'), type };
  }
  if (values.timeout !== undefined) {
    const ms = Number(values.timeout);
    if (!Number.isInteger(ms) || ms < 1) throw new Error(`--timeout ${values.timeout}: give milliseconds`);
    options.timeoutMs = ms;
  }
  if (values.now !== undefined) {
    const t = Date.parse(values.now);
    if (Number.isNaN(t)) throw new Error(`--now ${values.now}: give an ISO 8601 time`);
    options.clock = () => t;
  }
  return { options, json: values.json === true };
}

export async function runDoctorCommand(argv: string[], io: CommandIO = stdio): Promise<number> {
  let args: DoctorArgs;
  try {
    args = parseDoctorArgs(argv);
  } catch (err) {
    io.err(`sovereign doctor: ${(err as Error).message}\n`);
    return EXIT_PARSE;
  }
  const report = await runDoctor(args.options);
  io.out(args.json ? formatJson(report) : formatText(report));
  return report.summary.fail > 0 ? EXIT_FAILED : 0;
}

export const command: Command = {
  summary: 'diagnose why a name does not resolve from here, layer by layer',
  usage: USAGE,
  run: (argv) => runDoctorCommand(argv),
};
