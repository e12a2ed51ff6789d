import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';

describe('rpfilter match', () => {
  // the route back to 10.0.0.0/24 leaves by eth0, 192.168.0.0/16 by eth1; nothing else is routed
  const rp = context({
    reversePathOk: (pkt, o) => {
      const back = pkt.src >>> 24 === 10 ? 'eth0' : pkt.src >>> 16 === 0xc0a8 ? 'eth1' : undefined;
      if (back === undefined) return false;
      return o.loose || back === pkt.inIface;
    },
  });
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-t raw -A PREROUTING -m rpfilter', { src: '10.0.0.5', inIface: 'eth0' }, true],
    ['-t raw -A PREROUTING -m rpfilter', { src: '10.0.0.5', inIface: 'eth1' }, false],
    ['-t raw -A PREROUTING -m rpfilter --loose', { src: '10.0.0.5', inIface: 'eth1' }, true],
    ['-t raw -A PREROUTING -m rpfilter --loose', { src: '172.16.0.1', inIface: 'eth1' }, false],
    ['-t raw -A PREROUTING -m rpfilter --invert', { src: '10.0.0.5', inIface: 'eth1' }, true],
    ['-t raw -A PREROUTING -m rpfilter --invert', { src: '10.0.0.5', inIface: 'eth0' }, false],
    // loopback traffic always passes, without a lookup
    ['-t raw -A PREROUTING -m rpfilter', { src: '172.16.0.1', inIface: 'lo' }, true],
    ['-t raw -A PREROUTING -m rpfilter --invert', { src: '172.16.0.1', inIface: 'lo' }, false],
    // DHCP discover (0.0.0.0 -> 255.255.255.255) passes
    ['-t raw -A PREROUTING -m rpfilter', { src: '0.0.0.0', dst: '255.255.255.255', inIface: 'eth1' }, true],
    ['-t raw -A PREROUTING -m rpfilter', { src: '0.0.0.0', dst: '224.0.0.22', inIface: 'eth1' }, true],
    ['-t raw -A PREROUTING -m rpfilter', { src: '0.0.0.0', dst: '10.0.0.2', inIface: 'eth1' }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p), rp)).toBe(want);
  });

  it('passes the options to the lookup', () => {
    const seen: unknown[] = [];
    const ctx = context({ reversePathOk: (_p, o) => (seen.push(o), true) });
    matches(ruleFrom('-t raw -A PREROUTING -m rpfilter --validmark --accept-local'), packet({ inIface: 'eth0' }), ctx);
    expect(seen).toEqual([{ loose: false, validmark: true, acceptLocal: true }]);
  });
});
