/**
 * GeoIP regions against a running server, with a MaxMind DB built in the test by MaxMind's own
 * writer (Perl's MaxMind::DB::Writer, Debian libmaxmind-db-writer-perl): the ECS address, or the
 * source address without ECS, picks the country's, then the continent's, then the default set;
 * the reply's ECS SCOPE is the database network's prefix length (RFC 7871 §7.2.1). Also: the
 * config errors of `balance:` name the key and the fix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Family, parseAddress } from '../../src/balance/addresses.js';
import { GeoIp } from '../../src/balance/geoip.js';
import { seededRandom } from '../../src/balance/weights.js';
import { defaultConfig, validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { digReply } from '../helpers/dig-reply.js';
import { havePeers, inCI, tempDir } from '../helpers/peers.js';
import { udpQuery } from '../server/net-helpers.js';

const ADDR = '127.77.2.1';

const WRITER = `use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %types = (country => 'map', continent => 'map', iso_code => 'utf8_string', code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version => 6, record_size => 24, database_type => 'Sovereign-Test-Country', languages => ['en'],
  description => { en => 'Sovereign test database' }, map_key_type_callback => sub { $types{ $_[0] } },
  remove_reserved_networks => 0,
);
sub net { my ($net, $country, $continent) = @_;
  $tree->insert_network($net, { country => { iso_code => $country }, continent => { code => $continent } }); }
net('127.1.0.0/16', 'DE', 'EU');
net('127.2.0.0/16', 'FR', 'EU');
net('198.51.100.0/24', 'US', 'NA');
net('2001:db8:1::/48', 'JP', 'AS');
open my $fh, '>:raw', $ARGV[0] or die "$ARGV[0]: $!"; $tree->write_tree($fh); close $fh;
`;

/** Builds the test database; false (skip, or fail in CI) when the Perl writer is missing. */
function buildDatabase(t: { skip(msg: string): void }, file: string, script: string): boolean {
  writeFileSync(script, WRITER);
  const r = spawnSync('/usr/bin/perl', [script, file], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const why = `MaxMind::DB::Writer is missing (apt-get install libmaxmind-db-writer-perl): ${r.stderr ?? r.error}`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

describe('GeoIP regions', () => {
  const dir = tempDir('sovereign-geoip-');
  const db = join(dir.path, 'test.mmdb');
  let server: DnsServer | undefined;
  let port = 0;

  before(async (t) => {
    if (!buildDatabase(t as never, db, join(dir.path, 'writer.pl'))) return;
    server = new DnsServer({
      config: defaultConfig({
        listen: [`${ADDR}:0`], workers: 1, control: { enabled: false },
        balance: {
          geoip: { database: db },
          records: [
            {
              name: 'cdn.example.', ttl: 20, ecs: true, addresses: ['192.0.2.1'],
              regions: { DE: ['192.0.2.40'], EU: ['192.0.2.41'], na: ['192.0.2.42'], default: ['192.0.2.49'] },
            },
            // Weights through the server, with a seeded random source: exact counts.
            { name: 'w.example.', addresses: [{ address: '192.0.2.5', weight: 3 }, { address: '192.0.2.6', weight: 1 }] },
          ],
        },
      }),
      logger: silentLogger,
      balance: { random: seededRandom(2024) },
    });
    await server.start();
    port = server.addresses[0]!.port;
  });

  after(async () => {
    await server?.stop();
    dir.cleanup();
  });

  test('the database reads back as written', (t) => {
    if (server === undefined) return t.skip('no database');
    const g = new GeoIp(db);
    assert.equal(g.databaseType, 'Sovereign-Test-Country');
    const at = (a: string) => {
      const b = parseAddress(a)!;
      const r = g.lookup(b.length === 4 ? Family.IPV4 : Family.IPV6, b);
      return `${r.country} ${r.continent} ${r.prefixLength}`;
    };
    assert.equal(at('127.1.9.9'), 'DE EU 16');
    assert.equal(at('198.51.100.200'), 'US NA 24');
    assert.equal(at('2001:db8:1:ff::1'), 'JP AS 48');
    assert.match(at('10.0.0.1'), /^ {2}\d+$/);
  });

  test('ECS address picks country, continent, default; SCOPE is the database network', async (t) => {
    if (server === undefined || !havePeers(t, 'dig')) return;
    const cases: [string, string, string][] = [
      ['127.1.2.0/24', '192.0.2.40', '127.1.2.0/24/16'],
      ['127.2.0.0/24', '192.0.2.41', '127.2.0.0/24/16'],
      ['198.51.100.0/24', '192.0.2.42', '198.51.100.0/24/24'],
      ['2001:db8:1::/56', '192.0.2.49', '2001:db8:1::/56/48'],
    ];
    for (const [subnet, address, echoed] of cases) {
      const r = await digReply(ADDR, port, [`+subnet=${subnet}`, 'cdn.example', 'A']);
      assert.deepEqual(r.answer, [`cdn.example. 20 IN A ${address}`], subnet);
      assert.match(r.raw, new RegExp(`; CLIENT-SUBNET: ${echoed.replace(/\./g, '\\.')}\\n`), r.raw);
    }
  });

  test('without ECS the source address is located', async (t) => {
    if (server === undefined || !havePeers(t, 'dig')) return;
    const de = await digReply(ADDR, port, ['-b', '127.1.0.5', 'cdn.example', 'A']);
    assert.deepEqual(de.answer, ['cdn.example. 20 IN A 192.0.2.40']);
    const fr = await digReply(ADDR, port, ['-b', '127.2.0.5', 'cdn.example', 'A']);
    assert.deepEqual(fr.answer, ['cdn.example. 20 IN A 192.0.2.41']);
    const none = await digReply(ADDR, port, ['-b', '127.0.0.1', 'cdn.example', 'A']);
    assert.deepEqual(none.answer, ['cdn.example. 20 IN A 192.0.2.49']);
    assert.ok(server.balancer!.snapshot().answers.geo >= 2);
  });

  test('weighted answers through the server: exact counts for the seed, never cached', async (t) => {
    if (server === undefined) return t.skip('no database');
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const r = await udpQuery(ADDR, port, Message.query('w.example.', RRType.A));
      assert.equal(r.answer.length, 1);
      assert.ok(r.aa);
      const a = (r.answer[0]!.data as { address: string }).address;
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries([...counts].sort()), EXACT_2024);
  });
});

describe('balance config errors name the key and the fix', () => {
  const cases: [unknown, RegExp, RegExp][] = [
    [{ records: [{ name: 'a.example.', type: 'AAAA', addresses: ['192.0.2.1'] }] }, /balance\.records\[0\]\.addresses\[0\]/, /not an IPv6 address/],
    [{ records: [{ name: 'a.example.', addresses: ['192.0.2.1'], regions: { EU: ['192.0.2.2'] } }] }, /balance\.records\[0\]\.regions/, /balance\.geoip\.database/],
    [{ records: [{ name: 'a.example.', addresses: ['192.0.2.1'], health: { check: 'tcp' } }] }, /balance\.records\[0\]\.health\.port/, /required for check: tcp/],
    [{ records: [{ name: 'a.example.', addresses: ['192.0.2.1'], subnets: [{ prefix: '10.0.0.1/8', addresses: ['192.0.2.2'] }] }] }, /subnets\[0\]\.prefix/, /network address/],
    [{ records: [{ name: 'a.example.', addresses: ['192.0.2.1'], health: { check: 'http', interval: '1s', timeout: '2s' } }] }, /health\.timeout/, /shorter than the interval/],
    [{ records: [{ name: 'a.example.', addresses: ['192.0.2.1'] }, { name: 'A.example', addresses: ['192.0.2.2'] }] }, /balance\.records\[1\]\.name/, /already balanced/],
    [{ geoip: { database: '/nonexistent/geo.mmdb' }, records: [] }, /balance\.geoip\.database/, /readable MaxMind DB/],
    [{ records: [{ name: 'a.example.', addresses: [{ address: '192.0.2.1', weight: -1 }] }] }, /balance\.records\[0\]\.addresses\[0\]/, /weight >= 0/],
  ];
  for (const [balance, key, fix] of cases) {
    test(String(key), () => {
      assert.throws(() => validateConfig({ balance }, '/'), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, key);
        assert.match(err.message, fix);
        return true;
      });
    });
  }
});

const EXACT_2024: Record<string, number> = { '192.0.2.5': 158, '192.0.2.6': 42 };
