// sovereign tsig-keygen: the key file BIND's tsig-keygen writes, for every algorithm; BIND's
// named-checkconf accepts ours, and our key-file reader takes BIND's tsig-keygen output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tsigKeygen } from '../../src/cli/tsig-keygen.js';
import { TSIG_ALGORITHMS, parseKeyFile } from '../../src/tsig/key.js';
import { havePeers, tempDir } from '../helpers/peers.js';

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = tsigKeygen(args, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

test('tsig-keygen: BIND\'s layout, a secret as long as the digest, usage errors exit 2', () => {
  for (const a of TSIG_ALGORITHMS) {
    const r = run(['-a', a.short, 'xfr.example']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^key "xfr\\.example" \\{\\n\\talgorithm ${a.short};\\n\\tsecret "[A-Za-z0-9+/=]+";\\n\\};\\n$`));
    assert.equal(parseKeyFile(r.out)[0]!.secret.length, a.digestSize);
  }
  assert.match(run([]).out, /^key "tsig-key" \{\n\talgorithm hmac-sha256;/);
  assert.equal(run(['-a', 'hmac-sha999']).code, 2);
  assert.equal(run(['--frobnicate']).code, 2);
});

test('tsig-keygen: named-checkconf accepts our keys; we read BIND\'s tsig-keygen output', async (t) => {
  if (!havePeers(t, 'named')) return;
  const dir = tempDir();
  try {
    const conf = join(dir.path, 'named.conf');
    writeFileSync(conf, TSIG_ALGORITHMS.map((a) => run(['-a', a.short, `k-${a.short}`]).out).join(''));
    const check = spawnSync('/usr/bin/named-checkconf', [conf], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    for (const a of TSIG_ALGORITHMS) {
      const theirs = spawnSync('/usr/sbin/tsig-keygen', ['-a', a.short, 'bind-key'], { encoding: 'utf8' });
      assert.equal(theirs.status, 0, theirs.stderr);
      const [k] = parseKeyFile(theirs.stdout);
      assert.equal(k!.algorithm.short, a.short);
      assert.equal(k!.label, 'bind-key');
      assert.equal(k!.secret.length, a.digestSize);
    }
  } finally {
    dir.cleanup();
  }
});
