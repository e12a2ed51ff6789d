/**
 * connmark match (libxt_connmark.c revision 1, xt_connmark): [!] --mark value[/mask] against the
 * connection's mark. A packet without a conntrack entry never matches, inverted or not
 * (connmark_mt returns false when nf_ct_get() gives no ct).
 */
import type { MatchExtension } from '../types.js';
import { parseValMask, printValMask } from '../util/val-mask.js';

export interface ConnmarkData {
  mark: number;
  mask: number;
  invert?: boolean;
}

export const connmark: MatchExtension<ConnmarkData> = {
  kind: 'match',
  name: 'connmark',
  revision: 1,
  // connmark_mt_help() of libxt_connmark.c, byte for byte as iptables 1.8.9 prints it
  help:
    'connmark match options:\n' +
    '[!] --mark value[/mask]    Match ctmark value with optional mask\n',
  // XTTYPE_MARKMASK32 in C; parsed here by parseValMask for the 1.8.9 messages (see val-mask.ts)
  options: [{ name: 'mark', id: 0, type: 'string', invert: true, mandatory: true }],
  init: () => ({ mark: 0, mask: 0xffffffff }),
  parse({ ext, entry, arg, invert, data }) {
    const vm = parseValMask(ext, entry.name, arg!);
    if (invert) data.invert = true;
    data.mark = vm.value;
    data.mask = vm.mask;
  },
  // connmark_mt_print() writes "match " and then "!" with no space after it
  print: (d) => ` connmark match ${d.invert ? '!' : ''}${printValMask(d.mark, d.mask)}`,
  save: (d) => `${d.invert ? ' !' : ''} --mark${printValMask(d.mark, d.mask)}`,
  match(d, pkt) {
    const ct = pkt.ct;
    if (!ct || ct.state === 'INVALID' || ct.state === 'UNTRACKED') return false;
    return (((ct.mark & d.mask) >>> 0 === d.mark >>> 0) as boolean) !== !!d.invert;
  },
};
