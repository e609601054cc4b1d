/**
 * The forwarder's cache against a real validating upstream: Unbound (validator + iterator) over
 * NSD on 127.61.1.x. `bogus.lab.` has a trust anchor no key matches, so Unbound answers it only
 * with CD=1; `signed.lab.` is signed by dnssec-signzone and anchored correctly, so DO=1 answers
 * carry RRSIGs. Unchecked (CD=1) data must never reach CD=0 clients, and a DO=1 cache hit must
 * carry the RRSIGs the miss carried (as Unbound keeps them with the RRset).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { type RunningPeer, addLoopbackAddress, havePeers, pickPort, runTool, startNsd, startPeer, tempDir, unboundServerConf } from '../helpers/peers.js';

const AUTH = '127.61.1.2';
const UNBOUND = '127.61.1.3';

const ZONE = (origin: string): string => `$ORIGIN ${origin}
$TTL 300
@ IN SOA ns.${origin} host.${origin} 1 3600 600 86400 60
@ IN NS ns.${origin}
ns IN A ${AUTH}
www IN A 192.0.2.80
`;

describe('forwarder cache: CD and DO kept apart (real validating Unbound upstream)', () => {
  const dir = tempDir('sovereign-fwd-dnssec-');
  let nsd: RunningPeer | undefined;
  let unbound: RunningPeer | undefined;
  let server: DnsServer | undefined;
  let ready = false;

  before(async () => {
    if (!havePeersQuiet()) return;
    addLoopbackAddress(AUTH);
    addLoopbackAddress(UNBOUND);
    writeFileSync(join(dir.path, 'bogus.lab.zone'), ZONE('bogus.lab.'));
    writeFileSync(join(dir.path, 'signed.lab.zone'), ZONE('signed.lab.'));
    const kg = runTool('/usr/bin/dnssec-keygen', ['-q', '-K', dir.path, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', 'signed.lab'], { cwd: dir.path });
    assert.equal(kg.status, 0, kg.stderr);
    const sg = runTool('/usr/bin/dnssec-signzone', ['-q', '-S', '-z', '-K', dir.path, '-o', 'signed.lab', '-f', join(dir.path, 'signed.lab.signed'),
      join(dir.path, 'signed.lab.zone')], { cwd: dir.path });
    assert.equal(sg.status, 0, sg.stderr);
    const keyFile = readdirSync(dir.path).find((f) => f.startsWith('Ksigned.lab.') && f.endsWith('.key'))!;
    const dnskey = readFileSync(join(dir.path, keyFile), 'utf8').split('\n').filter((l) => !l.startsWith(';') && l.trim() !== '').join('\n');
    writeFileSync(join(dir.path, 'anchors'), `${dnskey}\n` +
      // No key of bogus.lab. has this digest: Unbound finds the zone bogus and SERVFAILs unless CD=1.
      `bogus.lab. 3600 IN DS 12345 13 2 ${'ab'.repeat(32)}\n`);
    writeFileSync(join(dir.path, 'root.hints'), `. 3600000 NS a.root.lab.\na.root.lab. 3600000 A ${AUTH}\n`);
    const nsdPort = pickPort();
    nsd = await startNsd(dir.path, AUTH, nsdPort, [
      { name: 'bogus.lab', file: join(dir.path, 'bogus.lab.zone') },
      { name: 'signed.lab', file: join(dir.path, 'signed.lab.signed') },
    ]);
    const ubPort = pickPort();
    writeFileSync(join(dir.path, 'unbound.conf'), `${unboundServerConf(dir.path, UNBOUND, ubPort)}
  root-hints: "${dir.path}/root.hints"
  module-config: "validator iterator"
  trust-anchor-file: "${dir.path}/anchors"
  num-threads: 1
  val-log-level: 0
stub-zone:
  name: "bogus.lab"
  stub-addr: ${AUTH}@${nsdPort}
stub-zone:
  name: "signed.lab"
  stub-addr: ${AUTH}@${nsdPort}
`);
    unbound = await startPeer('unbound', ['-d', '-c', join(dir.path, 'unbound.conf')], { address: UNBOUND, port: ubPort });
    server = new DnsServer({
      config: defaultConfig({ listen: ['127.61.1.10:0'], workers: 1, forwarders: [`${UNBOUND}:${ubPort}`], forwarding: { timeoutMs: 2000 } }),
      logger: silentLogger,
    });
    await server.start();
    ready = true;
  });

  after(async () => {
    await server?.stop();
    await unbound?.stop();
    await nsd?.stop();
    dir.cleanup();
  });

  function havePeersQuiet(): boolean {
    // The test bodies call havePeers (which skips or fails); here only decide whether to start anything.
    return ['/usr/sbin/unbound', '/usr/sbin/nsd', '/usr/bin/dnssec-signzone'].every((p) => existsSync(p));
  }

  async function ask(name: string, type: number, flags: { cd?: boolean; dnssecOk?: boolean } = {}): Promise<Message> {
    const a = server!.addresses.find((x) => x.transport === 'udp')!;
    const q = Message.query(name, type, { edns: newEdns({ udpSize: 1232, dnssecOk: flags.dnssecOk ?? false }) });
    q.cd = flags.cd ?? false;
    return (await exchange(q, { address: a.address, port: a.port }, { timeoutMs: 5000 })).message;
  }

  test('an answer fetched with CD=1 is not served to CD=0 clients (the validating upstream\'s SERVFAIL is)', async (t) => {
    if (!havePeers(t, 'unbound', 'nsd')) return;
    assert.ok(ready, 'peers did not start');
    const unchecked = await ask('www.bogus.lab', RRType.A, { cd: true });
    assert.equal(unchecked.rcode, Rcode.NOERROR);
    assert.deepEqual(unchecked.answer.map((r) => (r.data as { address: string }).address), ['192.0.2.80']);
    const checked = await ask('www.bogus.lab', RRType.A);
    assert.equal(checked.rcode, Rcode.SERVFAIL, 'data that failed validation reached a CD=0 client');
    assert.equal(checked.answer.length, 0);
    // A second CD=1 client still gets the unchecked answer (from the unchecked part of the cache).
    const hits = server!.cache.stats.hits;
    const again = await ask('www.bogus.lab', RRType.A, { cd: true });
    assert.equal(again.rcode, Rcode.NOERROR);
    assert.equal(again.answer.length, 1);
    assert.equal(server!.cache.stats.hits, hits + 1);
    // Negative unchecked data stays apart too.
    assert.equal((await ask('nx.bogus.lab', RRType.A, { cd: true })).rcode, Rcode.NXDOMAIN);
    assert.equal((await ask('nx.bogus.lab', RRType.A)).rcode, Rcode.SERVFAIL);
  });

  test('a DO=1 cache hit carries the RRSIGs the miss carried; DO=0 clients get none', async (t) => {
    if (!havePeers(t, 'unbound', 'nsd')) return;
    assert.ok(ready, 'peers did not start');
    const types = (m: Message, sec: 'answer' | 'authority'): number[] => m[sec].map((r) => r.type).sort((a, b) => a - b);
    const miss = await ask('www.signed.lab', RRType.A, { dnssecOk: true });
    assert.equal(miss.rcode, Rcode.NOERROR);
    assert.deepEqual(types(miss, 'answer'), [RRType.A, RRType.RRSIG]);
    const hits = server!.cache.stats.hits;
    const hit = await ask('www.signed.lab', RRType.A, { dnssecOk: true });
    assert.equal(server!.cache.stats.hits, hits + 1, 'the second question was not a cache hit');
    assert.deepEqual(types(hit, 'answer'), [RRType.A, RRType.RRSIG]);
    const sig = (m: Message): string => JSON.stringify((m.answer.find((r) => r.type === RRType.RRSIG)!.data as { signature: Uint8Array }).signature);
    assert.equal(sig(hit), sig(miss));
    const plain = await ask('www.signed.lab', RRType.A);
    assert.deepEqual(types(plain, 'answer'), [RRType.A]);
    // Negative answers: the SOA's RRSIG and the NSEC proof come back from the cache too.
    const nx1 = await ask('nx.signed.lab', RRType.A, { dnssecOk: true });
    assert.equal(nx1.rcode, Rcode.NXDOMAIN);
    assert.ok(types(nx1, 'authority').includes(RRType.NSEC), 'upstream NXDOMAIN without NSEC');
    const nx2 = await ask('nx.signed.lab', RRType.A, { dnssecOk: true });
    assert.equal(nx2.rcode, Rcode.NXDOMAIN);
    assert.deepEqual(types(nx2, 'authority'), types(nx1, 'authority'));
    const nx3 = await ask('nx.signed.lab', RRType.A);
    assert.deepEqual(types(nx3, 'authority'), [RRType.SOA]);
    // A name first asked without DO is asked again for a DO=1 client (no RRSIGs are known for it).
    await ask('ns.signed.lab', RRType.A);
    const later = await ask('ns.signed.lab', RRType.A, { dnssecOk: true });
    assert.deepEqual(types(later, 'answer'), [RRType.A, RRType.RRSIG]);
  });
});
