/**
 * Logging: library code takes a `Logger` (pino's calling convention) and never writes to the
 * console itself; the CLI creates one with `createLogger`.
 *
 * Output: `text` (one human line: ISO time, level name, message, key=value) or `json` (one pino object
 * per line, `level` as a name, `time` in ISO 8601); `auto` picks text on a terminal, JSON otherwise.
 * Destinations: stderr, a file (appended), or syslog (RFC 3164 datagrams with PRI, via util-linux
 * `logger` to a Unix socket, /dev/log by default, which journald also reads).
 *
 * Expected conditions (no route, refused, timeouts, bad config) are logged as one line without a
 * stack: a stack is kept for what is a bug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { ConfigError, NetworkError, ResolutionError, TimeoutError } from './errors.js';

type LogFn = (obj: object | string, msg?: string) => void;

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};

/** A logger that drops everything (the default for library users and tests). */
export const silentLogger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };

export interface LogOptions {
  /** `text`, `json`, or `auto` (text when the destination is a terminal). Default auto. */
  format?: 'auto' | 'text' | 'json';
  /** `stderr` (default), `syslog`, or a file path. */
  destination?: string;
  /** The syslog socket (default /dev/log). */
  syslogSocket?: string;
  /** The `name` field (default `sovereign`). */
  name?: string;
}

/** Error codes of conditions the network or the operator causes, not bugs: no stack for these. */
const EXPECTED_CODES = new Set([
  'EHOSTUNREACH', 'ENETUNREACH', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EADDRINUSE', 'EADDRNOTAVAIL',
  'EACCES', 'EPERM', 'ENOENT', 'EPIPE',
]);

/** True for errors that are conditions to report in one line (see the module comment). */
export function isExpectedError(err: unknown): boolean {
  if (err instanceof NetworkError || err instanceof TimeoutError || err instanceof ConfigError || err instanceof ResolutionError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && EXPECTED_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isExpectedError(cause);
}

/** pino's `err` serializer, without the stack (and with the cause's code) for expected conditions. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (!isExpectedError(err)) return pino.stdSerializers.err(err);
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  const causeCode = (err.cause as { code?: unknown } | undefined)?.code;
  if (causeCode !== undefined) out.cause = causeCode;
  return out;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** RFC 5424 §6.2.1 severities for pino levels. */
const SYSLOG_SEVERITY: Record<string, number> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };
/** RFC 5424 facility 3: system daemons. */
const FACILITY_DAEMON = 3;

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as a human line: `2026-01-02T03:04:05.678Z INFO  listening addresses=[...]`.
 * `withTime` is false for syslog, which stamps the time itself.
 */
export function formatText(line: string, withTime = true): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, name: _name, pid: _pid, hostname: _host, err, ...rest } = o;
  const levelName = typeof level === 'number' ? LEVEL_NAMES[level] ?? String(level) : String(level).toUpperCase();
  let out = withTime ? `${String(time)} ${levelName.padEnd(5)} ${String(msg ?? '')}` : String(msg ?? '');
  for (const [k, v] of Object.entries(rest)) out += ` ${k}=${formatValue(v)}`;
  if (err !== undefined && err !== null && typeof err === 'object') {
    const e = err as { message?: string; code?: string; stack?: string };
    out += `: ${e.message ?? ''}${e.code !== undefined ? ` (${e.code})` : ''}`;
    if (e.stack !== undefined) out += '\n' + e.stack.split('\n').slice(1).join('\n');
  }
  return out + '\n';
}

interface Sink {
  write(line: string): void;
}

/** Writes each line synchronously to a file descriptor (no line lost when the process exits). */
function fdSink(fd: number, text: boolean): Sink {
  return { write: (line) => writeSync(fd, text ? formatText(line) : line) };
}

/** The `logger` child (one per process) that forwards lines to the syslog socket. */
function syslogSink(socket: string, name: string, json: boolean): Sink {
  let child: ChildProcess | undefined;
  // Without util-linux `logger`, lines go to stderr rather than nowhere (once said why).
  let fallback: Sink | undefined;
  const start = (): ChildProcess => {
    const c = spawn('logger', ['--socket', socket, '--prio-prefix', '--tag', name, `--id=${process.pid}`, '--socket-errors=off'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    c.on('error', (err) => {
      fallback = fdSink(2, !json);
      fallback.write(JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: `syslog unavailable (${err.message}); logging to stderr` }) + '\n');
    });
    c.stdin?.on('error', () => {});
    // The child must not keep the server alive, nor its pipe.
    c.unref();
    (c.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return c;
  };
  return {
    write(line) {
      if (fallback !== undefined) {
        fallback.write(line);
        return;
      }
      child ??= start();
      let level = 'info';
      try {
        const l = (JSON.parse(line) as { level?: unknown }).level;
        if (typeof l === 'string') level = l;
      } catch { /* keep info */ }
      const pri = FACILITY_DAEMON * 8 + (SYSLOG_SEVERITY[level] ?? 6);
      // One syslog message per line: newlines inside (a stack) are flattened.
      const body = (json ? line.trimEnd() : formatText(line, false).trimEnd()).replace(/\n/g, ' | ');
      child.stdin?.write(`<${pri}>${body}\n`);
    },
  };
}

/**
 * A logger at `level`. The second argument is either the options or (as before) the `name`.
 * Errors opening a log file are thrown (the caller reports them as a config problem).
 */
export function createLogger(level: string, options: LogOptions | string = {}): Logger {
  const o: LogOptions = typeof options === 'string' ? { name: options } : options;
  const name = o.name ?? 'sovereign';
  const destination = o.destination ?? 'stderr';
  let fd = 2;
  if (destination !== 'stderr' && destination !== 'syslog') {
    mkdirSync(dirname(destination), { recursive: true });
    fd = openSync(destination, 'a', 0o640);
  }
  const tty = destination === 'stderr' && process.stderr.isTTY === true;
  const format = o.format === undefined || o.format === 'auto' ? (tty || destination === 'syslog' ? 'text' : 'json') : o.format;
  const sink = destination === 'syslog'
    ? syslogSink(o.syslogSocket ?? '/dev/log', name, format === 'json')
    : fdSink(fd, format === 'text');
  const logger = pino({
    name, level,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError },
  }, sink);
  if (fd !== 2) process.once('exit', () => closeSync(fd));
  return logger;
}

/**
 * True in a single process and in the first cluster worker: facts every worker knows alike (zone
 * loaded, reloading) are logged at info once, by this one, and at debug by the others.
 */
export function isLeadProcess(): boolean {
  return !cluster.isWorker || cluster.worker?.id === 1;
}
