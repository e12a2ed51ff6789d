import { describe, expect, it } from 'vitest';
import { applyTarget, context, packet, ruleFrom } from '../helpers/ext.js';

describe('REJECT target', () => {
  const cases: [string, Parameters<typeof packet>[0], string | undefined][] = [
    // default type, any protocol
    ['-j REJECT', { proto: 17, sport: 5000, dport: 53 }, 'icmp-port-unreachable'],
    ['-j REJECT --reject-with net-unreach', { dport: 80, sport: 4000, tcpFlags: 0x02 }, 'icmp-net-unreachable'],
    ['-j REJECT --reject-with admin', { proto: 1, icmpType: 8, icmpCode: 0 }, 'icmp-admin-prohibited'],
    // no ICMP error in answer to an ICMP error, nor to a type above NR_ICMP_TYPES
    ['-j REJECT --reject-with icmp-host-prohibited', { proto: 1, icmpType: 3, icmpCode: 3 }, undefined],
    ['-j REJECT --reject-with icmp-host-prohibited', { proto: 1, icmpType: 11, icmpCode: 0 }, undefined],
    ['-j REJECT --reject-with icmp-host-prohibited', { proto: 1, icmpType: 40 }, undefined],
    ['-j REJECT --reject-with icmp-host-prohibited', { proto: 1, icmpType: 0 }, 'icmp-host-prohibited'],
    // nothing for a non-first fragment
    ['-j REJECT', { proto: 17, fragment: true }, undefined],
    // tcp-reset: a RST for anything but a RST
    ['-p tcp -j REJECT --reject-with tcp-reset', { dport: 22, sport: 40000, tcpFlags: 0x02 }, 'tcp-reset'],
    ['-p tcp -j REJECT --reject-with tcp-reset', { dport: 22, sport: 40000, tcpFlags: 0x10 }, 'tcp-reset'],
    ['-p tcp -j REJECT --reject-with tcp-reset', { dport: 22, sport: 40000, tcpFlags: 0x14 }, undefined],
    ['-p tcp -j REJECT --reject-with tcp-reset', { dport: 22, sport: 40000, tcpFlags: 0x02, fragment: true }, undefined],
    // nothing for a frame received as broadcast or multicast
    ['-j REJECT', { proto: 17, pktType: 'broadcast' }, undefined],
    ['-j REJECT', { proto: 17, pktType: 'multicast' }, undefined],
    ['-j REJECT', { proto: 17, pktType: 'unicast' }, 'icmp-port-unreachable'],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    const r = applyTarget(ruleFrom(spec), packet(p));
    expect(r.verdict).toBe('DROP');
    expect(r.reject).toBe(want);
    if (!want) expect(r.note).toMatch(/^REJECT: dropped without/);
  });

  it('sends nothing to a broadcast destination address', () => {
    const ctx = context({ addrType: (a) => (a === 0x0a0000ff ? 'BROADCAST' : 'UNICAST') });
    expect(applyTarget(ruleFrom('-j REJECT'), packet({ proto: 17, dst: '10.0.0.255' }), ctx).reject).toBeUndefined();
    expect(applyTarget(ruleFrom('-j REJECT'), packet({ proto: 17, dst: '10.0.0.254' }), ctx).reject).toBe('icmp-port-unreachable');
  });
});

describe('LOG target', () => {
  const cases: [string, { prefix: string; level: number }][] = [
    ['-j LOG', { prefix: '', level: 4 }],
    ['-j LOG --log-level debug --log-prefix "DROP: "', { prefix: 'DROP: ', level: 7 }],
    ['-j LOG --log-level 0x1', { prefix: '', level: 1 }],
    ['-j LOG --log-level error', { prefix: '', level: 3 }],
    // char prefix[30]
    ['-j LOG --log-prefix 123456789012345678901234567890xyz', { prefix: '12345678901234567890123456789', level: 4 }],
  ];
  it.each(cases)('%s', (spec, want) => {
    const pkt = packet({ dport: 80, sport: 1234 });
    const before = { ...pkt };
    const r = applyTarget(ruleFrom(spec), pkt);
    expect(r).toEqual({ verdict: 'CONTINUE', log: { kind: 'LOG', ...want } });
    expect(pkt).toEqual(before);
  });

  it('refuses a newline in the prefix', () => {
    expect(() => ruleFrom('-j LOG --log-prefix "a\nb"'.replace('\\n', '\n'))).toThrow('Newlines not allowed in --log-prefix');
  });
});

describe('NFLOG target', () => {
  const cases: [string, { prefix: string; group: number }][] = [
    ['-j NFLOG', { prefix: '', group: 0 }],
    ['-j NFLOG --nflog-group 5 --nflog-prefix "x y"', { prefix: 'x y', group: 5 }],
    // the 128-byte user data, not the 64-byte xt_nflog_info field
    [`-j NFLOG --nflog-prefix ${'a'.repeat(150)}`, { prefix: 'a'.repeat(127), group: 0 }],
  ];
  it.each(cases)('%s', (spec, want) => {
    expect(applyTarget(ruleFrom(spec), packet())).toEqual({ verdict: 'CONTINUE', log: { kind: 'NFLOG', ...want } });
  });

  it('loses --nflog-range on the way through nf_tables but keeps --nflog-size', () => {
    expect(ruleFrom('-j NFLOG --nflog-range 100').target).toMatchObject({ name: 'NFLOG', data: { len: 0, copyLen: false } });
    expect(ruleFrom('-j NFLOG --nflog-size 100').target).toMatchObject({ name: 'NFLOG', data: { len: 100, copyLen: true } });
  });
});

describe('TRACE and CHECKSUM targets', () => {
  it('TRACE starts tracing and goes on', () => {
    expect(applyTarget(ruleFrom('-t raw -A PREROUTING -j TRACE'), packet())).toEqual({ verdict: 'CONTINUE', trace: true });
  });
  it('CHECKSUM leaves the modelled packet as it is', () => {
    const pkt = packet({ proto: 17, sport: 67, dport: 68 });
    const before = { ...pkt };
    expect(applyTarget(ruleFrom('-t mangle -A POSTROUTING -p udp -j CHECKSUM --checksum-fill'), pkt)).toEqual({ verdict: 'CONTINUE' });
    expect(pkt).toEqual(before);
  });
});
