/**
 * connlimit match (libxt_connlimit.c revision 1, xt_connlimit): limits the number of
 * connections per source (or destination) address group.
 *   --connlimit-above n    match when the count is > n
 *   --connlimit-upto n     match when the count is <= n (stored as "above" with XT_CONNLIMIT_INVERT)
 *   ! flips either into the other, so "! --connlimit-upto 3" saves as "--connlimit-above 3".
 *   --connlimit-mask len   group addresses by prefix (default /32)
 *   --connlimit-saddr / --connlimit-daddr
 */
import type { Tuple } from '../../engine/ext-api.js';
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface ConnlimitData {
  limit: number;
  /** v4_mask in host order */
  mask: number;
  /** an ip6tables rule's v6_mask, as the prefix length it prints (128 unless given) */
  mask6?: number;
  /** XT_CONNLIMIT_INVERT: "upto" */
  invert?: boolean;
  /** XT_CONNLIMIT_DADDR */
  daddr?: boolean;
}

const O = { UPTO: 0, ABOVE: 1, MASK: 2, SADDR: 3, DADDR: 4 } as const;

const opts: OptionEntry[] = [
  { name: 'connlimit-upto', id: O.UPTO, type: 'uint32', invert: true, excl: [O.ABOVE] },
  { name: 'connlimit-above', id: O.ABOVE, type: 'uint32', invert: true, excl: [O.UPTO] },
  { name: 'connlimit-mask', id: O.MASK, type: 'plenmask' },
  { name: 'connlimit-saddr', id: O.SADDR, type: 'none', excl: [O.DADDR] },
  { name: 'connlimit-daddr', id: O.DADDR, type: 'none', excl: [O.SADDR] },
];

/** count_bits4(): 32 minus the bit length of ~mask (a mask with holes counts up to its last 0) */
export function countBits4(mask: number): number {
  let bits = 0;
  for (let m = ~mask >>> 0; m !== 0; m >>>= 1) bits++;
  return 32 - bits;
}

export const connlimit: MatchExtension<ConnlimitData> = {
  kind: 'match',
  name: 'connlimit',
  v6Addresses: true,
  revision: 1,
  // connlimit_help() of libxt_connlimit.c, byte for byte as iptables 1.8.9 prints it
  help:
    'connlimit match options:\n' +
    '  --connlimit-upto n     match if the number of existing connections is 0..n\n' +
    '  --connlimit-above n    match if the number of existing connections is >n\n' +
    '  --connlimit-mask n     group hosts using prefix length (default: max len)\n' +
    '  --connlimit-saddr      select source address for grouping\n' +
    '  --connlimit-daddr      select destination addresses for grouping\n',
  options: opts,
  // connlimit_init(): the mask starts all ones
  init: (frame) => ({ limit: 0, mask: 0xffffffff, ...(frame.family === 6 ? { mask6: 128 } : {}) }),
  parse({ entry, invert, val, data }) {
    switch (entry.id) {
      case O.ABOVE:
        data.limit = val.num!;
        if (invert) data.invert = true;
        break;
      case O.UPTO:
        data.limit = val.num!;
        if (!invert) data.invert = true;
        break;
      case O.MASK:
        // (a mask with holes counts as all ones, as in IPv4)
        if (data.mask6 !== undefined) data.mask6 = val.hlen! < 0 ? 128 : val.hlen!;
        else data.mask = val.hmask! >>> 0;
        break;
      case O.SADDR:
        delete data.daddr;
        break;
      case O.DADDR:
        data.daddr = true;
        break;
    }
  },
  finalCheck({ xflags }) {
    if ((xflags & ((1 << O.UPTO) | (1 << O.ABOVE))) === 0) {
      throw paramProblem('You must specify "--connlimit-above" or "--connlimit-upto".');
    }
  },
  print: (d) => ` #conn ${d.daddr ? 'dst' : 'src'}/${d.mask6 ?? countBits4(d.mask)} ${d.invert ? '<=' : '>'} ${d.limit}`,
  save: (d) =>
    `${d.invert ? ` --connlimit-upto ${d.limit}` : ` --connlimit-above ${d.limit}`} --connlimit-mask ${d.mask6 ?? countBits4(d.mask)}` +
    (d.daddr ? ' --connlimit-daddr' : ' --connlimit-saddr'),
  /**
   * connlimit_mt(): the key is the packet's source (or destination) address under the mask;
   * nf_conncount_count() counts the tracked connections with that key and adds this packet's
   * own connection when it is not among them yet, so a new connection sees itself counted.
   * The count is then compared with "> limit", inverted for --connlimit-upto.
   */
  match(d, pkt, ctx) {
    const key = ((d.daddr ? pkt.dst : pkt.src) & d.mask) >>> 0;
    const ct = pkt.ct && pkt.ct.state !== 'INVALID' && pkt.ct.state !== 'UNTRACKED' ? pkt.ct : undefined;
    const own: Tuple = ct
      ? ct.orig
      : { src: pkt.src, dst: pkt.dst, proto: pkt.proto, sport: pkt.sport ?? 0, dport: pkt.dport ?? 0 };
    const same = (a: Tuple, b: Tuple) => a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
    const others = ctx.countConnections((orig) => !same(orig, own) && (((d.daddr ? orig.dst : orig.src) & d.mask) >>> 0) === key);
    const connections = others + 1;
    return connections > d.limit !== !!d.invert;
  },
};
