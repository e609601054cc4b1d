/**
 * Pre-bound UDP sockets for outgoing queries: every exchange gets a socket of its own, bound to
 * a port no earlier exchange used (the pool never hands a socket out twice), and spares never
 * keep the process alive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeSpareSockets, takeUdpSocket } from '../../src/client/udp-pool.js';

test('each take is a fresh bound socket on its own port; spares are bound in the background', async () => {
  const taken = [];
  const ports = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const s = await takeUdpSocket(false, undefined, 'test');
    const { port } = s.address();
    assert.ok(port >= 1024, `port ${port} in the unprivileged range`);
    assert.ok(!ports.has(port), `port ${port} handed out twice`);
    ports.add(port);
    taken.push(s);
    // Let the background refill run now and then, so later takes come from the spares.
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(new Set(taken).size, taken.length, 'no socket handed out twice');
  for (const s of taken) s.close();
  // A socket for a given local address is bound on demand, at that address.
  const local = await takeUdpSocket(false, '127.0.0.1', 'test');
  assert.equal(local.address().address, '127.0.0.1');
  local.close();
  closeSpareSockets();
});
