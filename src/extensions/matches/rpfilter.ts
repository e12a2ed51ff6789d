/**
 * rpfilter match (libxt_rpfilter, xt_rpfilter): reverse-path filter, "would the route back to the
 * source leave by the interface the packet came in on?". Only in the raw and mangle tables, and
 * only in PREROUTING.
 */
import type { MatchExtension, OptionEntry } from '../types.js';

export interface RpfilterData {
  loose?: boolean;
  validmark?: boolean;
  acceptLocal?: boolean;
  invert?: boolean;
}

const O_RPF_LOOSE = 0;
const O_RPF_VMARK = 1;
const O_RPF_ACCEPT_LOCAL = 2;
const O_RPF_INVERT = 3;

const opts: OptionEntry[] = [
  { name: 'loose', id: O_RPF_LOOSE, type: 'none' },
  { name: 'validmark', id: O_RPF_VMARK, type: 'none' },
  { name: 'accept-local', id: O_RPF_ACCEPT_LOCAL, type: 'none' },
  { name: 'invert', id: O_RPF_INVERT, type: 'none' },
];

/** rpfilter_print_prefix(): flags in bit order */
function flagsText(d: RpfilterData, prefix: string): string {
  let s = '';
  if (d.loose) s += ` ${prefix}loose`;
  if (d.validmark) s += ` ${prefix}validmark`;
  if (d.acceptLocal) s += ` ${prefix}accept-local`;
  if (d.invert) s += ` ${prefix}invert`;
  return s;
}

export const rpfilter: MatchExtension<RpfilterData> = {
  kind: 'match',
  name: 'rpfilter',
  // rpfilter_help() of libxt_rpfilter.c, byte for byte as iptables 1.8.9 prints it
  help:
    'rpfilter match options:\n' +
    '    --loose          permit reverse path via any interface\n' +
    '    --validmark      use skb nfmark when performing route lookup\n' +
    '    --accept-local   do not reject packets with a local source address\n' +
    '    --invert         match packets that failed the reverse path test\n',
  options: opts,
  init: () => ({}),
  parse({ entry, data }) {
    if (entry.id === O_RPF_LOOSE) data.loose = true;
    else if (entry.id === O_RPF_VMARK) data.validmark = true;
    else if (entry.id === O_RPF_ACCEPT_LOCAL) data.acceptLocal = true;
    else data.invert = true;
  },
  print: (d) => ` rpfilter${flagsText(d, '')}`,
  save: (d) => flagsText(d, '--'),
  // rpfilter_check() refuses other tables even in user chains; xt_rpfilter's .hooks is PREROUTING
  // ipt_rpfilter's .hooks
  hooks: ['PREROUTING'],
  kernelCheck(_d, { table }) {
    if (table !== 'mangle' && table !== 'raw') return `rpfilter is only valid in 'raw' or 'mangle' table, not '${table}'`;
    return undefined;
  },
  /**
   * rpfilter_mt(): packets from the loopback device and 0.0.0.0/8 sources sent to the limited
   * broadcast or 224.0.0.0/24 (DHCP, IGMP) pass without a lookup; everything else asks the FIB
   * for the route back to the source.
   */
  match(d, pkt, ctx) {
    const invert = !!d.invert;
    if (pkt.inIface === 'lo') return !invert;
    if (pkt.src >>> 24 === 0 && (pkt.dst >>> 0 === 0xffffffff || pkt.dst >>> 8 === 0xe00000)) return !invert;
    const ok = ctx.reversePathOk(pkt, { loose: !!d.loose, validmark: !!d.validmark, acceptLocal: !!d.acceptLocal });
    return ok !== invert;
  },
};
