// sovereign nsupdate against BIND's nsupdate: the same scripts, each run by Debian's nsupdate
// against one BIND named and by `sovereign nsupdate` against another (same starting zone,
// allow-update with a TSIG key), must print the same (IDs and TSIG MACs aside), exit with the same
// code, and leave the same zone (compared by AXFR with dig). Then Knot (ACL action update).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type RunningPeer, addLoopbackAddress, havePeers, pickPort, runTool, startPeer, tempDir,
} from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const SECRET = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=';
const KEY = `hmac-sha256:upd:${SECRET}`;
const THEIRS_ADDR = '127.41.0.1';
const OURS_ADDR = '127.41.0.2';

const ZONE = `$TTL 300
example.test. IN SOA ns1.example.test. host.example.test. 1 3600 600 86400 300
example.test. IN NS ns1.example.test.
ns1 IN A 127.0.0.1
www IN A 192.0.2.1
www IN A 192.0.2.2
txt IN TXT "hello"
mail IN MX 10 mx.example.test.
alias IN CNAME www.example.test.
`;

/** Starts named for example.test on address:port, updates allowed with key `upd`. */
async function startUpdatableNamed(dir: string, address: string, port: number): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const zoneFile = join(dir, 'example.test.db');
  writeFileSync(zoneFile, ZONE);
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, `key "upd" { algorithm hmac-sha256; secret "${SECRET}"; };
options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { ${address}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer { any; };
};
zone "example.test" { type primary; file "${zoneFile}"; allow-update { key upd; }; };
`);
  return startPeer('named', ['-g', '-u', 'root', '-c', conf], { address, port, zone: 'example.test' });
}

/** Starts knotd for example.test on address:port: updates and transfers allowed with key `upd`, transfers from 127/8. */
async function startUpdatableKnot(dir: string, address: string, port: number): Promise<RunningPeer> {
  addLoopbackAddress(address);
  const zoneFile = join(dir, 'example.test.zone');
  writeFileSync(zoneFile, ZONE);
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, `server:
  rundir: "${dir}"
  listen: ${address}@${port}
database:
  storage: "${dir}/db"
key:
  - id: upd
    algorithm: hmac-sha256
    secret: ${SECRET}
acl:
  - id: upd
    key: upd
    action: [update, transfer]
  - id: xfr
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "${dir}"
    zonefile-sync: -1
    journal-content: changes
    semantic-checks: off
zone:
  - domain: example.test
    file: "${zoneFile}"
    acl: [upd, xfr]
`);
  return startPeer('knotd', ['-c', conf], { address, port, zone: 'example.test' });
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin without blocking this process's event loop. */
function runAsync(bin: string, args: string[], input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    child.stdin.end(input);
  });
}

/**
 * IDs, TSIG times/MACs and the server's address differ between the two runs by nature; the reason
 * after `invalid rdata format:` is the zone parser's own (BIND's comes from its lexer, which also
 * logs a dns_rdata_fromtext line).
 */
function normalise(text: string, address: string): string {
  return text.replace(/id: +\d+/g, 'id: N').replace(/\tTSIG\t.*/g, '\tTSIG\t...').replaceAll(address, 'SERVER')
    .replace(/^\d\d-\w{3}-\d{4} [\d:.]+ dns_rdata_fromtext: .*\n/gm, '').replace(/^(invalid rdata format:).*$/gm, '$1 ...')
    // BIND warns about HMAC K-file pairs through its logger (a dated line and a blank one); we do not.
    .replace(/^.*Use of K\* file pairs for HMAC is deprecated\n\n?/gm, '');
}

function axfr(address: string, port: number, zone = 'example.test'): string {
  const r = runTool('dig', [`@${address}`, '-p', String(port), zone, 'AXFR', '+nocmd', '+nostats']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * The scripts; `@S@` is the server line's address and `@P@` its port. In order: each one starts
 * from the zone the previous ones left.
 */
const SCRIPTS: { name: string; args?: string[]; text: string }[] = [
  { name: 'add, show, send, answer', text: `server @S@ @P@
zone example.test
update add new.example.test 600 A 192.0.2.9
update add new.example.test 600 A 192.0.2.10
add txt2.example.test 60 IN TXT "a b" c
show
send
answer
` },
  { name: 'every prerequisite kind, passing', text: `server @S@ @P@
zone example.test
prereq yxdomain www.example.test
prereq nxdomain nothing.example.test
prereq yxrrset www.example.test A
prereq yxrrset txt.example.test IN TXT "hello"
nxrrset www.example.test AAAA
update add pre.example.test 60 A 192.0.2.20
show
send
answer
` },
  { name: 'prerequisites failing: YXDOMAIN, NXDOMAIN, NXRRSET, YXRRSET, value-dependent', text: `server @S@ @P@
zone example.test
prereq nxdomain www.example.test
update add f1.example.test 60 A 192.0.2.1
send
prereq yxdomain nothing.example.test
update add f2.example.test 60 A 192.0.2.1
send
prereq yxrrset www.example.test AAAA
update add f3.example.test 60 A 192.0.2.1
send
prereq nxrrset www.example.test A
update add f4.example.test 60 A 192.0.2.1
send
yxrrset www.example.test A 192.0.2.1
update add f5.example.test 60 A 192.0.2.1
send
answer
` },
  { name: 'deletes: one RR, an RRset, a name; TTL on a delete ignored; shorthand del/delete', text: `server @S@ @P@
zone example.test
update delete www.example.test A 192.0.2.1
del txt2.example.test TXT
delete mail.example.test
update delete new.example.test 300 IN A 192.0.2.10
show
send
` },
  { name: 'apex protections, CNAME conflict, duplicate add, TTL of an added RR', text: `server @S@ @P@
zone example.test
update delete example.test SOA
update delete example.test NS
update add www.example.test 60 CNAME elsewhere.example.test.
update add alias.example.test 60 A 192.0.2.99
update add pre.example.test 60 A 192.0.2.20
update add pre.example.test 120 A 192.0.2.21
send
answer
` },
  { name: 'no zone: found by SOA query; blank line sends; ttl and class commands', text: `server @S@ @P@
ttl 77
class IN
update add deep.sub.example.test A 192.0.2.30
update add deep.sub.example.test TXT "ttl from the ttl command"

answer
ttl none
update add t2.example.test 5 A 192.0.2.31
show
send
` },
  { name: 'outside the zone: NOTZONE; zone not served: NOTAUTH', text: `server @S@ @P@
zone example.test
update add a.other.test 60 A 192.0.2.1
send
zone nope.test
update add a.nope.test 60 A 192.0.2.1
send
` },
  { name: 'no key: REFUSED', args: [], text: `server @S@ @P@
zone example.test
update add nokey.example.test 60 A 192.0.2.1
send
` },
  { name: 'wrong secret: NOTAUTH(BADSIG)', args: ['-y', 'hmac-sha256:upd:AAAAc2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI='], text: `server @S@ @P@
zone example.test
update add badsig.example.test 60 A 192.0.2.1
send
` },
  { name: 'unknown key name and the key command (HMAC-MD5 by default): NOTAUTH(BADKEY)', args: [], text: `server @S@ @P@
zone example.test
key upd ${SECRET}
update add badkey.example.test 60 A 192.0.2.1
send
key hmac-sha256:upd ${SECRET}
update add goodkey.example.test 60 A 192.0.2.1
send
answer
` },
  { name: 'key file from tsig-keygen (-k)', args: ['-k', '@KEYFILE@'], text: `server @S@ @P@
zone example.test
update add keyfile.example.test 60 A 192.0.2.40
send
` },
  { name: 'dnssec-keygen HMAC key pair (-k Kname.+163+id.private)', args: ['-k', '@KFILE@'], text: `server @S@ @P@
zone example.test
update add kfile.example.test 60 A 192.0.2.41
send
` },
  { name: 'missing key file: reported, the update goes unsigned and is refused', args: ['-k', '@MISSING@'], text: `server @S@ @P@
zone example.test
update add missing.example.test 60 A 192.0.2.42
send
` },
  { name: 'TCP (-v), local address', args: ['-v', '-y', KEY], text: `server @S@ @P@
local @S@
zone example.test
update add tcp.example.test 60 AAAA 2001:db8::1
send
answer
` },
  { name: 'comments, quit leaves the pending update unsent', text: `; a comment
server @S@ @P@
zone example.test
update add quit.example.test 60 A 192.0.2.1
quit
update add after.example.test 60 A 192.0.2.1
send
` },
  { name: 'end of input leaves the pending update unsent', text: `server @S@ @P@
zone example.test
update add eof.example.test 60 A 192.0.2.1
` },
  { name: 'syntax error: unknown command', text: 'server @S@ @P@\nfrobnicate now\nsend\n' },
  { name: 'syntax error: bad TTL', text: 'update add a.example.test xx A 192.0.2.1\n' },
  { name: 'syntax error: TTL out of range', text: 'update add a.example.test 2147483648 A 192.0.2.1\n' },
  { name: 'syntax error: bad RDATA', text: 'update add a.example.test 60 A 1.2.3\n' },
  { name: 'syntax error: add without RDATA', text: 'update add a.example.test 60 A\n' },
  { name: 'syntax error: bad prereq', text: 'prereq maybe a.example.test\n' },
  { name: 'syntax error: bad port', text: 'server @S@ 99999\n' },
  { name: 'nobody listening: connection refused, exit 2', text: `server @S@ 9
zone example.test
update add refused.example.test 60 A 192.0.2.1
send
` },
];

let dir: ReturnType<typeof tempDir>;
const peers: RunningPeer[] = [];

before(() => {
  dir = tempDir('sov-nsupdate-');
  writeFileSync(join(dir.path, 'upd.key'), `key "upd" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`);
  // BIND's HMAC key pair as dnssec-keygen wrote them before 9.13 (nsupdate still reads them).
  writeFileSync(join(dir.path, 'Kupd.+163+12345.key'), `upd. IN KEY 512 3 163 ${SECRET}\n`);
  writeFileSync(join(dir.path, 'Kupd.+163+12345.private'), `Private-key-format: v1.3\nAlgorithm: 163 (HMAC_SHA256)\nKey: ${SECRET}\nBits: AAA=\n`);
});

after(async () => {
  for (const p of peers) await p.stop();
  dir.cleanup();
});

/** Runs every script through nsupdate (server `theirs`) and sovereign nsupdate (server `ours`): same output, code, zone. */
async function compareScripts(theirsAddr: string, oursAddr: string, port: number): Promise<void> {
  assert.equal(axfr(oursAddr, port), axfr(theirsAddr, port));
  for (const s of SCRIPTS) {
    const args = (s.args ?? ['-y', KEY]).map((a) => a.replace('@KEYFILE@', join(dir.path, 'upd.key'))
      .replace('@KFILE@', join(dir.path, 'Kupd.+163+12345.private')).replace('@MISSING@', join(dir.path, 'missing.key')));
    const text = (a: string): string => s.text.replaceAll('@S@', a).replaceAll('@P@', String(port));
    const theirs = await runAsync('/usr/bin/nsupdate', args, text(theirsAddr));
    const mine = await runAsync(process.execPath, [BIN, 'nsupdate', ...args], text(oursAddr));
    assert.equal(mine.status, theirs.status, `${s.name}: exit code\n${mine.stderr}`);
    assert.equal(normalise(mine.stdout, oursAddr), normalise(theirs.stdout, theirsAddr), `${s.name}: stdout`);
    assert.equal(normalise(mine.stderr, oursAddr), normalise(theirs.stderr, theirsAddr), `${s.name}: stderr`);
    assert.equal(axfr(oursAddr, port), axfr(theirsAddr, port), `${s.name}: zone afterwards`);
  }
}

/** The zone did change as the scripts say (not two servers that both refused everything). */
function assertZoneAfterScripts(zone: string): void {
  for (const want of ['new.example.test.\t600\tIN\tA\t192.0.2.9', 'pre.example.test.\t120\tIN\tA\t192.0.2.21',
    'deep.sub.example.test.\t77\tIN\tTXT\t"ttl from the ttl command"', 'tcp.example.test.\t60\tIN\tAAAA\t2001:db8::1',
    'goodkey.example.test.\t60\tIN\tA\t192.0.2.1', 'keyfile.example.test.\t60\tIN\tA\t192.0.2.40',
    'kfile.example.test.\t60\tIN\tA\t192.0.2.41']) {
    assert.ok(zone.includes(want), `${want} in\n${zone}`);
  }
  for (const gone of ['mail.example.test.', 'quit.example.test', 'eof.example.test', 'badsig', 'nokey', 'missing.example']) {
    assert.ok(!zone.includes(gone), `${gone} not in\n${zone}`);
  }
  assert.ok(zone.includes('example.test.\t\t300\tIN\tNS\tns1.example.test.'), 'apex NS kept');
}

test('the same nsupdate scripts through BIND nsupdate and sovereign nsupdate against BIND: same output, exit codes, zone', async (t) => {
  if (!havePeers(t, 'named', 'nsupdate', 'dig')) return;
  const port = pickPort();
  mkdirSync(join(dir.path, 'bind-theirs'));
  mkdirSync(join(dir.path, 'bind-ours'));
  peers.push(await startUpdatableNamed(join(dir.path, 'bind-theirs'), THEIRS_ADDR, port));
  peers.push(await startUpdatableNamed(join(dir.path, 'bind-ours'), OURS_ADDR, port));
  await compareScripts(THEIRS_ADDR, OURS_ADDR, port);
  assertZoneAfterScripts(axfr(OURS_ADDR, port));
});

test('the same nsupdate scripts against Knot (ACL action update): same output, exit codes, zone', async (t) => {
  if (!havePeers(t, 'knotd', 'nsupdate', 'dig')) return;
  const port = pickPort();
  mkdirSync(join(dir.path, 'knot-theirs'));
  mkdirSync(join(dir.path, 'knot-ours'));
  peers.push(await startUpdatableKnot(join(dir.path, 'knot-theirs'), THEIRS_ADDR, port));
  peers.push(await startUpdatableKnot(join(dir.path, 'knot-ours'), OURS_ADDR, port));
  await compareScripts(THEIRS_ADDR, OURS_ADDR, port);
  const zone = axfr(OURS_ADDR, port);
  assert.ok(zone.includes('new.example.test.\t600\tIN\tA\t192.0.2.9'), zone);
  assert.ok(zone.includes('tcp.example.test.\t60\tIN\tAAAA\t2001:db8::1'), zone);
});
