/**
 * `sovereign llmnr NAME [TYPE]`: asks the link by LLMNR (RFC 4795) and prints every response,
 * as a dig-style record list per responder. Exit 0 when some responder answered with records,
 * 1 when none did (within the timeout), 2 for a usage error.
 */
import { networkInterfaces } from 'node:os';
import { queryLlmnr } from '../llmnr/client.js';
import { LLMNR_TIMEOUT_MS } from '../llmnr/protocol.js';
import { Name } from '../wire/name.js';
import { RRType, typeFromString } from '../wire/types.js';
import { type Command, type CommandIO, stdio } from './command.js';
import { formatRecord } from './dig-format.js';

const USAGE = `usage: sovereign llmnr NAME [TYPE] [-4 | -6 | -46] [-i INTERFACE] [-t SECONDS]
Asks the hosts on the local link for NAME by LLMNR (RFC 4795: 224.0.0.252 / ff02::1:3, port 5355)
and prints each responder's answer.
  TYPE          A (default), AAAA, ANY or another type
  -4, -6, -46   IPv4 (default), IPv6, both
  -i INTERFACE  send on this interface (needed for IPv6 link-local scope)
  -t SECONDS    how long to collect responses (default 1, RFC 4795's LLMNR_TIMEOUT)
`;

interface LlmnrArgs {
  name: Name;
  type: number;
  family: 4 | 6 | 'both';
  iface: string | undefined;
  timeoutMs: number;
}

export function parseLlmnrArgs(argv: string[]): LlmnrArgs {
  let name: string | undefined;
  let type: number = RRType.A;
  let family: 4 | 6 | 'both' = 4;
  let iface: string | undefined;
  let timeoutMs = LLMNR_TIMEOUT_MS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-4') family = 4;
    else if (a === '-6') family = 6;
    else if (a === '-46') family = 'both';
    else if (a === '-i') {
      iface = argv[++i];
      if (iface === undefined) throw new Error('-i needs an interface name');
    } else if (a === '-t') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0 || v > 60) throw new Error('-t needs seconds from 0 to 60');
      timeoutMs = Math.round(v * 1000);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see \`sovereign llmnr --help\`)`);
    else if (name === undefined) name = a;
    else {
      const t = typeFromString(a);
      if (t === undefined) throw new Error(`unknown type ${a}`);
      type = t;
    }
  }
  if (name === undefined) throw new Error('a NAME to look up is needed (see `sovereign llmnr --help`)');
  return { name: Name.fromText(name.endsWith('.') ? name : name + '.'), type, family, iface, timeoutMs };
}

export async function runLlmnr(a: LlmnrArgs, io: CommandIO = stdio): Promise<number> {
  let interfaceAddress: string | undefined;
  if (a.iface !== undefined) {
    const addrs = networkInterfaces()[a.iface];
    if (addrs === undefined) throw new Error(`no interface ${a.iface}`);
    interfaceAddress = addrs.find((x) => x.family === 'IPv4')?.address;
  }
  const r = await queryLlmnr(a.name, a.type, { family: a.family, interface: a.iface, interfaceAddress, timeoutMs: a.timeoutMs });
  let answered = false;
  for (const resp of r.responses) {
    const flags = [resp.tentative ? 'tentative' : '', resp.tcp ? 'tcp' : ''].filter((f) => f !== '').join(', ');
    io.out(`;; from ${resp.from}#5355${flags !== '' ? ` (${flags})` : ''}\n`);
    for (const rr of resp.message.answer) io.out(formatRecord(rr) + '\n');
    if (resp.message.answer.length > 0) answered = true;
  }
  if (r.conflict) io.err(`;; conflict: responders disagree about ${a.name.toString()} (re-asked with the C bit, RFC 4795 §4.2)\n`);
  if (r.responses.length === 0) io.err(`;; no LLMNR response for ${a.name.toString()}\n`);
  return answered ? 0 : 1;
}

export const command: Command = {
  summary: 'look a name up on the local link by LLMNR (RFC 4795)',
  usage: USAGE,
  async run(args) {
    let a: LlmnrArgs;
    try {
      a = parseLlmnrArgs(args);
    } catch (e) {
      process.stderr.write(`sovereign llmnr: ${(e as Error).message}\n`);
      return 2;
    }
    try {
      return await runLlmnr(a);
    } catch (e) {
      process.stderr.write(`sovereign llmnr: ${(e as Error).message}\n`);
      return 2;
    }
  },
};
