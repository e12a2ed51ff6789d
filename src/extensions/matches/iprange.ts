/**
 * iprange match, revision 1 (libxt_iprange, xt_iprange): --src-range / --dst-range "a[-b]",
 * inclusive, each address in xtables_numeric_to_ipaddr() form (no names, no masks); in ip6tables
 * inet_pton() form, kept as inet_ntop() writes it (those rules are never run).
 */
import { paramProblem } from '../../errors.js';
import { paramAct } from '../xtoptions.js';
import { ipToString, numericToIp } from '../../net/ipv4.js';
import { formatIp6, parseIp6 } from '../../net/ipv6.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface IprangeData {
  src?: [number, number];
  dst?: [number, number];
  invSrc?: boolean;
  invDst?: boolean;
  /** an ip6tables rule's ranges */
  src6?: [string, string];
  dst6?: [string, string];
}

const O_SRC_RANGE = 0;
const O_DST_RANGE = 1;

const opts: OptionEntry[] = [
  { name: 'src-range', id: O_SRC_RANGE, type: 'string', invert: true },
  { name: 'dst-range', id: O_DST_RANGE, type: 'string', invert: true },
];

/**
 * iprange_parse_range(): split at the first '-'; a lone address is the range [a, a]. A reversed
 * range is accepted with a warning on stderr.
 */
function parseRange<A>(arg: string, optname: string, parse: (p: string) => A | undefined, above: (a: A, b: A) => boolean, warn?: (text: string) => void): [A, A] {
  const dash = arg.indexOf('-');
  const parts = dash < 0 ? [arg, arg] : [arg.slice(0, dash), arg.slice(dash + 1)];
  const out = parts.map((p) => {
    const a = parse(p);
    if (a === undefined) throw paramAct.badValue('iprange', optname, p);
    return a;
  });
  // memcmp() of the network-order addresses: an unsigned comparison
  if (dash >= 0 && above(out[0]!, out[1]!)) {
    warn?.(`xt_iprange: range ${parts[0]}-${parts[1]} is reversed and will never match\n`);
  }
  return [out[0]!, out[1]!];
}

const range4 = (arg: string, optname: string, warn?: (text: string) => void) => parseRange(arg, optname, (p) => numericToIp(p), (a, b) => a > b, warn);

/** the same in ip6tables: words compared most significant first */
function range6(arg: string, optname: string, warn?: (text: string) => void): [string, string] {
  const above = (a: number[], b: number[]) => {
    const i = a.findIndex((w, k) => w !== b[k]);
    return i >= 0 && a[i]! > b[i]!;
  };
  const [lo, hi] = parseRange(arg, optname, parseIp6, above, warn);
  return [formatIp6(lo), formatIp6(hi)];
}

const rangeText = (r: [number, number] | undefined, r6: [string, string] | undefined) => (r6 ? `${r6[0]}-${r6[1]}` : `${ipToString(r![0])}-${ipToString(r![1])}`);

export const iprange: MatchExtension<IprangeData> = {
  kind: 'match',
  name: 'iprange',
  revision: 1,
  // iprange_mt_help() of libxt_iprange.c, byte for byte as iptables 1.8.9 prints it
  help:
    'iprange match options:\n' +
    '[!] --src-range ip[-ip]    Match source IP in the specified range\n' +
    '[!] --dst-range ip[-ip]    Match destination IP in the specified range\n',
  options: opts,
  init: () => ({}),
  parse({ entry, arg, invert, data, warn, frame }) {
    const v6 = frame.family === 6;
    if (entry.id === O_SRC_RANGE) {
      if (v6) data.src6 = range6(arg!, '--src-range', warn);
      else data.src = range4(arg!, '--src-range', warn);
      if (invert) data.invSrc = true;
    } else {
      if (v6) data.dst6 = range6(arg!, '--dst-range', warn);
      else data.dst = range4(arg!, '--dst-range', warn);
      if (invert) data.invDst = true;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem("iprange match: You must specify `--src-range' or `--dst-range'");
  },
  print(d) {
    let s = '';
    if (d.src || d.src6) s += ` source IP range${d.invSrc ? ' !' : ''} ${rangeText(d.src, d.src6)}`;
    if (d.dst || d.dst6) s += ` destination IP range${d.invDst ? ' !' : ''} ${rangeText(d.dst, d.dst6)}`;
    return s;
  },
  save(d) {
    let s = '';
    if (d.src || d.src6) s += `${d.invSrc ? ' !' : ''} --src-range ${rangeText(d.src, d.src6)}`;
    if (d.dst || d.dst6) s += `${d.invDst ? ' !' : ''} --dst-range ${rangeText(d.dst, d.dst6)}`;
    return s;
  },
  // iprange_mt4(): inclusive comparison in host order, each side inverted on its own
  match(d, pkt) {
    const inside = (a: number, r: [number, number]) => a >>> 0 >= r[0] >>> 0 && a >>> 0 <= r[1] >>> 0;
    if (d.src && inside(pkt.src, d.src) === !!d.invSrc) return false;
    if (d.dst && inside(pkt.dst, d.dst) === !!d.invDst) return false;
    return true;
  },
};
