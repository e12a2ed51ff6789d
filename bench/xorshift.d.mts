/** bench/xorshift.mjs: xorshift32 from `seed` (default 2463534242), floats in [0, 1) */
export function xorshift32(seed?: number): () => number;
