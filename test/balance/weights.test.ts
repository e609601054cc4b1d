import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, test } from 'node:test';
import { pickWeighted, seededRandom } from '../../src/balance/weights.js';

/** Draws `n` single picks among weights `w` with `random`; counts per index. */
function draw(w: number[], n: number, seed: number): number[] {
  const weights = Float64Array.from(w);
  const cand = new Int32Array(w.length);
  const out = new Int32Array(w.length);
  const random = seededRandom(seed);
  const counts = new Array<number>(w.length).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < w.length; j++) cand[j] = j;
    assert.equal(pickWeighted(cand, w.length, weights, 1, random, out), 1);
    counts[out[0]!]!++;
  }
  return counts;
}

describe('weighted choice (balance/weights)', () => {
  test('a fixed seed gives fixed counts', () => {
    // Weights 3:1:0 over 1000 draws, seed 42: the weight-0 address never comes while others are up.
    assert.deepEqual(draw([3, 1, 0], 1000, 42), EXACT_42);
  });

  test('counts follow the weights (chi-square over 60000 draws)', () => {
    const seed = randomInt(0, 2 ** 31);
    const w = [5, 3, 1, 1];
    const n = 60_000;
    const counts = draw(w, n, seed);
    const total = w.reduce((a, b) => a + b, 0);
    let chi2 = 0;
    for (let i = 0; i < w.length; i++) {
      const expected = (n * w[i]!) / total;
      chi2 += (counts[i]! - expected) ** 2 / expected;
    }
    // 3 degrees of freedom: P(chi2 > 30.7) < 1e-6, so a fair picker fails this about once in a million runs.
    assert.ok(chi2 < 30.7, `chi2 ${chi2.toFixed(2)} for counts ${counts.join(',')} (seed ${seed})`);
    process.stdout.write(`# weights chi-square seed ${seed}: chi2 ${chi2.toFixed(2)} counts ${counts.join(',')}\n`);
  });

  test('several answers are distinct, the weighted pick first; zero weights come last', () => {
    const weights = Float64Array.from([1, 0, 4, 2]);
    const cand = new Int32Array(4);
    const out = new Int32Array(4);
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < 4; j++) cand[j] = j;
      const k = pickWeighted(cand, 4, weights, 4, random, out);
      assert.equal(k, 4);
      assert.deepEqual([...out].sort(), [0, 1, 2, 3]);
      assert.equal(out[3], 1, 'the weight-0 member is drawn only when nothing else is left');
    }
    for (let j = 0; j < 4; j++) cand[j] = j;
    assert.equal(pickWeighted(cand, 4, weights, 2, random, out), 2);
    assert.notEqual(out[0], out[1]);
  });

  test('all weights zero: uniform among them', () => {
    const counts = draw([0, 0], 2000, 3);
    assert.ok(counts[0]! > 800 && counts[1]! > 800, counts.join(','));
  });
});

const EXACT_42 = [757, 243, 0];
