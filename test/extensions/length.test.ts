import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('length match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m length --length 60', { len: 60 }, true],
    ['-m length --length 60', { len: 61 }, false],
    ['-m length ! --length 60', { len: 61 }, true],
    ['-m length --length 0:100', { len: 100 }, true],
    ['-m length --length 0:100', { len: 101 }, false],
    ['-m length --length 1400:', { len: 1500 }, true],
    ['-m length --length 1400:', { len: 1399 }, false],
    ['-m length --length :40', { len: 40 }, true],
    ['-m length ! --length 1400:65535', { len: 1500 }, false],
    ['-m length ! --length 1400:65535', { len: 576 }, true],
    // a reversed range never matches
    ['-m length --length 100:10', { len: 50 }, false],
    ['-m length ! --length 100:10', { len: 50 }, true],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
