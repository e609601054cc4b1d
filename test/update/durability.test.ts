/**
 * Durability of dynamic updates: a real `sovereign serve` process takes hundreds of updates
 * (each adds an A and a TXT at a new name, so a half-applied one would show), is killed with
 * SIGKILL at random moments (a fresh seed each run, printed as UPDATE_SEED=N, repeatable from the
 * environment), the zone file is rewritten from memory every second meanwhile, and restarted:
 * every acknowledged update is there, and no name has one record without the other. Once with
 * one update at a time, once with eight in flight (the journal's group commit).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, havePeers, pickPort, tempDir, waitForDns } from '../helpers/peers.js';
import { axfrLines } from '../helpers/xfr-peers.js';

const ADDR = '127.31.16.9';
const ZONE = 'dur.example';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const SEED = process.env.UPDATE_SEED !== undefined ? Number(process.env.UPDATE_SEED) : randomInt(0x3fffffff);
console.log(`UPDATE_SEED=${SEED}`);

/** mulberry32: the test's own seeded randomness. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function updateMessage(i: number): Message {
  const m = new Message();
  m.opcode = Opcode.UPDATE;
  m.rd = false;
  m.question.push({ name: Name.fromText(`${ZONE}.`), type: RRType.SOA, class: 1 });
  const name = Name.fromText(`r${i}.${ZONE}.`);
  m.authority.push({ name, type: RRType.A, class: 1, ttl: 300, data: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } });
  m.authority.push({ name, type: RRType.TXT, class: 1, ttl: 300, data: { data: [Buffer.from(`update ${i}`)] } });
  return m;
}

function startServer(config: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'serve', '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * `inFlight` updates at a time (1: the next is sent when the previous is answered; more: the
 * server's group commit, several updates written behind one journal flush, is what is killed).
 */
async function killTest(t: TestContext, inFlight: number, seed: number): Promise<void> {
  if (!havePeers(t, 'dig')) return;
  const dir = tempDir('sovereign-durable-');
  const port = pickPort();
  addLoopbackAddress(ADDR);
  const file = join(dir.path, 'dur.zone');
  writeFileSync(file, `$ORIGIN ${ZONE}.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\nns A 192.0.2.1\n`);
  const config = join(dir.path, 'sovereign.yaml');
  writeFileSync(config, `workers: 1
listen: ["${ADDR}:${port}"]
control: { listen: "127.0.0.1:0" }
zones:
  - name: ${ZONE}
    file: dur.zone
    allowUpdate: ["127.0.0.0/8"]
    syncInterval: 1
`);
  const random = rng(seed);
  const acked = new Set<number>();
  let next = 0;
  let child: ChildProcess | undefined;
  try {
    for (let round = 0; round < 5; round++) {
      child = startServer(config);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      assert.ok(await waitForDns(ADDR, port, ZONE, 30_000), `server did not come up (round ${round}): ${err}`);
      const killAfter = 40 + Math.floor(random() * 80);
      const victim = child;
      let killed = false;
      // Killed while updates are in flight: after a random number of updates sent plus a random delay.
      let sent = 0;
      const sender = async (): Promise<void> => {
        while (!killed) {
          const i = next++;
          const p = exchange(updateMessage(i), { address: ADDR, port }, { transport: 'tcp', timeoutMs: 3000 });
          if (++sent === killAfter) {
            setTimeout(() => { victim.kill('SIGKILL'); }, Math.floor(random() * 5));
          }
          try {
            const r = await p;
            if (r.message.rcode === Rcode.NOERROR) acked.add(i);
            else assert.fail(`update ${i}: RCODE ${r.message.rcode}`);
          } catch {
            killed = true; // no answer: the server is gone (that update may or may not have landed)
          }
          if (sent > killAfter + 50 * inFlight) assert.fail('server did not die');
        }
      };
      await Promise.all(Array.from({ length: inFlight }, sender));
      await new Promise<void>((resolve) => { if (victim.exitCode !== null || victim.signalCode !== null) resolve(); else victim.once('exit', () => resolve()); });
    }
    child = startServer(config);
    assert.ok(await waitForDns(ADDR, port, ZONE, 30_000));
    const lines = await axfrLines(ADDR, port, ZONE);
    const a = new Set<number>();
    const txt = new Set<number>();
    for (const l of lines) {
      const m = /^r(\d+)\.dur\.example\. 300 in (a|txt) /.exec(l);
      if (m === null) continue;
      (m[2] === 'a' ? a : txt).add(Number(m[1]));
    }
    console.log(`UPDATE_SEED=${seed} (${inFlight} in flight): ${acked.size} acknowledged of ${next} sent over 5 kills; ${a.size} present`);
    assert.ok(acked.size >= 200, `only ${acked.size} updates acknowledged`);
    for (const i of acked) assert.ok(a.has(i) && txt.has(i), `acknowledged update ${i} lost (UPDATE_SEED=${seed})`);
    for (const i of a) assert.ok(txt.has(i), `update ${i} half-applied: A without TXT (UPDATE_SEED=${seed})`);
    for (const i of txt) assert.ok(a.has(i), `update ${i} half-applied: TXT without A (UPDATE_SEED=${seed})`);
    // The SOA serial counts the updates applied: one step each.
    const soa = lines.find((l) => / in soa /.test(l))!;
    assert.equal(Number(soa.split(' ')[6]), 1 + a.size, soa);
  } finally {
    child?.kill('SIGKILL');
    dir.cleanup();
  }
}

test('acknowledged updates survive SIGKILL at random moments; none is half-applied', { timeout: 600_000 }, (t) => killTest(t, 1, SEED));

test('with 8 updates in flight (group commit: several behind one journal flush) too', { timeout: 600_000 }, (t) => killTest(t, 8, SEED + 1));
