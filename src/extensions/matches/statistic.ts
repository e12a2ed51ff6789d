/**
 * statistic match (libxt_statistic, xt_statistic). The probability is stored as a 31-bit
 * fraction (lround(p * 2^31)) in the same union slot as nth's "every - 1"; -L/-S print that
 * stored fraction with %.11f.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

const MODE_RANDOM = 0;
const MODE_NTH = 1;

export interface StatisticData {
  mode: number;
  invert: boolean;
  /** union u: random.probability or nth.every (already decremented), one u32 */
  u0: number;
  /** nth.packet */
  packet: number;
  /** nth.count: the counter's start value handed to the kernel (every - packet) */
  count: number;
}

const O_MODE = 0;
const O_PROBABILITY = 1;
const O_EVERY = 2;
const O_PACKET = 3;

const opts: OptionEntry[] = [
  { name: 'mode', id: O_MODE, type: 'string', mandatory: true },
  { name: 'probability', id: O_PROBABILITY, type: 'double', invert: true, min: 0, max: 1, excl: [O_EVERY, O_PACKET] },
  { name: 'every', id: O_EVERY, type: 'uint32', min: 1, invert: true, excl: [O_PROBABILITY], also: [O_PACKET] },
  { name: 'packet', id: O_PACKET, type: 'uint32', excl: [O_PROBABILITY], also: [O_EVERY] },
];

const TWO31 = 0x80000000n;

/** printf("%.11f", p / 2^31) with glibc's exact round-half-to-even */
export function probabilityText(p: number): string {
  const scaled = BigInt(p) * 10n ** 11n;
  let q = scaled / TWO31;
  const r2 = (scaled % TWO31) * 2n;
  if (r2 > TWO31 || (r2 === TWO31 && q % 2n === 1n)) q += 1n;
  const int = q / 10n ** 11n;
  const frac = (q % 10n ** 11n).toString().padStart(11, '0');
  return `${int}.${frac}`;
}

function printMatch(d: StatisticData, prefix: string): string {
  const inv = d.invert ? ' !' : '';
  if (d.mode === MODE_RANDOM) {
    return ` ${prefix}mode random${inv} ${prefix}probability ${probabilityText(d.u0)}`;
  }
  if (d.mode === MODE_NTH) {
    let s = ` ${prefix}mode nth${inv} ${prefix}every ${(d.u0 + 1) >>> 0}`;
    if (d.packet || prefix) s += ` ${prefix}packet ${d.packet}`;
    return s;
  }
  return '';
}

export const statistic: MatchExtension<StatisticData> = {
  kind: 'match',
  name: 'statistic',
  // statistic_help() of libxt_statistic.c, byte for byte as iptables 1.8.9 prints it
  help:
    'statistic match options:\n' +
    ' --mode mode                    Match mode (random, nth)\n' +
    ' random mode:\n' +
    '[!] --probability p\t\t Probability\n' +
    ' nth mode:\n' +
    '[!] --every n\t\t\t Match every nth packet\n' +
    ' --packet p\t\t\t Initial counter value (0 <= p <= n-1, default 0)\n',
  options: opts,
  // no init in C: the data starts zeroed, so the mode is "random"
  init: () => ({ mode: MODE_RANDOM, invert: false, u0: 0, packet: 0, count: 0 }),
  parse({ entry, arg, invert, val, data }) {
    if (invert) data.invert = true;
    switch (entry.id) {
      case O_MODE:
        if (arg === 'random') data.mode = MODE_RANDOM;
        else if (arg === 'nth') data.mode = MODE_NTH;
        else throw paramProblem(`Bad mode "${arg}"`);
        break;
      case O_PROBABILITY:
        // lround(): halves away from zero; p * 2^31 is exact in a double
        data.u0 = Math.round(0x80000000 * val.dbl!) >>> 0;
        break;
      case O_EVERY:
        data.u0 = (val.num! - 1) >>> 0;
        break;
      case O_PACKET:
        data.packet = val.num!;
        break;
    }
  },
  finalCheck({ data, xflags }) {
    const has = (id: number) => (xflags & (1 << id)) !== 0;
    if (data.mode === MODE_RANDOM && !has(O_PROBABILITY)) {
      throw paramProblem('--probability must be specified when using random mode');
    }
    if (data.mode === MODE_NTH && !has(O_EVERY) && !has(O_PACKET)) {
      throw paramProblem('--every and --packet must be specified when using nth mode');
    }
    // the union slot holds every-1 here (or the probability in random mode)
    if (data.packet > data.u0) throw paramProblem('the --packet p must be 0 <= p <= n-1');
    data.count = (data.u0 - data.packet) >>> 0;
  },
  print: (d) => ` statistic${printMatch(d, '')}`,
  save: (d) => printMatch(d, '--'),
  /**
   * statistic_mt(): random draws get_random_u32() & 0x7fffffff and matches below the stored
   * fraction; nth advances a per-rule counter (starting at every - packet) that wraps from
   * every-1 to 0 and matches on reaching 0. Inversion flips either result.
   */
  match(d, _pkt, ctx) {
    let ret = d.invert;
    if (d.mode === MODE_RANDOM) {
      // statistic_mt(): (get_random_u32() & 0x7FFFFFFF) < probability
      if (ctx.draw(d.u0 / 0x80000000)) ret = !ret;
    } else if (d.mode === MODE_NTH) {
      const st = ctx.state(() => ({ count: d.count }));
      const nval = st.count === d.u0 ? 0 : (st.count + 1) >>> 0;
      st.count = nval;
      if (nval === 0) ret = !ret;
    }
    return ret;
  },
};
