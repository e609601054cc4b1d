/**
 * The handler chain. Its ORDER is fixed here, in code (like CoreDNS's plugin.cfg); the config only
 * switches elements on and configures them. The chain is composed once at start and at reload,
 * never per packet.
 */
import type { Message } from '../wire/message.js';
import type { QueryContext } from './query-context.js';

/** Answers a query; may return synchronously (only thenables are awaited). */
export type Handler = (ctx: QueryContext) => Message | Promise<Message>;
/** Wraps the rest of the chain: answer, or call `next` for names it is not responsible for. */
export type Middleware = (next: Handler) => Handler;

/** A named chain element; `undefined` middleware means "switched off by config". */
export interface ChainElement {
  name: string;
  middleware: Middleware | undefined;
  /**
   * True when the element's answer, and its choice to pass the query on, depend only on the
   * query message (not the client, transport or time). Answers reached through an element that
   * is not pure are never served from the engine's answer cache.
   */
  pure?: boolean;
}

/**
 * Composes elements (already in the fixed order) in front of `last`, the answer of last
 * resort (REFUSED for names we are not responsible for).
 */
export function composeChain(elements: readonly ChainElement[], last: Handler): Handler {
  let h = last;
  for (let i = elements.length - 1; i >= 0; i--) {
    const el = elements[i]!;
    const m = el.middleware;
    if (m === undefined) continue;
    const inner = m(h);
    h = el.pure === true ? inner : markClientDependent(inner);
  }
  return h;
}

function markClientDependent(inner: Handler): Handler {
  return (ctx) => {
    ctx.clientDependent = true;
    return inner(ctx);
  };
}
