/**
 * Logging: library code takes a `Logger` (pino's calling convention) and never writes to the
 * console itself; the CLI creates a pino logger.
 */
import { pino } from 'pino';

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

/** JSON lines to stderr at `level`, as operators expect from a daemon. */
export function createLogger(level: string, name = 'sovereign'): Logger {
  return pino({ name, level }, pino.destination(2));
}
