/**
 * ecn match (libxt_ecn.c of iptables 1.8.9, net/netfilter/xt_ecn.c): the TCP header's ECE and
 * CWR flags and the ECN field of the IPv4 TOS byte / IPv6 traffic class. ecn_mt_check4() and
 * ecn_mt_check6() refuse the TCP flags on a rule without -p tcp; the IP field needs no protocol
 * (measured, fixtures/cli/ext-ecn.case).
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension } from '../types.js';

/**
 * XT_ECN_OP_MATCH_* of linux/netfilter/xt_ecn.h; the ECN target's IPT_ECN_OP_SET_* of
 * linux/netfilter_ipv4/ipt_ECN.h have the same values
 */
export const ECN_OP = { IP: 0x01, ECE: 0x10, CWR: 0x20 } as const;
const OP = ECN_OP;
/** TCP header flag bits as PacketView.tcpFlags holds them */
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export interface EcnData {
  /** XT_ECN_OP_MATCH_* given */
  operation: number;
  /** XT_ECN_OP_MATCH_* given with '!' */
  invert: number;
  /** --ecn-ip-ect 0..3 */
  ipEct: number;
}

const not = (d: EcnData, op: number) => (d.invert & op ? '!' : '');
const bang = (d: EcnData, op: number) => (d.invert & op ? ' !' : '');

export const ecn: MatchExtension<EcnData> = {
  kind: 'match',
  name: 'ecn',
  // ecn_help() of libxt_ecn.c, byte for byte as iptables 1.8.9 prints it (no colon in the heading)
  help:
    'ECN match options\n' +
    '[!] --ecn-tcp-cwr \t\tMatch CWR bit of TCP header\n' +
    '[!] --ecn-tcp-ece\t\tMatch ECE bit of TCP header\n' +
    '[!] --ecn-ip-ect [0..3]\tMatch ECN codepoint in IPv4/IPv6 header\n',
  options: [
    { name: 'ecn-tcp-cwr', id: 0, type: 'none', invert: true },
    { name: 'ecn-tcp-ece', id: 1, type: 'none', invert: true },
    { name: 'ecn-ip-ect', id: 2, type: 'uint8', min: 0, max: 3, invert: true },
  ],
  init: () => ({ operation: 0, invert: 0, ipEct: 0 }),
  parse({ entry, val, invert, data }) {
    const op = [OP.CWR, OP.ECE, OP.IP][entry.id]!;
    data.operation |= op;
    if (invert) data.invert |= op;
    if (op === OP.IP) data.ipEct = val.num!;
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('ECN match: some option required');
  },
  // ecn_print()/ecn_save(): ECE before CWR before the IP field, whatever the order given
  print(d) {
    let s = ' ECN match';
    if (d.operation & OP.ECE) s += ` ${not(d, OP.ECE)}ECE`;
    if (d.operation & OP.CWR) s += ` ${not(d, OP.CWR)}CWR`;
    if (d.operation & OP.IP) s += ` ${not(d, OP.IP)}ECT=${d.ipEct}`;
    return s;
  },
  save(d) {
    let s = '';
    if (d.operation & OP.ECE) s += `${bang(d, OP.ECE)} --ecn-tcp-ece`;
    if (d.operation & OP.CWR) s += `${bang(d, OP.CWR)} --ecn-tcp-cwr`;
    if (d.operation & OP.IP) s += `${bang(d, OP.IP)} --ecn-ip-ect ${d.ipEct}`;
    return s;
  },
  kernelCheck: (d, { frame }) =>
    d.operation & (OP.ECE | OP.CWR) && (frame.proto !== 6 || frame.invProto) ? 'cannot match TCP bits in rule for non-tcp packets' : undefined,
  /**
   * ecn_mt4(): match_ip() compares the TOS byte's low two bits with --ecn-ip-ect (XOR its '!');
   * match_tcp() wants each flag given set (or, with '!', clear). Both must hold.
   */
  match(d, pkt) {
    if (d.operation & OP.IP && ((pkt.tos & 0x03) === d.ipEct) === !!(d.invert & OP.IP)) return false;
    const flags = pkt.tcpFlags ?? 0;
    if (d.operation & OP.ECE && !!(flags & TCP_ECE) === !!(d.invert & OP.ECE)) return false;
    if (d.operation & OP.CWR && !!(flags & TCP_CWR) === !!(d.invert & OP.CWR)) return false;
    return true;
  },
};
