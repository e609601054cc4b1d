/**
 * `sovereign dig`: a dig-compatible DNS lookup tool (BIND 9.18 dig's options, output layout and
 * exit codes). Parsing lives in dig-args.ts, output in dig-format.ts, +trace in dig-trace.ts,
 * the query, server choice and retries in dig-query.ts.
 * Queries go over UDP with dig's retries and the TCP retry on TC; ANY over TCP as dig 9.18 does;
 * AXFR over one TCP connection with dig's `;; XFR size:` statistics. Never the system resolver,
 * except to turn an @server given as a host name into an address.
 *
 * Exit codes (as dig): 0 a reply was printed (whatever its RCODE), 1 usage error, 9 no reply
 * from any server, 10 internal error.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type ServerAddress, TcpConnection } from '../client/exchange.js';
import { NetworkError, TimeoutError } from '../errors.js';
import { Rcode } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { isIPv6 } from 'node:net';
import { type Command, stdio, version } from './command.js';
import { idnToUnicode } from './dig-style.js';
import { yamlMessage } from './dig-yaml.js';
import { DIG_USAGE, type DigLookup, type DigOptions, DigUsageError, parseDigArgs, setShort } from './dig-args.js';
import { cookieMismatch, formatMessage, formatRecord, formatShort, formatStats, formatWhen, messageJson } from './dig-format.js';
import {
  type DigIO, EXIT_BATCH_FILE, EXIT_INTERNAL, EXIT_NO_REPLY, EXIT_OK, EXIT_USAGE, buildQuery, defaultPort, defaultServer, queryAsPrinted,
  TlsVerifyError, searchCandidates, sendWithRetries, serverAddress,
} from './dig-query.js';
import { DigTsig } from './dig-tsig.js';

function cmdHeader(o: DigOptions, first: boolean): string[] {
  // dig separates the first banner from the shell prompt with an empty line; later batch lines' banners follow directly.
  const lines = [...(first ? [''] : []), `; <<>> Sovereign dig ${version()} <<>> ${o.argv.join(' ')}`];
  // Later batch-file lines repeat the banner only (dig).
  if (o.server !== undefined && first) lines.push('; (1 server found)');
  if (first) lines.push(';; global options: +cmd');
  return lines;
}

/** Most messages an AXFR may take before we give up (a runaway server). */
const MAX_XFR_MESSAGES = 1_000_000;

/**
 * AXFR (RFC 5936) over one TCP connection: prints every record as it arrives, until the SOA
 * closes the transfer; then dig's `;; XFR size:` statistics. Returns the exit code.
 */
async function runAxfr(query: Message, server: ServerAddress, serverName: string, o: DigOptions, io: DigIO, l: DigLookup,
  first: boolean, tsig: DigTsig | undefined): Promise<number> {
  const d = o.display;
  const when = new Date();
  const started = performance.now();
  let conn: TcpConnection;
  try {
    conn = await TcpConnection.connect(server, { timeoutMs: o.timeSeconds * 1000, ...(o.source === undefined ? {} : { localAddress: o.source }) });
  } catch (e) {
    if (!(e instanceof TimeoutError || e instanceof NetworkError)) throw e;
    const why = e instanceof TimeoutError ? 'timed out' : /refused/.test(e.message) ? 'connection refused' : e.message;
    io.out(`;; Connection to ${server.address}#${server.port}(${serverName}) for ${l.name} failed: ${why}.\n`);
    return EXIT_NO_REPLY;
  }
  if (d.cmd && first) io.out(cmdHeader(o, true).join('\n') + '\n');
  let records = 0;
  let messages = 0;
  let bytes = 0;
  const end = new XfrEnd(l.type === RRType.IXFR);
  let soaSeen = 0;
  let verifier: ReturnType<DigTsig['stream']> | undefined;
  try {
    const stream = conn.stream(query, { idleTimeoutMs: o.timeSeconds * 1000, ...(tsig === undefined ? {} : { sign: tsig.sign }) });
    for await (const { message: m, bytes: b } of stream) {
      messages++;
      bytes += b.length;
      const lines: string[] = [];
      let finished = false;
      if (m.rcode === 0) for (const rr of m.answer) if (end.add(rr)) finished = true;
      // RFC 1995 §4: an IXFR answered with the current SOA alone (we are up to date) is complete.
      if (messages === 1 && m.answer.length === 1 && end.singleSoa) finished = true;
      if (tsig !== undefined) {
        verifier ??= tsig.stream();
        const why = verifier.check(b, finished || m.rcode !== 0);
        if (why !== undefined) {
          // dig: the reason, the TSIG record as received, then the failure.
          const t = m.additional.find((rr) => rr.type === RRType.TSIG);
          io.out(`;; Couldn't verify signature: ${/error/.test(why) ? 'tsig indicates error' : 'tsig verify failure'}\n` +
            (t !== undefined && d.answer ? formatRecord(t, d) + '\n' : '') + '; Transfer failed.\n');
          return EXIT_OK;
        }
      }
      if (m.rcode !== 0 || (messages === 1 && (m.answer.length === 0 || m.answer[0]!.type !== RRType.SOA))) {
        io.out('; Transfer failed.\n');
        return EXIT_OK;
      }
      for (const rr of m.answer) {
        records++;
        // +onesoa: the closing SOA (RFC 5936 §2.2) is not printed.
        if (rr.type === RRType.SOA) soaSeen++;
        if (d.oneSoa && rr.type === RRType.SOA && soaSeen > 1) continue;
        if (d.answer) lines.push(d.short ? formatShort({ answer: [rr] } as Message)[0]! : formatRecord(rr, d));
      }
      // dig lists each message's TSIG with the records.
      if (d.answer && !d.short) for (const rr of m.additional) if (rr.type === RRType.TSIG) lines.push(formatRecord(rr, d));
      if (lines.length > 0) io.out(lines.join('\n') + '\n');
      // RFC 5936 §2.2: the transfer ends with the zone's SOA again (RFC 1995 §4 for IXFR).
      if (finished || messages >= MAX_XFR_MESSAGES) break;
    }
  } catch (e) {
    if (!(e instanceof TimeoutError || e instanceof NetworkError)) throw e;
    io.out(`; Transfer failed: ${e instanceof TimeoutError ? 'timed out' : e.message}\n`);
    return EXIT_OK;
  } finally {
    conn.close();
  }
  if (d.stats && !d.short) {
    io.out([
      `;; Query time: ${Math.round(performance.now() - started)} msec`,
      `;; SERVER: ${server.address}#${server.port}(${serverName}) (TCP)`,
      `;; WHEN: ${formatWhen(when)}`,
      `;; XFR size: ${records} records (messages ${messages}, bytes ${bytes})`,
      '', '',
    ].join('\n'));
  }
  return EXIT_OK;
}

/**
 * Where a transfer ends: AXFR at the second SOA (RFC 5936 §2.2); IXFR after the single SOA of an
 * up-to-date reply, or, incremental, at the new SOA where the next difference's old SOA would be
 * (RFC 1995 §4), or AXFR-style at the second SOA.
 */
export class XfrEnd {
  private n = 0;
  private serial = -1;
  /** IXFR: 0 = not decided yet, 1 = incremental, 2 = AXFR-style. */
  private mode = 0;
  /** Incremental: the next SOA opens a deletion list (true) or an addition list (false). */
  private nextIsOld = true;
  private done = false;

  constructor(private readonly ixfr: boolean) {}

  /** True when `rr` ends the transfer. */
  add(rr: { type: number; data: unknown }): boolean {
    if (this.done) return true;
    this.n++;
    const isSoa = rr.type === RRType.SOA;
    const serial = isSoa ? (rr.data as { serial: number }).serial : -1;
    if (this.n === 1) {
      this.serial = serial;
      return false;
    }
    if (!this.ixfr) return (this.done = isSoa);
    if (this.n === 2) {
      this.mode = isSoa && serial !== this.serial ? 1 : 2;
      if (this.mode === 2) return (this.done = isSoa);
      this.nextIsOld = false; // that SOA opened the first deletion list
      return false;
    }
    if (!isSoa) return false;
    if (this.mode === 2) return (this.done = true);
    if (this.nextIsOld && serial === this.serial) return (this.done = true);
    this.nextIsOld = !this.nextIsOld;
    return false;
  }

  /** An IXFR reply that was just the one SOA (client up to date). */
  get singleSoa(): boolean {
    return this.ixfr && this.n === 1;
  }
}

/** Runs a parsed dig command line; returns the exit code. */
export async function runDig(global: DigOptions, io: DigIO = stdio): Promise<number> {
  if (global.help) {
    io.out(DIG_USAGE);
    return EXIT_OK;
  }
  if (global.version) {
    io.err(`Sovereign dig ${version()}\n`);
    return EXIT_OK;
  }
  let exitCode = EXIT_OK;
  let first = true;
  for (const l of global.lookups) {
    // Each lookup runs with its own options (dig's global options plus its local ones).
    const code = await runLookup(l, l.opts ?? global, first, io);
    first = false;
    if (code !== EXIT_OK) exitCode = code;
  }
  if (global.batchFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(global.batchFile, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
      io.err(`${global.batchFile}: ${why}\ndig: couldn't open specified batch file\n`);
      return EXIT_BATCH_FILE;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      // A blank line is an empty command line, hence `. NS`, as in dig. Comment lines are skipped
      // (dig runs them as queries for their words; nobody wants that).
      const trimmed = line.trim();
      if (trimmed.startsWith(';') || trimmed.startsWith('#')) continue;
      const lineOpts = parseDigArgs(trimmed === '' ? [] : trimmed.split(/\s+/), global);
      for (const w of lineOpts.warnings) io.err(w + '\n');
      if (lineOpts.display.short !== global.display.short) setShort(global, lineOpts.display.short);
      for (const l of lineOpts.lookups) {
        const code = await runLookup(l, l.opts ?? lineOpts, first, io, true);
        first = false;
        if (code !== EXIT_OK) exitCode = code;
      }
    }
  }
  return exitCode;
}

/** Runs one lookup (query, +trace or AXFR) and prints it; returns its exit code. */
async function runLookup(l: DigLookup, o: DigOptions, first: boolean, io: DigIO, batch = false): Promise<number> {
  if (o.trace && o.server === undefined) {
    // +trace without @server starts from the root hints, not from the local resolver.
    const { runTrace } = await import('./dig-trace.js');
    return runTrace(o, undefined, '', io, o.hintsFile, l);
  }
  const serverName = o.server ?? defaultServer(o.family);
  const address = await serverAddress(serverName, o.family);
  const server = { address, port: defaultPort(o) };
  if (o.trace) {
    const { runTrace } = await import('./dig-trace.js');
    return runTrace(o, server, serverName, io, undefined, l);
  }
  // +search: each candidate name in turn while the answer is NXDOMAIN (+showsearch prints those).
  const candidates = searchCandidates(l.name, o);
  for (let i = 0; i < candidates.length - 1; i++) {
    const quiet = o.showSearch ? o : { ...o, display: { ...o.display, cmd: false, comments: false, question: false, answer: false,
      authority: false, additional: false, stats: false, qr: false, short: false, json: false, yaml: false } };
    const probe: DigLookup = { ...l, name: candidates[i]! };
    const probed = await queryOnce(probe, quiet, first, io, batch, server, serverName);
    if (probed.rcode !== Rcode.NXDOMAIN) {
      if (o.showSearch || probed.rcode === undefined) return probed.exit;
      // Found: print it as a lookup of its own (the probe printed nothing).
      return (await queryOnce(probe, o, first, io, batch, server, serverName)).exit;
    }
    if (o.showSearch) first = false;
  }
  const last = candidates[candidates.length - 1]!;
  return (await queryOnce(last === l.name ? l : { ...l, name: last }, o, first, io, batch, server, serverName)).exit;
}

/** One query and its printing: dig's exit code for it, and the reply's RCODE when one came. */
async function queryOnce(l: DigLookup, o: DigOptions, first: boolean, io: DigIO, batch: boolean, server: ServerAddress,
  serverName: string): Promise<{ exit: number; rcode: number | undefined }> {
  const { query, cookie } = buildQuery(l, o);
  const d = o.display;
  const tsig = DigTsig.from(o);
  // dig sends IXFR over TCP unless +notcp.
  if (l.type === RRType.AXFR || (l.type === RRType.IXFR && o.tcp !== false)) {
    return { exit: await runAxfr(query, server, serverName, o, io, l, first, tsig), rcode: undefined };
  }
  // dig prints the banner once, for the first lookup.
  // dig prints the banner once for the command line, and again for each batch-file line.
  const header = (): string[] => (first || batch ? cmdHeader(o, first) : []);
  if (d.qr && !d.json && !d.short && !d.yaml) {
    const sent = query.encode();
    if (d.cmd) io.out(header().map((x) => x + '\n').join(''));
    const lines = formatMessage(queryAsPrinted(query), d, undefined);
    // +header-only: dig still prints the (empty) question section's title for the query it sends.
    if (o.headerOnly && d.question && d.comments) {
      const at = lines.findIndex((x) => x.startsWith(';; ANSWER') || x.startsWith(';; AUTHORITY') || x.startsWith(';; ADDITIONAL'));
      lines.splice(at < 0 ? lines.length : at, 0, ';; QUESTION SECTION:', '');
    }
    io.out([';; Sending:', ...lines, ...(d.stats ? [`;; QUERY SIZE: ${sent.length}`, ''] : []), ''].join('\n'));
  }
  const when = new Date();
  const sentAt = new Date();
  let r;
  try {
    r = await sendWithRetries(query, server, serverName, o, io, l.name, tsig);
  } catch (e) {
    if (!(e instanceof TlsVerifyError)) throw e;
    io.out(e.message + '\n');
    return { exit: EXIT_OK, rcode: undefined };
  }
  // RFC 6891 §6.1.3: on BADVERS, dig retries with the version the server supports.
  if (r !== undefined && r.message.rcode === Rcode.BADVERS && query.edns !== undefined && query.edns.version > 0) {
    const v = Math.min(r.message.edns?.version ?? 0, query.edns.version - 1);
    io.out(`;; BADVERS, retrying with EDNS version ${v}.\n`);
    query.edns = { ...query.edns, version: v };
    r = await sendWithRetries(query, server, serverName, o, io, l.name, tsig);
  }
  if (r === undefined) {
    const tcp = o.transport !== 'dns' || (o.tcp ?? l.type === RRType.ANY);
    if (!tcp) io.out([...header(), ';; no servers could be reached'].map((x) => x + '\n').join(''));
    return { exit: EXIT_NO_REPLY, rcode: undefined };
  }
  // RFC 8945 §5.3: check the signed reply; dig says why first and warns last.
  const tsigFailure = tsig?.check(r.bytes);
  if (tsigFailure !== undefined) io.out(`;; Couldn't verify signature: ${tsigFailure}\n`);
  const stats = {
    rttMs: r.rttMs, serverAddress: server.address, port: server.port, serverName, transport: transportLabel(o, r.transport), when,
    size: r.bytes.length, usec: d.usec,
  };
  if (d.yaml) {
    const info = { server, transport: transportLabel(o, r.transport), family: isIPv6(server.address) ? 6 : 4, when: sentAt, replyAt: new Date() } as const;
    const docs: string[] = [];
    if (d.qr) docs.push(...yamlMessage(queryAsPrinted(query), 'query', query.encode().length, info, d));
    docs.push(...yamlMessage(r.message, 'response', r.bytes.length, info, d, cookie));
    io.out(docs.join('\n') + '\n');
    return { exit: EXIT_OK, rcode: r.message.rcode };
  }
  if (d.json) {
    io.out(JSON.stringify(messageJson(r.message, stats, cookie), null, 2) + '\n');
    return { exit: EXIT_OK, rcode: r.message.rcode };
  }
  if (d.short) {
    const lines = formatShort(r.message, d.identify ? { server: server.address, rttMs: r.rttMs } : undefined);
    if (lines.length > 0) io.out(lines.join('\n') + '\n');
    return { exit: EXIT_OK, rcode: r.message.rcode };
  }
  const out: string[] = [];
  if (d.cmd && !d.qr) out.push(...header());
  if (cookieMismatch(r.message, cookie)) out.push(';; Warning: Client COOKIE mismatch');
  if (d.comments) out.push(';; Got answer:');
  const body = formatMessage(r.message, d, cookie, query.edns !== undefined);
  out.push(...(d.idnOut ? body.map(idnToUnicode) : body));
  if (d.stats) out.push(...formatStats(stats));
  if (tsigFailure !== undefined) out.push(';; WARNING -- Some TSIG could not be validated');
  if (out.length > 0) io.out(out.join('\n') + '\n');
  return { exit: EXIT_OK, rcode: r.message.rcode };
}

/** The transport as dig names it on the `;; SERVER:` line. */
function transportLabel(o: DigOptions, used: 'udp' | 'tcp'): string {
  return o.transport === 'tls' ? 'tls' : o.transport === 'https' ? (o.httpsGet ? 'https-get' : 'https') : used;
}

/** dig's report of a usage error: one line, or the line and the synopsis; returns the exit code. */
function usageError(e: DigUsageError, io: DigIO): number {
  if (e.oneLine || e.exitCode !== EXIT_USAGE || e.message.startsWith("Couldn't")) {
    io.err(`dig: ${e.message}\n`);
    return e.exitCode;
  }
  io.err(`${e.message}\n${DIG_USAGE.split('\n').slice(0, 3).join('\n')}\n\nUse "sovereign dig -h" for the complete list of options\n`);
  return EXIT_USAGE;
}

/** Parses and runs; maps every failure to dig's exit codes with a one-line message. */
export async function digMain(argv: string[], io: DigIO = stdio): Promise<number> {
  let o: DigOptions;
  try {
    o = parseDigArgs(argv);
  } catch (e) {
    if (e instanceof DigUsageError) return usageError(e, io);
    throw e;
  }
  for (const w of o.warnings) io.err(w + '\n');
  if (o.lookups.length === 0 && o.batchFile === undefined && !o.help && !o.version) return EXIT_OK;
  try {
    return await runDig(o, io);
  } catch (e) {
    // A bad line in a -f batch file is reported as the same line on the command line would be.
    if (e instanceof DigUsageError && e.message.startsWith('Invalid option')) return usageError(e, io);
    if (e instanceof DigUsageError) {
      io.err(`dig: ${e.message}\n`);
      return e.exitCode;
    }
    // A bad hints file, an unreadable file, a codec failure: one line, dig's internal-error code.
    io.err(`dig: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

export const command: Command = {
  summary: 'query DNS servers the way dig does (+trace, +short, +json, ...)',
  usage: DIG_USAGE,
  run: (args) => digMain(args),
};
