import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('policy match (no IPsec in the lab)', () => {
  const cases: [string, boolean][] = [
    ['-m policy --dir in --pol none', true],
    ['-A OUTPUT -m policy --dir out --pol none', true],
    ['-m policy --dir in --pol ipsec', false],
    ['-m policy --dir in', false],
    ['-m policy --dir in --pol ipsec --proto esp', false],
    ['-m policy --dir in --pol ipsec ! --proto esp', false],
    ['-m policy --dir in --pol ipsec --strict --reqid 1 --next --mode tunnel --tunnel-src 10.0.0.0/8', false],
  ];
  it.each(cases)('%s -> %s', (spec, want) => {
    expect(matches(ruleFrom(spec), packet({ src: '10.1.1.1' }))).toBe(want);
  });
});
