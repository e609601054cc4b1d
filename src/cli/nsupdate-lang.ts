/**
 * nsupdate's command language, one line at a time, as BIND 9.18's nsupdate reads it: the same
 * commands, the same defaults (names are absolute from the root, class IN, HMAC-MD5 when a key
 * names no algorithm) and the same one-line complaints, so scripts written for nsupdate run
 * unchanged. RFC 2136 §2.4 (prerequisites) and §2.5 (updates) decide each record's class, TTL
 * and RDATA.
 *
 * Invariant: pure with respect to the network: a line changes the session or asks the caller to
 * send/quit; output goes through the CommandIO it is given.
 */
import { isIP } from 'node:net';
import { Name } from '../wire/name.js';
import { TokenCursor, tokenize } from '../wire/rdata/text.js';
import { RRClass, RRType, classFromString, parseRData, typeFromString } from '../wire/types.js';
import { type TsigKey, makeKey } from '../tsig/key.js';
import type { CommandIO } from './command.js';
import { UpdateDraft, showDraft } from './nsupdate-message.js';

/** What a line asks of the caller (nsupdate's STATUS_*). */
export type LineStatus = 'more' | 'send' | 'quit' | 'syntax';

/** RFC 2181 §8: TTLs are 31-bit; nsupdate refuses larger ones. */
export const TTL_MAX = 2147483647;

export interface Endpoint {
  address: string;
  port: number;
}

/** Everything the commands set; the runner reads it to send. */
export class Session {
  draft = new UpdateDraft();
  server: Endpoint | undefined;
  /** `server` named a host, not an address: resolved by the runner. */
  serverHost: string | undefined;
  local: { address: string; port: number | undefined } | undefined;
  /** `ttl` command: the TTL of adds that give none. */
  defaultTtl: number | undefined;
  /** `class` command. */
  defaultClass: number = RRClass.IN;
  /** The zone's class once fixed (nsupdate's zoneclass; NONE until then). */
  zoneClass: number = RRClass.NONE;
  key: TsigKey | undefined;
  debug = false;
  ddebug = false;
  /** Port of `server` lines without one (-p). */
  defaultPort = 53;

  constructor(readonly io: CommandIO) {}

  /** nsupdate's getzoneclass(). */
  getZoneClass(): number {
    if (this.zoneClass === RRClass.NONE) this.zoneClass = this.defaultClass;
    return this.zoneClass;
  }

  /** nsupdate's setzoneclass(): false when `c` differs from the class already fixed. */
  setZoneClass(c: number): boolean {
    if (this.zoneClass === RRClass.NONE || c === RRClass.NONE) this.zoneClass = c;
    return this.zoneClass === c;
  }
}

/** Splits off the next whitespace-separated word (nsupdate's nsu_strsep). */
class Words {
  private pos = 0;

  constructor(readonly line: string) {}

  next(): string | undefined {
    const s = this.line;
    while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
    if (this.pos >= s.length) return undefined;
    const start = this.pos;
    while (this.pos < s.length && !isSpace(s.charCodeAt(this.pos))) this.pos++;
    return s.slice(start, this.pos);
  }

  /** The unread rest of the line. */
  rest(): string {
    return this.line.slice(this.pos);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** isc_parse_uint32 in base 10: digits only. */
function parseU32(word: string): number | undefined {
  if (!/^[0-9]+$/.test(word)) return undefined;
  const v = Number(word);
  return v <= 0xffffffff ? v : undefined;
}

export const HELP = `local address [port]      (set local resolver)
server address [port]     (set primary server for zone)
send                      (send the update request)
show                      (show the update request)
answer                    (show the answer to the last request)
quit                      (quit, any pending update is not sent)
help                      (display this message)
key [hmac:]keyname secret (use TSIG to sign the request)
zone name                 (set the zone to be updated)
class CLASS               (set the zone's DNS class, e.g. IN (default), CH)
ttl seconds|none          (default TTL of records added without one)
debug                     (print debugging output on stderr)
[prereq] nxdomain name    (require that this name does not exist)
[prereq] yxdomain name    (require that this name exists)
[prereq] nxrrset ....     (require that this RRset does not exist)
[prereq] yxrrset ....     (require that this RRset exists)
[update] add ....         (add the given record to the zone)
[update] del[ete] ....    (remove the given record(s) from the zone)
`;

/**
 * Runs one input line. `answer` prints the last reply (the runner passes it in as text).
 */
export function runLine(s: Session, line: string, answerText: () => string | undefined, versionText: string): LineStatus {
  const w = new Words(line);
  const word = w.next();
  // A blank line sends (nsupdate: "a blank line causes the update to be sent").
  if (word === undefined) return 'send';
  if (word.startsWith(';')) return 'more';
  const lc = word.toLowerCase();
  switch (lc) {
    case 'quit': return 'quit';
    case 'prereq': return evaluatePrereq(s, w);
    case 'nxdomain': return makePrereq(s, w, false, false);
    case 'yxdomain': return makePrereq(s, w, true, false);
    case 'nxrrset': return makePrereq(s, w, false, true);
    case 'yxrrset': return makePrereq(s, w, true, true);
    case 'update': return evaluateUpdate(s, w);
    case 'delete':
    case 'del': return addOrDelete(s, w, true);
    case 'add': return addOrDelete(s, w, false);
    case 'server': return evaluateServer(s, w);
    case 'local': return evaluateLocal(s, w);
    case 'zone': return evaluateZone(s, w);
    case 'class': return evaluateClass(s, w);
    case 'send': return 'send';
    case 'debug':
      if (s.debug) s.ddebug = true;
      else s.debug = true;
      return 'more';
    case 'ttl': return evaluateTtl(s, w);
    case 'show':
      s.io.out(showDraft(s.draft));
      return 'more';
    case 'answer': {
      const a = answerText();
      if (a !== undefined) s.io.out(a);
      return 'more';
    }
    case 'key': return evaluateKey(s, w);
    case 'help':
      s.io.out(`nsupdate ${versionText}:\n${HELP}`);
      return 'more';
    case 'version':
      s.io.out(`nsupdate ${versionText}\n`);
      return 'more';
    default:
      s.io.err(`incorrect section name: ${word}\n`);
      return 'syntax';
  }
}

function syntax(s: Session, message: string): LineStatus {
  s.io.err(message + '\n');
  return 'syntax';
}

function parseName(s: Session, w: Words): Name | undefined {
  const word = w.next();
  if (word === undefined) {
    syntax(s, 'could not read owner name');
    return undefined;
  }
  try {
    // nsupdate's names are absolute from the root (no origin), as `dns_name_fromtext(.., dns_rootname)`.
    return Name.fromText(word, Name.ROOT);
  } catch (e) {
    syntax(s, `invalid owner name: ${(e as Error).message}`);
    return undefined;
  }
}

/** RDATA from the rest of the line; undefined data when the line has none (nsupdate's DNS_RDATA_UPDATE). */
function parseRdata(s: Session, w: Words, type: number): { ok: boolean; data: unknown } {
  const rest = w.rest();
  let tokens;
  try {
    tokens = tokenize(rest);
  } catch (e) {
    syntax(s, `invalid rdata format: ${(e as Error).message}`);
    return { ok: false, data: undefined };
  }
  if (tokens.length === 0) return { ok: true, data: undefined };
  try {
    const cursor = new TokenCursor(tokens, 0);
    const data = parseRData(type, cursor, Name.ROOT);
    if (!cursor.done) throw new Error('extra input text');
    return { ok: true, data };
  } catch (e) {
    syntax(s, `invalid rdata format: ${(e as Error).message}`);
    return { ok: false, data: undefined };
  }
}

function evaluatePrereq(s: Session, w: Words): LineStatus {
  const word = w.next();
  if (word === undefined) return syntax(s, 'could not read operation code');
  switch (word.toLowerCase()) {
    case 'nxdomain': return makePrereq(s, w, false, false);
    case 'yxdomain': return makePrereq(s, w, true, false);
    case 'nxrrset': return makePrereq(s, w, false, true);
    case 'yxrrset': return makePrereq(s, w, true, true);
    default: return syntax(s, `incorrect operation code: ${word}`);
  }
}

/**
 * RFC 2136 §2.4: yxrrset without RDATA is class ANY (§2.4.1), with RDATA the zone's class
 * (§2.4.2, value-dependent); nxrrset is NONE (§2.4.3); yxdomain ANY/ANY (§2.4.4); nxdomain
 * NONE/ANY (§2.4.5). TTL 0 and empty RDATA except for §2.4.2.
 */
function makePrereq(s: Session, w: Words, positive: boolean, rrset: boolean): LineStatus {
  const name = parseName(s, w);
  if (name === undefined) return 'syntax';
  let type: number = RRType.ANY;
  let cls: number = RRClass.ANY;
  if (rrset) {
    let word = w.next();
    if (word === undefined) return syntax(s, 'could not read class or type');
    const c = classFromString(word);
    if (c !== undefined) {
      if (!s.setZoneClass(c)) return syntax(s, `class mismatch: ${word}`);
      cls = c;
      word = w.next();
      if (word === undefined) return syntax(s, 'could not read type');
      const t = typeFromString(word);
      if (t === undefined) return syntax(s, `invalid type: ${word}`);
      type = t;
    } else {
      cls = s.getZoneClass();
      const t = typeFromString(word);
      if (t === undefined) return syntax(s, `invalid type: ${word}`);
      type = t;
    }
  }
  let data: unknown;
  if (rrset && positive) {
    const r = parseRdata(s, w, type);
    if (!r.ok) return 'syntax';
    data = r.data;
  }
  const rrClass = positive ? (rrset && data !== undefined ? cls : RRClass.ANY) : RRClass.NONE;
  s.draft.prereq.push({ name, type, class: rrClass, ttl: 0, data });
  return 'more';
}

function evaluateUpdate(s: Session, w: Words): LineStatus {
  const word = w.next();
  if (word === undefined) return syntax(s, 'could not read operation code');
  const lc = word.toLowerCase();
  if (lc === 'delete' || lc === 'del') return addOrDelete(s, w, true);
  if (lc === 'add') return addOrDelete(s, w, false);
  return syntax(s, `incorrect operation code: ${word}`);
}

/**
 * RFC 2136 §2.5: add is the zone's class with the RR's TTL (§2.5.1); delete with RDATA is class
 * NONE (§2.5.4), delete of a type ANY (§2.5.2), delete of a name ANY/ANY (§2.5.3); deletes
 * carry TTL 0 (a TTL written on a delete is read and ignored, as nsupdate does).
 */
function addOrDelete(s: Session, w: Words, isDelete: boolean): LineStatus {
  const name = parseName(s, w);
  if (name === undefined) return 'syntax';
  const deleteAll = (): LineStatus => {
    s.draft.update.push({ name, type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: undefined });
    return 'more';
  };
  let word = w.next();
  if (word === undefined) {
    if (!isDelete) return syntax(s, 'could not read owner ttl');
    return deleteAll();
  }
  let ttl = 0;
  const parsed = parseU32(word);
  let haveClassWord = false;
  if (parsed === undefined) {
    if (isDelete) ttl = 0;
    else if (s.defaultTtl !== undefined) ttl = s.defaultTtl;
    else return syntax(s, `ttl '${word}': not a valid number`);
    haveClassWord = true;
  } else if (isDelete) {
    ttl = 0;
  } else if (parsed > TTL_MAX) {
    return syntax(s, `ttl '${word}' is out of range (0 to ${TTL_MAX})`);
  } else {
    ttl = parsed;
  }
  if (!haveClassWord) word = w.next();
  if (word === undefined) {
    if (isDelete) return deleteAll();
    return syntax(s, 'could not read class or type');
  }
  let cls: number;
  let type: number;
  const c = classFromString(word);
  if (c !== undefined && c !== RRClass.ANY) {
    if (!s.setZoneClass(c)) return syntax(s, `class mismatch: ${word}`);
    cls = c;
    word = w.next();
    if (word === undefined) {
      if (isDelete) return deleteAll();
      return syntax(s, 'could not read type');
    }
    const t = typeFromString(word);
    if (t === undefined) return syntax(s, `'${word}' is not a valid type: unknown class/type`);
    type = t;
  } else {
    cls = s.getZoneClass();
    const t = typeFromString(word);
    if (t === undefined) return syntax(s, `'${word}' is not a valid class or type: unknown class/type`);
    type = t;
  }
  const r = parseRdata(s, w, type);
  if (!r.ok) return 'syntax';
  if (isDelete) {
    cls = r.data === undefined ? RRClass.ANY : RRClass.NONE;
  } else if (r.data === undefined) {
    return syntax(s, 'could not read rdata');
  }
  s.draft.update.push({ name, type, class: cls, ttl, data: r.data });
  return 'more';
}

function parsePort(s: Session, word: string | undefined): number | 'syntax' | undefined {
  if (word === undefined) return undefined;
  if (!/^[0-9]+$/.test(word)) {
    syntax(s, `port '${word}' is not numeric`);
    return 'syntax';
  }
  const port = Number(word);
  if (port < 1 || port > 65535) {
    syntax(s, `port '${word}' is out of range (1 to 65535)`);
    return 'syntax';
  }
  return port;
}

function evaluateServer(s: Session, w: Words): LineStatus {
  const host = w.next();
  if (host === undefined) return syntax(s, 'could not read server name');
  const port = parsePort(s, w.next());
  if (port === 'syntax') return 'syntax';
  if (isIP(host) === 0) {
    // A host name is looked up by the runner (getaddrinfo, as nsupdate does).
    s.server = { address: '', port: port ?? s.defaultPort };
    s.serverHost = host;
    return 'more';
  }
  s.server = { address: host, port: port ?? s.defaultPort };
  s.serverHost = undefined;
  return 'more';
}

function evaluateLocal(s: Session, w: Words): LineStatus {
  const addr = w.next();
  if (addr === undefined) return syntax(s, 'could not read server name');
  if (isIP(addr) === 0) return syntax(s, `invalid address ${addr}`);
  const port = parsePort(s, w.next());
  if (port === 'syntax') return 'syntax';
  s.local = { address: addr, port };
  return 'more';
}

function evaluateZone(s: Session, w: Words): LineStatus {
  const word = w.next();
  if (word === undefined) return syntax(s, 'could not read zone name');
  try {
    s.draft.zone = Name.fromText(word, Name.ROOT);
  } catch {
    return syntax(s, 'could not parse zone name');
  }
  s.draft.zoneClass = s.getZoneClass();
  return 'more';
}

function evaluateClass(s: Session, w: Words): LineStatus {
  const word = w.next();
  if (word === undefined) return syntax(s, 'could not read class name');
  const c = classFromString(word);
  if (c === undefined) return syntax(s, `could not parse class name: ${word}`);
  s.defaultClass = c;
  return 'more';
}

function evaluateTtl(s: Session, w: Words): LineStatus {
  const word = w.next();
  if (word === undefined) return syntax(s, 'could not read ttl');
  if (word.toLowerCase() === 'none') {
    s.defaultTtl = undefined;
    return 'more';
  }
  const ttl = parseU32(word);
  if (ttl === undefined) return 'syntax';
  if (ttl > TTL_MAX) return syntax(s, `ttl '${word}' is out of range (0 to ${TTL_MAX})`);
  s.defaultTtl = ttl;
  return 'more';
}

/**
 * `[hmac:]name` with nsupdate's default algorithm, HMAC-MD5, when none is named. Returns the
 * algorithm and the name, or a message.
 */
export function splitKeyName(text: string): { algorithm: string; name: string } {
  const i = text.indexOf(':');
  if (i < 0) return { algorithm: 'hmac-md5', name: text };
  return { algorithm: text.slice(0, i), name: text.slice(i + 1) };
}

function evaluateKey(s: Session, w: Words): LineStatus {
  const nameText = w.next();
  if (nameText === undefined) return syntax(s, 'could not read key name');
  const { algorithm, name } = splitKeyName(nameText);
  const secret = w.rest().trim();
  if (secret === '') return syntax(s, 'could not read key secret');
  try {
    s.key = makeKey(name, algorithm, secret);
  } catch (e) {
    return syntax(s, `could not create key from ${nameText}: ${(e as Error).message}`);
  }
  return 'more';
}
