import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpaceSaving, TopTalkers, mergeTop } from '../../src/server/top-talkers.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';

const wire = (name: string): Uint8Array => Message.query(name, RRType.A).encode();

test('space-saving keeps the heavy hitters within its bound and carries the error of replaced keys', () => {
  const s = new SpaceSaving(4);
  for (let i = 0; i < 100; i++) s.add('hot');
  for (let i = 0; i < 50; i++) s.add('warm');
  for (let i = 0; i < 30; i++) s.add(`cold${i}`);
  const top = s.top(10);
  assert.equal(top.length, 4);
  assert.deepEqual(top.slice(0, 2).map((r) => [r.key, r.count, r.error]), [['hot', 100, 0], ['warm', 50, 0]]);
  // The last cold key replaced the smallest: its count overestimates by exactly its error.
  for (const r of top.slice(2)) assert.ok(r.count - r.error >= 1);
});

test('sampled names are read from the wire, lowercased, with escapes', () => {
  const t = new TopTalkers(1);
  for (const n of ['WWW.Example.', 'www.example.', 'a\\.b.example.', '.']) {
    const w = wire(n);
    t.sample(w, w.length, '192.0.2.1');
  }
  const bad = new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 70, 1, 2]);
  t.sample(bad, bad.length, '192.0.2.2');
  const s = t.snapshot();
  assert.deepEqual(s.names, [{ key: 'www.example.', count: 2 }, { key: '.', count: 1 }, { key: 'a\\.b.example.', count: 1 }]);
  assert.deepEqual(s.clients, [{ key: '192.0.2.1', count: 4 }, { key: '192.0.2.2', count: 1 }]);
});

test('counts are scaled by the sampling rate and merge across workers', () => {
  const a = new TopTalkers(16);
  const b = new TopTalkers(16);
  const w = wire('x.example.');
  a.sample(w, w.length, '10.0.0.1');
  b.sample(w, w.length, '10.0.0.2');
  const m = mergeTop([a.snapshot(), b.snapshot()]);
  assert.deepEqual(m.names, [{ key: 'x.example.', count: 32 }]);
  assert.deepEqual(m.clients, [{ key: '10.0.0.1', count: 16 }, { key: '10.0.0.2', count: 16 }]);
});
