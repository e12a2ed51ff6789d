/**
 * hbh and dst matches (libip6t_hbh.c, libip6t_dst.c; the kernel's ip6t_hbh serves both): the
 * length of the Hop-by-Hop or Destination Options header and a list of up to 16 options, each a
 * type with or without a length. ip6tables only; the lab keeps such rules but runs no IPv6 packets
 * (no match()). Measured: fixtures/cli/ip6tables-ext-headers.case.
 */
import { paramProblem } from '../../errors.js';
import { strtoumax } from '../../util/strtoul.js';
import type { MatchExtension } from '../types.js';

const O_LEN = 0;
const O_OPTS = 1;
/** IP6T_OPTS_OPTSNR */
const OPTSNR = 16;
/** an option given without a length keeps 0xFF in the low byte, and lists without one */
const NO_LEN = 0xff;

export interface OptsData {
  /** --hbh-len / --dst-len (IP6T_OPTS_LEN) */
  len?: number;
  invLen?: boolean;
  /** --hbh-opts / --dst-opts (IP6T_OPTS_OPTS): type << 8 | length, each as the kernel gets it */
  opts?: number[];
}

/**
 * parse_opts_num(): strtoul() in base 0, of which the caller keeps the low byte; only digits that
 * end the text and a value that fits an unsigned long pass (a minus sign wraps, as in C)
 */
function optsNum(ext: string, s: string, what: 'opt' | 'length'): number {
  const r = strtoumax(s);
  if (r.end === 0) throw paramProblem(`${ext}: no valid digits in ${what} \`${s}'`);
  if (r.overflow) throw paramProblem(`${what} \`${s}' specified too big: would overflow`);
  if (r.end < s.length) throw paramProblem(`${ext}: error parsing ${what} \`${s}'`);
  return Number(r.value & 0xffn);
}

/** parse_options(): "TYPE[:LEN],..." with at most 16 entries; type 0 (Pad1) takes no length */
function parseOpts(ext: string, arg: string, pad0: string): number[] {
  const words = arg.split(',');
  const opts: number[] = [];
  for (const w of words.slice(0, OPTSNR)) {
    const colon = w.indexOf(':');
    if (colon >= 0 && opts.length === OPTSNR - 1) throw paramProblem('too many ports specified');
    const type = optsNum(ext, colon < 0 ? w : w.slice(0, colon), 'opt');
    if (colon < 0) {
      opts.push((type << 8) | NO_LEN);
      continue;
    }
    if (type === 0) throw paramProblem(pad0);
    opts.push((type << 8) | optsNum(ext, w.slice(colon + 1), 'length'));
  }
  if (words.length > OPTSNR) throw paramProblem('too many addresses specified');
  return opts;
}

/** print_options(): " TYPE[:LEN],TYPE[:LEN]..." */
const optsText = (opts: number[]): string =>
  opts.map((o, i) => `${i === 0 ? ' ' : ','}${o >> 8}${(o & 0xff) === NO_LEN ? '' : `:${o & 0xff}`}`).join('');

function optionsMatch(name: 'hbh' | 'dst', help: string, pad0: string): MatchExtension<OptsData> {
  return {
    kind: 'match',
    name,
    family: 6,
    help,
    options: [
      { name: `${name}-len`, id: O_LEN, type: 'uint32', invert: true },
      { name: `${name}-opts`, id: O_OPTS, type: 'string' },
    ],
    init: () => ({}),
    parse({ entry, val, arg, invert, data }) {
      if (entry.id === O_LEN) {
        data.len = val.num!;
        if (invert) data.invLen = true;
      } else data.opts = parseOpts(name, arg!, pad0);
    },
    print(d) {
      let s = ` ${name}`;
      if (d.len !== undefined) s += ` length:${d.invLen ? '!' : ''}${d.len}`;
      if (d.opts) s += ` opts${optsText(d.opts)}`;
      return s;
    },
    save(d) {
      let s = '';
      if (d.len !== undefined) s += `${d.invLen ? ' !' : ''} --${name}-len ${d.len}`;
      if (d.opts) s += ` --${name}-opts${optsText(d.opts)}`;
      return s;
    },
  };
}

// hbh_help() and dst_help(), byte for byte as ip6tables 1.8.9 prints them
export const hbh = optionsMatch(
  'hbh',
  'hbh match options:\n' +
    '[!] --hbh-len length            total length of this header\n' +
    '  --hbh-opts TYPE[:LEN][,TYPE[:LEN]...] \n' +
    `                                Options and its length (list, max: ${OPTSNR})\n`,
  'PAD0 has not got length',
);

export const dst = optionsMatch(
  'dst',
  'dst match options:\n' +
    '[!] --dst-len length            total length of this header\n' +
    '  --dst-opts TYPE[:LEN][,TYPE[:LEN]...]\n' +
    `                                Options and its length (list, max: ${OPTSNR})\n`,
  "PAD0 hasn't got length",
);
