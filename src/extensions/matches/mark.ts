/**
 * mark match (libxt_mark.c revision 1): [!] --mark value[/mask], true when
 * (skb->mark & mask) == value, inverted by '!'. The value is not masked when the rule is made.
 *
 * iptables-nft does not send this as an xt match: add_nft_mark() (nft.c) writes
 * "meta mark [& mask] ==/!= value" and parse_meta_mark() (nft-shared.c) rebuilds a mark match
 * from it, mask all ones when there is no bitwise. That round trip gives back exactly the
 * value, mask and inversion given, so no canonical form is needed.
 */
import type { MatchExtension } from '../types.js';
import { parseValMask, printValMask } from '../util/val-mask.js';

export interface MarkData {
  mark: number;
  mask: number;
  invert?: boolean;
}

export const mark: MatchExtension<MarkData> = {
  kind: 'match',
  name: 'mark',
  revision: 1,
  // mark_mt_help() of libxt_mark.c, byte for byte as iptables 1.8.9 prints it
  help:
    'mark match options:\n' +
    '[!] --mark value[/mask]    Match nfmark value with optional mask\n',
  // XTTYPE_MARKMASK32 in C; parsed here by parseValMask for the 1.8.9 messages (see val-mask.ts)
  options: [{ name: 'mark', id: 0, type: 'string', invert: true, mandatory: true }],
  init: () => ({ mark: 0, mask: 0xffffffff }),
  parse({ ext, entry, arg, invert, data }) {
    const vm = parseValMask(ext, entry.name, arg!);
    if (invert) data.invert = true;
    data.mark = vm.value;
    data.mask = vm.mask;
  },
  print: (d) => ` mark match${d.invert ? ' !' : ''}${printValMask(d.mark, d.mask)}`,
  save: (d) => `${d.invert ? ' !' : ''} --mark${printValMask(d.mark, d.mask)}`,
  match: (d, pkt) => ((((pkt.mark & d.mask) >>> 0) === d.mark >>> 0) as boolean) !== !!d.invert,
};
