/**
 * rt match (libip6t_rt.c, ip6t_rt): the IPv6 routing header's type, segments left, length,
 * reserved field and type-0 address list. ip6tables only; the lab keeps such rules but runs no
 * IPv6 packets (no match()). Hardening scripts use it as `-m rt --rt-type 0 -j DROP`.
 */
import { paramProblem } from '../../errors.js';
import { formatIp6, parseIp6 } from '../../net/ipv6.js';
import { rangeOf } from '../xtoptions.js';
import type { MatchExtension } from '../types.js';

const O_TYPE = 0;
const O_SEGSLEFT = 1;
const O_LEN = 2;
const O_RES = 3;
const O_ADDRS = 4;
const O_NSTRICT = 5;
/** IP6T_RT_HOPS */
const HOPS = 16;

export interface RtData {
  type?: number;
  invType?: boolean;
  /** segsleft[0..1]; 0:0xffffffff when not given */
  segsleft: [number, number];
  invSegsleft?: boolean;
  len?: number;
  invLen?: boolean;
  /** --rt-0-res */
  res?: boolean;
  /** --rt-0-addrs, as inet_ntop() writes them */
  addrs?: string[];
  /** --rt-0-not-strict */
  notStrict?: boolean;
}

/** print_nums(): nothing for the full range unless inverted */
function nums(name: string, [min, max]: [number, number], invert: boolean | undefined): string {
  if (min === 0 && max === 0xffffffff && !invert) return '';
  const inv = invert ? '!' : '';
  return min === max ? ` ${name}:${inv}${min}` : ` ${name}s:${inv}${min}:${max}`;
}

const type0Required = (what: string) => paramProblem(`\`--rt-type 0' required before \`${what}'`);

export const rt: MatchExtension<RtData> = {
  kind: 'match',
  name: 'rt',
  family: 6,
  // rt_help() of libip6t_rt.c
  help:
    'rt match options:\n' +
    '[!] --rt-type type             match the type\n' +
    '[!] --rt-segsleft num[:num]    match the Segments Left field (range)\n' +
    '[!] --rt-len length            total length of this header\n' +
    ' --rt-0-res                    check the reserved field too (type 0)\n' +
    ` --rt-0-addrs ADDR[,ADDR...]   Type=0 addresses (list, max: ${HOPS})\n` +
    ' --rt-0-not-strict             List of Type=0 addresses not a strict list\n',
  options: [
    { name: 'rt-type', id: O_TYPE, type: 'uint32', invert: true },
    { name: 'rt-segsleft', id: O_SEGSLEFT, type: 'uint32rc', invert: true },
    { name: 'rt-len', id: O_LEN, type: 'uint32', invert: true },
    { name: 'rt-0-res', id: O_RES, type: 'none' },
    { name: 'rt-0-addrs', id: O_ADDRS, type: 'string' },
    { name: 'rt-0-not-strict', id: O_NSTRICT, type: 'none' },
  ],
  // rt_init(): the segments-left range starts full
  init: () => ({ segsleft: [0, 0xffffffff] }),
  parse({ entry, val, arg, invert, xflags, data }) {
    const type0 = xflags & (1 << O_TYPE) && data.type === 0 && !data.invType;
    switch (entry.id) {
      case O_TYPE:
        data.type = val.num!;
        if (invert) data.invType = true;
        break;
      case O_SEGSLEFT:
        data.segsleft = rangeOf(val);
        if (invert) data.invSegsleft = true;
        break;
      case O_LEN:
        data.len = val.num!;
        if (invert) data.invLen = true;
        break;
      case O_RES:
        if (!type0) throw type0Required('--rt-0-res');
        data.res = true;
        break;
      case O_ADDRS: {
        if (!type0) throw type0Required('--rt-0-addrs');
        // parse_addresses(): at most IP6T_RT_HOPS, each inet_pton()'d
        const words = arg!.split(',');
        const addrs: string[] = [];
        for (const w of words.slice(0, HOPS)) {
          const a = parseIp6(w);
          if (!a) throw paramProblem(`bad address: ${w}`);
          addrs.push(formatIp6(a));
        }
        if (words.length > HOPS) throw paramProblem('too many addresses specified');
        data.addrs = addrs;
        break;
      }
      case O_NSTRICT:
        if (!(xflags & (1 << O_ADDRS))) throw paramProblem("`--rt-0-addr ...' required before `--rt-0-not-strict'");
        data.notStrict = true;
        break;
    }
  },
  print(d) {
    let s = ' rt';
    // (printed with %d: a type above 2^31 shows negative)
    if (d.type !== undefined) s += ` type:${d.invType ? '!' : ''}${d.type | 0}`;
    s += nums('segsleft', d.segsleft, d.invSegsleft);
    if (d.len !== undefined) s += ` length:${d.invLen ? '!' : ''}${d.len}`;
    if (d.res) s += ' reserved';
    if (d.addrs) s += ` 0-addrs ${d.addrs.join(',')}`;
    if (d.notStrict) s += ' 0-not-strict';
    return s;
  },
  save(d) {
    let s = '';
    if (d.type !== undefined) s += `${d.invType ? ' !' : ''} --rt-type ${d.type}`;
    const [lo, hi] = d.segsleft;
    if (!(lo === 0 && hi === 0xffffffff)) s += `${d.invSegsleft ? ' !' : ''} --rt-segsleft ${lo === hi ? lo : `${lo}:${hi}`}`;
    if (d.len !== undefined) s += `${d.invLen ? ' !' : ''} --rt-len ${d.len}`;
    if (d.res) s += ' --rt-0-res';
    if (d.addrs) s += ` --rt-0-addrs ${d.addrs.join(',')}`;
    if (d.notStrict) s += ' --rt-0-not-strict';
    return s;
  },
};
