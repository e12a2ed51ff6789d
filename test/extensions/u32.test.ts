/**
 * u32 match: u32_parse() of libxt_u32.c ported (tests, operators, ranges, limits), and a trace
 * that reaches it stops with exit 3, since traced packets have no bytes for its tests to read.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { parseU32 } from '../../src/extensions/matches/u32.js';
import { expectTraceRefused, ruleFrom } from '../helpers/ext.js';

describe('u32 match', () => {
  it('parses locations, operators and value ranges', () => {
    expect(parseU32('0>>22&0x3C@12=1:3,7&&4=0')).toEqual([
      { nums: [0, 22, 0x3c, 12], ops: [0, 2, 0, 3], values: [[1, 3], [7, 7]] },
      { nums: [4], ops: [0], values: [[0, 0]] },
    ]);
    expect(parseU32(' 010 << 1 = 5 : 3 ')).toEqual([{ nums: [8, 1], ops: [0, 1], values: [[5, 3]] }]);
  });

  it('allows 10 numbers, 10 ranges and 10 tests', () => {
    expect(parseU32(`${[...Array(10).keys()].join('&')}=${[...Array(10).keys()].join(',')}`)[0]!.nums).toHaveLength(10);
    expect(parseU32([...Array(10).keys()].map((k) => `0=${k}`).join('&&'))).toHaveLength(10);
    expect(() => parseU32([...Array(11).keys()].map((k) => `0=${k + 1}`).join('&&'))).toThrow('u32: at char 55: too many "&&"s');
  });

  it('a trace reaching it is refused with exit 3', () => {
    const l = builtinLab();
    const c = (l.hosts.router!.tables.filter ??= newTable('filter')).chains.find((x) => x.name === 'INPUT')!;
    c.created = true;
    c.rules.push(ruleFrom('-A INPUT -m u32 --u32 "6&0xff=6" -j ACCEPT'));
    const syn: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 22, tcpFlags: 0x02 };
    return expectTraceRefused(() => tracePacket(l, 'router', syn), /rule 1 of filter INPUT: the u32 match is accepted by iptables-sim but/);
  });
});
