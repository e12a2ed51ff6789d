/**
 * ecn match and ECN target. Expected values from the kernel: ecn_mt4(), match_ip() and
 * match_tcp() of net/netfilter/xt_ecn.c (the ECN field is the TOS byte's low two bits, ECE and
 * CWR the TCP flags 0x40 and 0x80; every option given must hold), and ecn_tg(), set_ect_ip() and
 * set_ect_tcp() of net/ipv4/netfilter/ipt_ECN.c.
 */
import { describe, expect, it } from 'vitest';
import { applyTarget, matches, packet, ruleFrom } from '../helpers/ext.js';

const ECE = 0x40;
const CWR = 0x80;
const ACK = 0x10;

describe('ecn match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p tcp -m ecn --ecn-tcp-ece', { tcpFlags: ACK | ECE }, true],
    ['-p tcp -m ecn --ecn-tcp-ece', { tcpFlags: ACK | CWR }, false],
    ['-p tcp -m ecn ! --ecn-tcp-ece', { tcpFlags: ACK | CWR }, true],
    ['-p tcp -m ecn ! --ecn-tcp-ece', { tcpFlags: ACK | ECE }, false],
    ['-p tcp -m ecn --ecn-tcp-cwr', { tcpFlags: ACK | CWR }, true],
    ['-p tcp -m ecn --ecn-tcp-cwr', { tcpFlags: 0x02 }, false],
    ['-p tcp -m ecn ! --ecn-tcp-cwr', { tcpFlags: 0x02 }, true],
    // both flags asked: both must be set (an ECN-setup SYN carries ECE and CWR)
    ['-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr', { tcpFlags: 0x02 | ECE | CWR }, true],
    ['-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr', { tcpFlags: 0x02 | ECE }, false],
    ['-p tcp -m ecn --ecn-tcp-ece ! --ecn-tcp-cwr', { tcpFlags: 0x02 | ECE }, true],
    // the IP field: TOS & 3, whatever the DSCP bits above it
    ['-m ecn --ecn-ip-ect 0', { tos: 0x00 }, true],
    ['-m ecn --ecn-ip-ect 0', { tos: 0x01 }, false],
    ['-m ecn --ecn-ip-ect 3', { tos: 0xb8 | 3 }, true],
    ['-m ecn --ecn-ip-ect 2', { tos: 0xb8 }, false],
    ['-m ecn ! --ecn-ip-ect 1', { tos: 0x02 }, true],
    ['-m ecn ! --ecn-ip-ect 1', { tos: 0x01 }, false],
    ['-m ecn --ecn-ip-ect 1', { proto: 17, tos: 0x01 }, true],
    // IP field and TCP flag together
    ['-p tcp -m ecn --ecn-ip-ect 2 --ecn-tcp-cwr', { tos: 0x02, tcpFlags: ACK | CWR }, true],
    ['-p tcp -m ecn --ecn-ip-ect 2 --ecn-tcp-cwr', { tos: 0x03, tcpFlags: ACK | CWR }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});

describe('ECN target', () => {
  const mangle = (t: string): string => `-t mangle -A FORWARD ${t}`;
  const cases: [string, Parameters<typeof packet>[0], { tos: number; tcpFlags?: number }][] = [
    ['-p tcp -j ECN --ecn-tcp-remove', { tcpFlags: 0x02 | ECE | CWR, tos: 0x02 }, { tos: 0x02, tcpFlags: 0x02 }],
    ['-p tcp -j ECN --ecn-tcp-remove', { tcpFlags: ACK, tos: 0 }, { tos: 0, tcpFlags: ACK }],
    ['-p tcp -j ECN --ecn-tcp-cwr 1', { tcpFlags: ACK | ECE }, { tos: 0, tcpFlags: ACK | ECE | CWR }],
    ['-p tcp -j ECN --ecn-tcp-ece 0 --ecn-tcp-cwr 1', { tcpFlags: ACK | ECE }, { tos: 0, tcpFlags: ACK | CWR }],
    // the IP field only: the DSCP bits stay
    ['-j ECN --ecn-ip-ect 2', { tos: 0xb8 | 1 }, { tos: 0xb8 | 2 }],
    ['-j ECN --ecn-ip-ect 0', { tos: 0x03 }, { tos: 0 }],
    // TCP operations touch only TCP packets
    ['-p tcp -j ECN --ecn-tcp-ece 1 --ecn-tcp-cwr 1 --ecn-ip-ect 3', { tcpFlags: ACK }, { tos: 3, tcpFlags: ACK | ECE | CWR }],
    // --ecn-tcp-remove after --ecn-ip-ect drops the IP operation (the C parse assigns operation)
    ['-p tcp -j ECN --ecn-ip-ect 1 --ecn-tcp-remove', { tcpFlags: ACK | ECE, tos: 0 }, { tos: 0, tcpFlags: ACK }],
    ['-p tcp -j ECN --ecn-tcp-remove --ecn-ip-ect 1', { tcpFlags: ACK | ECE, tos: 0 }, { tos: 1, tcpFlags: ACK }],
  ];
  it.each(cases)('%s on %j -> %j', (spec, p, want) => {
    const pkt = packet(p);
    expect(applyTarget(ruleFrom(mangle(spec)), pkt).verdict).toBe('CONTINUE');
    expect(pkt.tos).toBe(want.tos);
    if (want.tcpFlags !== undefined) expect(pkt.tcpFlags).toBe(want.tcpFlags);
  });

  it('leaves a UDP packet\'s header alone but for the IP field', () => {
    const pkt = packet({ proto: 17, tos: 0x10 });
    applyTarget(ruleFrom(mangle('-p udp -j ECN --ecn-ip-ect 1')), pkt);
    expect(pkt.tos).toBe(0x11);
    expect(pkt.tcpFlags).toBeUndefined();
  });
});
