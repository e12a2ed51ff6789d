/**
 * ipv6header match (libip6t_ipv6header.c, ip6t_ipv6header): which IPv6 extension headers a packet
 * carries (all of them exactly, or with --soft at least those). ip6tables only; the lab keeps such
 * rules but runs no IPv6 packets (no match()). Measured: fixtures/cli/ip6tables-ext-headers.case.
 */
import { paramProblem } from '../../errors.js';
import { protocolByName, protocolByNumber } from '../../net/netdb.js';
import type { MatchExtension } from '../types.js';

const O_HEADER = 0;
const O_SOFT = 1;

export interface Ipv6headerData {
  /** MASK_* bits of the headers named */
  flags: number;
  invert?: boolean;
  soft?: boolean;
}

/** chain_protos[]: the names and numbers ip6tables knows without /etc/protocols, in its order */
const CHAIN_PROTOS: [string, number][] = [
  ['hop-by-hop', 0],
  ['protocol', 255],
  ['hop', 0],
  ['dst', 60],
  ['route', 43],
  ['frag', 44],
  ['auth', 51],
  ['esp', 50],
  ['none', 59],
  ['prot', 255],
  ['0', 0],
  ['60', 60],
  ['43', 43],
  ['44', 44],
  ['51', 51],
  ['50', 50],
  ['59', 59],
  ['255', 255],
];

/** chain_flags[]: each header's bit, in the order the headers are printed */
const CHAIN_FLAGS: [number, number][] = [
  [0, 0x80],
  [60, 0x40],
  [43, 0x20],
  [44, 0x10],
  [51, 0x08],
  [50, 0x04],
  [59, 0x02],
  [255, 0x01],
];

/** name_to_proto(): /etc/protocols first (names and aliases), then chain_protos */
function headerProto(s: string): number {
  const p = protocolByName(s) ?? CHAIN_PROTOS.find(([n]) => n === s)?.[1];
  if (p === undefined) throw paramProblem(`unknown header \`${s}' specified`);
  return p;
}

/** add_proto_to_mask() */
function headerFlag(proto: number): number {
  const f = CHAIN_FLAGS.find(([p]) => p === proto);
  if (!f) throw paramProblem(`unknown header \`${proto}' specified`);
  return f[1];
}

/** proto_to_name(): /etc/protocols for all but 0, then chain_protos */
const headerName = (proto: number): string => (proto ? protocolByNumber(proto) : undefined) ?? CHAIN_PROTOS.find(([, p]) => p === proto)![0];

/** print_header(): the names of the headers, "NONE" for none */
function headersText(flags: number): string {
  const names = CHAIN_FLAGS.filter(([, f]) => flags & f).map(([p]) => headerName(p));
  return names.length ? names.join(',') : 'NONE';
}

export const ipv6header: MatchExtension<Ipv6headerData> = {
  kind: 'match',
  name: 'ipv6header',
  family: 6,
  // ipv6header_help() of libip6t_ipv6header.c, byte for byte as ip6tables 1.8.9 prints it
  help:
    'ipv6header match options:\n' +
    '[!] --header headers     Type of header to match, by name\n' +
    '                         names: hop,dst,route,frag,auth,esp,none,prot\n' +
    '                    long names: hop-by-hop,ipv6-opts,ipv6-route,\n' +
    '                                ipv6-frag,ah,esp,ipv6-nonxt,protocol\n' +
    '                       numbers: 0,60,43,44,51,50,59\n' +
    '--soft                    The header CONTAINS the specified extensions\n',
  options: [
    { name: 'header', id: O_HEADER, type: 'string', mandatory: true, invert: true },
    { name: 'soft', id: O_SOFT, type: 'none' },
  ],
  init: () => ({ flags: 0 }),
  parse({ entry, arg, invert, data }) {
    if (entry.id === O_SOFT) {
      data.soft = true;
      return;
    }
    // parse_header(): strtok() passes over empty names
    for (const name of arg!.split(',')) if (name) data.flags |= headerFlag(headerProto(name));
    if (!data.flags) throw paramProblem('ip6t_ipv6header: cannot parse header names');
    if (invert) data.invert = true;
  },
  print(d, { numeric }) {
    let s = ' ipv6header';
    if (d.flags || d.invert) s += ` flags:${d.invert ? '!' : ''}${numeric ? `0x${d.flags.toString(16).toUpperCase().padStart(2, '0')}` : headersText(d.flags)}`;
    if (d.soft) s += ' soft';
    return s;
  },
  save: (d) => `${d.invert ? ' !' : ''} --header ${headersText(d.flags)}${d.soft ? ' --soft' : ''}`,
};
