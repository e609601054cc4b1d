#!/usr/bin/env node
// Builds the optional native addon (native/batch-udp: recvmmsg/sendmmsg for the UDP listener) with
// the node-gyp that npm ships, against the headers of the Node.js that runs this (Debian's and
// nodejs.org's packages both install them beside the binary, so nothing is downloaded). Never fails
// the install: without a compiler or headers the server runs on node:dgram (udpBatching: auto).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native', 'batch-udp');
const out = join(dir, 'build', 'Release', 'batch_udp.node');

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  for (const p of [npmRoot && join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]) {
    if (p && existsSync(p)) return p;
  }
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const gyp = nodeGyp();
if (gyp === undefined) {
  console.log('native/batch-udp: node-gyp not found; UDP stays on node:dgram');
  process.exit(0);
}
const args = [gyp, 'rebuild', '--directory', dir];
// The headers of this very Node.js, when installed beside it (no download of a headers tarball).
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
if (r.status === 0 && existsSync(out)) {
  console.log(`native/batch-udp: built ${out}`);
} else {
  console.log(`native/batch-udp: not built (UDP stays on node:dgram): ${(r.stderr || r.stdout || String(r.error)).split('\n').filter((l) => /ERR!|error/.test(l)).slice(0, 5).join(' | ')}`);
}
