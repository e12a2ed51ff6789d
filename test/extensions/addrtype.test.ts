import { describe, expect, it } from 'vitest';
import type { AddrType } from '../../src/engine/ext-api.js';
import { context, ip, matches, packet, ruleFrom } from '../helpers/ext.js';

/** the host owns 10.0.0.2 (on eth0 only) and 127.0.0.1; 10.0.0.255 is eth0's broadcast */
function addrType(addr: number, dev?: string): AddrType {
  if (addr === ip('127.0.0.1')) return 'LOCAL';
  if (addr === ip('10.0.0.2')) return dev === undefined || dev === 'eth0' ? 'LOCAL' : 'UNICAST';
  if (addr === ip('10.0.0.255') || addr === ip('255.255.255.255')) return 'BROADCAST';
  if (addr >>> 28 === 0xe) return 'MULTICAST';
  if (addr === ip('192.0.2.1')) return 'BLACKHOLE';
  return 'UNICAST';
}

describe('addrtype match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m addrtype --dst-type LOCAL', { dst: '10.0.0.2' }, true],
    ['-m addrtype --dst-type LOCAL', { dst: '10.0.0.3' }, false],
    ['-m addrtype ! --dst-type LOCAL', { dst: '10.0.0.3' }, true],
    ['-m addrtype ! --dst-type LOCAL', { dst: '127.0.0.1' }, false],
    ['-m addrtype --dst-type BROADCAST,MULTICAST', { dst: '224.0.0.1' }, true],
    ['-m addrtype --dst-type BROADCAST,MULTICAST', { dst: '10.0.0.255' }, true],
    ['-m addrtype --dst-type BROADCAST,MULTICAST', { dst: '10.0.0.9' }, false],
    ['-m addrtype --src-type UNICAST --dst-type LOCAL', { src: '10.0.0.1', dst: '10.0.0.2' }, true],
    ['-m addrtype --src-type UNICAST --dst-type LOCAL', { src: '127.0.0.1', dst: '10.0.0.2' }, false],
    ['-m addrtype ! --src-type LOCAL ! --dst-type UNICAST', { src: '10.0.0.1', dst: '10.0.0.2' }, true],
    ['-m addrtype ! --src-type LOCAL ! --dst-type UNICAST', { src: '10.0.0.1', dst: '10.0.0.3' }, false],
    // prefixes resolve in kernel order: "U" is UNSPEC, which no address has
    ['-m addrtype --dst-type U', { dst: '10.0.0.3' }, false],
    ['-m addrtype --dst-type BLACKHOLE', { dst: '192.0.2.1' }, true],
    // limited to the input device: 10.0.0.2 is local only on eth0
    ['-m addrtype --dst-type LOCAL --limit-iface-in', { dst: '10.0.0.2', inIface: 'eth0' }, true],
    ['-m addrtype --dst-type LOCAL --limit-iface-in', { dst: '10.0.0.2', inIface: 'eth1' }, false],
    ['-A FORWARD -m addrtype --dst-type LOCAL --limit-iface-out', { dst: '10.0.0.2', inIface: 'eth1', outIface: 'eth0' }, true],
    ['-A FORWARD -m addrtype --dst-type LOCAL --limit-iface-out', { dst: '10.0.0.2', inIface: 'eth0', outIface: 'eth1' }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p), context({ addrType }))).toBe(want);
  });

  it('asks for the device only when limited', () => {
    const seen: (string | undefined)[] = [];
    const ctx = context({ addrType: (a, dev) => (seen.push(dev), addrType(a, dev)) });
    matches(ruleFrom('-m addrtype --dst-type LOCAL'), packet({ inIface: 'eth1' }), ctx);
    matches(ruleFrom('-m addrtype --dst-type LOCAL --limit-iface-in'), packet({ inIface: 'eth1' }), ctx);
    expect(seen).toEqual([undefined, 'eth1']);
  });
});
