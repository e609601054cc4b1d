/**
 * `sovereign dig +multiline` against Debian's `dig +multiline`, both asking BIND named: the SOA
 * timers with their comments, DNSKEY/CDNSKEY cut over lines with the `; KSK; alg = ...; key id`
 * comment (RFC 4034 App. B key tags), RRSIG, DS/CDS, TLSA, SSHFP, CERT, ZONEMD, OPENPGPKEY, DHCID,
 * RFC 3597 data, and types that stay on one line. Also +nomultiline after +multiline. And the
 * -f batch mode against dig's: a banner per line, a blank line as `. NS`, command-line
 * options inherited, +short sticky for later lines, exit 8 for a missing file. And nslookup of an
 * address the server refuses (no Server header), against the real nslookup.
 *
 * Address: 127.31.0.1 (BIND).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningPeer, PEER_BINARIES, havePeers, pickPort, runTool, startNamed, tempDir } from '../helpers/peers.js';

const BIND = '127.31.0.1';
const NSLOOKUP = PEER_BINARIES.nslookup;
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const KEY = 'AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=';
const DIGEST = '49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1';

const ZONE = `$ORIGIN ml.test.
$TTL 300
@          IN SOA ns1.ml.test. hostmaster.ml.test. 2024010101 7200 900 1209600 86400
@          IN NS  ns1.ml.test.
ns1        IN A   127.31.0.10
ksk        IN DNSKEY 257 3 8 ${KEY}
zsk        IN DNSKEY 256 3 13 ${KEY}
revoked    IN DNSKEY 385 3 15 ${KEY}
cdnskey    IN CDNSKEY 257 3 8 ${KEY}
ds         IN DS  12345 8 2 ${DIGEST}
sha1ds     IN DS  1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
cds        IN CDS 12345 8 2 ${DIGEST}
rrsig      IN RRSIG A 8 3 300 20300101000000 20200101000000 12345 ml.test. aGVsbG8gd29ybGQgc2lnbmF0dXJlIGJ5dGVzIGFuZCBzb21lIG1vcmUgYnl0ZXMgdG8gd3JhcA==
tlsa       IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
sshfp      IN SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
cert       IN CERT 3 0 0 aGVsbG8gd29ybGQ=
zonemd     IN ZONEMD 2024010101 1 1 ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12
openpgpkey IN OPENPGPKEY aGVsbG8gd29ybGQ=
dhcid      IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
unknown    IN TYPE65280 \\# 4 0A000001
txt        IN TXT "hello world" "second"
mx         IN MX  10 mail.ml.test.
nsec       IN NSEC z.ml.test. A MX RRSIG NSEC
2vptu5timamqttgl4luu9kg21e0aor3s IN NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG
2vptu5timamqttgl4luu9kg21e0aor3t IN NSEC3 1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s
a-rather-long-owner-name-beyond-the-column IN A 192.0.2.1
`;

const QUERIES: string[][] = [
  ['ml.test', 'SOA'], ['ksk.ml.test', 'DNSKEY'], ['zsk.ml.test', 'DNSKEY'], ['revoked.ml.test', 'DNSKEY'],
  ['cdnskey.ml.test', 'CDNSKEY'], ['ds.ml.test', 'DS'], ['sha1ds.ml.test', 'DS'], ['cds.ml.test', 'CDS'],
  ['rrsig.ml.test', 'RRSIG'], ['tlsa.ml.test', 'TLSA'], ['sshfp.ml.test', 'SSHFP'], ['cert.ml.test', 'CERT'],
  ['zonemd.ml.test', 'ZONEMD'], ['openpgpkey.ml.test', 'OPENPGPKEY'], ['dhcid.ml.test', 'DHCID'],
  ['unknown.ml.test', 'TYPE65280'], ['txt.ml.test', 'TXT'], ['mx.ml.test', 'MX'], ['nsec.ml.test', 'NSEC'],
  ['a-rather-long-owner-name-beyond-the-column.ml.test', 'A'], ['nx.ml.test', 'A'], // NXDOMAIN: the SOA in the authority section
];

/** Masks what differs between two runs: banner, ID, query time, date, cookie. */
function normalize(out: string): string {
  return out.split('\n').filter((l) => !l.startsWith('; <<>> ')).map((l) => l
    .replace(/id: \d+/, 'id: ID')
    .replace(/^;; Query time: \d+ msec$/, ';; Query time: T msec')
    .replace(/^;; WHEN: .*$/, ';; WHEN: W')
    .replace(/^; COOKIE: [0-9a-f]+/, '; COOKIE: C')).join('\n');
}

describe('sovereign dig +multiline against dig +multiline, on BIND', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let port = 0;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dig-ml-');
    port = pickPort();
    const zoneFile = join(dir.path, 'ml.test.zone');
    writeFileSync(zoneFile, ZONE);
    const bindDir = join(dir.path, 'bind');
    mkdirSync(bindDir);
    named = await startNamed(bindDir, BIND, port, [{ name: 'ml.test', file: zoneFile }]);
  });

  after(async () => {
    await named?.stop();
    dir?.cleanup();
  });

  const compare = (args: string[]): void => {
    const full = [`@${BIND}`, '-p', String(port), '+time=3', '+tries=1', ...args];
    const dig = runTool('dig', full);
    const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
    assert.equal(ours.status, dig.status, `exit status for ${args.join(' ')}: ${ours.stderr}`);
    assert.equal(normalize(ours.stdout), normalize(dig.stdout), `output for dig ${args.join(' ')}`);
  };

  test('every multiline layout, whole output', (t) => {
    if (skip) return t.skip('peers missing');
    for (const q of QUERIES) compare([...q, '+multiline']);
  });

  test('with +dnssec, +nottlid, +noclass, and +nomultiline after +multiline', (t) => {
    if (skip) return t.skip('peers missing');
    compare(['ml.test', 'SOA', '+multiline', '+nottlid']);
    compare(['ksk.ml.test', 'DNSKEY', '+multiline', '+noclass']);
    compare(['ds.ml.test', 'DS', '+multiline', '+nomultiline']);
    compare(['ml.test', 'SOA', '+multi', '+noall', '+answer']);
    compare(['ml.test', 'SOA', '+multiline', '+short']);
    compare(['ksk.ml.test', 'DNSKEY', '+multiline', '+short']);
  });

  test('-f batch files: one command line per line, as dig runs them', (t) => {
    if (skip) return t.skip('peers missing');
    const file = (name: string, text: string): string => {
      const path = join(dir.path, name);
      writeFileSync(path, text);
      return path;
    };
    const plain = file('plain.batch', 'mx.ml.test MX +nostats\n\n  txt.ml.test TXT\nnx.ml.test +noall +answer +authority\n');
    const sticky = file('sticky.batch', 'ml.test SOA +short\nmx.ml.test MX +nostats\n');
    const multi = file('multi.batch', 'ksk.ml.test DNSKEY\nml.test SOA +nomultiline\n');
    compare(['-f', plain]);
    compare(['a-rather-long-owner-name-beyond-the-column.ml.test', '+nostats', '-f', plain]);
    compare(['-f', sticky]);
    compare(['+multiline', '-f', multi]);
    compare(['-f', join(dir.path, 'no-such.batch')]);
  });

  test('nslookup of an address that the server refuses: no Server header, as nslookup prints it', (t) => {
    if (skip) return t.skip('peers missing');
    if (!havePeers(t, 'nslookup')) return;
    for (const c of [['192.0.2.1'], ['-type=A', '192.0.2.1'], ['2001:db8::1'], ['nx.example']]) {
      const args = [`-port=${port}`, ...c, BIND];
      const want = runTool(NSLOOKUP, args);
      const got = runTool(process.execPath, [BIN, 'nslookup', ...args]);
      assert.equal(got.stdout, want.stdout, `nslookup ${args.join(' ')}`);
      assert.equal(got.status, want.status, `exit status of nslookup ${args.join(' ')}`);
    }
  });

  test('a zone transfer prints every record (NSEC3 too) in the multiline layout', (t) => {
    if (skip) return t.skip('peers missing');
    compare(['ml.test', 'AXFR', '+multiline', '+nostats']);
  });
});
