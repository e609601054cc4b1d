import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCacheRows, parseCacheArgs } from '../../src/cli/cache.js';

test('cache print/flush arguments', () => {
  assert.deepEqual(parseCacheArgs(['print', 'example.com', '--type', 'AAAA']).type, 'AAAA');
  const f = parseCacheArgs(['flush', 'example.com', '--subtree', '--control', '127.26.0.1:9']);
  assert.equal(f.action, 'flush');
  assert.equal(f.subtree, true);
  assert.equal(f.target.control, '127.26.0.1:9');
  assert.equal(parseCacheArgs(['flush']).name, undefined);
  assert.throws(() => parseCacheArgs([]), /usage/);
  assert.throws(() => parseCacheArgs(['dump']), /usage/);
  assert.throws(() => parseCacheArgs(['flush', '--subtree']), /needs a NAME/);
  assert.throws(() => parseCacheArgs(['flush', 'x', '--type', 'A']), /print only/);
  assert.throws(() => parseCacheArgs(['print', 'a', 'b']), /unexpected/);
});

test('cache print lists name, type, class, original and remaining TTL, and the data', () => {
  const text = formatCacheRows([
    { name: 'www.example.', type: 'A', class: 'IN', kind: 'positive', rank: 4, originalTtl: 300, remainingTtl: 120, stale: false,
      records: ['www.example.\t120\tIN\tA\t192.0.2.1', 'www.example.\t120\tIN\tA\t192.0.2.2'] },
    { name: 'nx.example.', type: 'ANY', class: 'IN', kind: 'nxdomain', rank: 4, originalTtl: 60, remainingTtl: 0, stale: true,
      records: ['example.\t0\tIN\tSOA\tns.example. host.example. 1 3600 600 86400 60'] },
  ]);
  assert.equal(text, [
    'NAME          TYPE  CLASS  ORIGINAL-TTL  REMAINING-TTL  DATA',
    'www.example.  A     IN     300           120            192.0.2.1',
    '                                                        192.0.2.2',
    'nx.example.   *     IN     60            0 (stale)      NXDOMAIN ; SOA ns.example. host.example. 1 3600 600 86400 60',
    '',
  ].join('\n'));
});
