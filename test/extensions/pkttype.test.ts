import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('pkttype match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m pkttype --pkt-type unicast', { pktType: 'unicast' }, true],
    ['-m pkttype --pkt-type unicast', { pktType: 'broadcast' }, false],
    ['-m pkttype --pkt-type host', { pktType: 'unicast' }, true],
    ['-m pkttype --pkt-type broadcast', { pktType: 'broadcast' }, true],
    ['-m pkttype --pkt-type bcast', { pktType: 'multicast' }, false],
    ['-m pkttype --pkt-type MULTICAST', { pktType: 'multicast' }, true],
    ['-m pkttype ! --pkt-type unicast', { pktType: 'multicast' }, true],
    ['-m pkttype ! --pkt-type unicast', { pktType: 'unicast' }, false],
    // locally generated packets keep PACKET_HOST
    ['-A OUTPUT -m pkttype --pkt-type unicast', {}, true],
    ['-A OUTPUT -m pkttype --pkt-type multicast', { dst: '224.0.0.1' }, false],
    // OTHERHOST frames never reach the IPv4 hooks
    ['-m pkttype --pkt-type otherhost', { pktType: 'unicast' }, false],
    ['-m pkttype ! --pkt-type otherhost', { pktType: 'broadcast' }, true],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
