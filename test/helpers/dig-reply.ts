/**
 * Runs Debian's dig against a server and reduces its printout to what interop tests compare:
 * status, flags, the EDNS and EDE lines, and each section's records (whitespace folded, sorted,
 * so RRsets compare as sets). When dig retries over TCP after TC, only the last reply counts.
 */
import { execFile } from 'node:child_process';
import { PEER_BINARIES } from './peers.js';

/** One reply as dig printed it, reduced to what must agree. */
export interface DigReply {
  status: string;
  flags: string[];
  /** The EDNS line (version, flags, udp size), '' without OPT. */
  edns: string;
  ede: string;
  question: number;
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** dig @server -p port +norec +nocookie (sections only) ARGS, parsed. */
export function digReply(server: string, port: number, args: string[], opts: { lowercase?: boolean } = {}): Promise<DigReply> {
  return new Promise((resolve, reject) => {
    execFile(PEER_BINARIES.dig, ['@' + server, '-p', String(port), '+norec', '+nocookie', '+time=2', '+tries=2',
      '+noall', '+comments', '+answer', '+authority', '+additional', ...args], (err, stdout) => {
      if (err !== null && stdout === '') {
        reject(err);
        return;
      }
      resolve(parseDigReply(stdout, opts));
    });
  });
}

/** Parses dig's printout; `lowercase` folds the records' case (for peers whose compression borrows case). */
export function parseDigReply(text: string, opts: { lowercase?: boolean } = {}): DigReply {
  const r: DigReply = { status: '', flags: [], edns: '', ede: '', question: -1, answer: [], authority: [], additional: [], raw: text };
  let section: string[] | undefined;
  for (const line of text.split('\n')) {
    let m = /status: (\w+)/.exec(line);
    if (line.startsWith(';; ->>HEADER<<-') && m !== null) {
      // dig prints the UDP reply before retrying over TCP; only the last reply counts.
      r.status = m[1]!;
      r.answer = [];
      r.authority = [];
      r.additional = [];
      r.edns = '';
      r.ede = '';
      section = undefined;
      continue;
    }
    m = /^;; flags:([^;]*); QUERY: (\d+)/.exec(line);
    if (m !== null) {
      r.flags = m[1]!.trim().split(/\s+/).filter((f) => f !== '').sort();
      r.question = Number(m[2]);
      continue;
    }
    if (line.startsWith('; EDNS:')) r.edns = line.trim();
    else if (line.startsWith('; EDE:')) r.ede = line.trim();
    else if (line.startsWith(';; ANSWER SECTION')) section = r.answer;
    else if (line.startsWith(';; AUTHORITY SECTION')) section = r.authority;
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = r.additional;
    else if (line.trim() === '' || line.startsWith(';')) continue;
    else if (section !== undefined) {
      const rr = line.trim().split(/\s+/).join(' ');
      section.push(opts.lowercase === true ? rr.toLowerCase() : rr);
    }
  }
  r.answer.sort();
  r.authority.sort();
  r.additional.sort();
  return r;
}
