// A small deterministic generator for the tests' random inputs (xorshift32), so a failure can
// be replayed from its seed.

/** 32-bit unsigned integers from `seed` (0 counts as 1). */
export function xorshift32(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Numbers in [0, 1) from `seed`. */
export function uniform(seed) {
  const next = xorshift32(seed);
  return () => next() / 2 ** 32;
}
