/**
 * dig +yaml: each message as BIND 9.18 dig prints it in YAML (a `- type: MESSAGE` document in
 * dnstap's vocabulary: AUTH_/RECURSIVE_ QUERY/RESPONSE, times, sizes, addresses, then the
 * message's header, OPT pseudosection and sections as key/value pairs and quoted record lines).
 *
 * Invariant: pure text from a decoded message; no I/O.
 */
import { opcodeToString, rcodeToString } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { ResourceRecord } from '../wire/record.js';
import { classToString, typeToString } from '../wire/types.js';
import type { DigDisplay } from './dig-args.js';
import { digRData, formatEdns } from './dig-format.js';

export interface YamlInfo {
  server: { address: string; port: number };
  /** udp, tcp, tls, https. */
  transport: string;
  family: 4 | 6;
  /** When the query was sent and the reply came. */
  when: Date;
  replyAt: Date;
}

/** YAML single-quoted scalar (a quote inside is doubled). */
function quoted(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function flagsOf(m: Message): string {
  const f: string[] = [];
  for (const [on, n] of [[m.qr, 'qr'], [m.aa, 'aa'], [m.tc, 'tc'], [m.rd, 'rd'], [m.ra, 'ra'], [m.ad, 'ad'], [m.cd, 'cd']] as const) if (on) f.push(n);
  return f.join(' ');
}

function recordText(rr: ResourceRecord, d: Pick<DigDisplay, 'ttlid' | 'showClass'>): string {
  const parts = [rr.name.toString()];
  if (d.ttlid) parts.push(String(rr.ttl));
  if (d.showClass) parts.push(classToString(rr.class));
  parts.push(typeToString(rr.type));
  const rdata = digRData(rr.type, rr.data);
  if (rdata.length > 0) parts.push(rdata);
  return parts.join(' ');
}

/** The YAML document dig prints for one message (`kind`: the query sent with +qr, or the reply). */
export function yamlMessage(m: Message, kind: 'query' | 'response', size: number, info: YamlInfo, d: DigDisplay,
  sentCookie?: Uint8Array): string[] {
  // dnstap's message types: a query with RD is RECURSIVE_QUERY; a reply is RECURSIVE_ only with RD and RA.
  const recursive = kind === 'query' ? m.rd : m.rd && m.ra;
  const out = [
    '- type: MESSAGE',
    '  message:',
    `    type: ${recursive ? 'RECURSIVE' : 'AUTH'}_${kind === 'query' ? 'QUERY' : 'RESPONSE'}`,
    `    query_time: !!timestamp ${info.when.toISOString()}`,
  ];
  if (kind === 'response') out.push(`    response_time: !!timestamp ${info.replyAt.toISOString()}`);
  out.push(
    `    message_size: ${size}b`,
    `    socket_family: ${info.family === 6 ? 'INET6' : 'INET'}`,
    `    socket_protocol: ${info.transport === 'udp' ? 'UDP' : 'TCP'}`,
    `    response_address: "${info.server.address}"`,
    `    response_port: ${info.server.port}`,
    `    query_address: "${info.family === 6 ? '::0' : '0.0.0.0'}"`,
    '    query_port: 0',
    `    ${kind}_message_data:`,
    `      opcode: ${opcodeToString(m.opcode)}`,
    `      status: ${rcodeToString(m.rcode)}`,
    `      id: ${m.id}`,
    `      flags: ${flagsOf(m)}`,
    `      QUESTION: ${m.question.length}`,
    `      ANSWER: ${m.answer.length}`,
    `      AUTHORITY: ${m.authority.length}`,
    `      ADDITIONAL: ${m.additional.length + (m.edns !== undefined ? 1 : 0)}`,
  );
  if (m.edns !== undefined) {
    const e = m.edns;
    out.push('      OPT_PSEUDOSECTION:', '        EDNS:', `          version: ${e.version}`, `          flags:${e.dnssecOk ? ' do' : ''}`);
    if (e.zFlags !== 0) out.push(`          MBZ: 0x${e.zFlags.toString(16).padStart(4, '0')}`);
    out.push(`          udp: ${e.udpSize}`);
    // The option lines are the text pseudosection's, without its `; ` prefix.
    for (const line of formatEdns(e, sentCookie).slice(1)) out.push(`          ${line.replace(/^; /, '')}`);
  }
  if (d.question && m.question.length > 0) {
    out.push('      QUESTION_SECTION:');
    for (const q of m.question) out.push(`        - ${quoted(`${q.name.toString()} ${classToString(q.class)} ${typeToString(q.type)}`)}`);
  }
  const sections: [boolean, string, ResourceRecord[]][] = [
    [d.answer, 'ANSWER', m.answer], [d.authority, 'AUTHORITY', m.authority], [d.additional, 'ADDITIONAL', m.additional],
  ];
  for (const [on, title, rrs] of sections) {
    if (!on || rrs.length === 0) continue;
    out.push(`      ${title}_SECTION:`);
    for (const rr of rrs) out.push(`        - ${quoted(recordText(rr, d))}`);
  }
  return out;
}
