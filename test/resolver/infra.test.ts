import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerSelector } from '../../src/resolver/infra.js';

function fixed(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

test('untried servers are tried first, then the lowest smoothed RTT wins', () => {
  let now = 0;
  const s = new ServerSelector({ clock: () => now, random: fixed([0.5]), exploration: 0 });
  const all = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
  s.recordRtt('192.0.2.1', 50);
  s.recordRtt('192.0.2.2', 10);
  // 192.0.2.3 never measured: scores below any measured server.
  assert.equal(s.choose(all, 'z', new Set()), '192.0.2.3');
  s.recordRtt('192.0.2.3', 80);
  assert.equal(s.choose(all, 'z', new Set()), '192.0.2.2');
  assert.equal(s.choose(all, 'z', new Set(['192.0.2.2'])), '192.0.2.1');
  assert.equal(s.choose(all, 'z', new Set(all)), undefined);
  now += 1;
});

test('smoothing follows RFC 6298 (alpha 1/8)', () => {
  const s = new ServerSelector({ exploration: 0 });
  s.recordRtt('a', 100);
  s.recordRtt('a', 20);
  assert.equal(s.info('a').srtt, 90);
});

test('exploration sometimes picks a non-best usable server', () => {
  // random(): first call is the exploration draw (0.01 < 0.05), second picks among the others.
  const s = new ServerSelector({ random: fixed([0.01, 0.99]), exploration: 0.05 });
  s.recordRtt('a', 1);
  s.recordRtt('b', 100);
  s.recordRtt('c', 200);
  assert.equal(s.choose(['a', 'b', 'c'], 'z', new Set()), 'c');
});

test('timeouts back off the RTO and hold a silent server down for a while', () => {
  let now = 0;
  const s = new ServerSelector({ clock: () => now, random: () => 0.5, exploration: 0, holdDownMs: 60_000, minTimeoutMs: 100 });
  s.recordRtt('a', 20);
  s.recordRtt('b', 30);
  const before = s.timeoutFor('a');
  s.recordTimeout('a', before);
  assert.ok(s.timeoutFor('a') > before, 'RTO grows after a timeout');
  s.recordTimeout('a', 1000);
  s.recordTimeout('a', 1000);
  assert.equal(s.usable('a', 'z'), false);
  assert.equal(s.choose(['a', 'b'], 'z', new Set()), 'b');
  // Only held-down servers left: still chosen rather than nothing.
  assert.equal(s.choose(['a'], 'z', new Set()), 'a');
  now += 61_000;
  assert.equal(s.usable('a', 'z'), true);
});

test('lame servers are avoided for that zone only, until the lame time passes', () => {
  let now = 0;
  const s = new ServerSelector({ clock: () => now, random: () => 0.5, exploration: 0, lameMs: 1000 });
  s.recordRtt('a', 1);
  s.recordRtt('b', 50);
  s.recordLame('a', 'example.');
  assert.equal(s.choose(['a', 'b'], 'example.', new Set()), 'b');
  assert.equal(s.choose(['a', 'b'], 'other.', new Set()), 'a');
  now = 1001;
  assert.equal(s.choose(['a', 'b'], 'example.', new Set()), 'a');
});

test('EDNS fallback is remembered per server', () => {
  const s = new ServerSelector();
  assert.equal(s.edns('a'), true);
  s.recordNoEdns('a');
  assert.equal(s.edns('a'), false);
  assert.equal(s.edns('b'), true);
});
