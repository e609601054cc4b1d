// LLMNR (RFC 4795) between two network namespaces the test creates (a veth pair; nothing touches
// the host's interfaces): `sovereign serve` with `llmnr:` on in one, `sovereign llmnr` (and dig
// over TCP, unicast) in the other; uniqueness verification (T bit) and conflict detection (§4).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/types.js';
import { acceptableQueryHeader, compareAddresses, conflictBit, llmnrQuery, tentativeBit } from '../../src/llmnr/protocol.js';
import { ADDR_A, type LinkPair, canUseNetns, createLinkPair, waitForOutput } from '../helpers/netns.js';
import { tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
let pair: LinkPair | undefined;
let dir: ReturnType<typeof tempDir>;

before(() => { dir = tempDir('sov-llmnr-'); });
after(() => {
  pair?.remove();
  dir.cleanup();
});

function config(name: string, iface: string, extra = ''): string {
  const file = join(dir.path, `${name}-${iface}.yaml`);
  writeFileSync(file, `listen: ["127.0.0.1:5300"]
workers: 1
control: { enabled: false }
log: { level: info, format: text }
llmnr: { enabled: true, names: [${name}], interfaces: [${iface}] ${extra} }
`);
  return file;
}

test('LLMNR header bits and checks (RFC 4795 §2.1.1, §4.1)', () => {
  const q = llmnrQuery(Name.fromText('host.'), RRType.A, { id: 7, conflict: true });
  const b = q.encode();
  assert.equal(b[2]! & 0x04, 0x04, 'C is the AA position');
  assert.equal(b[2]! & 0x01, 0, 'T (RD position) clear in a query');
  const d = Message.decode(b);
  assert.ok(conflictBit(d));
  assert.ok(!tentativeBit(d));
  assert.ok(acceptableQueryHeader(b));
  const resp = Uint8Array.from(b);
  resp[2]! |= 0x80;
  assert.ok(!acceptableQueryHeader(resp), 'QR set: discarded');
  const two = Uint8Array.from(b);
  two[5] = 2;
  assert.ok(!acceptableQueryHeader(two), 'QDCOUNT 2: discarded');
  assert.ok(compareAddresses('10.0.0.2', '10.0.0.10') < 0);
  assert.ok(compareAddresses('fe80::2', 'fe80::1:0') < 0);
  assert.equal(compareAddresses('fd77::1', 'fd77:0::1'), 0);
});

test('sovereign serve answers LLMNR for its name; sovereign llmnr finds it over IPv4 and IPv6; verification; TCP', async (t) => {
  if (!canUseNetns(t)) return;
  pair = createLinkPair('L');
  const p = pair;
  const serve = p.start(p.a, process.execPath, [BIN, 'serve', '-c', config('alpha', 'vA')]);
  await waitForOutput(serve.output, 'LLMNR responder started');

  // Verified unique once three probes (one LLMNR_TIMEOUT each) went unanswered: then T is clear.
  await waitForOutput(serve.output, 'LLMNR name verified unique');
  const v4 = await p.run(p.b, process.execPath, [BIN, 'llmnr', 'alpha']);
  assert.equal(v4.status, 0, v4.stderr);
  assert.equal(v4.stdout, `;; from ${ADDR_A}#5355\nalpha.\t\t\t30\tIN\tA\t${ADDR_A}\n`);

  const v6 = await p.run(p.b, process.execPath, [BIN, 'llmnr', 'ALPHA', 'AAAA', '-6', '-i', 'vB']);
  assert.equal(v6.status, 0, v6.stderr);
  assert.match(v6.stdout, /^;; from fe80::[0-9a-f:]+%vB#5355\n/);
  assert.match(v6.stdout, /\nALPHA\.\t\t\t30\tIN\tAAAA\tfd77::1\n/, 'the name as asked, case kept');

  // Not our name: no response at all (§2.3), exit 1.
  const other = await p.run(p.b, process.execPath, [BIN, 'llmnr', 'beta', '-t', '0.5']);
  assert.equal(other.status, 1);
  assert.equal(other.stdout, '');
  assert.match(other.stderr, /no LLMNR response for beta\./);

  // Bad input (garbage, a response, QDCOUNT 2, a truncated header, a query with an answer record)
  // is dropped; the responder keeps answering.
  const junk = await p.run(p.b, process.execPath, ['-e', `
    const s = require('node:dgram').createSocket('udp4');
    const q = Buffer.from('abcd0000000100000000000005616c7068610000010001', 'hex');
    const two = Buffer.from(q); two[5] = 2;
    const resp = Buffer.from(q); resp[2] |= 0x80;
    const withAnswer = Buffer.concat([Buffer.from(q), Buffer.from('c00c000100010000001e00040a000001', 'hex')]); withAnswer[7] = 1;
    const bad = [Buffer.from('ff', 'hex'), Buffer.alloc(11), two, resp, withAnswer, Buffer.from('abcd000000010000000000003f', 'hex')];
    let n = 0;
    for (const b of bad) s.send(b, 5355, '${ADDR_A}', () => { if (++n === bad.length) s.close(); });
  `]);
  assert.equal(junk.status, 0, junk.stderr);
  const still = await p.run(p.b, process.execPath, [BIN, 'llmnr', 'alpha']);
  assert.equal(still.stdout, v4.stdout, 'still answering after bad input');

  // TCP on 5355 (§2.4) and unicast UDP: a DNS client can ask the responder directly.
  for (const transport of ['+tcp', '+notcp']) {
    const d = await p.run(p.b, process.execPath, [BIN, 'dig', `@${ADDR_A}`, '-p', '5355', 'alpha', 'A', transport, '+norecurse', '+noedns']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, new RegExp(`\\nalpha\\.\\t+30\\tIN\\tA\\t${ADDR_A.replaceAll('.', '\\.')}\\n`), d.stdout);
    assert.match(d.stdout, /flags: qr;/, 'C and T clear: unique and verified');
  }
});

test('conflict detection (RFC 4795 §4.1): a second host claiming a verified name gives it up and says so', async (t) => {
  if (!canUseNetns(t)) return;
  pair?.remove();
  pair = createLinkPair('C');
  const p = pair;
  const first = p.start(p.a, process.execPath, [BIN, 'serve', '-c', config('gamma', 'vA')]);
  await waitForOutput(first.output, 'LLMNR name verified unique');
  const second = p.start(p.b, process.execPath, [BIN, 'serve', '-c', config('gamma', 'vB')]);
  await waitForOutput(second.output, 'LLMNR name conflict');
  assert.ok(!second.output().includes('LLMNR name verified unique'), second.output());
  // The host that lost no longer answers: asked from its own side, only the first host replies.
  const r = await p.run(p.b, process.execPath, [BIN, 'llmnr', 'gamma']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `;; from ${ADDR_A}#5355\ngamma.\t\t\t30\tIN\tA\t${ADDR_A}\n`);
  first.child.kill('SIGTERM');
  second.child.kill('SIGTERM');
});
