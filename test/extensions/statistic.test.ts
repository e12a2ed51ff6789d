import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';
import { probabilityText } from '../../src/extensions/matches/statistic.js';

function run(spec: string, n: number, randoms: number[] = []): boolean[] {
  const rule = ruleFrom(spec);
  const ctx = context({ randoms });
  return Array.from({ length: n }, () => matches(rule, packet(), ctx));
}

describe('statistic match', () => {
  const random: [string, number[], boolean[]][] = [
    ['-m statistic --mode random --probability 0.5', [0.49999, 0.5, 0.75, 0], [true, false, false, true]],
    ['-m statistic --mode random ! --probability 0.5', [0.49999, 0.5], [false, true]],
    ['-m statistic --mode random --probability 0', [0, 0.5], [false, false]],
    ['-m statistic --mode random --probability 1', [0.9999999999, 0], [true, true]],
    // 0.1 is stored as 214748365/2^31 (0.10000000009...): a draw of exactly 0.1 is below it
    ['-m statistic --mode random --probability 0.1', [0.1, 0.1000000001, 0.0999], [true, false, true]],
  ];
  it.each(random)('%s with draws %j -> %j', (spec, draws, want) => {
    expect(run(spec, draws.length, draws)).toEqual(want);
  });

  it('draws exactly one random number per packet', () => {
    const rule = ruleFrom('-m statistic --mode random --probability 0.5');
    const draws = [0.9, 0.1, 0.9];
    let used = 0;
    const ctx = context();
    ctx.random = () => draws[used++]!;
    expect([0, 1, 2].map(() => matches(rule, packet(), ctx))).toEqual([false, true, false]);
    expect(used).toBe(3);
  });

  const nth: [string, boolean[]][] = [
    ['-m statistic --mode nth --every 3 --packet 0', [true, false, false, true, false, false, true]],
    ['-m statistic --mode nth --every 3 --packet 2', [false, false, true, false, false, true]],
    ['-m statistic --mode nth --every 3 --packet 1', [false, true, false, false, true, false]],
    ['-m statistic --mode nth ! --every 5 --packet 2', [true, true, false, true, true, true, true, false]],
    ['-m statistic --mode nth --every 1 --packet 0', [true, true, true]],
  ];
  it.each(nth)('%s -> %j', (spec, want) => {
    expect(run(spec, want.length)).toEqual(want);
  });

  it('prints the stored 31-bit fraction with %.11f and round-half-even', () => {
    expect(probabilityText(0x40000000)).toBe('0.50000000000');
    expect(probabilityText(0x80000000)).toBe('1.00000000000');
    expect(probabilityText(214748365)).toBe('0.10000000009');
    // exact ties at the 11th digit: 2^19/2^31 and 3*2^19/2^31
    expect(probabilityText(524288)).toBe('0.00024414062');
    expect(probabilityText(3 * 524288)).toBe('0.00073242188');
  });
});
