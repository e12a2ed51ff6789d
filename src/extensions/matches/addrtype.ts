/**
 * addrtype match, revision 1 (libxt_addrtype, xt_addrtype): --src-type / --dst-type lists of
 * route types, optionally looked up only on the packet's input or output device.
 */
import { paramProblem } from '../../errors.js';
import type { AddrType } from '../../engine/ext-api.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface AddrtypeData {
  /** bit i set = rtn_names[i] (the kernel's RTN_* numbering) */
  source: number;
  dest: number;
  invSource?: boolean;
  invDest?: boolean;
  limitIn?: boolean;
  limitOut?: boolean;
}

/** linux/rtnetlink.h order: the bit numbers of the kernel mask */
export const RTN_NAMES: AddrType[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];

/**
 * parse_type(): strncasecmp over the typed length, so any prefix works and the first type in
 * kernel order wins ("U" is UNSPEC, "loc" is LOCAL); an empty word is refused by the callers.
 */
function parseType(word: string): number | undefined {
  const w = word.toUpperCase();
  for (let i = 0; i < RTN_NAMES.length; i++) {
    const name = RTN_NAMES[i]!;
    if (w.length <= name.length && name.startsWith(w)) return 1 << i;
  }
  return undefined;
}

/** parse_types(): the message quotes the rest of the list, with `' before a comma and "" after */
function parseTypes(arg: string): number {
  let mask = 0;
  let rest = arg;
  let comma: number;
  while ((comma = rest.indexOf(',')) >= 0) {
    const bit = comma === 0 ? undefined : parseType(rest.slice(0, comma));
    if (bit === undefined) throw paramProblem(`addrtype: bad type \`${rest}'`);
    mask |= bit;
    rest = rest.slice(comma + 1);
  }
  const bit = rest.length === 0 ? undefined : parseType(rest);
  if (bit === undefined) throw paramProblem(`addrtype: bad type "${rest}"`);
  return mask | bit;
}

function typesText(mask: number): string {
  return RTN_NAMES.filter((_, i) => mask & (1 << i)).join(',');
}

const O_SRC_TYPE = 0;
const O_DST_TYPE = 1;
const O_LIMIT_IFACE_IN = 2;
const O_LIMIT_IFACE_OUT = 3;

const opts: OptionEntry[] = [
  { name: 'src-type', id: O_SRC_TYPE, type: 'string', invert: true },
  { name: 'dst-type', id: O_DST_TYPE, type: 'string', invert: true },
  { name: 'limit-iface-in', id: O_LIMIT_IFACE_IN, type: 'none', excl: [O_LIMIT_IFACE_OUT] },
  { name: 'limit-iface-out', id: O_LIMIT_IFACE_OUT, type: 'none', excl: [O_LIMIT_IFACE_IN] },
];

export const addrtype: MatchExtension<AddrtypeData> = {
  kind: 'match',
  name: 'addrtype',
  revision: 1,
  // addrtype_help_v1() of libxt_addrtype.c, byte for byte as iptables 1.8.9 prints it
  help:
    'Address type match options:\n' +
    ' [!] --src-type type[,...]      Match source address type\n' +
    ' [!] --dst-type type[,...]      Match destination address type\n' +
    '     --limit-iface-in           Match only on the packet\'s incoming device\n' +
    '     --limit-iface-out          Match only on the packet\'s outgoing device\n' +
    '\n' +
    'Valid types:           \n' +
    '                                UNSPEC\n' +
    '                                UNICAST\n' +
    '                                LOCAL\n' +
    '                                BROADCAST\n' +
    '                                ANYCAST\n' +
    '                                MULTICAST\n' +
    '                                BLACKHOLE\n' +
    '                                UNREACHABLE\n' +
    '                                PROHIBIT\n' +
    '                                THROW\n' +
    '                                NAT\n' +
    '                                XRESOLVE\n',
  options: opts,
  init: () => ({ source: 0, dest: 0 }),
  parse({ entry, arg, invert, data }) {
    switch (entry.id) {
      case O_SRC_TYPE:
        data.source |= parseTypes(arg!);
        if (invert) data.invSource = true;
        break;
      case O_DST_TYPE:
        data.dest |= parseTypes(arg!);
        if (invert) data.invDest = true;
        break;
      case O_LIMIT_IFACE_IN:
        data.limitIn = true;
        break;
      case O_LIMIT_IFACE_OUT:
        data.limitOut = true;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (!(xflags & ((1 << O_SRC_TYPE) | (1 << O_DST_TYPE)))) {
      throw paramProblem('addrtype: you must specify --src-type or --dst-type');
    }
  },
  print(d) {
    let s = ' ADDRTYPE match';
    if (d.source) s += ` src-type ${d.invSource ? '!' : ''}${typesText(d.source)}`;
    if (d.dest) s += ` dst-type ${d.invDest ? '!' : ''}${typesText(d.dest)}`;
    if (d.limitIn) s += ' limit-in';
    if (d.limitOut) s += ' limit-out';
    return s;
  },
  save(d) {
    let s = '';
    if (d.source) s += `${d.invSource ? ' !' : ''} --src-type ${typesText(d.source)}`;
    if (d.dest) s += `${d.invDest ? ' !' : ''} --dst-type ${typesText(d.dest)}`;
    if (d.limitIn) s += ' --limit-iface-in';
    if (d.limitOut) s += ' --limit-iface-out';
    return s;
  },
  // addrtype_mt_checkentry_v1: the device to look on must exist at that hook; IPv6 has no
  // broadcast, blackhole or prohibit routes (measured: fixtures/cli/ip6tables-ext.case)
  kernelCheck(d, { hooks, frame }) {
    if (frame.family === 6) {
      const types = d.source | d.dest;
      const has = (t: AddrType) => (types & (1 << RTN_NAMES.indexOf(t))) !== 0;
      if (has('BLACKHOLE')) return 'ipv6 BLACKHOLE matching not supported';
      if (types >= 1 << RTN_NAMES.indexOf('PROHIBIT')) return 'ipv6 PROHIBIT (THROW, NAT ..) matching not supported';
      if (has('BROADCAST')) return 'ipv6 does not support BROADCAST matching';
    }
    if (d.limitIn && d.limitOut) return 'both incoming and outgoing interface limitation cannot be selected';
    if (d.limitOut && hooks.some((h) => h === 'PREROUTING' || h === 'INPUT')) {
      return 'output interface limitation not valid in PREROUTING and INPUT';
    }
    if (d.limitIn && hooks.some((h) => h === 'POSTROUTING' || h === 'OUTPUT')) {
      return 'input interface limitation not valid in POSTROUTING and OUTPUT';
    }
    return undefined;
  },
  // addrtype_mt_v1(): inet_dev_addr_type() of each address, on the chosen device when limited
  match(d, pkt, ctx) {
    const dev = d.limitIn ? pkt.inIface : d.limitOut ? pkt.outIface : undefined;
    const typeBit = (addr: number) => 1 << RTN_NAMES.indexOf(ctx.addrType(addr, dev));
    if (d.source && ((d.source & typeBit(pkt.src)) !== 0) === !!d.invSource) return false;
    if (d.dest && ((d.dest & typeBit(pkt.dst)) !== 0) === !!d.invDest) return false;
    return true;
  },
};
