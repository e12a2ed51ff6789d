/**
 * ECN target (libipt_ECN.c of iptables 1.8.9, net/ipv4/netfilter/ipt_ECN.c): IPv4 only (ip6tables
 * has no ECN target: `-j ECN` there is a jump to a chain of that name), mangle table only. Sets the
 * ECN field of the TOS byte and the TCP header's ECE/CWR flags.
 *
 * --ecn-tcp-remove is the C parse's `operation = SET_ECE | SET_CWR` with both bits 0: given after
 * --ecn-ip-ect it drops that operation (the value stays in the structure, and -C compares it),
 * and "--ecn-tcp-cwr 0 --ecn-tcp-ece 0" is the same rule, saved as --ecn-tcp-remove (measured,
 * fixtures/cli/ext-target-ecn.case).
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';
import { ECN_OP, TCP_CWR, TCP_ECE } from '../matches/ecn.js';

/** IPT_ECN_OP_SET_* of linux/netfilter_ipv4/ipt_ECN.h */
const OP = ECN_OP;

export interface EcnTargetData {
  /** IPT_ECN_OP_SET_* */
  operation: number;
  /** --ecn-ip-ect 0..3 */
  ipEct: number;
  /** proto.tcp.ece / proto.tcp.cwr: 0 or 1 */
  ece: number;
  cwr: number;
}

const isRemove = (d: EcnTargetData) => d.operation === (OP.ECE | OP.CWR) && d.ece === 0 && d.cwr === 0;

export const ECN: TargetExtension<EcnTargetData> = {
  kind: 'target',
  name: 'ECN',
  family: 4,
  revision: 0,
  // ECN_help() of libipt_ECN.c, byte for byte as iptables 1.8.9 prints it
  help: 'ECN target options\n' + '  --ecn-tcp-remove\t\tRemove all ECN bits from TCP header\n',
  options: [
    { name: 'ecn-tcp-remove', id: 0, type: 'none', excl: [1, 2] },
    { name: 'ecn-tcp-cwr', id: 1, type: 'uint8', min: 0, max: 1, excl: [0] },
    { name: 'ecn-tcp-ece', id: 2, type: 'uint8', min: 0, max: 1, excl: [0] },
    { name: 'ecn-ip-ect', id: 3, type: 'uint8', min: 0, max: 3 },
  ],
  init: () => ({ operation: 0, ipEct: 0, ece: 0, cwr: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case 0:
        data.operation = OP.ECE | OP.CWR;
        data.ece = 0;
        data.cwr = 0;
        break;
      case 1:
        data.operation |= OP.CWR;
        data.cwr = val.num!;
        break;
      case 2:
        data.operation |= OP.ECE;
        data.ece = val.num!;
        break;
      case 3:
        data.operation |= OP.IP;
        data.ipEct = val.num!;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('ECN target: An operation is required');
  },
  print(d) {
    if (isRemove(d)) return ' ECN TCP remove';
    let s = ' ECN';
    if (d.operation & OP.ECE) s += ` ECE=${d.ece}`;
    if (d.operation & OP.CWR) s += ` CWR=${d.cwr}`;
    if (d.operation & OP.IP) s += ` ECT codepoint=${d.ipEct}`;
    return s;
  },
  save(d) {
    if (isRemove(d)) return ' --ecn-tcp-remove';
    let s = '';
    if (d.operation & OP.ECE) s += ` --ecn-tcp-ece ${d.ece}`;
    if (d.operation & OP.CWR) s += ` --ecn-tcp-cwr ${d.cwr}`;
    if (d.operation & OP.IP) s += ` --ecn-ip-ect ${d.ipEct}`;
    return s;
  },
  // ecn_tg_reg.table = "mangle"
  tables: ['mangle'],
  // ecn_tg_check()
  kernelCheck: (d, { frame }) =>
    d.operation & (OP.ECE | OP.CWR) && (frame.proto !== 6 || frame.invProto) ? 'cannot use operation on non-tcp rule' : undefined,
  /**
   * ecn_tg(): set_ect_ip() rewrites the TOS byte's ECN bits when they differ; set_ect_tcp() sets
   * ECE/CWR as asked on a TCP packet (the protocol of the packet, not of the rule, is checked);
   * then the packet goes on.
   */
  apply(d, pkt) {
    const notes: string[] = [];
    if (d.operation & OP.IP && (pkt.tos & 0x03) !== d.ipEct) {
      const before = pkt.tos;
      pkt.tos = (pkt.tos & ~0x03) | d.ipEct;
      notes.push(`ECN field ${before & 0x03} -> ${d.ipEct}`);
    }
    if (d.operation & (OP.ECE | OP.CWR) && pkt.proto === 6) {
      let flags = pkt.tcpFlags ?? 0;
      if (d.operation & OP.ECE) flags = d.ece ? flags | TCP_ECE : flags & ~TCP_ECE;
      if (d.operation & OP.CWR) flags = d.cwr ? flags | TCP_CWR : flags & ~TCP_CWR;
      if (flags !== (pkt.tcpFlags ?? 0)) {
        notes.push(`TCP ECE=${flags & TCP_ECE ? 1 : 0} CWR=${flags & TCP_CWR ? 1 : 0}`);
        pkt.tcpFlags = flags;
      }
    }
    return { verdict: 'CONTINUE', note: notes.length ? `ECN: ${notes.join(', ')}` : 'ECN: unchanged' };
  },
};
