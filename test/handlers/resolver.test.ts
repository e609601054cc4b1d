import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExchangeResult, ServerAddress } from '../../src/client/exchange.js';
import { TimeoutError } from '../../src/errors.js';
import { resolverHandler } from '../../src/handlers/resolver/index.js';
import { Acl } from '../../src/resolver/acl.js';
import { Credibility, RRCache } from '../../src/resolver/cache.js';
import { type ExchangeFn, Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { composeChain } from '../../src/server/chain.js';
import { QueryContext, replyTo } from '../../src/server/query-context.js';
import { EdeCode, Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';

const hints = parseRootHints('. 3600000 NS a.root.\na.root. 3600000 A 192.0.2.1\n');

/** Every upstream query times out (the tests here never need an answer from upstream). */
const silent: ExchangeFn = async (_q: Message, server: ServerAddress): Promise<ExchangeResult> => {
  throw new TimeoutError(`${server.address}#53`, 10);
};

function setup(): { handler: (ctx: QueryContext) => Message | Promise<Message>; cache: RRCache } {
  const cache = new RRCache();
  const resolver = new Resolver({ cache, hints, exchange: silent, resolutionTimeoutMs: 2000 });
  const chain = composeChain([{ name: 'resolver', middleware: resolverHandler(resolver, { maxUdpSize: 1232, acl: new Acl(['127.0.0.0/8']) }) }],
    (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  return { handler: chain, cache };
}

function ctx(name: string, type: number, client = '127.0.0.1', rd = true): QueryContext {
  const q = Message.query(name, type, { id: 7, rd, edns: newEdns() });
  return new QueryContext(q, 'udp', client, 5353, 1232);
}

function ede(m: Message): number | undefined {
  const o = m.edns?.options.map((x) => decodeOption(x)).find((x) => x.code === 15) as { infoCode: number } | undefined;
  return o?.infoCode;
}

test('cache hits are answered synchronously with RA set and TTLs from the cache', () => {
  const { handler, cache } = setup();
  cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  const r = handler(ctx('www.example.com.', RRType.A));
  assert.ok(r instanceof Message, 'no promise on a cache hit');
  assert.equal(r.ra, true);
  assert.equal(r.aa, false);
  assert.equal(r.answer.length, 1);
  assert.ok(r.answer[0]!.ttl <= 300);
});

test('clients outside the ACL get REFUSED with EDE 18 (Prohibited)', () => {
  const { handler, cache } = setup();
  cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  const r = handler(ctx('www.example.com.', RRType.A, '198.51.100.7')) as Message;
  assert.equal(r.rcode, Rcode.REFUSED);
  assert.equal(r.answer.length, 0);
  assert.equal(ede(r), EdeCode.PROHIBITED);
});

test('local names answer synchronously; RD=0 never triggers resolution', async () => {
  const { handler } = setup();
  const lh = handler(ctx('localhost.', RRType.A)) as Message;
  assert.equal(lh.rcode, Rcode.NOERROR);
  assert.equal(lh.answer.length, 1);
  const norec = handler(ctx('www.example.org.', RRType.A, '127.0.0.1', false));
  assert.ok(norec instanceof Message);
  assert.equal(norec.rcode, Rcode.NOERROR);
  assert.equal(norec.answer.length, 0);
});

test('unreachable authorities: SERVFAIL with RA and EDE 22', async () => {
  const { handler } = setup();
  const r = await handler(ctx('www.example.org.', RRType.A));
  assert.equal(r.rcode, Rcode.SERVFAIL);
  assert.equal(r.ra, true);
  assert.equal(ede(r), EdeCode.NO_REACHABLE_AUTHORITY);
  // Asked again at once: the failure is remembered briefly (no new upstream storm), EDE 13.
  const again = await handler(ctx('www.example.org.', RRType.A));
  assert.equal(again.rcode, Rcode.SERVFAIL);
  assert.equal(ede(again), EdeCode.CACHED_ERROR);
});
