import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

const s = (sport: number, dport: number, extra: Parameters<typeof packet>[0] = {}) => ({ proto: 132, sport, dport, ...extra });

describe('sctp match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p sctp --dport 5060', s(40000, 5060), true],
    ['-p sctp --dport 5060', s(5060, 5061), false],
    ['-p sctp --sport 1024:', s(1024, 1), true],
    ['-p sctp --sport 1024:', s(1023, 1), false],
    ['-p sctp ! --sport 10:20 ! --dport 5672', s(21, 5671), true],
    ['-p sctp ! --sport 10:20 ! --dport 5672', s(15, 5671), false],
    ['-p sctp ! --sport 10:20 ! --dport 5672', s(21, 5672), false],
    ['-p sctp -m sctp', s(1, 2), true],
    ['-p sctp --dport 5060', s(1, 5060, { proto: 6 }), false],
    ['-p sctp --dport 5060', s(1, 5060, { fragment: true }), false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });

  it('refuses to guess the chunks of a packet', () => {
    expect(() => matches(ruleFrom('-p sctp --chunk-types any INIT'), packet(s(1, 2)))).toThrow(/chunk/);
  });
});
