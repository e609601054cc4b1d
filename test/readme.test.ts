/**
 * The README's library examples are real: every ```js block of README.md is written next to the
 * package (so `import 'sovereign-dns'` resolves to this checkout by self-reference), run with node, and
 * its output checked. The client example names 127.0.0.1:5300 as a reader would run it; here that
 * address is replaced by a Sovereign server of the test's own on 127.26.10.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from './server/net-helpers.js';
import { tempDir } from './helpers/peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADDR = '127.26.10.1';

function jsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

let server: Awaited<ReturnType<typeof startServer>>;
const dir = join(ROOT, 'dist', 'readme-examples');
const cwd = tempDir('sov-readme-');

before(async () => {
  server = await startServer(ADDR);
  mkdirSync(dir, { recursive: true });
});

after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  cwd.cleanup();
});

/**
 * Runs block `i` (loopback address and port replaced) and returns its standard output. Not
 * spawnSync: the server answering the examples runs in this process and must keep its event loop.
 */
async function run(i: number, code: string): Promise<string> {
  const file = join(dir, `example-${i}.mjs`);
  writeFileSync(file, code.replaceAll('127.0.0.1', ADDR).replace(/\b5300\b/g, String(server.port)));
  const child = spawn(process.execPath, [file], { cwd: cwd.path, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const status = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(status, 0, `README example ${i} failed:\n${err}`);
  return out;
}

test('every js example of the README runs and prints what it says', async () => {
  const blocks = jsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.equal(blocks.length, 4, 'codec, client, zone loader, server');
  const [codec, client, zone, serverBlock] = await Promise.all(blocks.map((b, i) => run(i, b)));

  assert.equal(codec, 'example.com.\t3600\tIN\tMX\t10 mail.example.com.\n10 mail.example.com.\nwww.example.com.\t60\tIN\tA\t192.0.2.1\n');

  const lines = client!.trimEnd().split('\n');
  assert.equal(lines[0], ';; 3 answers over udp');
  assert.deepEqual(lines.slice(1).sort(), [10, 11, 12].map((n) => `www.example.com.\t3600\tIN\tA\t192.0.2.${n}`));

  // printZone writes as named-compilezone does (canonical order, its column layout).
  assert.deepEqual(zone!.trimEnd().split('\n'), [
    'example.com.\t\t\t\t      3600 IN SOA\tns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300',
    'example.com.\t\t\t\t      3600 IN NS\tns1.example.com.',
    'ns1.example.com.\t\t\t      3600 IN A\t\t192.0.2.1',
    'www.example.com.\t\t\t      3600 IN CNAME\tns1.example.com.',
    'www A -> cname',
  ]);

  assert.equal(serverBlock, 'hello.test.\t60\tIN\tTXT\t"hello from Sovereign"\n');
});
