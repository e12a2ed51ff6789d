import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('multiport match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p tcp -m multiport --dports 22,80,443', { sport: 40000, dport: 80 }, true],
    ['-p tcp -m multiport --dports 22,80,443', { sport: 80, dport: 8080 }, false],
    ['-p tcp -m multiport --dports 22,1000:2000', { sport: 1, dport: 2000 }, true],
    ['-p tcp -m multiport --dports 22,1000:2000', { sport: 1, dport: 2001 }, false],
    ['-p tcp -m multiport --sports 53,1024:65535', { sport: 1024, dport: 53 }, true],
    ['-p tcp -m multiport --sports 53,1024:65535', { sport: 1023, dport: 53 }, false],
    ['-p udp -m multiport --ports 53,123', { proto: 17, sport: 123, dport: 40000 }, true],
    ['-p udp -m multiport --ports 53,123', { proto: 17, sport: 40000, dport: 53 }, true],
    ['-p udp -m multiport --ports 53,123', { proto: 17, sport: 40000, dport: 54 }, false],
    ['-p udp -m multiport --ports 100:200', { proto: 17, sport: 150, dport: 1 }, true],
    ['-p tcp -m multiport ! --dports 22,80:90', { sport: 1, dport: 85 }, false],
    ['-p tcp -m multiport ! --dports 22,80:90', { sport: 1, dport: 91 }, true],
    ['-p tcp -m multiport --dports ssh,http', { sport: 1, dport: 22 }, true],
    // fragments never match, even inverted
    ['-p tcp -m multiport ! --dports 22', { sport: 1, dport: 23, fragment: true }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
