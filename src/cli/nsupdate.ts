/**
 * `sovereign nsupdate [options] [FILE]`: sends RFC 2136 dynamic updates written in BIND
 * nsupdate's command language (src/cli/nsupdate-lang.ts), from FILE or standard input, with
 * nsupdate 9.18's output and exit codes: 0 when every update succeeded, 2 when one failed (an
 * error RCODE, a TSIG problem, no reply), 1 for a syntax error outside interactive mode or a
 * fatal error.
 *
 * Without `zone`, the zone is found as nsupdate finds it: an SOA query for the first updated
 * name, then its parents, until an answer or authority section holds an SOA (RFC 2136 §4). Without
 * `server`, that query goes to the resolvers of /etc/resolv.conf and the update to the zone's
 * primary (the SOA MNAME), as nsupdate does.
 */
import { lookup } from 'node:dns/promises';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DnsError, TimeoutError } from '../errors.js';
import { exchange, type ExchangeOptions, type ExchangeResult } from '../client/exchange.js';
import { getId } from '../client/match.js';
import { Opcode, rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import { findTsig } from '../tsig/tsig.js';
import { type CommandIO, type Command, stdio, version } from './command.js';
import { DigTsig } from './dig-tsig.js';
import { keyFromArgument, keyFromFile } from './nsupdate-key.js';
import { type Endpoint, type LineStatus, Session, runLine } from './nsupdate-lang.js';
import { UpdateDraft, showMessage, updateRecordText } from './nsupdate-message.js';

const USAGE = `usage: sovereign nsupdate [-dDiv] [-y [hmac:]keyname:secret | -k keyfile] [-p port] [-t timeout]
                          [-u udptimeout] [-r retries] [-4 | -6] [filename]
Reads nsupdate's commands (server, local, zone, class, ttl, key, prereq, update, show, send,
answer, debug, quit) from FILE or standard input and sends RFC 2136 updates, as BIND's nsupdate.
  -y [hmac:]name:secret  TSIG key (HMAC-MD5 when no algorithm is named, as nsupdate)
  -k FILE                TSIG key file: key "name" { ... }; or Kname.+alg+id.{key,private}
  -p PORT                port of \`server\` lines that give none (default 53)
  -t SECONDS             overall timeout of a request (default 300; 0: none)
  -u SECONDS             UDP retry interval (default 3)
  -r N                   UDP retries (default 3)
  -v                     send updates over TCP
  -d, -D                 debugging output (on standard error)
  -i                     interactive: prompt, and carry on after a syntax error
`;

const EXIT_SYNTAX = 1;
const EXIT_UPDATE_FAILED = 2;

export interface NsupdateOptions {
  file: string | undefined;
  keyArg: string | undefined;
  keyFile: string | undefined;
  port: number;
  timeoutSec: number;
  udpTimeoutSec: number;
  retries: number;
  tcp: boolean;
  debug: boolean;
  ddebug: boolean;
  interactive: boolean;
  family: 4 | 6 | undefined;
}

/** A usage error: nsupdate names it and prints its usage, exit 1. */
export class NsupdateUsageError extends Error {}

export function parseNsupdateArgs(argv: string[]): NsupdateOptions {
  const o: NsupdateOptions = {
    file: undefined, keyArg: undefined, keyFile: undefined, port: 53, timeoutSec: 300, udpTimeoutSec: 3, retries: 3,
    tcp: false, debug: false, ddebug: false, interactive: false, family: undefined,
  };
  const number = (flag: string, v: string | undefined, max: number): number => {
    if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) > max) throw new NsupdateUsageError(`bad ${flag} value '${v ?? ''}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-' || !a.startsWith('-')) {
      if (o.file !== undefined) throw new NsupdateUsageError(`extra argument ${a}`);
      o.file = a;
      continue;
    }
    // Short flags may be grouped (-dv) and take their value attached or as the next word (-p53, -p 53).
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      const value = (): string | undefined => {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        j = a.length;
        return v;
      };
      switch (f) {
        case 'd': o.debug = true; break;
        case 'D': o.debug = true; o.ddebug = true; break;
        case 'v': o.tcp = true; break;
        case 'i': o.interactive = true; break;
        case '4': o.family = 4; break;
        case '6': o.family = 6; break;
        case 'y': o.keyArg = value(); if (o.keyArg === undefined) throw new NsupdateUsageError('-y needs [hmac:]keyname:secret'); break;
        case 'k': o.keyFile = value(); if (o.keyFile === undefined) throw new NsupdateUsageError('-k needs a key file'); break;
        case 'p': o.port = number('port', value(), 65535); break;
        case 't': o.timeoutSec = number('timeout', value(), 0xffffffff); break;
        case 'u': o.udpTimeoutSec = number('udp timeout', value(), 0xffffffff); break;
        case 'r': o.retries = number('udp retries', value(), 0xffffffff); break;
        case 'L': value(); break; // log level: accepted, as nsupdate
        default: throw new NsupdateUsageError(`invalid argument ${a}`);
      }
    }
  }
  if (o.keyArg !== undefined && o.keyFile !== undefined) throw new NsupdateUsageError('-k and -y cannot be used together');
  return o;
}

/** Reply of the last update, for `answer`. */
interface Last {
  reply: Message | undefined;
}

/** Runs the commands of `input` lines; returns the exit code. */
export async function runNsupdate(o: NsupdateOptions, lines: AsyncIterable<string>, io: CommandIO = stdio,
  prompt?: () => void): Promise<number> {
  const s = new Session(io);
  s.debug = o.debug;
  s.ddebug = o.ddebug;
  s.defaultPort = o.port;
  if (o.keyArg !== undefined) {
    try {
      s.key = keyFromArgument(o.keyArg);
    } catch (e) {
      io.err(`could not create key from ${o.keyArg}: ${(e as Error).message}\n`);
      return EXIT_SYNTAX;
    }
  } else if (o.keyFile !== undefined) {
    // nsupdate reports a key file it cannot read and carries on unsigned (the server then refuses).
    try {
      s.key = keyFromFile(o.keyFile);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
      io.err(`could not read key from ${o.keyFile.replace(/\.(key|private)$/, '')}.{private,key}: ${why}\n`);
    }
  }
  const last: Last = { reply: undefined };
  let seenError = false;
  const answerText = (): string | undefined => last.reply === undefined ? undefined : showMessage('Answer:', last.reply);
  prompt?.();
  for await (const line of lines) {
    const status: LineStatus = runLine(s, line, answerText, version());
    if (status === 'quit') break;
    if (status === 'syntax') {
      io.err('syntax error\n');
      if (!o.interactive) return EXIT_SYNTAX;
    } else if (status === 'send') {
      try {
        if (!(await sendUpdate(s, o, last))) seenError = true;
      } catch (e) {
        if (!(e instanceof FatalError)) throw e;
        io.err(`${e.message}\n`);
        return EXIT_SYNTAX;
      }
    }
    prompt?.();
  }
  return seenError ? EXIT_UPDATE_FAILED : 0;
}

/** nsupdate's fatal(): the message, exit 1. */
class FatalError extends Error {}

/** Exchange options of one request under -t/-u/-r/-v. */
function exchangeOptions(s: Session, o: NsupdateOptions, sign?: (q: Uint8Array) => Uint8Array): ExchangeOptions {
  const totalMs = o.timeoutSec === 0 ? 2_147_000_000 : o.timeoutSec * 1000;
  const udpMs = o.udpTimeoutSec === 0 ? totalMs : Math.min(o.udpTimeoutSec * 1000, totalMs);
  return {
    transport: o.tcp ? 'tcp' : 'udp',
    timeoutMs: o.tcp ? totalMs : udpMs,
    tries: o.tcp ? 1 : Math.max(1, Math.min(o.retries + 1, Math.floor(totalMs / udpMs))),
    keepId: false,
    localAddress: s.local?.address,
    localPort: s.local?.port,
    sign,
  };
}

/** nsupdate's text for a failed exchange: `; Communication with ADDR#PORT failed: REASON`. */
function communicationFailure(e: unknown): string {
  if (e instanceof TimeoutError) return 'timed out';
  const m = (e as Error).message;
  if (/connection refused/i.test(m)) return 'connection refused';
  if (/ENETUNREACH|unreachable/i.test(m)) return 'network unreachable';
  return m.replace(/^[^ ]+#\d+: /, '');
}

const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

/**
 * Sends the pending update (nothing when the update section is empty, as nsupdate), prints what
 * nsupdate prints, resets the draft. Returns false when the update failed.
 */
async function sendUpdate(s: Session, o: NsupdateOptions, last: Last): Promise<boolean> {
  const draft = s.draft;
  s.draft = new UpdateDraft();
  s.draft.zone = draft.zone;
  s.draft.zoneClass = draft.zoneClass;
  if (draft.empty) return true;
  if (draft.zone === undefined) draft.zoneClass = s.getZoneClass();
  const tsig = s.key === undefined ? undefined : new DigTsig(s.key);
  let server = await resolveServer(s);
  let zone = draft.zone;
  if (zone === undefined || server === undefined) {
    const found = await findZone(s, o, draft.update[0]?.name ?? draft.prereq[0]!.name, server, tsig);
    if (found === undefined) return false;
    zone ??= found.zone;
    server ??= found.primary;
  }
  // The update's RRs are encoded here (empty RDATA for deletes, RFC 2136 §2.5); exchange() gets
  // a Message carrying only the header and zone section it matches the reply against, and its
  // pre-send hook swaps in these bytes with the ID it chose, then signs them.
  const probe = new Message();
  probe.opcode = Opcode.UPDATE;
  probe.rd = false;
  probe.question.push({ name: zone, type: RRType.SOA, class: draft.zoneClass });
  const sign = (q: Uint8Array): Uint8Array => {
    let bytes = draft.encode(getId(q), zone);
    if (tsig !== undefined) bytes = tsig.sign(bytes);
    if (s.debug) debugOutgoing(s, bytes, draft, zone);
    return bytes;
  };
  if (s.debug) s.io.err(`Sending update to ${server.address}#${server.port}\n`);
  let r: ExchangeResult;
  try {
    r = await exchange(probe, server, exchangeOptions(s, o, sign));
  } catch (e) {
    if (!(e instanceof DnsError)) throw e;
    s.io.err(`; Communication with ${server.address}#${server.port} failed: ${communicationFailure(e)}\n`);
    return false;
  }
  let ok = true;
  const reply = r.message;
  last.reply = reply;
  if (tsig !== undefined) {
    const why = tsig.check(r.bytes);
    if (why !== undefined) {
      s.io.err(`; TSIG error with server: ${why === 'bad time' ? 'clocks are unsynchronized' : why}\n`);
      ok = false;
    }
  } else if (reply.additional.some((rr) => rr.type === RRType.TSIG)) {
    s.io.err('; TSIG error with server: unexpected TSIG\n');
    ok = false;
  }
  if (reply.rcode !== 0) {
    ok = false;
    if (!s.debug) {
      let text = rcodeToString(reply.rcode);
      let err = 0;
      try {
        err = findTsig(r.bytes)?.error ?? 0;
      } catch { /* a malformed TSIG was reported above */ }
      if (err !== 0) text += `(${TSIG_ERRORS[err] ?? rcodeToString(err)})`;
      s.io.err(`update failed: ${text}\n`);
    }
  }
  if (s.debug) s.io.err(showMessage('\nReply from update query:', reply));
  return ok;
}

/** The rendered update as nsupdate -d prints it: real ID and counts, and the TSIG. */
function debugOutgoing(s: Session, bytes: Uint8Array, draft: UpdateDraft, zone: Name): void {
  const t = findTsig(bytes);
  const lines = ['Outgoing update query:', `;; ->>HEADER<<- opcode: UPDATE, status: NOERROR, id: ${String(getId(bytes)).padStart(6)}`,
    `;; flags:; ZONE: 1, PREREQ: ${draft.prereq.length}, UPDATE: ${draft.update.length}, ADDITIONAL: ${t === undefined ? 0 : 1}`];
  const m = new Message();
  m.opcode = Opcode.UPDATE;
  m.question.push({ name: zone, type: RRType.SOA, class: draft.zoneClass });
  const head = showMessage('', m).split('\n');
  lines.push(...head.slice(3, 5), '');
  if (draft.prereq.length > 0) lines.push(';; PREREQUISITE SECTION:', ...draft.prereq.map(updateRecordText), '');
  if (draft.update.length > 0) lines.push(';; UPDATE SECTION:', ...draft.update.map(updateRecordText), '');
  if (t !== undefined) {
    const tm = new Message();
    tm.additional.push({ name: t.keyName, type: RRType.TSIG, class: 255, ttl: 0, data: t });
    lines.push(';; TSIG PSEUDOSECTION:', showMessage('', tm).split('\n').find((l) => l.includes('\tTSIG\t'))!, '');
  }
  s.io.err(lines.join('\n') + '\n\n');
}

/** The `server` of the session, its host name looked up when it named one. */
async function resolveServer(s: Session): Promise<Endpoint | undefined> {
  if (s.server === undefined) return undefined;
  if (s.serverHost === undefined) return s.server;
  try {
    const a = await lookup(s.serverHost);
    return { address: a.address, port: s.server.port };
  } catch (e) {
    throw new FatalError(`couldn't get address for '${s.serverHost}': ${(e as Error).message}`);
  }
}

/** The first `nameserver` of /etc/resolv.conf (nsupdate's default servers when `server` is not given). */
function resolvConfServers(): Endpoint[] {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch { /* none: 127.0.0.1 below, as BIND's irs_resconf */ }
  const out: Endpoint[] = [];
  for (const m of text.matchAll(/^\s*nameserver\s+(\S+)/gm)) out.push({ address: m[1]!.replace(/%.*$/, ''), port: 53 });
  return out.length > 0 ? out : [{ address: '127.0.0.1', port: 53 }];
}

/**
 * nsupdate's zone discovery (recvsoa): SOA query for `name`; an SOA owner in the answer (or else
 * the authority) section is the zone, its MNAME the primary; a CNAME/DNAME answer or no SOA
 * drops the first label and asks again.
 */
async function findZone(s: Session, o: NsupdateOptions, name: Name, server: Endpoint | undefined, tsig: DigTsig | undefined):
  Promise<{ zone: Name; primary: Endpoint } | undefined> {
  const servers = server !== undefined ? [server] : resolvConfServers();
  let qname = name;
  for (;;) {
    const q = Message.query(qname, RRType.SOA, { rd: true, class: s.getZoneClass() });
    let r: ExchangeResult | undefined;
    for (const srv of servers) {
      try {
        r = await exchange(q, srv, exchangeOptions(s, o, tsig?.sign));
        break;
      } catch (e) {
        if (!(e instanceof DnsError)) throw e;
        s.io.err(`; Communication with ${srv.address}#${srv.port} failed: ${communicationFailure(e)}\n`);
      }
    }
    if (r === undefined) {
      s.io.err('could not reach any name server\n');
      return undefined;
    }
    const m = r.message;
    if (s.debug) s.io.err(showMessage('Reply from SOA query:', m));
    if (m.rcode !== 0 && m.rcode !== 3) throw new FatalError('response to SOA query was unsuccessful');
    let soa = m.answer.find((rr) => rr.type === RRType.SOA);
    const aliased = soa === undefined && m.answer.some((rr) => rr.type === RRType.CNAME || rr.type === RRType.DNAME);
    if (soa === undefined && !aliased) soa = m.authority.find((rr) => rr.type === RRType.SOA);
    if (soa !== undefined) {
      const mname = (soa.data as { mname: Name }).mname;
      if (s.debug) {
        s.io.err(`Found zone name: ${soa.name.toString().replace(/\.$/, '') || '.'}\n`);
        s.io.err(`The primary is: ${mname.toString().replace(/\.$/, '') || '.'}\n`);
      }
      let primary = server;
      if (primary === undefined) {
        try {
          const a = await lookup(mname.toString(), o.family === undefined ? {} : { family: o.family });
          primary = { address: a.address, port: o.port };
        } catch (e) {
          throw new FatalError(`couldn't get address for '${mname.toString()}': ${(e as Error).message}`);
        }
      }
      return { zone: soa.name, primary };
    }
    if (qname.isRoot) throw new FatalError('response to SOA query was unsuccessful');
    qname = qname.parent();
  }
}

/** Lines of FILE or standard input. */
function inputLines(file: string | undefined): AsyncIterable<string> {
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  return createInterface({ input, crlfDelay: Infinity, terminal: false });
}

export const command: Command = {
  summary: 'send dynamic updates (RFC 2136) from nsupdate scripts',
  usage: USAGE,
  async run(args) {
    let o: NsupdateOptions;
    try {
      o = parseNsupdateArgs(args);
    } catch (e) {
      if (!(e instanceof NsupdateUsageError)) throw e;
      process.stderr.write(`sovereign nsupdate: ${e.message}\n${USAGE.split('\n').slice(0, 2).join('\n')}\n`);
      return 1;
    }
    if (o.file === undefined && process.stdin.isTTY === true) o.interactive = true;
    const prompt = o.interactive && o.file === undefined ? () => { process.stdout.write('> '); } : undefined;
    return runNsupdate(o, inputLines(o.file), stdio, prompt);
  },
};
