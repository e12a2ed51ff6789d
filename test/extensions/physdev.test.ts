import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

const routed = {};
const fromPort = { physIn: 'veth1' };
const bridged = { physIn: 'veth1', physOut: 'eth2' };

describe('physdev match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m physdev --physdev-in veth1', fromPort, true],
    ['-m physdev --physdev-in veth2', fromPort, false],
    ['-m physdev --physdev-in veth+', fromPort, true],
    ['-m physdev --physdev-in eth+', fromPort, false],
    ['-m physdev --physdev-in veth', fromPort, false],
    ['-m physdev ! --physdev-in eth+', fromPort, true],
    ['-m physdev --physdev-in ""', fromPort, true],
    ['-m physdev --physdev-is-in', fromPort, true],
    ['-m physdev ! --physdev-is-in', fromPort, false],
    // routed after arriving on a bridge port: no output port, is-bridged is false
    ['-m physdev --physdev-is-bridged', fromPort, false],
    ['-m physdev ! --physdev-is-bridged', fromPort, true],
    ['-m physdev --physdev-is-out', fromPort, false],
    // --physdev-out without a known output port matches
    ['-m physdev --physdev-out eth2', fromPort, true],
    ['-A FORWARD -m physdev --physdev-is-bridged', bridged, true],
    ['-A FORWARD -m physdev --physdev-out eth2 --physdev-is-bridged', bridged, true],
    ['-A FORWARD -m physdev --physdev-out eth3 --physdev-is-bridged', bridged, false],
    ['-A FORWARD -m physdev ! --physdev-out eth3', bridged, true],
    ['-A FORWARD -m physdev --physdev-in veth1 --physdev-out eth+', bridged, true],
    ['-A FORWARD -m physdev --physdev-is-out', bridged, true],
    // not bridged at all: only inverted tests match
    ['-m physdev --physdev-in veth1', routed, false],
    ['-m physdev ! --physdev-in veth1', routed, true],
    ['-m physdev ! --physdev-is-bridged', routed, true],
    ['-m physdev ! --physdev-is-in --physdev-is-out', routed, false],
    ['-m physdev ! --physdev-is-in ! --physdev-is-out', routed, true],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
