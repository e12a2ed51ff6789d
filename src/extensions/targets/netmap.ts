/**
 * NETMAP target (libipt_NETMAP.c, kernel xt_NETMAP.c, IPv4 revision 0): --to address[/mask] maps
 * the destination (PREROUTING, OUTPUT) or source (POSTROUTING, INPUT) address into that prefix,
 * keeping the host bits, one to one. ip6tables' form (libip6t_NETMAP.c, netmap_tg6) keeps the
 * prefix of an IPv6 address; a mask with holes is taken as /128, as libxtables does
 * (fixtures/cli/ip6tables-policy-netmap.case).
 */
import { ipToString, maskToCidr } from '../../net/ipv4.js';
import { prefixOf6 } from '../../net/ipv6.js';
import type { TargetExtension } from '../types.js';
import { NF_NAT_RANGE_MAP_IPS } from './nat.js';
import { hostmask6 } from '../xtoptions.js';

export interface NetmapData {
  flags: number;
  /** host order: the prefix (address & mask) and its last address (prefix | ~mask) */
  minIp: number;
  maxIp: number;
  /** ip6tables: the prefix as inet_ntop() writes it, and its length */
  prefix6?: [string, number];
}

/** __NETMAP_print(): "addr/bits", or "addr/dotted-mask" when the mask has holes (netmask2bits) */
function netmapText(d: NetmapData): string {
  if (d.prefix6) return `${d.prefix6[0]}/${d.prefix6[1]}`;
  const mask = ~(d.minIp ^ d.maxIp) >>> 0;
  const bits = maskToCidr(mask);
  return `${ipToString(d.minIp)}/${bits < 0 ? ipToString(mask) : bits}`;
}

export const NETMAP: TargetExtension<NetmapData> = {
  kind: 'target',
  name: 'NETMAP',
  v6Addresses: true,
  revision: 0,
  // NETMAP_help() of libipt_NETMAP.c, byte for byte as iptables 1.8.9 prints it
  help:
    'NETMAP target options:\n' +
    '  --to address[/mask]\n' +
    '\t\t\t\tNetwork address to map to.\n' +
    '\n',
  options: [{ name: 'to', id: 0, type: 'hostmask', mandatory: true }],
  init: (frame) => ({ flags: 0, minIp: 0, maxIp: 0, ...(frame.family === 6 ? { prefix6: ['::', 0] as [string, number] } : {}) }),
  parse({ val, data, frame }) {
    data.flags |= NF_NAT_RANGE_MAP_IPS;
    if (frame.family === 6) {
      const [addr, len] = hostmask6(val);
      data.prefix6 = [prefixOf6(addr, len), len];
      return;
    }
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
