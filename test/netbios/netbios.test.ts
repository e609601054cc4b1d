// NetBIOS name service (RFC 1001/1002) between two network namespaces the test creates (nothing
// is broadcast on the host's interfaces): Samba's nmblookup against our responder (`sovereign
// serve` with `netbios:` on), and `sovereign nbns` against Samba's nmbd, whose output must be
// nmblookup's, line for line.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeName, decodeStatusRdata, encodeLabel, encodeName, encodeStatusRdata, nameText } from '../../src/netbios/packet.js';
import { ADDR_A, BROADCAST, type LinkPair, canUseNetns, createLinkPair, waitForOutput } from '../helpers/netns.js';
import { havePeers, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
let pair: LinkPair | undefined;
let dir: ReturnType<typeof tempDir>;

before(() => { dir = tempDir('sov-netbios-'); });
after(() => {
  pair?.remove();
  dir.cleanup();
});

/** A private smb.conf for Samba's tools in one namespace: its own directories, one interface, broadcast only. */
function smbConf(tag: string, netbiosName: string, iface: string): string {
  const base = join(dir.path, tag);
  for (const d of ['lock', 'state', 'cache', 'private', 'pid', 'ncalrpc']) mkdirSync(join(base, d), { recursive: true });
  const file = join(base, 'smb.conf');
  writeFileSync(file, `[global]
  workgroup = LABGROUP
  netbios name = ${netbiosName}
  interfaces = ${iface}
  bind interfaces only = yes
  name resolve order = bcast
  lock directory = ${base}/lock
  state directory = ${base}/state
  cache directory = ${base}/cache
  private dir = ${base}/private
  pid directory = ${base}/pid
  ncalrpc dir = ${base}/ncalrpc
  log file = ${base}/log.%m
`);
  return file;
}

test('first-level encoding (RFC 1001 §14.1) and the node status table (RFC 1002 §4.2.18)', () => {
  // RFC 1001 §14.1's own example: "FRED" -> EGFCEFEECACACACACACACACACACACACA.
  assert.equal(encodeLabel({ name: 'FRED', suffix: 0x20, scope: '' }), 'EGFCEFEECACACACACACACACACACACACA');
  assert.equal(encodeLabel({ name: '*', suffix: 0, scope: '' }), 'CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  const n = decodeName(encodeName({ name: 'fileserver', suffix: 0x20, scope: 'lab.example' }));
  assert.deepEqual(n, { name: 'FILESERVER', suffix: 0x20, scope: 'lab.example' });
  assert.equal(nameText(n), 'FILESERVER<20>');
  const table = decodeStatusRdata(encodeStatusRdata([{ name: 'HOST', suffix: 0, flags: 0x0400 }], Uint8Array.of(1, 2, 3, 4, 5, 6)));
  assert.deepEqual(table.names, [{ name: 'HOST', suffix: 0, flags: 0x0400 }]);
  assert.deepEqual([...table.mac], [1, 2, 3, 4, 5, 6]);
});

test('nmblookup finds our responder: name query <00> and <20>, unicast, node status; other names fail', async (t) => {
  if (!canUseNetns(t) || !havePeers(t, 'nmblookup')) return;
  pair = createLinkPair('N');
  const p = pair;
  const cfg = join(dir.path, 'sov.yaml');
  writeFileSync(cfg, `listen: ["127.0.0.1:5300"]
workers: 1
control: { enabled: false }
log: { level: info, format: text }
netbios: { enabled: true, names: [ALPHA], interfaces: [vA] }
`);
  const serve = p.start(p.a, process.execPath, [BIN, 'serve', '-c', cfg]);
  await waitForOutput(serve.output, 'NetBIOS name service started');
  const conf = smbConf('client', 'BRAVO', 'vB');
  const nmblookup = (...args: string[]) => p.run(p.b, '/usr/bin/nmblookup', ['-s', conf, ...args]);

  let r = await nmblookup('-B', BROADCAST, 'ALPHA');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `querying ALPHA on ${BROADCAST}\n${ADDR_A} ALPHA<00>\n`);
  r = await nmblookup('-B', BROADCAST, 'alpha#20');
  assert.equal(r.stdout, `querying alpha on ${BROADCAST}\n${ADDR_A} alpha<20>\n`);
  r = await nmblookup('-U', ADDR_A, 'ALPHA');
  assert.equal(r.stdout, `querying ALPHA on ${ADDR_A}\n${ADDR_A} ALPHA<00>\n`);
  r = await nmblookup('-A', ADDR_A);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `Looking up status of ${ADDR_A}\n\tALPHA           <00> -         B <ACTIVE> \n` +
    '\tALPHA           <20> -         B <ACTIVE> \n\n\tMAC Address = 00-00-00-00-00-00\n\n');
  r = await nmblookup('-B', BROADCAST, 'NOPE');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, `querying NOPE on ${BROADCAST}\nname_query failed to find name NOPE\n`);
  r = await nmblookup('-B', BROADCAST, 'ALPHA#1b');
  assert.equal(r.status, 1, 'a suffix we did not register');
  // Bad input (garbage, a short header, a name that is not 32 letters A..P, a lying count) is
  // dropped; the responder keeps answering.
  const junk = await p.run(p.b, process.execPath, ['-e', `
    const s = require('node:dgram').createSocket('udp4');
    const bad = [Buffer.from('ff', 'hex'), Buffer.alloc(11), Buffer.from('123401100001000000000000036162630000200001', 'hex'),
      Buffer.from('1234011000ff0000000000002045'.padEnd(100, '4'), 'hex')];
    let n = 0;
    for (const b of bad) s.send(b, 137, '${ADDR_A}', () => { if (++n === bad.length) s.close(); });
  `]);
  assert.equal(junk.status, 0, junk.stderr);
  r = await nmblookup('-U', ADDR_A, 'ALPHA');
  assert.equal(r.stdout, `querying ALPHA on ${ADDR_A}\n${ADDR_A} ALPHA<00>\n`, 'still answering after bad input');
  serve.child.kill('SIGTERM');
});

test('sovereign nbns against Samba nmbd: names, group name, node status as nmblookup prints them', async (t) => {
  if (!canUseNetns(t) || !havePeers(t, 'nmblookup', 'nmbd')) return;
  pair?.remove();
  pair = createLinkPair('S');
  const p = pair;
  const nmbd = p.start(p.a, '/usr/sbin/nmbd', ['-F', '--debug-stdout', '--no-process-group', '-s', smbConf('server', 'CHARLIE', 'vA')]);
  const conf = smbConf('client2', 'BRAVO', 'vB');
  // nmbd claims its names by broadcast registration first; wait until nmblookup sees them.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const probe = await p.run(p.b, '/usr/bin/nmblookup', ['-s', conf, '-B', BROADCAST, 'CHARLIE']);
    if (probe.status === 0) break;
    if (Date.now() > deadline) throw new Error(`nmbd did not answer:\n${nmbd.output()}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  const ours = (...args: string[]) => p.run(p.b, process.execPath, [BIN, 'nbns', ...args]);
  const theirs = (...args: string[]) => p.run(p.b, '/usr/bin/nmblookup', ['-s', conf, ...args]);

  for (const args of [['-B', BROADCAST, 'CHARLIE'], ['-B', BROADCAST, 'CHARLIE#20'], ['-B', BROADCAST, 'LABGROUP'],
    ['-U', ADDR_A, 'CHARLIE'], ['-A', ADDR_A], ['-B', BROADCAST, 'NOBODY']]) {
    const a = await ours(...args);
    const b = await theirs(...args);
    assert.equal(a.stdout, b.stdout, `nbns ${args.join(' ')}`);
    assert.equal(a.status, b.status, `nbns ${args.join(' ')}: exit code`);
  }
  const st = await ours('-A', ADDR_A);
  assert.match(st.stdout, /\tCHARLIE {9}<20> - {9}B <ACTIVE> \n/);
  assert.match(st.stdout, /\tLABGROUP {8}<00> - <GROUP> B <ACTIVE> \n/);
  nmbd.child.kill('SIGTERM');
});
