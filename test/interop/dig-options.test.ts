/**
 * dig 9.18's less common options (issue 18): `sovereign dig` against Debian's `dig`, both asking
 * BIND named and `sovereign serve` for the zone of test/interop/dig-fixture.ts, outputs compared
 * after the usual masking. Covers the query-shaping options (+qid +opcode +aaflag +zflag +tcflag
 * +raflag +expire +keepalive +padding +ednsopt +ednsflags +coflag +cookie=, +header-only,
 * +subnet), the printing styles (+yaml +ttlunits +[no]rrcomments +unknownformat +split +nocrypto
 * +onesoa, -u) and options that are accepted without changing the output (-r -m +timeout= +nofail
 * +keepopen +besteffort, the deprecated ones); and IPv6 transport (`@::1`, `-6`).
 *
 * Addresses: 127.24.4.1 (BIND), 127.24.4.2 and ::1 (sovereign serve).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { havePeers, runTool } from '../helpers/peers.js';
import { type DigServers, normalize, startDigServers } from './dig-fixture.js';

const BIND = '127.24.4.1';
const SOV = '127.24.4.2';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

/** Each compared on both servers. */
const CASES: string[][] = [
  ['mx.dig.test', 'MX', '+yaml'],
  ['nx.dig.test', '+yaml', '+qr', '+nsid'],
  ['dig.test', 'SOA', '+ttlunits'],
  ['dig.test', 'SOA', '+ttlunits', '+multiline'],
  ['dnskey.dig.test', 'DNSKEY', '+rrcomments'],
  ['dnskey.dig.test', 'DNSKEY', '+multiline', '+norrcomments'],
  ['dig.test', 'SOA', '+multiline', '+norrcomments'],
  ['dhcid.dig.test', 'DHCID', '+multiline', '+norrcomments'],
  ['a.dig.test', '+unknownformat'],
  ['dig.test', 'SOA', '+unknownformat', '+noall', '+answer'],
  ['ds.dig.test', 'DS', '+split=8'],
  ['ds.dig.test', 'DS', '+split=0'],
  ['ds.dig.test', 'DS', '+split=10'],
  ['dnskey.dig.test', 'DNSKEY', '+nocrypto'],
  ['rrsig.dig.test', 'RRSIG', '+nocrypto'],
  ['ds.dig.test', 'DS', '+nocrypto', '+rrcomments'],
  ['+header-only'],
  ['+header-only', '+qr'],
  ['a.dig.test', '+qid=1234', '+qr'],
  ['a.dig.test', '+opcode=2', '+qr'],
  ['a.dig.test', '+opcode=NOTIFY', '+qr', '+noall', '+comments'],
  ['a.dig.test', '+aaflag', '+zflag', '+tcflag', '+raflag', '+qr'],
  ['a.dig.test', '+expire', '+keepalive', '+qr'],
  ['a.dig.test', '+padding=64', '+qr'],
  ['a.dig.test', '+padding=128', '+tcp', '+qr'],
  ['a.dig.test', '+ednsopt=65001:abcd', '+ednsopt=nsid', '+ednsopt=3', '+qr'],
  ['a.dig.test', '+ednsopt=99', '+noednsopt', '+qr'],
  ['a.dig.test', '+ednsflags=0x80', '+qr'],
  ['a.dig.test', '+coflag', '+qr'],
  ['a.dig.test', '+cookie=0102030405060708', '+qr'],
  ['a.dig.test', '+subnet=192.0.2.0/24', '+qr'],
  ['a.dig.test', '+qr', '+nostats', '+noquestion'],
  ['a.dig.test', '+noall', '+answer', '+stats', '-u'],
  ['a.dig.test', '-r', '-m', '+short'],
  ['a.dig.test', '+timeout=2', '+nofail', '+keepopen', '+besteffort', '+badcookie', '+ednsnegotiation', '+short'],
  ['a.dig.test', '+sigchase', '+topdown', '+mapped', '+dscp=1', '+short'],
  ['dig.test', 'AXFR', '+onesoa'],
];

describe('dig 9.18 options: sovereign dig against dig, on BIND and on sovereign serve', { timeout: 300_000 }, () => {
  let servers: DigServers | undefined;
  let port = 0;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    servers = await startDigServers({ bind: BIND, sov: SOV, prefix: 'sovereign-dig-options-', nsid: 'bind-nsid', ipv6: true });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
  });

  const compare = (server: string, args: string[]): void => {
    const full = [`@${server}`, '-p', String(port), '+time=3', '+tries=1', ...args];
    const dig = runTool('dig', full);
    const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
    assert.equal(ours.status, dig.status, `exit status for ${full.join(' ')}: ${ours.stderr}`);
    assert.equal(normalize(ours.stdout), normalize(dig.stdout), `output for dig ${full.join(' ')}`);
    // Warnings (deprecated options, +split rounding) go to stderr, as dig's do.
    assert.deepEqual(ours.stderr.split('\n').filter((l) => l.startsWith(';;')).map((l) => l.trim()),
      dig.stderr.split(/\n|(?<=deprecated|effect)(?=;;)/).filter((l) => l.startsWith(';;')).map((l) => l.replace(/;;.*$/, (x) => x).trim().replace(/(deprecated|effect).*/, '$1')),
      `stderr for ${full.join(' ')}`);
  };

  for (const [server, label] of [[BIND, 'BIND'], [SOV, 'sovereign serve']] as const) {
    test(`query options, styles and accepted no-ops, answered by ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      for (const args of CASES) compare(server, args);
    });
  }

  test('IPv6 transport: @::1 and -6 print as dig does (SERVER ::1#port)', (t) => {
    if (skip) return t.skip('peers missing');
    for (const args of [['a.dig.test'], ['-6', 'mx.dig.test', 'MX', '+tcp'], ['aaaa.dig.test', 'AAAA', '+yaml']]) {
      compare('::1', args);
      const ours = runTool(process.execPath, [BIN, 'dig', '@::1', '-p', String(port), ...args]);
      if (!args.includes('+yaml')) assert.match(ours.stdout, new RegExp(`^;; SERVER: ::1#${port}\\(::1\\) \\((UDP|TCP)\\)$`, 'm'));
    }
    // -4 with an IPv6 server is refused, as dig refuses it.
    const bad = runTool(process.execPath, [BIN, 'dig', '-4', '@::1', '-p', String(port), 'a.dig.test']);
    assert.notEqual(bad.status, 0);
  });
});
