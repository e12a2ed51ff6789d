/**
 * dscp match (libxt_dscp, xt_dscp): the six DSCP bits of the TOS byte, by number (0-63) or by
 * DiffServ class name.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface DscpData {
  dscp: number;
  invert?: boolean;
}

const O_DSCP = 0;
const O_DSCP_CLASS = 1;

const opts: OptionEntry[] = [
  { name: 'dscp', id: O_DSCP, type: 'uint8', min: 0, max: 0x3f, invert: true, excl: [O_DSCP_CLASS] },
  { name: 'dscp-class', id: O_DSCP_CLASS, type: 'string', invert: true, excl: [O_DSCP] },
];

/** dscp_helper.c ds_classes[], in its order (CS0 and BE are both 0) */
export const DS_CLASSES: [string, number][] = [
  ['CS0', 0x00],
  ['CS1', 0x08],
  ['CS2', 0x10],
  ['CS3', 0x18],
  ['CS4', 0x20],
  ['CS5', 0x28],
  ['CS6', 0x30],
  ['CS7', 0x38],
  ['BE', 0x00],
  ['AF11', 0x0a],
  ['AF12', 0x0c],
  ['AF13', 0x0e],
  ['AF21', 0x12],
  ['AF22', 0x14],
  ['AF23', 0x16],
  ['AF31', 0x1a],
  ['AF32', 0x1c],
  ['AF33', 0x1e],
  ['AF41', 0x22],
  ['AF42', 0x24],
  ['AF43', 0x26],
  ['EF', 0x2e],
];

/**
 * class_to_dscp(): strncasecmp over the class name's length, so the argument only has to start
 * with a class name ("EFX" is EF, "AF4321" is AF43).
 */
export function classToDscp(name: string): number {
  const up = name.toUpperCase();
  for (const [cls, v] of DS_CLASSES) if (up.startsWith(cls)) return v;
  throw paramProblem(`Invalid DSCP value \`${name}'`);
}

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

export const dscp: MatchExtension<DscpData> = {
  kind: 'match',
  name: 'dscp',
  // dscp_help() of libxt_dscp.c, byte for byte as iptables 1.8.9 prints it
  help:
    'dscp match options\n' +
    '[!] --dscp value\t\tMatch DSCP codepoint with numerical value\n' +
    '  \t\t                This value can be in decimal (ex: 32)\n' +
    '               \t\tor in hex (ex: 0x20)\n' +
    '[!] --dscp-class name\t\tMatch the DiffServ class. This value may\n' +
    '\t\t\t\tbe any of the BE,EF, AFxx or CSx classes\n' +
    '\n' +
    '\t\t\t\tThese two options are mutually exclusive !\n',
  options: opts,
  init: () => ({ dscp: 0 }),
  parse({ entry, arg, invert, val, data }) {
    data.dscp = entry.id === O_DSCP ? val.num! : classToDscp(arg!);
    if (invert) data.invert = true;
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('DSCP match: Parameter --dscp is required');
  },
  print: (d) => ` DSCP match ${d.invert ? '!' : ''}${hex2(d.dscp)}`,
  save: (d) => `${d.invert ? ' !' : ''} --dscp ${hex2(d.dscp)}`,
  // dscp_mt(): the upper six bits of the TOS byte
  match: (d, pkt) => (pkt.tos >> 2 === d.dscp) !== !!d.invert,
};
