// Dynamic update with two workers (a real `sovereign serve --workers 2`): updates reach whichever
// worker the kernel hands them to, one worker applies them, and right after each NOERROR every
// worker answers with the new data (queries spread over the workers by the kernel); `sovereign
// zone sync` through the cluster's control endpoint writes the file the owning worker holds.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, pickPort, tempDir, waitForDns } from '../helpers/peers.js';

const ADDR = '127.31.16.12';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

test('two workers: every worker serves each update as soon as NOERROR is back; zone sync writes it', { timeout: 180_000 }, async () => {
  const dir = tempDir('sovereign-upd-cluster-');
  const port = pickPort();
  const controlPort = pickPort();
  addLoopbackAddress(ADDR);
  writeFileSync(join(dir.path, 'c.zone'), '$ORIGIN c.example.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\nns A 127.31.16.12\n');
  const config = join(dir.path, 'sovereign.yaml');
  writeFileSync(config, `workers: 2
listen: ["${ADDR}:${port}"]
control: { listen: "127.0.0.1:${controlPort}" }
zones:
  - name: c.example
    file: c.zone
    allowUpdate: ["127.0.0.0/8"]
`);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    assert.ok(await waitForDns(ADDR, port, 'c.example', 60_000), err);
    for (let i = 0; i < 12; i++) {
      const m = new Message();
      m.opcode = Opcode.UPDATE;
      m.question.push({ name: Name.fromText('c.example.'), type: RRType.SOA, class: 1 });
      m.authority.push(parseRecord(`n${i}.c.example. 300 IN A 192.0.2.${i + 1}`));
      const r = await exchange(m, { address: ADDR, port }, { timeoutMs: 10_000, transport: i % 2 === 0 ? 'udp' : 'tcp' });
      assert.equal(r.message.rcode, Rcode.NOERROR, err);
      // Each query comes from a new socket, so the kernel spreads them over both workers.
      for (let q = 0; q < 8; q++) {
        const a = await exchange(Message.query(`n${i}.c.example.`, RRType.A, { rd: false }), { address: ADDR, port }, { timeoutMs: 5000 });
        assert.equal(a.message.rcode, Rcode.NOERROR, `n${i} query ${q}`);
        assert.equal((a.message.answer[0]!.data as { address: string }).address, `192.0.2.${i + 1}`);
      }
    }
    const sync = spawnSync(process.execPath, [BIN, 'zone', 'sync', 'c.example', '--config', config], { encoding: 'utf8' });
    assert.equal(sync.status, 0, sync.stdout + sync.stderr);
    assert.match(sync.stdout, /zone c\.example\.: written, serial 13/);
    const text = readFileSync(join(dir.path, 'c.zone'), 'utf8');
    for (let i = 0; i < 12; i++) assert.match(text, new RegExp(`n${i}\\.c\\.example\\.\\s+300 IN A\\s+192\\.0\\.2\\.${i + 1}\\n`));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    dir.cleanup();
  }
});
