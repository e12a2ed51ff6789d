/**
 * iprange match, revision 1 (libxt_iprange, xt_iprange): --src-range / --dst-range "a[-b]",
 * inclusive, each address in xtables_numeric_to_ipaddr() form (no names, no masks).
 */
import { paramProblem } from '../../errors.js';
import { paramAct } from '../xtoptions.js';
import { ipToString, numericToIp } from '../../net/ipv4.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface IprangeData {
  src?: [number, number];
  dst?: [number, number];
  invSrc?: boolean;
  invDst?: boolean;
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
function parseRange(arg: string, optname: string, warn?: (text: string) => void): [number, number] {
  const dash = arg.indexOf('-');
  const parts = dash < 0 ? [arg, arg] : [arg.slice(0, dash), arg.slice(dash + 1)];
  const out = parts.map((p) => {
    const a = numericToIp(p);
    if (a === undefined) throw paramAct.badValue('iprange', optname, p);
    return a;
  });
  // memcmp() of the network-order addresses: an unsigned comparison
  if (dash >= 0 && out[0]! > out[1]!) {
    warn?.(`xt_iprange: range ${parts[0]}-${parts[1]} is reversed and will never match\n`);
  }
  return [out[0]!, out[1]!];
}

const rangeText = (r: [number, number]) => `${ipToString(r[0])}-${ipToString(r[1])}`;

export const iprange: MatchExtension<IprangeData> = {
  kind: 'match',
  name: 'iprange',
  // the IPv6 form is not modelled
  family: 4,
  revision: 1,
  // iprange_mt_help() of libxt_iprange.c, byte for byte as iptables 1.8.9 prints it
  help:
    'iprange match options:\n' +
    '[!] --src-range ip[-ip]    Match source IP in the specified range\n' +
    '[!] --dst-range ip[-ip]    Match destination IP in the specified range\n',
  options: opts,
  init: () => ({}),
  parse({ entry, arg, invert, data, warn }) {
    if (entry.id === O_SRC_RANGE) {
      data.src = parseRange(arg!, '--src-range', warn);
      if (invert) data.invSrc = true;
    } else {
      data.dst = parseRange(arg!, '--dst-range', warn);
      if (invert) data.invDst = true;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem("iprange match: You must specify `--src-range' or `--dst-range'");
  },
  print(d) {
    let s = '';
    if (d.src) s += ` source IP range${d.invSrc ? ' !' : ''} ${rangeText(d.src)}`;
    if (d.dst) s += ` destination IP range${d.invDst ? ' !' : ''} ${rangeText(d.dst)}`;
    return s;
  },
  save(d) {
    let s = '';
    if (d.src) s += `${d.invSrc ? ' !' : ''} --src-range ${rangeText(d.src)}`;
    if (d.dst) s += `${d.invDst ? ' !' : ''} --dst-range ${rangeText(d.dst)}`;
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
