/**
 * ipvs match (libxt_ipvs.c of iptables 1.8.9, both families). iptables ships the extension, but the
 * kernel the lab models (Linux 6.18 as measured) has no xt_ipvs module, and the lab has no IPVS:
 * iptables warns when it loads the match, parses and checks the options as usual, and the kernel
 * refuses every rule using it with ENOENT (measured, fixtures/cli/ext-ipvs.case). print/save are
 * kept as the C code writes them although no rule can carry the match.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension } from '../types.js';
import { hostmask6, paramAct } from '../xtoptions.js';
import { dumpAddr, type CtAddr, type CtAddr6 } from './conntrack.js';

// option ids, in XT_IPVS_*'s bit order
const O_IPVS = 0;
const O_VPROTO = 1;
const O_VADDR = 2;
const O_VPORT = 3;
const O_VDIR = 4;
const O_VMETHOD = 5;
const O_VPORTCTL = 6;

/** xt_ipvs.h */
const XT_IPVS_IPVS_PROPERTY = 1 << O_IPVS;
const XT_IPVS_DIR = 1 << O_VDIR;
const XT_IPVS_ONCE_MASK = ((1 << 7) - 1) & ~XT_IPVS_IPVS_PROPERTY;

/** ip_vs.h: IP_VS_CONN_F_MASQ, _TUNNEL, _DROUTE by --vmethod's names */
const METHODS: [string, number][] = [
  ['GATE', 3],
  ['IPIP', 2],
  ['MASQ', 0],
];

/** struct xt_ipvs_mtinfo */
export interface IpvsData {
  /** XT_IPVS_* bits given, and those negated (for --vdir: REPLY) */
  bitmask: number;
  invert: number;
  l4proto: number;
  /** --vaddr: IPv4 address and mask, or IPv6 text and prefix length */
  vaddr?: CtAddr | CtAddr6;
  vport: number;
  fwdMethod: number;
  vportctl: number;
}

/** ipvs_mt_dump(): -L (prefix "") and -S (prefix "--", numeric) */
function dump(d: IpvsData, numeric: boolean, prefix: string): string {
  const bit = (id: number) => d.bitmask & (1 << id);
  const inv = (id: number) => (d.invert & (1 << id) ? ' !' : '');
  let s = '';
  if (d.bitmask === XT_IPVS_IPVS_PROPERTY) s += `${inv(O_IPVS)} ${prefix}ipvs`;
  if (bit(O_VPROTO)) s += `${inv(O_VPROTO)} ${prefix}proto ${d.l4proto}`;
  if (bit(O_VADDR)) s += `${inv(O_VADDR)} ${prefix}vaddr${dumpAddr(d.vaddr ?? { addr: 0, mask: 0 }, numeric)}`;
  if (bit(O_VPORT)) s += `${inv(O_VPORT)} ${prefix}vport ${d.vport}`;
  if (bit(O_VDIR)) s += ` ${prefix}vdir ${d.invert & XT_IPVS_DIR ? 'REPLY' : 'ORIGINAL'}`;
  if (bit(O_VMETHOD)) s += `${inv(O_VMETHOD)} ${prefix}vmethod ${METHODS.find(([, v]) => v === d.fwdMethod)?.[0] ?? 'UNKNOWN'}`;
  if (bit(O_VPORTCTL)) s += `${inv(O_VPORTCTL)} ${prefix}vportctl ${d.vportctl}`;
  return s;
}

export const ipvs: MatchExtension<IpvsData> = {
  kind: 'match',
  name: 'ipvs',
  revision: 0,
  v6Addresses: true,
  missingKernelModule: 'the kernel the lab models has no xt_ipvs module and the lab runs no IPVS (Linux 6.18 here: measured)',
  // ipvs_mt_help() of libxt_ipvs.c
  help:
    'IPVS match options:\n' +
    '[!] --ipvs                      packet belongs to an IPVS connection\n' +
    '\n' +
    'Any of the following options implies --ipvs (even negated)\n' +
    '[!] --vproto protocol           VIP protocol to match; by number or name,\n' +
    '                                e.g. "tcp"\n' +
    '[!] --vaddr address[/mask]      VIP address to match\n' +
    '[!] --vport port                VIP port to match; by number or name,\n' +
    '                                e.g. "http"\n' +
    '    --vdir {ORIGINAL|REPLY}     flow direction of packet\n' +
    '[!] --vmethod {GATE|IPIP|MASQ}  IPVS forwarding method used\n' +
    '[!] --vportctl port             VIP port of the controlling connection to\n' +
    '                                match, e.g. 21 for FTP\n',
  options: [
    { name: 'ipvs', id: O_IPVS, type: 'none', invert: true },
    { name: 'vproto', id: O_VPROTO, type: 'protocol', invert: true },
    { name: 'vaddr', id: O_VADDR, type: 'hostmask', invert: true },
    { name: 'vport', id: O_VPORT, type: 'port', invert: true },
    { name: 'vdir', id: O_VDIR, type: 'string' },
    { name: 'vmethod', id: O_VMETHOD, type: 'string', invert: true },
    { name: 'vportctl', id: O_VPORTCTL, type: 'port', invert: true },
  ],
  init: () => ({ bitmask: 0, invert: 0, l4proto: 0, vport: 0, fwdMethod: 0, vportctl: 0 }),
  parse({ entry, arg, val, invert, data, frame }) {
    switch (entry.id) {
      case O_VPROTO:
        data.l4proto = val.protocol!;
        break;
      case O_VADDR:
        if (frame.family === 6) {
          const [addr6, mask6] = hostmask6(val);
          data.vaddr = { addr6, mask6 };
        } else data.vaddr = { addr: val.haddr!, mask: val.hmask! };
        break;
      case O_VPORT:
        data.vport = val.port!;
        break;
      case O_VDIR: {
        const dir = arg!.toUpperCase();
        if (dir !== 'ORIGINAL' && dir !== 'REPLY') throw paramAct.badValue('ipvs', '--vdir', arg!);
        data.bitmask |= XT_IPVS_DIR;
        data.invert = dir === 'REPLY' ? data.invert | XT_IPVS_DIR : data.invert & ~XT_IPVS_DIR;
        break;
      }
      case O_VMETHOD: {
        const m = METHODS.find(([n]) => n === arg!.toUpperCase());
        if (!m) throw paramAct.badValue('ipvs', '--vmethod', arg!);
        data.fwdMethod = m[1];
        break;
      }
      case O_VPORTCTL:
        data.vportctl = val.port!;
        break;
    }
    data.bitmask |= 1 << entry.id;
    if (invert) data.invert |= 1 << entry.id;
  },
  finalCheck({ xflags, data }) {
    if (xflags === 0) throw paramProblem('IPVS: At least one option is required');
    if (data.bitmask & XT_IPVS_ONCE_MASK) {
      if (data.invert & XT_IPVS_IPVS_PROPERTY) throw paramProblem('! --ipvs cannot be together with other options');
      data.bitmask |= XT_IPVS_IPVS_PROPERTY;
    }
  },
  print: (d, { numeric }) => dump(d, numeric, ''),
  save: (d) => dump(d, true, '--'),
};
