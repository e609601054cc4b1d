/**
 * Weighted random choice among a record set's addresses (PowerDNS's `pickwrandom`, Technitium's
 * weighted APP records): each address is drawn with probability weight / (sum of the weights left),
 * without replacement, so `answers: 2` gives two distinct addresses and `all` gives every address
 * in a weighted random order (the first one is the weighted pick, as most stubs use the first).
 *
 * The random source is injected (a seeded one in tests); the default draws from the OS's CSPRNG
 * in blocks, so a draw costs an array read. Nothing here allocates per query: callers pass index
 * and scratch arrays sized at configuration time.
 */
import { randomFillSync } from 'node:crypto';

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

const BLOCK = 1024;
const pool = new Uint32Array(BLOCK);
let poolAt = BLOCK;

/** Uniform [0, 1) from the OS's CSPRNG, 1024 draws fetched at a time. */
export const cryptoRandom: Random = () => {
  if (poolAt === BLOCK) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]! / 0x100000000;
};

/** A small seeded generator (mulberry32) for tests and reproducible runs; not for anything secret. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/**
 * Picks up to `want` of the `n` candidates `cand[0..n)` (indices into `weights`) at random in
 * proportion to their weights, without replacement, writing the chosen indices to `out`; returns
 * how many were written. `cand` is reordered (used as scratch). Candidates of weight 0 are chosen
 * only when every remaining candidate has weight 0 (they are last-resort members, as in LVS).
 */
export function pickWeighted(cand: Int32Array, n: number, weights: Float64Array, want: number, random: Random, out: Int32Array): number {
  if (n === 1 && want > 0) {
    // One candidate: nothing to draw (and no draw used up, so a seeded sequence serves only real choices).
    out[0] = cand[0]!;
    return 1;
  }
  let left = n;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[cand[i]!]!;
  let k = 0;
  while (k < want && left > 0) {
    let j = left - 1;
    if (total > 0) {
      let r = random() * total;
      for (let i = 0; i < left; i++) {
        r -= weights[cand[i]!]!;
        if (r < 0) {
          j = i;
          break;
        }
      }
      // Rounding may leave r >= 0 after the last one: j then stays the last positive candidate.
      if (r >= 0) while (j > 0 && weights[cand[j]!] === 0) j--;
    } else {
      j = Math.floor(random() * left);
    }
    const c = cand[j]!;
    out[k++] = c;
    total -= weights[c]!;
    if (total < 1e-9) total = 0;
    cand[j] = cand[left - 1]!;
    cand[left - 1] = c;
    left--;
  }
  return k;
}
