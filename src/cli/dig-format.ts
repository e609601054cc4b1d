/**
 * Output of `sovereign dig` in BIND 9.18 dig's layout: header and flags lines, OPT
 * pseudosection (EDNS version/flags/udp and options as dig prints them), the four sections
 * in BIND's tab-stop columns, statistics; plus +short and +json forms.
 *
 * Invariant: pure functions from a decoded reply (and what was sent) to text; no I/O here.
 */
import { EdnsOptionCode, opcodeToString, rcodeToString } from '../wire/constants.js';
import { EDE_NAMES, type Edns, type EdnsOption, decodeOption } from '../wire/edns.js';
import { typeLayout } from '../wire/layout.js';
import type { Message } from '../wire/message.js';
import type { Question, ResourceRecord } from '../wire/record.js';
import { RRType, algorithmToString, classToString, printRData, typeToString } from '../wire/types.js';
import { keyTag } from '../dnssec/key-tag.js';
import type { DigDisplay } from './dig-args.js';
import { keyComment, splitBlob, ttlUnits, unknownRData, withoutRRComments } from './dig-style.js';

/** First column stop of BIND's dig style (owner names are padded to it). */
const TTL_COLUMN = 24;
const TAB_WIDTH = 8;

/**
 * Appends the padding BIND's `indent()` writes to reach column `to` from `col`: tabs to the
 * tab stop, or a single space (or tab) when already at or past it. Returns the new column.
 */
export function pad(parts: string[], col: number, to: number): number {
  if (to < col + 1) to = col + 1;
  const tabs = Math.floor(to / TAB_WIDTH) - Math.floor(col / TAB_WIDTH);
  if (tabs > 0) {
    parts.push('\t'.repeat(tabs) + ' '.repeat(to % TAB_WIDTH));
  } else {
    parts.push(' '.repeat(to - col));
  }
  return to;
}

/** BIND's word length for blobs on one line (its `tctx->width - 2`). */
const BLOB_CHUNK = 56;

/** RDATA text as dig prints it: the codec's presentation with BIND's blob chunking. */
export function digRData(type: number, data: unknown, width = BLOB_CHUNK, crypto = true): string {
  if (type === RRType.TSIG) return tsigText(data as TsigFields);
  const text = printRData(type, data);
  const lead = text.startsWith('\\# ') ? 2 : typeLayout(type).blobAfter;
  if (lead === undefined) return text;
  const tokens = text.split(' ');
  // +nocrypto: BIND leaves out key, signature and DS digest material (the layout table says which).
  const hidden = crypto ? undefined : typeLayout(type).noCrypto;
  if (hidden !== undefined && tokens.length > lead) return [...tokens.slice(0, lead), noCrypto(hidden, data)].join(' ');
  const blob = tokens.slice(lead).join('');
  if (width > 0 && blob.length <= width) return text;
  return [...tokens.slice(0, lead), ...splitBlob(blob, width)].join(' ');
}

/** What +nocrypto prints for a blob: keys by `[key id = N]`, signatures and digests by `[omitted]`. */
function noCrypto(kind: 'keyId' | 'omitted', data: unknown): string {
  if (kind === 'keyId') {
    const d = data as { flags: number; protocol: number; algorithm: number; publicKey: Uint8Array };
    return `[key id = ${keyTag(d.flags, d.protocol, d.algorithm, d.publicKey)}]`;
  }
  return '[omitted]';
}

/** The display switches that change how one record prints (dig-style.ts). */
export type RecordStyle = Pick<DigDisplay, 'ttlid' | 'showClass'> & { multiline?: boolean } &
  Partial<Pick<DigDisplay, 'ttlUnits' | 'unknownFormat' | 'split' | 'rrComments' | 'crypto'>>;

/** RDATA of `rr` on one line under `style`: RFC 3597 form, +split width, +nocrypto, +rrcomments. */
function styledRData(rr: ResourceRecord, style: RecordStyle): string {
  if (style.unknownFormat === true) {
    const [mark, len, hex] = unknownRData(rr).split(' ');
    return hex === undefined ? `${mark} ${len}` : [mark, len, ...splitBlob(hex, style.split ?? BLOB_CHUNK)].join(' ');
  }
  let text = digRData(rr.type, rr.data, style.split ?? BLOB_CHUNK, style.crypto ?? true);
  if (style.rrComments === true && typeLayout(rr.type).noCrypto === 'keyId') text += keyComment(multilineRData(rr.type, rr.data)) ?? '';
  return text;
}

interface TsigFields {
  algorithm: { toString(): string };
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

/**
 * A TSIG as dig prints it (RFC 8945 §4.2 fields): the MAC in base64 cut every 56 characters,
 * the error as a mnemonic, Other Data's length, then its base64 (an empty one leaves the line
 * ending in a space).
 */
function tsigText(d: TsigFields): string {
  const mac = Buffer.from(d.mac).toString('base64');
  const chunks: string[] = [];
  for (let i = 0; i < mac.length; i += BLOB_CHUNK) chunks.push(mac.slice(i, i + BLOB_CHUNK));
  const err = d.error === 16 ? 'BADSIG' : d.error === 0 ? 'NOERROR' : rcodeToString(d.error);
  return [d.algorithm.toString(), d.timeSigned, d.fudge, d.mac.length, ...chunks, d.originalId, err, d.otherData.length,
    Buffer.from(d.otherData).toString('base64')].join(' ');
}

/**
 * Column stops of dig's style: the fields shown after the owner take the stops 24, 32, 40, ...
 * in order, so +nottlid / +noclass move the later columns left (as BIND's dig does).
 */
interface Columns {
  ttl: number | undefined;
  class: number | undefined;
  type: number;
  rdata: number;
}

function columns(display: Pick<DigDisplay, 'ttlid' | 'showClass'>): Columns {
  let c = TTL_COLUMN;
  const ttl = display.ttlid ? c : undefined;
  if (display.ttlid) c += TAB_WIDTH;
  const cls = display.showClass ? c : undefined;
  if (display.showClass) c += TAB_WIDTH;
  return { ttl, class: cls, type: c, rdata: c + TAB_WIDTH };
}

const DEFAULT_COLUMNS = { ttlid: true, showClass: true };

/** +multiline: continuation lines start at BIND's fourth tab stop; blobs are cut every 44 characters. */
const BR = '\n\t\t\t\t';
const ML_CHUNK = 44;

function cut(blob: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < blob.length; i += ML_CHUNK) out.push(blob.slice(i, i + ML_CHUNK));
  return out;
}

/**
 * RDATA as dig +multiline prints it (BIND's DNS_STYLEFLAG_MULTILINE): the SOA timers one per line
 * with their meaning, keys and signatures cut over lines inside parentheses, and DNSKEY's
 * `; KSK; alg = ...; key id = N` comment. Other types stay on one line.
 */
export function multilineRData(type: number, data: unknown): string {
  const text = printRData(type, data);
  const tokens = text.split(' ');
  if (text.startsWith('\\# ')) {
    if (tokens.length < 3) return text;
    return `${tokens[0]} ${tokens[1]} ( ${cut(tokens.slice(2).join('')).join(BR)} )`;
  }
  const shape = typeLayout(type).multiline;
  if (shape === undefined) return text;
  const lines = (t: string[]): string => cut(t.join('')).map((c) => BR + c).join('');
  switch (shape.kind) {
    case 'soa': { // mname rname ( serial ; serial  refresh ; refresh (1 hour) ... )
      const d = data as { serial: number; refresh: number; retry: number; expire: number; minimum: number };
      const line = (v: number, what: string, verbose: boolean): string =>
        BR + `${String(v).padEnd(10)} ; ${what}${verbose ? ` (${verboseDuration(v)})` : ''}`;
      return `${tokens[0]} ${tokens[1]} (` + line(d.serial, 'serial', false) + line(d.refresh, 'refresh', true) +
        line(d.retry, 'retry', true) + line(d.expire, 'expire', true) + line(d.minimum, 'minimum', true) + BR + ')';
    }
    case 'key': {
      const d = data as { flags: number; protocol: number; algorithm: number; publicKey: Uint8Array };
      // RFC 2535 §3.1.2: with both NOKEY bits there is no key, and BIND prints the three numbers alone.
      if ((d.flags & 0xc000) === 0xc000) return text;
      const body = `${tokens.slice(0, 3).join(' ')} (` + lines(tokens.slice(3)) + BR + ')';
      const alg = algorithmToString(d.algorithm);
      const tag = keyTag(d.flags, d.protocol, d.algorithm, d.publicKey);
      // BIND names the role (KSK when the SEP bit is set, RFC 4034 §2.1.1) for DNSKEY and CDNSKEY only.
      if (!shape.role) return `${body}; alg = ${alg} ; key id = ${tag}`;
      const role = (d.flags & 1) !== 0 ? ((d.flags & 0x80) !== 0 ? 'revoked KSK' : 'KSK') : 'ZSK';
      return `${body} ; ${role}; alg = ${alg} ; key id = ${tag}`;
    }
    case 'sig': // covered alg labels ttl ( expiration inception tag signer  signature )
      return `${tokens.slice(0, shape.head).join(' ')} (${BR}${tokens.slice(shape.head, 8).join(' ')}` + lines(tokens.slice(8)) + ' )';
    case 'wrapped': { // ( blob ) [; identifier-type digest-type digest-length]
      let comment = '';
      if (shape.comment === 'dhcid') {
        const d = (data as { digest: Uint8Array }).digest;
        comment = d.length >= 3 ? ` ; ${(d[0]! << 8) | d[1]!} ${d[2]!} ${d.length - 3}` : '';
      }
      return `( ${cut(text.replace(/ /g, '')).join(BR)} )${comment}`;
    }
    case 'nsec3': { // alg flags iterations salt ( next-hashed-owner, then the type bitmap on its own line )
      const types = tokens.slice(5).join(' ');
      return `${tokens.slice(0, 4).join(' ')} (${BR}${tokens[4] ?? ''}${types.length > 0 ? BR + types : ''} )`;
    }
    case 'leadingBlob':
      return `( ${tokens.slice(0, shape.after).join(' ')}` + lines(tokens.slice(shape.after)) + ' )';
    case 'hip': // ( alg HIT, the key on one line, one server per line )
      return `( ${tokens.slice(0, 2).join(' ')}` + tokens.slice(2).map((t) => BR + t).join('') + ' )';
    case 'inline':
      return `( ${text} )`;
    case 'tight':
      return ` (${cut(text).join(BR)} )`;
    case 'blob':
      if (tokens.length <= shape.after) return text;
      return `${tokens.slice(0, shape.after).join(' ')} (` + lines(tokens.slice(shape.after)) + ' )';
  }
}

/**
 * dig +multiline's record line: BIND's multiline style puts the TTL, class and type columns all
 * at 24 and the RDATA at 32, so after the owner they mostly fall one space apart.
 */
function formatRecordMultiline(rr: ResourceRecord, display: RecordStyle): string {
  const parts: string[] = [];
  const name = rr.name.toString();
  parts.push(name);
  let col = name.length;
  const field = (text: string, stop: number): void => {
    col = pad(parts, col, stop);
    parts.push(text);
    col += text.length;
  };
  if (display.ttlid) field(display.ttlUnits === true ? ttlUnits(rr.ttl) : String(rr.ttl), TTL_COLUMN);
  if (display.showClass) field(classToString(rr.class), TTL_COLUMN);
  field(typeToString(rr.type), TTL_COLUMN);
  // (Empty RDATA, as an APL without items, still gets its separating space, as dig prints it.)
  let rdata = multilineRData(rr.type, rr.data);
  if (display.rrComments === false) rdata = withoutRRComments(rr.type, rdata);
  field(rdata, TTL_COLUMN + TAB_WIDTH);
  return parts.join('');
}

/** One record in dig's column layout. */
export function formatRecord(rr: ResourceRecord, display: RecordStyle = DEFAULT_COLUMNS): string {
  if (display.multiline === true && display.unknownFormat !== true) return formatRecordMultiline(rr, display);
  const cols = columns(display);
  const parts: string[] = [];
  const name = rr.name.toString();
  parts.push(name);
  let col = name.length;
  if (cols.ttl !== undefined) {
    col = pad(parts, col, cols.ttl);
    const t = display.ttlUnits === true ? ttlUnits(rr.ttl) : String(rr.ttl);
    parts.push(t);
    col += t.length;
  }
  if (cols.class !== undefined) {
    col = pad(parts, col, cols.class);
    const c = display.unknownFormat === true ? `CLASS${rr.class}` : classToString(rr.class);
    parts.push(c);
    col += c.length;
  }
  col = pad(parts, col, cols.type);
  const type = display.unknownFormat === true ? `TYPE${rr.type}` : typeToString(rr.type);
  parts.push(type);
  col += type.length;
  const rdata = styledRData(rr, display);
  if (rdata.length > 0) {
    pad(parts, col, cols.rdata);
    parts.push(rdata);
  }
  return parts.join('');
}

/**
 * A question line (`;name<tabs>IN<tab>A`): the class is always shown, at the class stop (or the
 * first stop when classes are hidden); the `;` does not count towards the columns.
 */
export function formatQuestion(q: Question, display: RecordStyle = DEFAULT_COLUMNS): string {
  // +unknownformat names the question's class and type by number too (BIND).
  if (display.unknownFormat === true) {
    const cols = columns(display);
    const parts: string[] = [';', q.name.toString()];
    let col = pad(parts, q.name.toString().length, cols.class ?? TTL_COLUMN);
    const c = `CLASS${q.class}`;
    parts.push(c);
    col += c.length;
    pad(parts, col, cols.type);
    parts.push(`TYPE${q.type}`);
    return parts.join('');
  }
  const cols = columns(display);
  const parts: string[] = [';'];
  const name = q.name.toString();
  parts.push(name);
  if (display.multiline === true) {
    let c = pad(parts, name.length, TTL_COLUMN);
    const cls = classToString(q.class);
    parts.push(cls);
    c += cls.length;
    pad(parts, c, TTL_COLUMN);
    parts.push(typeToString(q.type));
    return parts.join('');
  }
  let col = pad(parts, name.length, cols.class ?? TTL_COLUMN);
  const c = classToString(q.class);
  parts.push(c);
  col += c.length;
  pad(parts, col, cols.type);
  parts.push(typeToString(q.type));
  return parts.join('');
}

/** The header flags that are set, in dig's order (`qr aa tc rd ra ad cd`). */
export function headerFlags(m: Message): string[] {
  const flags: string[] = [];
  if (m.qr) flags.push('qr');
  if (m.aa) flags.push('aa');
  if (m.tc) flags.push('tc');
  if (m.rd) flags.push('rd');
  if (m.ra) flags.push('ra');
  if (m.ad) flags.push('ad');
  if (m.cd) flags.push('cd');
  return flags;
}

/** `;; flags: qr aa rd; [MBZ: 0x4; ]QUERY: 1, ANSWER: ...` */
export function formatFlagsLine(m: Message): string {
  const flags = headerFlags(m);
  const mbz = m.z ? '; MBZ: 0x4' : '';
  return `;; flags:${flags.length > 0 ? ' ' + flags.join(' ') : ''}${mbz}; QUERY: ${m.question.length}, ANSWER: ${m.answer.length}, ` +
    `AUTHORITY: ${m.authority.length}, ADDITIONAL: ${m.additional.length + (m.edns !== undefined ? 1 : 0)}`;
}

export function formatHeaderLine(m: Message): string {
  return `;; ->>HEADER<<- opcode: ${opcodeToString(m.opcode)}, status: ${rcodeToString(m.rcode)}, id: ${m.id}`;
}

/** dig 9.18 names the RFC 8914 info codes up to 24 (Invalid Data); later ones print as the number only. */
const DIG_EDE_LAST_NAMED = 24;

export function hexSpaced(b: Uint8Array): string {
  const out: string[] = [];
  for (const x of b) out.push(x.toString(16).padStart(2, '0'));
  return out.join(' ');
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function printable(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.';
  return s;
}

/** `hex ("ascii")` as dig prints NSID and unknown options; empty data prints nothing. */
function hexAndText(b: Uint8Array): string {
  return b.length === 0 ? '' : ` ${hexSpaced(b)} ("${printable(b)}")`;
}

/** BIND's verbose TTL text: `1 day 1 hour 1 minute 1 second`, `0 seconds`. */
export function verboseDuration(seconds: number): string {
  const units: [number, string][] = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  const out: string[] = [];
  let rest = seconds;
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) out.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  }
  return out.length === 0 ? '0 seconds' : out.join(' ');
}

function formatOption(o: EdnsOption, sentCookie: Uint8Array | undefined): string {
  let typed;
  try {
    typed = decodeOption(o);
  } catch {
    return `; OPT=${o.code}:${hexAndText(o.data)}`;
  }
  switch (o.code) {
    case EdnsOptionCode.NSID:
      return `; NSID:${hexAndText(o.data)}`;
    case EdnsOptionCode.CLIENT_SUBNET: {
      const t = typed as { address: string; sourcePrefixLength: number; scopePrefixLength: number };
      return `; CLIENT-SUBNET: ${t.address}/${t.sourcePrefixLength}/${t.scopePrefixLength}`;
    }
    case EdnsOptionCode.EXPIRE: {
      if (o.data.length !== 4) return `; EXPIRE:${hexAndText(o.data)}`;
      const v = ((o.data[0]! << 24) >>> 0) + (o.data[1]! << 16) + (o.data[2]! << 8) + o.data[3]!;
      return `; EXPIRE: ${v} (${verboseDuration(v)})`;
    }
    case EdnsOptionCode.COOKIE: {
      let status = '';
      if (sentCookie !== undefined && o.data.length >= 8) {
        let same = true;
        for (let i = 0; i < 8; i++) if (o.data[i] !== sentCookie[i]) same = false;
        status = !same ? ' (bad)' : o.data.length === 8 ? ' (echoed)' : ' (good)';
      }
      return `; COOKIE: ${hex(o.data)}${status}`;
    }
    case EdnsOptionCode.TCP_KEEPALIVE: {
      const t = (typed as { timeout: number | undefined }).timeout;
      return t === undefined ? '; TCP KEEPALIVE:' : `; TCP KEEPALIVE: ${Math.floor(t / 10)}.${t % 10} secs`;
    }
    case EdnsOptionCode.PADDING:
      return o.data.length === 0 ? '; PAD:' : `; PAD: (${o.data.length} bytes)`;
    case EdnsOptionCode.EDE: {
      const t = typed as { infoCode: number; extraText: string };
      const name = t.infoCode <= DIG_EDE_LAST_NAMED ? EDE_NAMES[t.infoCode] : undefined;
      return `; EDE: ${t.infoCode}${name !== undefined ? ` (${name})` : ''}${t.extraText.length > 0 ? `: (${t.extraText})` : ''}`;
    }
    default:
      return `; OPT=${o.code}:${hexAndText(o.data)}`;
  }
}

/** The OPT pseudosection lines (without the `;; OPT PSEUDOSECTION:` title). */
export function formatEdns(edns: Edns, sentCookie?: Uint8Array): string[] {
  // 0x4000 is the CO flag (compact denial of existence OK), which dig 9.18 names.
  const z = edns.zFlags & ~0x4000;
  const mbz = z !== 0 ? ` MBZ: 0x${z.toString(16).padStart(4, '0')},` : '';
  const lines = [`; EDNS: version: ${edns.version}, flags:${edns.dnssecOk ? ' do' : ''}${(edns.zFlags & 0x4000) !== 0 ? ' co' : ''};${mbz} udp: ${edns.udpSize}`];
  for (const o of edns.options) lines.push(formatOption(o, sentCookie));
  return lines;
}

/** True when the client cookie in the reply differs from the one sent (dig warns). */
export function cookieMismatch(reply: Message, sentCookie: Uint8Array | undefined): boolean {
  if (sentCookie === undefined || reply.edns === undefined) return false;
  const o = reply.edns.options.find((x) => x.code === EdnsOptionCode.COOKIE);
  if (o === undefined || o.data.length < 8) return false;
  for (let i = 0; i < 8; i++) if (o.data[i] !== sentCookie[i]) return true;
  return false;
}

/**
 * A message as dig prints it between `;; Got answer:` and the statistics, honouring the
 * display toggles. `recursionWarning`: dig warns when RD was set but RA is not.
 */
export function formatMessage(m: Message, display: DigDisplay, sentCookie?: Uint8Array, queryHadEdns = false): string[] {
  const out: string[] = [];
  if (display.comments) {
    out.push(formatHeaderLine(m), formatFlagsLine(m));
    if (m.qr && m.rd && !m.ra) out.push(';; WARNING: recursion requested but not available');
    out.push('');
    // A server that does not know EDNS answers FORMERR without an OPT record (RFC 6891 §7).
    if (queryHadEdns && m.edns === undefined && (m.rcode === 1 || m.rcode === 4)) {
      out.push(`;; WARNING: EDNS query returned status ${rcodeToString(m.rcode)} - retry with '+noedns'`, '');
    }
    if (m.edns !== undefined) out.push(';; OPT PSEUDOSECTION:', ...formatEdns(m.edns, sentCookie));
  }
  if (display.question && m.question.length > 0) {
    if (display.comments) out.push(';; QUESTION SECTION:');
    for (const q of m.question) out.push(formatQuestion(q, display));
    if (display.comments) out.push('');
  }
  // RFC 8945: dig shows the TSIG apart, as a pseudosection after the additional section.
  const tsig = m.additional.length > 0 && m.additional[m.additional.length - 1]!.type === RRType.TSIG ? m.additional[m.additional.length - 1]! : undefined;
  const additional = tsig === undefined ? m.additional : m.additional.slice(0, -1);
  const sections: [boolean, string, ResourceRecord[]][] = [
    [display.answer, 'ANSWER', m.answer], [display.authority, 'AUTHORITY', m.authority], [display.additional, 'ADDITIONAL', additional],
  ];
  if (tsig !== undefined) sections.push([display.additional, 'TSIG PSEUDOSECTION', [tsig]]);
  for (const [on, title, rrs] of sections) {
    if (!on || rrs.length === 0) continue;
    if (display.comments) out.push(title.endsWith('PSEUDOSECTION') ? `;; ${title}:` : `;; ${title} SECTION:`);
    for (const rr of rrs) out.push(formatRecord(rr, display));
    if (display.comments) out.push('');
  }
  return out;
}

/** +short: the RDATA of each answer record; with +identify, `from server#port(name) in N ms`. */
export function formatShort(m: Message, identify?: { server: string; rttMs: number }): string[] {
  const out: string[] = [];
  for (const rr of m.answer) {
    const rdata = digRData(rr.type, rr.data);
    out.push(identify === undefined ? rdata : `${rdata} from server ${identify.server} in ${Math.round(identify.rttMs)} ms.`);
  }
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime `%a %b %d %H:%M:%S %Z %Y` in local time, as dig's `;; WHEN:` line. */
export function formatWhen(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  let zone = 'UTC';
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
    if (part !== undefined) zone = part.value;
  } catch { /* no Intl data: keep UTC */ }
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ` +
    `${zone} ${d.getFullYear()}`;
}

export interface StatsInfo {
  rttMs: number;
  serverAddress: string;
  port: number;
  /** The server as the user named it (dig prints it in parentheses). */
  serverName: string;
  /** udp, tcp, tls or https (printed upper-case). */
  transport: string;
  when: Date;
  size: number;
  /** -u: the query time in microseconds. */
  usec?: boolean;
}

export function formatStats(s: StatsInfo): string[] {
  return [
    s.usec === true ? `;; Query time: ${Math.round(s.rttMs * 1000)} usec` : `;; Query time: ${Math.round(s.rttMs)} msec`,
    `;; SERVER: ${s.serverAddress}#${s.port}(${s.serverName}) (${s.transport.toUpperCase()})`,
    `;; WHEN: ${formatWhen(s.when)}`,
    `;; MSG SIZE  rcvd: ${s.size}`,
    '',
  ];
}

function recordJson(rr: ResourceRecord): Record<string, unknown> {
  return { name: rr.name.toString(), ttl: rr.ttl, class: classToString(rr.class), type: typeToString(rr.type), rdata: printRData(rr.type, rr.data) };
}

/** +json: the reply as one machine-readable object. */
export function messageJson(m: Message, stats: StatsInfo | undefined, sentCookie?: Uint8Array): Record<string, unknown> {
  const flags: string[] = [];
  for (const [on, f] of [[m.qr, 'qr'], [m.aa, 'aa'], [m.tc, 'tc'], [m.rd, 'rd'], [m.ra, 'ra'], [m.ad, 'ad'], [m.cd, 'cd']] as const) if (on) flags.push(f);
  return {
    id: m.id,
    opcode: opcodeToString(m.opcode),
    status: rcodeToString(m.rcode),
    flags,
    counts: { query: m.question.length, answer: m.answer.length, authority: m.authority.length, additional: m.additional.length + (m.edns ? 1 : 0) },
    edns: m.edns === undefined ? null : {
      version: m.edns.version, udp: m.edns.udpSize, flags: m.edns.dnssecOk ? ['do'] : [],
      options: m.edns.options.map((o) => ({ code: o.code, text: formatOption(o, sentCookie).replace(/^; /, '') })),
    },
    question: m.question.map((q) => ({ name: q.name.toString(), class: classToString(q.class), type: typeToString(q.type) })),
    answer: m.answer.map(recordJson),
    authority: m.authority.map(recordJson),
    additional: m.additional.map(recordJson),
    ...(stats === undefined ? {} : {
      server: `${stats.serverAddress}#${stats.port}`, transport: stats.transport, queryTimeMs: Math.round(stats.rttMs),
      when: stats.when.toISOString(), size: stats.size,
    }),
  };
}
