/**
 * DSCP target (libxt_DSCP.c + dscp_helper.c of iptables 1.8.9, net/netfilter/xt_DSCP.c): set the
 * six DSCP bits of the TOS byte, keeping the two ECN bits. Mangle table only.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

const O_SET_DSCP = 0;
const O_SET_DSCP_CLASS = 1;

export interface DscpData {
  dscp: number;
}

/** ds_classes[] of dscp_helper.c, in its lookup order */
const DS_CLASSES: [string, number][] = [
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
 * class_to_dscp(): strncasecmp(name, class, strlen(class)), so the argument only has to start
 * with a class name ("cs10" is CS1, "BEE" is BE).
 */
export function classToDscp(name: string): number {
  for (const [cls, v] of DS_CLASSES) {
    if (name.slice(0, cls.length).toUpperCase() === cls) return v;
  }
  throw paramProblem(`Invalid DSCP value \`${name}'`);
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

export const DSCP: TargetExtension<DscpData> = {
  kind: 'target',
  name: 'DSCP',
  revision: 0,
  // DSCP_help() of libxt_DSCP.c, byte for byte as iptables 1.8.9 prints it
  help:
    'DSCP target options\n' +
    '  --set-dscp value\t\tSet DSCP field in packet header to value\n' +
    '  \t\t                This value can be in decimal (ex: 32)\n' +
    '               \t\tor in hex (ex: 0x20)\n' +
    '  --set-dscp-class class\tSet the DSCP field in packet header to the\n' +
    '\t\t\t\tvalue represented by the DiffServ class value.\n' +
    '\t\t\t\tThis class may be EF,BE or any of the CSxx\n' +
    '\t\t\t\tor AFxx classes.\n' +
    '\n' +
    '\t\t\t\tThese two options are mutually exclusive !\n',
  options: [
    { name: 'set-dscp', id: O_SET_DSCP, type: 'uint8', min: 0, max: 0x3f, excl: [O_SET_DSCP_CLASS] },
    { name: 'set-dscp-class', id: O_SET_DSCP_CLASS, type: 'string', excl: [O_SET_DSCP] },
  ],
  init: () => ({ dscp: 0 }),
  parse({ entry, arg, val, data }) {
    data.dscp = entry.id === O_SET_DSCP ? val.num! : classToDscp(arg!);
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('DSCP target: Parameter --set-dscp is required');
  },
  print: (d) => ` DSCP set ${hex2(d.dscp)}`,
  save: (d) => ` --set-dscp ${hex2(d.dscp)}`,
  tables: ['mangle'],
  // dscp_tg(): rewrite the DS field only when the DSCP differs; ECN (low two bits) is kept
  apply(d, pkt) {
    const before = pkt.tos;
    if (pkt.tos >> 2 !== d.dscp) pkt.tos = (pkt.tos & 0x03) | (d.dscp << 2);
    return { verdict: 'CONTINUE', note: `DSCP tos ${hex2(before)} -> ${hex2(pkt.tos)}` };
  },
};
