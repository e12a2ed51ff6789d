/** xorshift32 for tests that draw rule sets and packets: the same seed gives the same draws */
import { xorshift32 } from '../../bench/xorshift.mjs';

export function generator(seed: number) {
  const next = xorshift32(seed >>> 0 || 1);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number): boolean => next() < p;
  return { next, int, pick, chance };
}
