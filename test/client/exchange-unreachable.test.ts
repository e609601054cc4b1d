/**
 * A UDP exchange towards an address with no route (ENETUNREACH at connect) must end in a
 * NetworkError, not an uncaught exception: Node passes the failed connect to the connect
 * callback, and sending on the unconnected socket then threw from a nextTick and killed the
 * process (seen as a crash loop when `npm start` primed the real roots on a host without a route).
 *
 * Run inside a network namespace made for the test, with only `lo`: nothing can leave the
 * machine. Needs root (as CI has); elsewhere the test skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { inCI } from '../helpers/peers.js';

const EXCHANGE = new URL('../../src/client/exchange.js', import.meta.url).href;
const MESSAGE = new URL('../../src/wire/message.js', import.meta.url).href;

const SCRIPT = `
const { exchange } = await import(${JSON.stringify(EXCHANGE)});
const { Message } = await import(${JSON.stringify(MESSAGE)});
const q = Message.query('example.com.', 1);
const out = [];
for (const address of ['192.0.2.1', '2001:db8::1']) {
  try {
    await exchange(q, { address, port: 53 }, { timeoutMs: 2000 });
    out.push(address + ' answered');
  } catch (e) {
    out.push(address + ' ' + e.constructor.name + ' ' + e.message);
  }
}
// Stay alive a moment so a late throw from a nextTick would still crash us.
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify(out));
`;

test('UDP exchange with no route ends in NetworkError, the process survives', (t) => {
  const ns = `sovereign-noroute-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) {
    const why = `cannot create a network namespace: ${add.stderr.trim()}`;
    if (inCI) throw new Error(why);
    t.skip(why);
    return;
  }
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', SCRIPT], {
      encoding: 'utf8', timeout: 30_000,
    });
    assert.equal(r.status, 0, `the process died:\n${r.stderr}`);
    const lines = JSON.parse(r.stdout.trim()) as string[];
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\S+ NetworkError .*(unreachable|ENETUNREACH)/i, l);
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
});
