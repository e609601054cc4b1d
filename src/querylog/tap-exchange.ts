/**
 * dnstap of the resolver's and the forwarder's own upstream queries (RESOLVER_* and FORWARDER_*,
 * as Unbound writes with dnstap-log-resolver-query-messages and its forwarder counterparts): an
 * exchange function wrapped so each exchange, once it ends, is told to the current dnstap
 * writer (looked up per exchange: a reload may replace or remove it). A reply gives the query
 * as sent (its ID), the time it was sent (reply time minus the round trip) and the reply; a
 * timeout or network error gives the query alone (encoded again: its ID is not the one sent).
 *
 * Invariant: with no writer, the wrapper costs one call; the tap never changes what the exchange
 * returns or throws.
 */
import type { ExchangeOptions, ExchangeResult, ServerAddress } from '../client/exchange.js';
import type { Message } from '../wire/message.js';
import type { DnstapWriter } from './dnstap.js';

export type TappableExchange = (query: Message, server: ServerAddress, opts?: ExchangeOptions) => Promise<ExchangeResult>;

/** `ex` with its exchanges told to `writer()` (RESOLVER_* messages, or FORWARDER_* when `forwarder`). */
export function tapExchange(ex: TappableExchange, writer: () => DnstapWriter | undefined, forwarder: boolean): TappableExchange {
  return async (query, server, opts) => {
    const w = writer();
    if (w === undefined) return ex(query, server, opts);
    const sent = performance.timeOrigin + performance.now();
    let r: ExchangeResult;
    try {
      r = await ex(query, server, opts);
    } catch (err) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = query.encode();
      } catch { /* nothing to show */ }
      if (bytes !== undefined) {
        w.upstreamMessage(forwarder, sent, -1, opts?.transport === 'tcp', server.address, server.port, undefined, bytes, undefined, undefined);
      }
      throw err;
    }
    const end = performance.timeOrigin + performance.now();
    w.upstreamMessage(forwarder, end - r.rttMs, end, r.transport === 'tcp', r.server.address, r.server.port, r.local, r.queryBytes, r.bytes, undefined);
    return r;
  };
}
