/**
 * mh match (libip6t_mh.c, ip6t_mh): the Mobile IPv6 Mobility Header's type or range of types. The
 * kernel takes it only in a rule of `-p mobility-header` (135). ip6tables only; the lab keeps such
 * rules but runs no IPv6 packets (no match()). Measured: fixtures/cli/ip6tables-ext-headers.case.
 */
import { paramProblem } from '../../errors.js';
import { parseUint } from '../../util/strtoul.js';
import { needsProtocol } from '../util/proto.js';
import type { MatchExtension } from '../types.js';

export interface MhData {
  /** types[0], types[1]: 0:255 matches every type */
  min: number;
  max: number;
  invert?: boolean;
}

/** mh_names[]: each type's name, then its alias */
const MH_NAMES: [string, number][] = [
  ['binding-refresh-request', 0],
  ['brr', 0],
  ['home-test-init', 1],
  ['hoti', 1],
  ['careof-test-init', 2],
  ['coti', 2],
  ['home-test', 3],
  ['hot', 3],
  ['careof-test', 4],
  ['cot', 4],
  ['binding-update', 5],
  ['bu', 5],
  ['binding-acknowledgement', 6],
  ['ba', 6],
  ['binding-error', 7],
  ['be', 7],
];

/**
 * name_to_type(): the first name the text begins (case-insensitively), unless a later one is the
 * text itself; otherwise a number 0-255 in base 0
 */
function mhType(s: string): number {
  const low = s.toLowerCase();
  let found: [string, number] | undefined;
  for (const entry of MH_NAMES) if (entry[0].startsWith(low) && (!found || entry[0].length === low.length)) found = entry;
  if (found) return found[1];
  const n = parseUint(s, 0, 255);
  if (n === undefined) throw paramProblem(`Invalid MH type \`${s}'`);
  return n;
}

/** print_type(): the type's name unless numeric or unnamed */
const typeText = (t: number, numeric: boolean): string => (numeric ? undefined : MH_NAMES.find(([, n]) => n === t)?.[0]) ?? `${t}`;

export const mh: MatchExtension<MhData> = {
  kind: 'match',
  name: 'mh',
  family: 6,
  // mh_help() and print_types_all() of libip6t_mh.c, byte for byte as ip6tables 1.8.9 prints them
  help:
    'mh match options:\n' +
    '[!] --mh-type type[:type]\tmatch mh type\n' +
    'Valid MH types:' +
    MH_NAMES.map(([name, t], i) => (i && MH_NAMES[i - 1]![1] === t ? ` (${name})` : `\n${name}`)).join('') +
    '\n',
  options: [{ name: 'mh-type', id: 0, type: 'string', invert: true }],
  // mh_init(): every type
  init: () => ({ min: 0, max: 0xff }),
  parse({ arg, invert, data }) {
    const colon = arg!.indexOf(':');
    if (colon < 0) data.min = data.max = mhType(arg!);
    else {
      const lo = arg!.slice(0, colon);
      const hi = arg!.slice(colon + 1);
      data.min = lo ? mhType(lo) : 0;
      data.max = hi ? mhType(hi) : 0xff;
      if (data.min > data.max) throw paramProblem('Invalid MH type range (min > max)');
    }
    if (invert) data.invert = true;
  },
  print(d, { numeric }) {
    let s = ' mh';
    if (d.min !== 0 || d.max !== 0xff || d.invert) {
      s += ` ${d.invert ? '!' : ''}${typeText(d.min, numeric)}`;
      if (d.min !== d.max) s += `:${typeText(d.max, numeric)}`;
    }
    return s;
  },
  // mh_save(): nothing for every type, inverted or not
  save(d) {
    if (d.min === 0 && d.max === 0xff) return '';
    return `${d.invert ? ' !' : ''} --mh-type ${d.min === d.max ? d.min : `${d.min}:${d.max}`}`;
  },
  // mh_mt6 has .proto = IPPROTO_MH
  kernelCheck: needsProtocol(135, 'mobility-header', 'the mh match'),
};
