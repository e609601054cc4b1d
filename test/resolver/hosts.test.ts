import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostsFile, ipv6Nibbles, parseHosts, reverseName } from '../../src/resolver/hosts.js';
import { Name } from '../../src/wire/name.js';
import { tempDir } from '../helpers/peers.js';

const n = (s: string): Name => Name.fromText(s);

test('hosts(5): many names per line, IPv4 and IPv6, comments, case-insensitive names', () => {
  const t = parseHosts([
    '# a comment line',
    '127.0.0.1\tlocalhost',
    '::1     localhost ip6-localhost ip6-loopback',
    '192.0.2.10  Web.Example.lan web   alias # trailing comment',
    '192.0.2.11  web.example.lan',
    '2001:db8::10 web.example.lan',
    'fe80::1%eth0 linklocal.lan',
    '   ',
    '0.0.0.0 blocked.example',
  ].join('\n'));
  assert.deepEqual(t.problems, []);
  const web = t.lookup(n('WEB.example.LAN.'))!;
  assert.deepEqual(web.ipv4, ['192.0.2.10', '192.0.2.11']);
  assert.deepEqual(web.ipv6, ['2001:db8::10']);
  assert.equal(web.name.toString(), 'Web.Example.lan.');
  assert.deepEqual(t.lookup(n('alias.'))!.ipv4, ['192.0.2.10']);
  assert.deepEqual(t.lookup(n('localhost.'))!.ipv6, ['::1']);
  assert.deepEqual(t.lookup(n('linklocal.lan.'))!.ipv6, ['fe80::1']);
  assert.deepEqual(t.lookup(n('blocked.example.'))!.ipv4, ['0.0.0.0']);
  assert.equal(t.lookup(n('missing.lan.')), undefined);
  // PTR: the first name written for an address; none for 0.0.0.0.
  assert.equal(t.reverse(n('10.2.0.192.in-addr.arpa.'))!.toString(), 'Web.Example.lan.');
  assert.equal(t.reverse(reverseName('2001:db8::10')!)!.toString(), 'web.example.lan.');
  assert.equal(t.reverse(reverseName('::1')!)!.toString(), 'localhost.');
  assert.equal(t.reverse(n('0.0.0.0.in-addr.arpa.')), undefined);
});

test('bad lines are reported with their line number and skipped', () => {
  const t = parseHosts('192.0.2.1 good.lan\nnot-an-address foo\n192.0.2.2\n192.0.2.3 bad..name ok.lan\n');
  assert.deepEqual(t.problems.map((p) => p.line), [2, 3, 4]);
  assert.ok(t.lookup(n('good.lan.')));
  assert.ok(t.lookup(n('ok.lan.')));
  assert.equal(t.size, 2);
});

test('IPv6 nibbles and reverse names (RFC 3596 §2.5)', () => {
  assert.equal(ipv6Nibbles('2001:db8::1'), '20010db8000000000000000000000001');
  assert.equal(ipv6Nibbles('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
  assert.equal(ipv6Nibbles('1::2::3'), undefined);
  assert.equal(ipv6Nibbles('1:2:3:4:5:6:7:8:9'), undefined);
  assert.equal(reverseName('2001:db8::1')!.toString(),
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(reverseName('192.0.2.1')!.toString(), '1.2.0.192.in-addr.arpa.');
});

test('HostsFile reloads when the file is rewritten or replaced, and keeps going when it vanishes', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'hosts');
    writeFileSync(path, '192.0.2.1 a.lan\n');
    const h = new HostsFile(path, { watch: true, pollMs: 50 });
    try {
      assert.deepEqual(h.table.lookup(n('a.lan.'))!.ipv4, ['192.0.2.1']);
      const waitFor = async (pred: () => boolean): Promise<void> => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(pred());
      };
      writeFileSync(path, '192.0.2.2 a.lan b.lan\n');
      await waitFor(() => h.table.lookup(n('b.lan.')) !== undefined);
      assert.deepEqual(h.table.lookup(n('a.lan.'))!.ipv4, ['192.0.2.2']);
      // Editors write a new file and rename it over the old one.
      writeFileSync(join(dir.path, 'hosts.new'), '192.0.2.3 c.lan\n');
      renameSync(join(dir.path, 'hosts.new'), path);
      await waitFor(() => h.table.lookup(n('c.lan.')) !== undefined);
      assert.equal(h.table.lookup(n('a.lan.')), undefined);
      rmSync(path);
      await waitFor(() => h.table.size === 0);
      writeFileSync(path, '192.0.2.4 d.lan\n');
      await waitFor(() => h.table.lookup(n('d.lan.')) !== undefined);
    } finally {
      h.close();
    }
  } finally {
    dir.cleanup();
  }
});

test('the stat fallback notices a change without fs.watch', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'hosts');
    writeFileSync(path, '192.0.2.1 a.lan\n');
    const h = new HostsFile(path, { watch: false });
    assert.equal(h.checkChanged(), false);
    writeFileSync(path, '192.0.2.1 a.lan\n192.0.2.9 z.lan\n');
    assert.equal(h.checkChanged(), true);
    assert.ok(h.table.lookup(n('z.lan.')));
    assert.equal(h.loads, 2);
  } finally {
    dir.cleanup();
  }
});
