/**
 * REJECT target for IPv4 (libipt_REJECT.c of iptables 1.8.9, net/ipv4/netfilter/ipt_REJECT.c and
 * nf_reject_ipv4.c): drop the packet and answer it with an ICMP error or a TCP RST.
 *
 * iptables-nft keeps REJECT as an xt target (nft.c add_action converts only NFLOG), so the kernel's
 * ipt_REJECT rules apply: filter table only, INPUT/FORWARD/OUTPUT only, and tcp-reset only on
 * rules restricted to `-p tcp`.
 */
import { paramProblem } from '../../errors.js';
import type { PacketView, TargetContext, TargetResult } from '../../engine/ext-api.js';
import type { TargetExtension } from '../types.js';

/**
 * reject_table[] in its C order (the index is enum ipt_reject_with; index 4, echo-reply, is
 * compiled out and skipped by the lookup), with the ICMP code each type sends.
 */
const REJECT_TYPES: { name: string; alias: string; icmpCode?: number }[] = [
  { name: 'icmp-net-unreachable', alias: 'net-unreach', icmpCode: 0 },
  { name: 'icmp-host-unreachable', alias: 'host-unreach', icmpCode: 1 },
  { name: 'icmp-proto-unreachable', alias: 'proto-unreach', icmpCode: 2 },
  { name: 'icmp-port-unreachable', alias: 'port-unreach', icmpCode: 3 },
  { name: 'icmp-net-prohibited', alias: 'net-prohib', icmpCode: 9 },
  { name: 'icmp-host-prohibited', alias: 'host-prohib', icmpCode: 10 },
  { name: 'tcp-reset', alias: 'tcp-rst' },
  { name: 'icmp-admin-prohibited', alias: 'admin-prohib', icmpCode: 13 },
];

/**
 * reject_table[] of libip6t_REJECT.c in its C order (icmp6-not-neighbour and echo-reply are
 * compiled out), for ip6tables rules: the lab keeps them but runs no IPv6 packets.
 */
const REJECT6_TYPES: { name: string; alias: string; help: string }[] = [
  { name: 'icmp6-no-route', alias: 'no-route', help: 'ICMPv6 no route' },
  { name: 'icmp6-adm-prohibited', alias: 'adm-prohibited', help: 'ICMPv6 administratively prohibited' },
  { name: 'icmp6-addr-unreachable', alias: 'addr-unreach', help: 'ICMPv6 address unreachable' },
  { name: 'icmp6-port-unreachable', alias: 'port-unreach', help: 'ICMPv6 port unreachable' },
  { name: 'tcp-reset', alias: 'tcp-reset', help: 'TCP RST packet' },
  { name: 'icmp6-policy-fail', alias: 'policy-fail', help: 'ICMPv6 policy fail' },
  { name: 'icmp6-reject-route', alias: 'reject-route', help: 'ICMPv6 reject route' },
];

const HELP_HEAD =
  'REJECT target options:\n' +
  '--reject-with type              drop input packet and send back\n' +
  '                                a reply packet according to type:\n' +
  'Valid reject types:\n';

export interface RejectData {
  /** the canonical name of the reply type (reject_table[].name) */
  with: string;
}

/** strncasecmp(name, arg, strlen(arg)) == 0: the argument is a case-insensitive prefix */
function isPrefix(name: string, arg: string): boolean {
  return name.slice(0, arg.length).toLowerCase() === arg.toLowerCase() && arg.length <= name.length;
}

/** ICMP types icmp_send() treats as errors (icmp_pointers[].error), to which it never replies */
const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);
/** NR_ICMP_TYPES: icmp_send() takes any type above it for an error too */
const NR_ICMP_TYPES = 18;

/**
 * Why the kernel sends nothing back for this packet, or undefined when it answers. Mirrors the
 * early returns of nf_send_reset()/nf_reject_ip_tcphdr_get() and nf_send_unreach()/__icmp_send().
 * Not modelled: ICMP rate limiting (icmp_ratelimit 1000 ms with a burst of 6 per destination, and
 * icmp_msgs_per_sec); a single packet, or a short burst, is always answered.
 */
function noReplyReason(type: string, pkt: PacketView, ctx: TargetContext): string | undefined {
  if (pkt.fragment) return 'it is not the first fragment';
  const dstType = ctx.addrType(pkt.dst);
  if (dstType === 'BROADCAST' || dstType === 'MULTICAST' || (pkt.pktType && pkt.pktType !== 'unicast')) {
    return `it was sent to a ${dstType === 'MULTICAST' || pkt.pktType === 'multicast' ? 'multicast' : 'broadcast'} address`;
  }
  if (type === 'tcp-reset') {
    if (pkt.proto !== 6) return 'it is not TCP';
    if ((pkt.tcpFlags ?? 0) & 0x04) return 'no RST is sent in answer to a RST';
    return undefined;
  }
  if (pkt.proto === 1 && pkt.icmpType !== undefined && (pkt.icmpType > NR_ICMP_TYPES || ICMP_ERROR_TYPES.has(pkt.icmpType))) {
    return 'no ICMP error is sent in answer to an ICMP error';
  }
  return undefined;
}

export const REJECT: TargetExtension<RejectData> = {
  kind: 'target',
  name: 'REJECT',
  revision: 0,
  // REJECT_help() of libipt_REJECT.c, byte for byte as iptables 1.8.9 prints it
  help:
    HELP_HEAD +
    '    icmp-net-unreachable     \tICMP network unreachable\n' +
    '    net-unreach              \talias\n' +
    '    icmp-host-unreachable    \tICMP host unreachable\n' +
    '    host-unreach             \talias\n' +
    '    icmp-proto-unreachable   \tICMP protocol unreachable\n' +
    '    proto-unreach            \talias\n' +
    '    icmp-port-unreachable    \tICMP port unreachable (default)\n' +
    '    port-unreach             \talias\n' +
    '    icmp-net-prohibited      \tICMP network prohibited\n' +
    '    net-prohib               \talias\n' +
    '    icmp-host-prohibited     \tICMP host prohibited\n' +
    '    host-prohib              \talias\n' +
    '    tcp-reset                \tTCP RST packet\n' +
    '    tcp-rst                  \talias\n' +
    '    icmp-admin-prohibited    \tICMP administratively prohibited (*)\n' +
    '    admin-prohib             \talias\n' +
    '\n' +
    '(*) See man page or read the INCOMPATIBILITES file for compatibility issues.\n',
  // REJECT_help() of libip6t_REJECT.c
  help6: HELP_HEAD + REJECT6_TYPES.map((t) => `    ${t.name.padEnd(25)}\t${t.help}\n    ${t.alias.padEnd(25)}\talias\n`).join('') + '\n',
  options: [{ name: 'reject-with', id: 0, type: 'string' }],
  // REJECT_init(): icmp(6)-port-unreachable unless told otherwise
  init: (frame) => ({ with: frame.family === 6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable' }),
  parse({ arg, data, warn, frame }) {
    const a = arg!;
    for (const t of frame.family === 6 ? REJECT6_TYPES : REJECT_TYPES) {
      if (isPrefix(t.name, a) || isPrefix(t.alias, a)) {
        data.with = t.name;
        return;
      }
    }
    // the C code still recognises the type dropped in 2.4, only to say so before failing
    if (frame.family !== 6 && isPrefix('echo-reply', a) || isPrefix('echoreply', a)) warn?.('--reject-with echo-reply no longer supported\n');
    throw paramProblem(`unknown reject type "${a}"`);
  },
  print: (d) => ` reject-with ${d.with}`,
  save: (d) => ` --reject-with ${d.with}`,
  tables: ['filter'],
  hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
  // reject_tg_check(): a TCP RST needs a TCP packet, so the rule must say -p tcp (not inverted)
  kernelCheck: (d, { frame }) =>
    d.with === 'tcp-reset' && (frame.proto !== 6 || frame.invProto)
      ? 'REJECT --reject-with tcp-reset is only valid for rules matching -p tcp'
      : undefined,
  apply(d, pkt, ctx): TargetResult {
    const why = noReplyReason(d.with, pkt, ctx);
    if (why) return { verdict: 'DROP', note: `REJECT: dropped without ${d.with}: ${why}` };
    return { verdict: 'DROP', reject: d.with };
  },
};
