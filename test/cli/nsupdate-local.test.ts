// nsupdate's `local ADDRESS [PORT]`: the update leaves from that address and port, as with BIND's
// nsupdate (both are run against a UDP listener that records the source and answers NOERROR).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { addLoopbackAddress, havePeers, pickPort } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const SERVER = '127.41.1.1';
const LOCAL = '127.41.1.2';

function run(cmd: string, args: string[], input: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.end(input);
  });
}

test('nsupdate local ADDRESS PORT: the update is sent from that address and port (as BIND nsupdate)', async (t) => {
  if (!havePeers(t, 'nsupdate')) return;
  addLoopbackAddress(SERVER);
  addLoopbackAddress(LOCAL);
  const port = pickPort();
  const seen: string[] = [];
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    seen.push(`${rinfo.address}#${rinfo.port}`);
    // Echo the update as its answer: QR set, opcode kept, RCODE NOERROR.
    const reply = Buffer.from(msg);
    reply[2] = reply[2]! | 0x80;
    reply[3] = 0;
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(port, SERVER, r));
  try {
    for (const [cmd, pre] of [['/usr/bin/nsupdate', []], [process.execPath, [BIN, 'nsupdate']]] as const) {
      const localPort = pickPort();
      const script = `server ${SERVER} ${port}\nlocal ${LOCAL} ${localPort}\nzone example.test\nupdate add a.example.test 60 A 192.0.2.1\nsend\n`;
      const before = seen.length;
      const r = await run(cmd, [...pre], script);
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
      assert.deepEqual(seen.slice(before), [`${LOCAL}#${localPort}`], `${cmd}: source of the update`);
    }
  } finally {
    sock.close();
  }
});
