/**
 * dig +tls (RFC 7858) and +https / +https-get (RFC 8484) through the client the forwarder uses:
 * `sovereign dig` against Debian's dig, both asking a real Unbound that serves local data on a
 * DoT and a DoH port with a self-signed certificate made here. As dig: no certificate check
 * unless +tls-ca; with +tls-ca a self-signed certificate or a wrong +tls-hostname is reported on
 * one line (`;; TLS peer certificate verification ... failed: ...`), exit 0; with the right CA
 * file and name the answer prints with `(TLS)` / `(HTTPS)` / `(HTTPS-GET)` on the SERVER line.
 *
 * Addresses: 127.24.6.1 (Unbound).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningPeer, havePeers, pickPort, runTool, selfSignedCert, startUnbound, tempDir } from '../helpers/peers.js';
import { normalize } from './dig-fixture.js';
import { writeFileSync } from 'node:fs';

const UNBOUND = '127.24.6.1';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

describe('dig +tls and +https against Unbound: sovereign dig against dig', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let unbound: RunningPeer | undefined;
  let tlsPort = 0;
  let httpsPort = 0;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'unbound', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dig-tls-');
    const { key, cert } = selfSignedCert(dir.path, 'dot.test', UNBOUND);
    writeFileSync(join(dir.path, 'root.hints'), '.  3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.24.6.99\n');
    tlsPort = pickPort();
    httpsPort = pickPort();
    unbound = await startUnbound(dir.path, UNBOUND, pickPort(), join(dir.path, 'root.hints'), `  interface: ${UNBOUND}@${tlsPort}
  tls-port: ${tlsPort}
  interface: ${UNBOUND}@${httpsPort}
  https-port: ${httpsPort}
  http-endpoint: "/dns-query"
  tls-service-key: "${key}"
  tls-service-pem: "${cert}"
  local-zone: "dot.example." static
  local-data: "www.dot.example. 300 IN A 192.0.2.80"
  local-data: "dot.example. 300 IN SOA ns.dot.example. host.dot.example. 1 3600 600 86400 60"
`);
  });

  after(async () => {
    await unbound?.stop();
    dir?.cleanup();
  });

  const compare = (args: string[]): string => {
    const full = [`@${UNBOUND}`, '+time=3', '+tries=1', ...args];
    const dig = runTool('dig', full);
    const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
    assert.equal(ours.status, dig.status, `exit status for ${full.join(' ')}: ${ours.stderr}`);
    assert.equal(normalize(ours.stdout), normalize(dig.stdout), `output for dig ${full.join(' ')}`);
    return ours.stdout;
  };

  test('answers over DoT and DoH (POST and GET) print as dig prints them', (t) => {
    if (skip) return t.skip('peers missing');
    const cert = join(dir.path, 'cert.pem');
    assert.match(compare(['-p', String(tlsPort), '+tls', 'www.dot.example']), /\(TLS\)$/m);
    assert.match(compare(['-p', String(httpsPort), '+https', 'www.dot.example']), /\(HTTPS\)$/m);
    assert.match(compare(['-p', String(httpsPort), '+https-get', 'www.dot.example']), /\(HTTPS-GET\)$/m);
    compare(['-p', String(httpsPort), '+https=/dns-query', 'nx.dot.example', '+yaml']);
    const good = compare(['-p', String(tlsPort), '+tls', `+tls-ca=${cert}`, '+tls-hostname=dot.test', 'www.dot.example']);
    assert.match(good, /^www\.dot\.example\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
    compare(['-p', String(tlsPort), `+tls-ca=${cert}`, 'www.dot.example', '+short']);
  });

  test('certificate checks with +tls-ca fail as dig reports them', (t) => {
    if (skip) return t.skip('peers missing');
    const cert = join(dir.path, 'cert.pem');
    assert.match(compare(['-p', String(tlsPort), '+tls', '+tls-ca', 'www.dot.example']), /failed: self-signed certificate/);
    assert.match(compare(['-p', String(tlsPort), '+tls', `+tls-ca=${cert}`, '+tls-hostname=other.test', 'www.dot.example']),
      /failed: hostname mismatch/);
  });
});
