/**
 * NETMAP target (libipt_NETMAP.c, kernel xt_NETMAP.c, IPv4 revision 0): --to address[/mask] maps
 * the destination (PREROUTING, OUTPUT) or source (POSTROUTING, INPUT) address into that prefix,
 * keeping the host bits, one to one.
 */
import { ipToString, maskToCidr } from '../../net/ipv4.js';
import type { TargetExtension } from '../types.js';
import { NF_NAT_RANGE_MAP_IPS } from './nat.js';

export interface NetmapData {
  flags: number;
  /** host order: the prefix (address & mask) and its last address (prefix | ~mask) */
  minIp: number;
  maxIp: number;
}

/** __NETMAP_print(): "addr/bits", or "addr/dotted-mask" when the mask has holes (netmask2bits) */
function netmapText(d: NetmapData): string {
  const mask = ~(d.minIp ^ d.maxIp) >>> 0;
  const bits = maskToCidr(mask);
  return `${ipToString(d.minIp)}/${bits < 0 ? ipToString(mask) : bits}`;
}

export const NETMAP: TargetExtension<NetmapData> = {
  kind: 'target',
  name: 'NETMAP',
  // the IPv6 form is not modelled
  family: 4,
  revision: 0,
  // NETMAP_help() of libipt_NETMAP.c, byte for byte as iptables 1.8.9 prints it
  help:
    'NETMAP target options:\n' +
    '  --to address[/mask]\n' +
    '\t\t\t\tNetwork address to map to.\n' +
    '\n',
  options: [{ name: 'to', id: 0, type: 'hostmask', mandatory: true }],
  init: () => ({ flags: 0, minIp: 0, maxIp: 0 }),
  parse({ val, data }) {
    data.flags |= NF_NAT_RANGE_MAP_IPS;
    data.minIp = (val.haddr! & val.hmask!) >>> 0;
    data.maxIp = (data.minIp | ~val.hmask!) >>> 0;
  },
  print: (d) => ` to:${netmapText(d)}`,
  save: (d) => ` --to ${netmapText(d)}`,
  // xt_NETMAP.c: .table = "nat", hooks PRE_ROUTING | POST_ROUTING | LOCAL_OUT | LOCAL_IN
  tables: ['nat'],
  hooks: ['PREROUTING', 'POSTROUTING', 'OUTPUT', 'INPUT'],
  // netmap_tg4(): new = (addr & ~netmask) | (min_ip & netmask), the destination before routing
  // and for local output (a DNAT), the source otherwise (an SNAT); ports untouched
  apply(d, pkt, ctx) {
    const mask = ~(d.minIp ^ d.maxIp) >>> 0;
    const dnat = ctx.hook === 'PREROUTING' || ctx.hook === 'OUTPUT';
    const addr = dnat ? pkt.dst : pkt.src;
    const ip = ((addr & ~mask) | (d.minIp & mask)) >>> 0;
    return {
      verdict: 'ACCEPT',
      nat: { kind: 'NETMAP', minIp: ip, maxIp: ip, netmap: { addr: d.minIp, mask } },
    };
  },
};
