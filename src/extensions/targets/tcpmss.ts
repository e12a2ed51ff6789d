/**
 * TCPMSS target for IPv4 (libxt_TCPMSS.c of iptables 1.8.9, net/netfilter/xt_TCPMSS.c): lower
 * the MSS option of TCP packets to a fixed value or to the path MTU minus 40.
 *
 * The kernel registers it for protocol TCP only (the rule needs -p tcp), refuses
 * --clamp-mss-to-pmtu outside FORWARD/OUTPUT/POSTROUTING in its checkentry (which sees no hook
 * for a user chain, so rules there pass), and, because the rule comes through nft_compat, skips
 * the legacy demand for a "--tcp-flags SYN,RST SYN" match.
 */
import { paramProblem } from '../../errors.js';
import type { TargetContext } from '../../engine/ext-api.js';
import type { TargetExtension } from '../types.js';

/** XT_TCPMSS_CLAMP_PMTU */
const CLAMP_PMTU = 0xffff;

export interface TcpmssData {
  /** the MSS to set, or 0xffff for --clamp-mss-to-pmtu */
  mss: number;
}

/**
 * min(dst_mtu(route out), tcpmss_reverse_mtu()): the MTUs of the packet's route and of the route
 * back to its source, metrics included (measured: fixtures/kernel/412-mtu-clamp, 438-route-mtu)
 */
function pathMtu(ctx: TargetContext): number {
  const { out, back } = ctx.routeMtus();
  return Math.min(out, back);
}

export const TCPMSS: TargetExtension<TcpmssData> = {
  kind: 'target',
  name: 'TCPMSS',
  revision: 0,
  // TCPMSS_help() of libxt_TCPMSS.c, byte for byte as iptables 1.8.9 prints it
  help:
    'TCPMSS target mutually-exclusive options:\n' +
    '  --set-mss value               explicitly set MSS option to specified value\n' +
    '  --clamp-mss-to-pmtu           automatically clamp MSS value to (path_MTU - 20)\n',
  options: [
    // UINT16_MAX - sizeof(struct iphdr)
    { name: 'set-mss', id: 0, type: 'uint16', min: 0, max: 0xffff - 20 },
    { name: 'clamp-mss-to-pmtu', id: 1, type: 'none' },
  ],
  init: () => ({ mss: 0 }),
  parse({ entry, val, data }) {
    // both options write the same field: the last one given wins
    data.mss = entry.id === 1 ? CLAMP_PMTU : val.num!;
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('TCPMSS target: At least one parameter is required');
  },
  print: (d) => (d.mss === CLAMP_PMTU ? ' TCPMSS clamp to PMTU' : ` TCPMSS set ${d.mss}`),
  save: (d) => (d.mss === CLAMP_PMTU ? ' --clamp-mss-to-pmtu' : ` --set-mss ${d.mss}`),
  kernelCheck(d, { hooks, frame }) {
    // xt_check_target(): .proto = IPPROTO_TCP
    if (frame.proto !== 6 || frame.invProto) return 'TCPMSS is only valid for protocol 6 (add -p tcp)';
    // tcpmss_tg4_check()
    if (d.mss === CLAMP_PMTU && hooks.some((h) => !['FORWARD', 'OUTPUT', 'POSTROUTING'].includes(h))) {
      return 'path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks';
    }
    return undefined;
  },
  /**
   * tcpmss_mangle_packet(): never raises an MSS; adds the option (at most 536, the RFC 1122
   * default) only to a packet with no payload, since the option cannot be inserted before data.
   */
  apply(d, pkt, ctx) {
    if (pkt.proto !== 6 || pkt.fragment) return { verdict: 'CONTINUE' };
    const newmss = d.mss === CLAMP_PMTU ? pathMtu(ctx) - 40 : d.mss;
    if (pkt.tcpMss !== undefined) {
      if (pkt.tcpMss <= newmss) return { verdict: 'CONTINUE', note: `TCPMSS: MSS ${pkt.tcpMss} kept (not above ${newmss})` };
      const old = pkt.tcpMss;
      pkt.tcpMss = newmss;
      return { verdict: 'CONTINUE', note: `TCPMSS clamped MSS ${old} to ${newmss}` };
    }
    if (pkt.payload) return { verdict: 'CONTINUE', note: 'TCPMSS: no MSS option and data follows the header: unchanged' };
    pkt.tcpMss = Math.min(newmss, 536);
    // the 4-byte option grows the TCP header and the IP total length
    pkt.len += 4;
    return { verdict: 'CONTINUE', note: `TCPMSS added MSS option ${pkt.tcpMss}` };
  },
};
