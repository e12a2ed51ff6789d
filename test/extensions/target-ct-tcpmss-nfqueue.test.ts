import { describe, expect, it } from 'vitest';
import { jhash3 } from '../../src/net/jhash.js';
import { applyTarget, context, packet, ruleFrom } from '../helpers/ext.js';

const raw = (t: string): string => `-t raw -A PREROUTING ${t}`;

describe('CT target and NOTRACK', () => {
  it('NOTRACK is stored as CT, flagged as the alias, and untracks', () => {
    const rule = ruleFrom(raw('-j NOTRACK'));
    expect(rule.target).toMatchObject({ kind: 'ext', name: 'CT', data: { notrack: true, alias: true } });
    expect(applyTarget(rule, packet())).toEqual({ verdict: 'CONTINUE', ct: { notrack: true } });
  });

  const cases: [string, Parameters<typeof packet>[0], object][] = [
    ['-j CT --notrack', {}, { notrack: true }],
    ['-j CT', {}, {}],
    ['-j CT --zone 5', {}, { zone: 5 }],
    // the zone comes from the packet mark, 16 bits of it
    ['-j CT --zone mark', { mark: 0x12345 }, { zone: 0x2345 }],
    ['-j CT --zone mark', { mark: 0x10000 }, { zone: 0 }],
    ['-p tcp -j CT --helper ftp', {}, { helper: 'ftp' }],
    ['-j CT --ctevents mark,new', {}, { ctevents: ['new', 'mark'] }],
    // --notrack wins over everything else
    ['-p tcp -j CT --notrack --helper ftp --zone 3', {}, { notrack: true }],
  ];
  it.each(cases)('%s on %j -> %j', (spec, p, ct) => {
    expect(applyTarget(ruleFrom(raw(spec)), packet(p))).toMatchObject({ verdict: 'CONTINUE', ct });
    expect(applyTarget(ruleFrom(raw(spec)), packet(p)).ct).toEqual(ct);
  });

  it('notes a zone that applies to one direction only', () => {
    const r = applyTarget(ruleFrom(raw('-j CT --zone-orig 7')), packet());
    expect(r.ct).toEqual({ zone: 7 });
    expect(r.note).toMatch(/original direction only/);
  });

  it('leaves a packet that already carries conntrack alone', () => {
    const ct = {
      state: 'NEW' as const,
      reply: false,
      status: [],
      mark: 0,
      zone: 0,
      orig: { src: 1, dst: 2, proto: 6, sport: 1, dport: 2 },
      replyTuple: { src: 2, dst: 1, proto: 6, sport: 2, dport: 1 },
      packets: [1, 0] as [number, number],
      bytes: [60, 0] as [number, number],
      expires: 120,
    };
    const r = applyTarget(ruleFrom(raw('-j CT --notrack')), packet({ ct }));
    expect(r.ct).toBeUndefined();
    expect(r.verdict).toBe('CONTINUE');
  });
});

describe('TCPMSS target', () => {
  const fwd = (t: string): string => `-A FORWARD -p tcp -j TCPMSS ${t}`;
  const syn = { dport: 80, sport: 40000, tcpFlags: 0x02 };
  const cases: [string, Parameters<typeof packet>[0], number | undefined, number][] = [
    // never raised
    ['--set-mss 1400', { ...syn, tcpMss: 1460 }, 1400, 60],
    ['--set-mss 1400', { ...syn, tcpMss: 1300 }, 1300, 60],
    ['--set-mss 1400', { ...syn, tcpMss: 1400 }, 1400, 60],
    // path MTU 1500 between two ethernet interfaces: 1460
    ['--clamp-mss-to-pmtu', { ...syn, tcpMss: 8960, inIface: 'eth0', outIface: 'eth1' }, 1460, 60],
    ['--clamp-mss-to-pmtu', { ...syn, tcpMss: 1400, inIface: 'eth0', outIface: 'eth1' }, 1400, 60],
    // no option and no data: one is added, at most 536
    ['--set-mss 1400', { ...syn, tcpMss: undefined }, 536, 64],
    ['--set-mss 500', { ...syn, tcpMss: undefined }, 500, 64],
    // no option but data after the header: unchanged
    ['--set-mss 1400', { ...syn, tcpMss: undefined, payload: 'GET /' }, undefined, 60],
    // fragments and other protocols are left alone
    ['--set-mss 1000', { ...syn, tcpMss: 1460, fragment: true }, 1460, 60],
    ['--set-mss 1000', { ...syn, proto: 17, tcpMss: 1460 }, 1460, 60],
  ];
  it.each(cases)('%s on %j -> MSS %s, length %s', (t, p, mss, len) => {
    const pkt = packet(p);
    expect(applyTarget(ruleFrom(fwd(t)), pkt).verdict).toBe('CONTINUE');
    expect(pkt.tcpMss).toBe(mss);
    expect(pkt.len).toBe(len);
  });

  it("clamps to the smaller of the route out's MTU and the route back's, minus 40", () => {
    const clamp = (out: number, back: number): number | undefined => {
      const pkt = packet({ ...syn, tcpMss: 65495, outIface: 'eth0' });
      applyTarget(ruleFrom('-A OUTPUT -p tcp -j TCPMSS --clamp-mss-to-pmtu'), pkt, context({ routeMtus: () => ({ out, back }) }));
      return pkt.tcpMss;
    };
    // a local packet leaving by loopback: both routes are lo's (IP_MAX_MTU)
    expect(clamp(65535, 65535)).toBe(65495);
    expect(clamp(1500, 65535)).toBe(1460);
    expect(clamp(1500, 1100)).toBe(1060);
    expect(clamp(1300, Infinity)).toBe(1260);
  });
});

describe('NFQUEUE target', () => {
  it('jhash_3words() agrees with the kernel macro', () => {
    // values computed with include/linux/jhash.h compiled as C
    expect(jhash3(1, 2, 3, 0)).toBe(2757843189);
    expect(jhash3(0x0100000a, 0x0200000a, 6, 0x12345678)).toBe(3424122209);
    expect(jhash3(0xffffffff, 0x80000000, 17, 0xdeadbeef)).toBe(1170040414);
  });

  const cases: [string, Parameters<typeof packet>[0], string, number][] = [
    ['-j NFQUEUE', {}, 'QUEUE', 0],
    ['-j NFQUEUE --queue-num 7', {}, 'QUEUE', 7],
    ['-j NFQUEUE --queue-num 7 --queue-bypass', {}, 'ACCEPT', 7],
    // balance: jhash of the ordered address pair with the host's initval (0x80000000 here)
    ['-j NFQUEUE --queue-balance 10:13', { src: '10.0.0.1', dst: '10.0.0.2' }, 'QUEUE', 13],
    ['-j NFQUEUE --queue-balance 10:13', { src: '10.0.0.2', dst: '10.0.0.1' }, 'QUEUE', 13],
    ['-j NFQUEUE --queue-balance 10:13', { src: '192.168.1.10', dst: '8.8.8.8' }, 'QUEUE', 10],
    ['-j NFQUEUE --queue-balance 0:6 --queue-bypass', { src: '172.16.5.4', dst: '10.9.8.7' }, 'ACCEPT', 3],
    ['-j NFQUEUE --queue-balance 0:6', { src: '10.9.8.7', dst: '172.16.5.4' }, 'QUEUE', 3],
    ['-j NFQUEUE --queue-balance 4:5 --queue-cpu-fanout', {}, 'QUEUE', 4],
  ];
  it.each(cases)('%s on %j -> %s queue %s', (spec, p, verdict, queue) => {
    const r = applyTarget(ruleFrom(spec), packet(p), context());
    expect(r.verdict).toBe(verdict);
    expect(r.queue).toBe(queue);
  });
});
