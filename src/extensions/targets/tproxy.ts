/**
 * TPROXY target (libxt_TPROXY.c of iptables 1.8.9, revision 1 for iptables and ip6tables;
 * net/netfilter/xt_TPROXY.c): hand a packet to a local socket listening on --on-ip:--on-port
 * without changing its addresses, and set the mark (skb->mark = (mark & ~mask) ^ value) so that
 * policy routing delivers it locally.
 *
 * What was measured (fixtures/cli/ext-tproxy.case): --on-port is mandatory and goes through
 * getaddrinfo, so `--on-port 65536` is stored as port 0; --on-ip defaults to 0.0.0.0 (::) and
 * --tproxy-mark to 0x0/0x0, and -S always writes all three options. The kernel registers the
 * target for table mangle and hook PREROUTING only, and tproxy_tg4_check()/tproxy_tg6_check()
 * want -p tcp or -p udp (not inverted); in a user chain the protocol is checked as well.
 *
 * tproxy_tg4() looks up a local socket (established first, then the listener at
 * --on-ip:--on-port; --on-ip 0 is the address the packet came to) and hands the packet to it,
 * marked, only when that socket is transparent (IP_TRANSPARENT); otherwise, and when there is
 * none, it drops the packet. No socket of the lab's hosts is transparent, so every packet the
 * rule takes is dropped, its mark unchanged (measured: fixtures/kernel/149-tproxy, a listener on
 * the port or none, TCP and UDP).
 */
import { ipToString } from '../../net/ipv4.js';
import type { TargetExtension } from '../types.js';

const P_PORT = 0;
const P_ADDR = 1;
const P_MARK = 2;

export interface TproxyData {
  /** --on-port, 0 = the packet's own destination port */
  lport: number;
  /** --on-ip of an iptables rule (0 = the address the packet came to) */
  laddr: number;
  /** --on-ip of an ip6tables rule, as inet_ntop() writes it */
  laddr6?: string;
  markValue: number;
  markMask: number;
}

const addr = (d: TproxyData) => d.laddr6 ?? ipToString(d.laddr);

export const TPROXY: TargetExtension<TproxyData> = {
  kind: 'target',
  name: 'TPROXY',
  revision: 1,
  // tproxy_tg_help() of libxt_TPROXY.c: the trailing empty line included
  help:
    'TPROXY target options:\n' +
    '  --on-port port\t\t    Redirect connection to port, or the original port if 0\n' +
    '  --on-ip ip\t\t\t    Optionally redirect to the given IP\n' +
    '  --tproxy-mark value[/mask]\t    Mark packets with the given value/mask\n\n',
  options: [
    { name: 'on-port', id: P_PORT, type: 'port', mandatory: true },
    { name: 'on-ip', id: P_ADDR, type: 'host' },
    { name: 'tproxy-mark', id: P_MARK, type: 'markmask32' },
  ],
  v6Addresses: true,
  init: (frame) => ({ lport: 0, laddr: 0, ...(frame.family === 6 ? { laddr6: '::' } : {}), markValue: 0, markMask: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case P_PORT:
        data.lport = val.port!;
        break;
      case P_ADDR:
        if (val.haddr6 !== undefined) data.laddr6 = val.haddr6;
        else data.laddr = val.haddr!;
        break;
      case P_MARK:
        data.markValue = val.value!;
        data.markMask = val.mask!;
        break;
    }
  },
  // tproxy_tg_print4()/tproxy_tg_print6(): numeric address whatever -n says
  print: (d) => ` TPROXY redirect ${addr(d)}:${d.lport} mark 0x${d.markValue.toString(16)}/0x${d.markMask.toString(16)}`,
  save: (d) => ` --on-port ${d.lport} --on-ip ${addr(d)} --tproxy-mark 0x${d.markValue.toString(16)}/0x${d.markMask.toString(16)}`,
  // tproxy_tg_reg[]: .table = "mangle", .hooks = 1 << NF_INET_PRE_ROUTING
  tables: ['mangle'],
  hooks: ['PREROUTING'],
  // tproxy_tg4_check()/tproxy_tg6_check(): "Can be used only with -p tcp or -p udp" (EINVAL)
  kernelCheck: (_d, { frame }) =>
    (frame.proto === 6 || frame.proto === 17) && !frame.invProto ? undefined : 'Can be used only with -p tcp or -p udp',
  apply: (d, pkt) => ({
    verdict: 'DROP',
    note: `TPROXY: no transparent socket (IP_TRANSPARENT) on ${d.laddr ? ipToString(d.laddr) : 'the address it came to'}:${d.lport || pkt.dport} takes the packet; the lab's servers are not transparent`,
  }),
};
