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
  // Reaching the answer of last resort: no element answered.
  let h: Handler = (ctx) => {
    ctx.answeredBy = undefined;
    return last(ctx);
  };
  for (let i = elements.length - 1; i >= 0; i--) {
    const el = elements[i]!;
    const m = el.middleware;
    if (m === undefined) continue;
    const inner = m(h);
    h = el.pure === true ? named(inner, el.name) : markClientDependent(inner, el.name);
  }
  return h;
}

/**
 * Notes the element on the context as it is entered: the last one entered is the innermost the
 * query reached, the one that answered (an element passing the query on calls `next` first).
 */
function named(inner: Handler, name: string): Handler {
  return (ctx) => {
    ctx.answeredBy = name;
    return inner(ctx);
  };
}

function markClientDependent(inner: Handler, name: string): Handler {
  return (ctx) => {
    ctx.clientDependent = true;
    ctx.answeredBy = name;
    return inner(ctx);
  };
}
