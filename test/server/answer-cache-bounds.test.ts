/**
 * The answer cache against changing zones and hostile clients: an answer from the zones is not
 * served once the catalog's content version moved on (a zone replaced or changed in place, with
 * no chain rebuild), and when the cache is full, one client's flood of new names evicts nothing
 * (only a query asked before may push others out).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog } from '../../src/authority/catalog.js';
import { authority } from '../../src/handlers/authority/index.js';
import { silentLogger } from '../../src/logging.js';
import { composeChain } from '../../src/server/chain.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { Writer } from '../../src/wire/writer.js';
import { Zone } from '../../src/zone/zone.js';

function zone(address: string, extra: string[] = []): Zone {
  const z = new Zone(Name.fromText('example.com.'));
  for (const t of ['example.com. 3600 IN SOA ns hostmaster 1 7200 3600 1209600 300', 'example.com. 3600 IN NS ns.example.com.',
    'ns.example.com. 3600 IN A 192.0.2.1', `www.example.com. 3600 IN A ${address}`, ...extra]) z.add(parseRecord(t));
  z.finish();
  return z;
}

function engine(catalog: Catalog, answerCacheBytes?: number): QueryEngine {
  const chain = composeChain([{ name: 'authority', middleware: authority(catalog, { rotate: false, maxUdpSize: 1232 }), pure: true }],
    (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  return new QueryEngine(chain, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats(), ...(answerCacheBytes === undefined ? {} : { answerCacheBytes }) });
}

function ask(e: QueryEngine, name: string, id = 1): { fast: boolean; m: Message } {
  const q = Buffer.from(Message.query(name, RRType.A, { id }).encode());
  const hit = e.cachedUdpReply(q, q.length, '127.0.0.1');
  if (hit !== undefined) return { fast: true, m: Message.decode(hit) };
  const w = new Writer();
  const n = e.process(q, q.length, 'udp', '127.0.0.1', 1, w) as number;
  return { fast: false, m: Message.decode(w.buf.subarray(0, n)) };
}

const addressOf = (m: Message): string => (m.answer[0]!.data as { address: string }).address;

test('a zone replaced in the catalog (update, transfer) is answered at once, without a chain rebuild', () => {
  const catalog = new Catalog();
  catalog.add(zone('192.0.2.10'));
  const e = engine(catalog);
  assert.equal(addressOf(ask(e, 'www.example.com.').m), '192.0.2.10');
  assert.equal(ask(e, 'www.example.com.').fast, true);
  catalog.add(zone('192.0.2.20'));
  const after = ask(e, 'www.example.com.');
  assert.equal(after.fast, false, 'the old answer is not served');
  assert.equal(addressOf(after.m), '192.0.2.20');
  assert.equal(ask(e, 'WWW.example.com.').fast, true, 'the new answer is cached in turn');
  // A change in place is announced with changed(): the version moves on just the same.
  const before = catalog.version;
  catalog.changed();
  assert.equal(catalog.version, before + 1);
  assert.equal(ask(e, 'www.example.com.').fast, false);
});

test('a full cache admits a new answer only when its query was asked before: a flood of new names evicts nothing', () => {
  const catalog = new Catalog();
  const names: string[] = [];
  for (let i = 0; i < 400; i++) names.push(`h${i}.example.com. 3600 IN A 10.0.${i >> 8}.${i & 255}`);
  catalog.add(zone('192.0.2.10', names));
  // Room for a few dozen answers.
  const e = engine(catalog, 6000);
  ask(e, 'www.example.com.');
  assert.equal(ask(e, 'www.example.com.').fast, true);
  for (let i = 0; i < 400; i++) ask(e, `h${i}.example.com.`);
  assert.ok(e.cachedAnswerBytes <= 6000);
  assert.equal(ask(e, 'www.example.com.').fast, true, 'the popular answer survived the one-shot flood');
  // Asked a second time, a newcomer does get in (evicting what was not asked for since).
  ask(e, 'h399.example.com.');
  assert.equal(ask(e, 'h399.example.com.').fast, true);
  assert.equal(addressOf(ask(e, 'h399.example.com.').m), '10.0.1.143');
});
