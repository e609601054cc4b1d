/**
 * `sovereign doctor` against a loopback hierarchy (hierarchy.ts) holding every fault the lab
 * injects: each must come out as a FAIL in the right layer, and the healthy zone through the
 * healthy resolver must give no FAIL at all. Servers: Sovereign (root, TLD, leaves), NSD, BIND
 * (open AXFR, open recursion), Unbound (validating, not validating, poisoned).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { type DoctorOptions, type DoctorReport, runDoctor } from '../../src/doctor/index.js';
import { loadRootHints } from '../../src/resolver/root-hints.js';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/types.js';
import { havePeers, runToolAsync, tempDir } from '../helpers/peers.js';
import { H, type Hierarchy, POISON, startHierarchy } from './hierarchy.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

describe('sovereign doctor names each injected fault', { timeout: 600_000 }, () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  let h: Hierarchy | undefined;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'nsd', 'unbound', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-dsfromkey')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-doctor-');
    h = await startHierarchy(dir.path);
  });

  after(async () => {
    await h?.stop();
    dir?.cleanup();
  });

  const doctor = (name: string, resolver: string, extra: DoctorOptions = {}): Promise<DoctorReport> => runDoctor({
    name: Name.fromText(name), resolvers: [{ address: resolver, port: 53 }], hints: loadRootHints(h!.hintsFile), timeoutMs: 2000,
    large: { name: Name.fromText('big.good.tst.'), type: RRType.TXT }, ...extra,
  });
  const fails = (r: DoctorReport): string[] => r.findings.filter((f) => f.verdict === 'fail').map((f) => `${f.layer}/${f.check}`);
  const show = (r: DoctorReport): string => r.findings.map((f) => `${f.verdict} ${f.layer}/${f.check} ${f.subject ?? ''}: ${f.seen}`).join('\n');
  const verdict = (r: DoctorReport, id: string): string[] => r.findings.filter((f) => `${f.layer}/${f.check}` === id).map((f) => f.verdict);

  test('healthy: signed zone, two servers, validating resolver: no FAIL', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.unbound, { bogus: Name.fromText('www.badds.tst.') });
    assert.deepEqual(fails(r), [], show(r));
    for (const id of ['reach/udp', 'reach/tcp', 'reach/recursion', 'dnssec/validation', 'dnssec/bogus-test', 'edns/edns', 'clock/rrsig-window',
      'compare/answer', 'delegation/serial', 'delegation/ns-match', 'delegation/glue', 'delegation/exposure', 'delegation/ds-match', 'delegation/dnskey-signed']) {
      assert.ok(verdict(r, id).length > 0 && verdict(r, id).every((v) => v === 'ok'), `${id}\n${show(r)}`);
    }
    // Unbound fills the client's 4096-byte buffer: the 2 KB answer arrives over UDP in one datagram.
    assert.deepEqual(verdict(r, 'edns/large-udp'), ['ok'], show(r));
    assert.match(r.findings.find((f) => f.check === 'large-udp')!.seen, /^big\.good\.tst\. TXT with DO=1: \d{4} bytes arrived over UDP$/);
    assert.equal(r.summary.fail, 0);
  });

  test('resolver down: nothing listens', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.down, { noDelegation: true });
    assert.deepEqual(fails(r), ['reach/resolver-down'], show(r));
    assert.match(r.findings.find((f) => f.check === 'resolver-down')!.fix, /nothing listens/);
  });

  test('UDP 53 blocked, TCP fine: the UDP layer fails, the rest is checked over TCP', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.tcpOnly, { noDelegation: true });
    assert.deepEqual(fails(r), ['reach/udp'], show(r));
    assert.deepEqual(verdict(r, 'reach/tcp'), ['ok']);
    assert.deepEqual(verdict(r, 'dnssec/validation'), ['ok'], show(r));
    assert.deepEqual(verdict(r, 'compare/answer'), ['ok'], show(r));
  });

  test('UDP 53 dropped by a firewall (no ICMP): timeouts over UDP, TCP fine', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.udpDropped, { noDelegation: true, timeoutMs: 800 });
    assert.deepEqual(fails(r), ['reach/udp'], show(r));
    assert.match(r.findings.find((f) => f.check === 'udp')!.seen, /^UDP to port 53 fails \(no reply within 800 ms\) while TCP answers \(NOERROR/);
  });

  test('recursion refused: an authoritative server as the resolver', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.refuser, { noDelegation: true });
    assert.deepEqual(fails(r), ['reach/recursion'], show(r));
    assert.match(r.findings.find((f) => f.check === 'recursion')!.seen, /REFUSED/);
  });

  test('poisoned answer: the resolver gives another address than the root path', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.poisoned, { noDelegation: true });
    assert.deepEqual(fails(r), ['compare/poisoned'], show(r));
    const f = r.findings.find((x) => x.check === 'poisoned')!;
    assert.ok(f.seen.includes(POISON) && f.seen.includes('192.0.2.1'), f.seen);
  });

  test('filtered answer: the resolver says NXDOMAIN for a name the root path resolves', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('blocked.good.tst.', H.poisoned, { noDelegation: true });
    assert.deepEqual(fails(r), ['compare/filtered'], show(r));
    assert.match(r.findings.find((x) => x.check === 'filtered')!.seen, /the resolver says NXDOMAIN; from the root: NOERROR 192\.0\.2\.7/);
    assert.deepEqual(verdict(r, 'reach/answer'), ['warn']);
  });

  test('lame delegation: a delegated server answers REFUSED', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.lame.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/lame'], show(r));
    const f = r.findings.find((x) => x.check === 'lame')!;
    assert.equal(f.subject, `ns2.lame.tst. ${H.refuser}`);
    assert.match(f.seen, /REFUSED/);
  });

  test('parent/child NS mismatch', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.nsmm.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/ns-match'], show(r));
    assert.match(r.findings.find((x) => x.check === 'ns-match')!.seen, /delegates to ns1\.nsmm\.tst\. ns2\.nsmm\.tst\. but the zone lists ns1\.nsmm\.tst\. ns2\.nsmm\.tst\. ns3\.nsmm\.tst\./);
  });

  test('glue mismatch', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.glue.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/glue'], show(r));
    assert.match(r.findings.find((x) => x.check === 'glue' && x.verdict === 'fail')!.seen, /glue for ns2\.glue\.tst\. at tst\. is 127\.71\.2\.1 but the zone says 127\.71\.2\.9/);
  });

  test('serial mismatch between the name servers', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.serial.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/serial'], show(r));
    assert.match(r.findings.find((x) => x.check === 'serial')!.seen, /1 at ns1\.serial\.tst\. 127\.71\.2\.1; 2 at ns2\.serial\.tst\. 127\.71\.2\.2/);
  });

  test('open AXFR on an authoritative server (BIND, allow-transfer any)', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.axfr.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/open-axfr'], show(r));
  });

  test('open recursion on an authoritative server (BIND, recursion for anyone)', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.recur.tst.', H.unbound);
    assert.deepEqual(fails(r), ['delegation/open-recursion'], show(r));
  });

  test('wrong DS: no DNSKEY matches the parent\'s DS; the validating resolver answers SERVFAIL', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.badds.tst.', H.unbound);
    const f = fails(r);
    assert.ok(f.includes('delegation/ds-match') && f.includes('dnssec/bogus'), show(r));
    assert.deepEqual(f.filter((x) => x !== 'delegation/ds-match' && x !== 'dnssec/bogus' && x !== 'reach/answer'), [], show(r));
  });

  test('clock skew: expired signatures, and the doctor\'s own clock moved past a good zone\'s', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.expired.tst.', H.unbound);
    assert.ok(fails(r).includes('clock/rrsig-window'), show(r));
    assert.match(r.findings.find((x) => x.check === 'rrsig-window')!.seen, /days after the expiration/);
    const later = Date.now() + 60 * 86_400_000;
    const s = await doctor('www.good.tst.', H.unbound, { clock: () => later });
    assert.ok(fails(s).includes('clock/rrsig-window'), show(s));
    assert.ok(fails(s).includes('delegation/dnskey-signed'), show(s));
    const before = await doctor('www.good.tst.', H.unbound, { clock: () => Date.now() - 30 * 86_400_000, noDelegation: true });
    assert.match(before.findings.find((x) => x.check === 'rrsig-window')!.seen, /before the inception/, show(before));
  });

  test('large answers dropped over UDP, TCP fine: MTU/fragmentation', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.smallMtu, { noDelegation: true });
    assert.deepEqual(fails(r), ['edns/mtu'], show(r));
  });

  test('no DNSSEC validation: Unbound without the validator', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await doctor('www.good.tst.', H.noValidation, { noDelegation: true, bogus: Name.fromText('www.badds.tst.') });
    assert.deepEqual(fails(r).sort(), ['dnssec/bogus-test', 'dnssec/validation'], show(r));
    // This Unbound caps UDP replies at 1232 bytes: the big answer comes back truncated, then over TCP.
    assert.match(r.findings.find((f) => f.check === 'tc-fallback')?.seen ?? show(r), /^big\.good\.tst\. TXT: TC=1 over UDP, then \d{4} bytes over TCP$/);
  });

  test('`sovereign doctor` prints text and JSON and exits 1 on a FAIL', async (t) => {
    if (skip) return t.skip('peers missing');
    const ok = await runToolAsync(process.execPath, [BIN, 'doctor', 'www.good.tst', '--resolver', `${H.unbound}:53`, '--root-hints', h!.hintsFile,
      '--large', 'big.good.tst/TXT', '--json'], { timeoutMs: 60_000 });
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    const report = JSON.parse(ok.stdout) as DoctorReport;
    assert.equal(report.name, 'www.good.tst.');
    assert.deepEqual(report.resolvers, [`${H.unbound}:53`]);
    assert.equal(report.summary.fail, 0);
    const bad = await runToolAsync(process.execPath, [BIN, 'doctor', 'www.lame.tst', '--resolver', H.unbound, '--root-hints', h!.hintsFile],
      { timeoutMs: 60_000 });
    assert.equal(bad.status, 1, bad.stderr + bad.stdout);
    assert.match(bad.stdout, /^\[delegation\]$/m);
    assert.match(bad.stdout, /^ {2}FAIL lame \(ns2\.lame\.tst\. 127\.71\.3\.1\): .*REFUSED.*lame delegation$/m);
    assert.match(bad.stdout, /^ {7}fix: load the zone lame\.tst\. on that server/m);
    assert.match(bad.stdout, /^FAIL: 1 fail, \d+ warn, \d+ ok$/m);
  });
});
