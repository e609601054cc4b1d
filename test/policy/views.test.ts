/**
 * The view table (src/policy/views.ts): first match wins, "!" excludes, keys before addresses,
 * destinations, no match -1; and the config checks of `views:` (errors name the key and the fix).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { ViewTable } from '../../src/policy/views.js';
import { Name } from '../../src/wire/name.js';

test('ViewTable: first match, negation, keys first, destinations, IPv6, no match', () => {
  const t = new ViewTable([
    { name: 'lan', clients: ['!10.0.0.1', '10.0.0.0/8', 'fd00::/8'], destinations: ['any'], keys: [] },
    { name: 'key', clients: [], destinations: ['any'], keys: [Name.fromText('k1.')] },
    { name: 'dmz', clients: ['any'], destinations: ['192.0.2.53'], keys: [] },
    { name: 'all', clients: ['10.0.0.0/8', '192.168.0.0/16'], destinations: ['any'], keys: [] },
  ]);
  assert.equal(t.pick('10.1.2.3', '192.0.2.1', undefined), 0);
  assert.equal(t.pick('fd00::5', undefined, undefined), 0);
  assert.equal(t.pick('10.0.0.1', '192.0.2.1', undefined), 3, 'negated out of lan, into the next match');
  assert.equal(t.pick('10.1.2.3', '192.0.2.1', Name.fromText('K1.')), 1, 'a key picks its view, case-insensitively');
  assert.equal(t.pick('10.1.2.3', '192.0.2.1', Name.fromText('other.')), 0, 'an unknown key falls back to the address');
  assert.equal(t.pick('172.16.0.1', '192.0.2.53', undefined), 2);
  assert.equal(t.pick('172.16.0.1', undefined, undefined), -1, 'our address unknown: only destinations any');
  assert.equal(t.pick('172.16.0.1', '192.0.2.1', undefined), -1);
  for (let i = 0; i < 3; i++) assert.equal(t.pick('192.168.1.1', '192.0.2.1', undefined), 3, 'memoised the same');
  assert.equal(t.policies[2], 'view:dmz');
});

test('views config: unknown shared zone, duplicate names, undefined keys, a zone taking updates in two views', () => {
  const fails = (input: object, path: RegExp, problem: RegExp): void => {
    assert.throws(() => validateConfig(input, '/'), (err: unknown) => err instanceof ConfigError && path.test(err.message) && problem.test(err.message),
      JSON.stringify(input));
  };
  fails({ views: [{ name: 'a', zones: ['nothere.example'] }] }, /views\[0\]\.zones\[0\]/, /not a zone under zones:/);
  fails({ views: [{ name: 'a' }, { name: 'a' }] }, /views\[1\]\.name/, /configured twice/);
  fails({ views: [{ name: 'a', keys: ['k'] }] }, /views\[0\]\.keys\[0\]/, /not defined under keys:/);
  fails({ views: [{ name: 'a', clients: ['10.0.0.0/33'] }] }, /views\[0\]\.clients/, /prefix length/);
  fails({
    zones: [{ name: 'dyn.example', file: 'dyn.zone', allowUpdate: ['key k'] }], keys: { k: { secret: 'c2VjcmV0' } },
    views: [{ name: 'a', zones: ['dyn.example'] }, { name: 'b', zones: ['dyn.example'] }],
  }, /views\[1\]\.zones\[0\]/, /own file/);
  fails({ views: [{ name: 'a', dns64: { prefix: '64:ff9b::/100' } }] }, /views\[0\]\.dns64\.prefix/, /DNS64 prefix length/);
  const ok = validateConfig({ zones: [{ name: 'shared.example', file: 's.zone' }], views: [{ name: 'a', zones: ['shared.example', { name: 'x.example', file: 'x.zone' }] }] }, '/');
  assert.equal(ok.views?.[0]?.recursion, true);
  assert.deepEqual(ok.views?.[0]?.destinations, ['any']);
});
