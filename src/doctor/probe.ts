/**
 * One diagnostic question to one server, with every way it can go wrong kept as a result rather
 * than thrown: a reply (with its RCODE and flags), a timeout, or a network error (ICMP port
 * unreachable shows up as "connection refused"). Every check of the doctor asks through here, so
 * they all use src/client's exchange() (random ID and port, reply matched by source, ID, question).
 */
import { type ExchangeResult, exchange, type ServerAddress } from '../client/exchange.js';
import { TimeoutError } from '../errors.js';
import { Rcode } from '../wire/constants.js';
import { newEdns } from '../wire/edns.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { typeToString } from '../wire/types.js';

export interface ProbeOptions {
  transport?: 'udp' | 'tcp';
  /** RD bit (default true: we ask resolvers). */
  rd?: boolean;
  cd?: boolean;
  /** EDNS: false for a plain RFC 1035 query; default 1232 without DO. */
  edns?: false | { udpSize: number; dnssecOk: boolean };
  /** Keep a truncated UDP reply instead of retrying over TCP (default true: the doctor wants to see TC). */
  ignoreTruncation?: boolean;
  timeoutMs: number;
}

export type ProbeResult =
  | { kind: 'reply'; message: Message; size: number; transport: 'udp' | 'tcp'; rttMs: number }
  | { kind: 'timeout'; why: string }
  | { kind: 'error'; why: string };

/** Asks `server` one question; never throws for network trouble. */
export async function probe(server: ServerAddress, name: Name, type: number, opts: ProbeOptions): Promise<ProbeResult> {
  const edns = opts.edns === false ? undefined : newEdns(opts.edns ?? { udpSize: 1232, dnssecOk: false });
  const q = Message.query(name, type, edns === undefined ? { rd: opts.rd ?? true } : { rd: opts.rd ?? true, edns });
  q.cd = opts.cd === true;
  let r: ExchangeResult;
  try {
    r = await exchange(q, server, { transport: opts.transport ?? 'udp', timeoutMs: opts.timeoutMs, ignoreTruncation: opts.ignoreTruncation ?? true });
  } catch (err) {
    if (err instanceof TimeoutError) return { kind: 'timeout', why: `no reply within ${opts.timeoutMs} ms` };
    return { kind: 'error', why: (err as Error).message };
  }
  return { kind: 'reply', message: r.message, size: r.bytes.length, transport: r.transport, rttMs: r.rttMs };
}

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

/** `NOERROR aa ra ad, 2 answers` style summary of a reply's header. */
export function describeReply(m: Message): string {
  const flags = (['aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => m[f]).join(' ');
  return `${rcodeName(m.rcode)}${flags === '' ? '' : ` [${flags}]`}, ${m.answer.length} answer${m.answer.length === 1 ? '' : 's'}`;
}

/** What a probe gave, in a few words. */
export function describe(p: ProbeResult): string {
  return p.kind === 'reply' ? describeReply(p.message) : p.why;
}

export function label(s: ServerAddress): string {
  return s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

export function question(name: Name, type: number): string {
  return `${name.toString()} ${typeToString(type)}`;
}
