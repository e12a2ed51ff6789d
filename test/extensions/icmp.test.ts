import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

const icmpPkt = (type: number, code = 0, extra: Parameters<typeof packet>[0] = {}) => ({ proto: 1, icmpType: type, icmpCode: code, ...extra });

describe('icmp match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p icmp --icmp-type echo-request', icmpPkt(8), true],
    ['-p icmp --icmp-type echo-request', icmpPkt(0), false],
    ['-p icmp --icmp-type ping', icmpPkt(8, 5), true],
    ['-p icmp ! --icmp-type echo-request', icmpPkt(0), true],
    ['-p icmp ! --icmp-type echo-request', icmpPkt(8), false],
    ['-p icmp --icmp-type port-unreachable', icmpPkt(3, 3), true],
    ['-p icmp --icmp-type port-unreachable', icmpPkt(3, 1), false],
    ['-p icmp --icmp-type destination-unreachable', icmpPkt(3, 13), true],
    ['-p icmp --icmp-type 3/1:5', icmpPkt(3, 5), true],
    ['-p icmp --icmp-type 3/1:5', icmpPkt(3, 6), false],
    ['-p icmp --icmp-type 11/1', icmpPkt(11, 1), true],
    ['-p icmp --icmp-type 11/1', icmpPkt(11, 0), false],
    ['-p icmp --icmp-type any', icmpPkt(42, 7), true],
    ['-p icmp ! --icmp-type any', icmpPkt(8), false],
    // type 255 is the wildcard whatever the codes say
    ['-p icmp --icmp-type 255/255', icmpPkt(8, 0), true],
    // fragments never match, even inverted
    ['-p icmp ! --icmp-type echo-request', icmpPkt(0, 0, { fragment: true }), false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
