/**
 * physdev match (libxt_physdev, xt_physdev): the bridge ports a bridged packet (br_netfilter)
 * came in on and goes out of.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface PhysdevData {
  in?: string;
  out?: string;
  isIn?: boolean;
  isOut?: boolean;
  bridged?: boolean;
  invIn?: boolean;
  invOut?: boolean;
  invIsIn?: boolean;
  invIsOut?: boolean;
  invBridged?: boolean;
}

const O_PHYSDEV_IN = 0;
const O_PHYSDEV_OUT = 1;
const O_PHYSDEV_IS_IN = 2;
const O_PHYSDEV_IS_OUT = 3;
const O_PHYSDEV_IS_BRIDGED = 4;

const opts: OptionEntry[] = [
  { name: 'physdev-in', id: O_PHYSDEV_IN, type: 'string', invert: true },
  { name: 'physdev-out', id: O_PHYSDEV_OUT, type: 'string', invert: true },
  { name: 'physdev-is-in', id: O_PHYSDEV_IS_IN, type: 'none', invert: true },
  { name: 'physdev-is-out', id: O_PHYSDEV_IS_OUT, type: 'none', invert: true },
  { name: 'physdev-is-bridged', id: O_PHYSDEV_IS_BRIDGED, type: 'none', invert: true },
];

/** xtables_parse_interface(): IFNAMSIZ 16 including the NUL; '/' and ' ' only warned about */
function parseInterface(arg: string, warn?: (text: string) => void): string {
  if (arg.length + 1 > 16) throw paramProblem(`interface name \`${arg}' must be shorter than IFNAMSIZ (15)`);
  if (/[/ ]/.test(arg)) {
    warn?.(`Warning: weird character in interface \`${arg}' ('/' and ' ' are not allowed by the kernel).\n`);
  }
  return arg;
}

/**
 * ifname_compare_aligned() with the mask xtables_parse_interface() built: "name+" compares the
 * bytes before the '+', a plain name the whole name and its NUL, "" nothing (always equal).
 */
export function ifaceMatches(dev: string, pattern: string): boolean {
  if (pattern === '') return true;
  if (pattern.endsWith('+')) return dev.startsWith(pattern.slice(0, -1));
  return dev === pattern;
}

function render(d: PhysdevData): string {
  const inv = (b?: boolean) => (b ? ' !' : '');
  let s = '';
  if (d.isIn) s += `${inv(d.invIsIn)} --physdev-is-in`;
  if (d.in !== undefined) s += `${inv(d.invIn)} --physdev-in ${d.in}`;
  if (d.isOut) s += `${inv(d.invIsOut)} --physdev-is-out`;
  if (d.out !== undefined) s += `${inv(d.invOut)} --physdev-out ${d.out}`;
  if (d.bridged) s += `${inv(d.invBridged)} --physdev-is-bridged`;
  return s;
}

export const physdev: MatchExtension<PhysdevData> = {
  kind: 'match',
  name: 'physdev',
  // physdev_help() of libxt_physdev.c, byte for byte as iptables 1.8.9 prints it
  help:
    'physdev match options:\n' +
    ' [!] --physdev-in inputname[+]\t\tbridge port name ([+] for wildcard)\n' +
    ' [!] --physdev-out outputname[+]\tbridge port name ([+] for wildcard)\n' +
    ' [!] --physdev-is-in\t\t\tarrived on a bridge device\n' +
    ' [!] --physdev-is-out\t\t\twill leave on a bridge device\n' +
    ' [!] --physdev-is-bridged\t\tit\'s a bridged packet\n',
  options: opts,
  init: () => ({}),
  parse({ entry, arg, invert, data, warn }) {
    switch (entry.id) {
      case O_PHYSDEV_IN:
        data.in = parseInterface(arg!, warn);
        if (invert) data.invIn = true;
        break;
      case O_PHYSDEV_OUT:
        data.out = parseInterface(arg!, warn);
        if (invert) data.invOut = true;
        break;
      case O_PHYSDEV_IS_IN:
        data.isIn = true;
        if (invert) data.invIsIn = true;
        break;
      case O_PHYSDEV_IS_OUT:
        data.isOut = true;
        if (invert) data.invIsOut = true;
        break;
      case O_PHYSDEV_IS_BRIDGED:
        data.bridged = true;
        if (invert) data.invBridged = true;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('PHYSDEV: no physdev option specified');
  },
  print: (d) => ` PHYSDEV match${render(d)}`,
  save: (d) => render(d),
  /**
   * physdev_mt_check(): in OUTPUT the output bridge port is not known yet, so --physdev-out and
   * --physdev-is-out are refused there unless the rule also demands a bridged packet.
   */
  kernelCheck(d, { hooks }) {
    if ((d.out !== undefined || d.isOut) && (!d.bridged || d.invBridged) && hooks.includes('OUTPUT')) {
      return '--physdev-out and --physdev-is-out only supported in the FORWARD and POSTROUTING chains with bridged traffic';
    }
    return undefined;
  },
  /**
   * physdev_mt(). A packet that did not cross a bridge (no br_netfilter info) matches only when
   * every given test is inverted. A bridged packet knows its output port only once it is being
   * bridged further (FORWARD/POSTROUTING of a bridged packet).
   */
  match(d, pkt) {
    const indev = pkt.physIn;
    const outdev = pkt.physOut;
    if (indev === undefined && outdev === undefined) {
      if (d.bridged && !d.invBridged) return false;
      if (d.isIn && !d.invIsIn) return false;
      if (d.isOut && !d.invIsOut) return false;
      if (d.in !== undefined && !d.invIn) return false;
      if (d.out !== undefined && !d.invOut) return false;
      return true;
    }
    if (d.bridged && (outdev !== undefined) === !!d.invBridged) return false;
    if (d.isIn && (indev !== undefined) === !!d.invIsIn) return false;
    if (d.isOut && (outdev !== undefined) === !!d.invIsOut) return false;
    if (d.in !== undefined && indev !== undefined && ifaceMatches(indev, d.in) === !!d.invIn) return false;
    if (d.out === undefined || outdev === undefined) return true;
    return ifaceMatches(outdev, d.out) !== !!d.invOut;
  },
};
