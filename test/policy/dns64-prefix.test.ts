/**
 * RFC 6052 §2.2 address layout, checked against the examples of RFC 6052 §2.4 (192.0.2.33 in
 * every prefix length), and the config errors for prefixes DNS64 cannot use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { synthesiseAddress } from '../../src/policy/dns64.js';
import { parseDns64Prefix } from '../../src/policy/dns64-prefix.js';

test('RFC 6052 §2.4: 192.0.2.33 embedded in /32, /40, /48, /56, /64 and /96 prefixes', () => {
  const table: [string, string][] = [
    ['2001:db8::/32', '2001:db8:c000:221::'],
    ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
    ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
    ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
    ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
    ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
    ['64:ff9b::/96', '64:ff9b::c000:221'],
  ];
  for (const [prefix, expected] of table) assert.equal(synthesiseAddress(prefix, '192.0.2.33'), expected, prefix);
  // And back out (PTR synthesis reads the embedded address).
  for (const [prefix, address] of table) {
    const p = parseDns64Prefix(prefix);
    const bytes = p.embed(Uint8Array.of(192, 0, 2, 33));
    assert.ok(p.contains(bytes), address);
    assert.deepEqual([...p.extract(bytes)], [192, 0, 2, 33]);
  }
});

test('dns64.prefix: bad lengths, bits past the length, bits 64-71 and non-addresses are config errors naming the key and the fix', () => {
  const bad: [string, RegExp][] = [
    ['64:ff9b::/97', /not a DNS64 prefix length/],
    ['64:ff9b::/24', /not a DNS64 prefix length/],
    ['64:ff9b::', /no prefix length/],
    ['64:ff9b::1/96', /bits set past \/96/],
    ['2001:db8:0:0:ff00::/96', /bits 64-71/],
    ['not-an-address/96', /not an IPv6 prefix/],
  ];
  for (const [prefix, why] of bad) {
    assert.throws(() => parseDns64Prefix(prefix), (err: unknown) => err instanceof ConfigError && why.test(err.message) && /fix:/.test(err.message), prefix);
    assert.throws(() => validateConfig({ dns64: { prefix } }, '/'), (err: unknown) =>
      err instanceof ConfigError && /dns64\.prefix/.test(err.message) && /32, 40, 48, 56, 64 or 96|zeros/.test(err.message), prefix);
  }
  assert.equal(validateConfig({ dns64: {} }, '/').dns64?.prefix, '64:ff9b::/96');
  assert.deepEqual(validateConfig({ dns64: {} }, '/').dns64?.exclude, ['::ffff:0:0/96']);
});
