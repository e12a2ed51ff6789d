import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';

function run(spec: string, lens: number[]): boolean[] {
  const rule = ruleFrom(spec);
  const ctx = context();
  return lens.map((len) => matches(rule, packet({ len }), ctx));
}

describe('quota match', () => {
  const cases: [string, number[], boolean[]][] = [
    ['-m quota --quota 100', [60, 40, 1], [true, true, false]],
    // a packet that does not fit empties the rest
    ['-m quota --quota 100', [60, 60, 10], [true, false, false]],
    ['-m quota ! --quota 100', [60, 60, 10], [false, true, true]],
    ['-m quota --quota 0', [1], [false]],
    ['-m quota --quota 18446744073709551615', [1500, 1500], [true, true]],
  ];
  it.each(cases)('%s on lengths %j -> %j', (spec, lens, want) => {
    expect(run(spec, lens)).toEqual(want);
  });
});
