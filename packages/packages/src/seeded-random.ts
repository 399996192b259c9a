/**
 * A small seeded pseudo-random generator (mulberry32): the same numbers on every machine
 * and every run, for generated channels and benchmark trees.
 */

/** Numbers in [0, 1), determined by `seed`. @example const next = seededRandom(1); next() */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
