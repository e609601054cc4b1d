/**
 * The life of one attempt at an exchange, shared by every transport of the client: it ends
 * exactly once — with the reply, the first error, the deadline or the caller's AbortSignal — and
 * then releases its socket. Retrying attempts is here too.
 *
 * Invariants:
 * - Every attempt has a deadline (TimeoutError, EDE 22); nothing waits forever.
 * - After the end, the socket is released and keeps a no-op 'error' listener, so a late error
 *   (an ICMP report, a reset) can never become an unhandled 'error' event.
 * - Only TimeoutError and NetworkError are retried; anything else (AbortedError, a bug) is thrown
 *   at once.
 */
import { AbortedError, NetworkError, TimeoutError } from '../errors.js';
import type { Message } from '../wire/message.js';

/** What one successful attempt yields. */
export interface AttemptResult {
  message: Message;
  bytes: Uint8Array;
  /** Time from sending the query to receiving the accepted reply. */
  rttMs: number;
  /** Where the query was sent from (UDP attempts; for dnstap's query_address/port). */
  local?: { address: string; port: number } | undefined;
}

/** Kept on released sockets and sessions in place of the attempt's own 'error' handler. */
export function ignoreError(): void {}

/** The NetworkError for a socket 'error' event; `proto` prefixes the message (`tcp: connection refused`). */
export function socketError(label: string, proto: string, e: NodeJS.ErrnoException): NetworkError {
  return new NetworkError(label, `${proto}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`, e);
}

/**
 * Settles one attempt's promise once: `finish(err)` or `finish(undefined, result)`, or by itself
 * with TimeoutError after `timeoutMs` or AbortedError when `signal` fires. Each end calls `release`
 * (close the socket) before the promise settles. When `signal` is already aborted the attempt
 * ends in the constructor: check `done` before opening anything.
 */
export class Attempt<T> {
  done = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  constructor(
    private readonly resolve: (result: T) => void,
    private readonly reject: (e: Error) => void,
    private readonly release: () => void,
    private readonly signal: AbortSignal | undefined,
    label: string, timeoutMs: number, timeoutDetail: string,
  ) {
    this.onAbort = (): void => this.finish(new AbortedError('query aborted', signal?.reason));
    this.timer = setTimeout(() => this.finish(new TimeoutError(label, timeoutMs, timeoutDetail)), timeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted === true) this.onAbort();
  }

  finish(err: Error | undefined, result?: T): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.release();
    if (err !== undefined) this.reject(err);
    else this.resolve(result!);
  }
}

/** Runs `attempt` up to `tries` times; timeouts and network errors are retried, the last one thrown. */
export async function withTries<T>(tries: number, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    if (signal?.aborted === true) throw new AbortedError('query aborted', signal.reason);
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof TimeoutError || e instanceof NetworkError)) throw e;
      last = e;
    }
  }
  throw last;
}
