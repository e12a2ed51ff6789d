/**
 * limit match (libxt_limit). iptables-nft does not send it to the kernel as an xt match: it turns
 * it into a native nft `limit` expression (nft.c add_nft_limit: rate per day/hour/minute/second
 * plus burst) and, when listing, rebuilds the xt data from that (nft-shared.c nft_parse_limit).
 * The kernel's nft_limit replaces a burst of 0 by its default 5 and dumps that. Packet
 * semantics are therefore nft_limit's token bucket, not xt_limit's credits.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { atoi, rateText, rateUnit, type RateName } from '../util/rate.js';

export interface LimitData {
  /** xt_rateinfo.avg: seconds between packets * XT_LIMIT_SCALE */
  avg: number;
  burst: number;
}

const XT_LIMIT_SCALE = 10000;
const XT_LIMIT_BURST = 5;
/** NFT_LIMIT_PKT_BURST_DEFAULT of nft_limit.c */
const NFT_LIMIT_PKT_BURST_DEFAULT = 5;

const RATES: RateName[] = [
  { name: 'day', mult: BigInt(XT_LIMIT_SCALE * 24 * 60 * 60) },
  { name: 'hour', mult: BigInt(XT_LIMIT_SCALE * 60 * 60) },
  { name: 'min', mult: BigInt(XT_LIMIT_SCALE * 60) },
  { name: 'sec', mult: BigInt(XT_LIMIT_SCALE) },
];

/** parse_rate(): undefined for "bad rate", throws for a rate that maps to a period of 0 */
function parseRate(rate: string): number | undefined {
  const mult = rateUnit(rate);
  if (mult === undefined) return undefined;
  // atoi() stored in a uint32_t: "-5" becomes 4294967291
  const r = atoi(rate) >>> 0;
  if (!r) return undefined;
  const val = Math.floor((XT_LIMIT_SCALE * mult) / r) >>> 0;
  if (val === 0) throw paramProblem(`Rate too fast "${rate}"`);
  return val;
}

/**
 * add_nft_limit() picks the unit the same way print_rate() does and stores rate = mult/avg and
 * unit = mult/XT_LIMIT_SCALE seconds; nft_parse_limit() reads avg = XT_LIMIT_SCALE*unit/rate.
 */
export function nftLimitRoundTrip(avg: number): { rate: bigint; unit: bigint; avg: number } {
  const a = BigInt(avg);
  let i = 1;
  for (; i < RATES.length; i++) {
    const m = RATES[i]!.mult;
    if (a > m || m / a < m % a) break;
  }
  const m = RATES[i - 1]!.mult;
  const rate = m / a;
  const unit = m / BigInt(XT_LIMIT_SCALE);
  return { rate, unit, avg: Number(BigInt.asUintN(32, (BigInt(XT_LIMIT_SCALE) * unit) / rate)) };
}

function rateStr(avg: number): string {
  return ` ${rateText(BigInt(avg), RATES).text}`;
}

const opts: OptionEntry[] = [
  { name: 'limit', id: 0, type: 'string' },
  { name: 'limit-burst', id: 1, type: 'uint32', min: 0, max: 10000 },
];

interface Bucket {
  /** nanoseconds of credit, as decimal strings (they exceed 2^53) */
  tokens: string;
  last: string;
}

export const limit: MatchExtension<LimitData> = {
  kind: 'match',
  name: 'limit',
  // limit_help() of libxt_limit.c, byte for byte as iptables 1.8.9 prints it
  help:
    'limit match options:\n' +
    '--limit avg\t\t\tmax average match rate: default 3/hour\n' +
    '                                [Packets per second unless followed by \n' +
    '                                /sec /minute /hour /day postfixes]\n' +
    '--limit-burst number\t\tnumber to match in a burst, default 5\n',
  options: opts,
  // limit_init(): "3/hour", burst 5
  init: () => ({ avg: parseRate('3/hour')!, burst: XT_LIMIT_BURST }),
  parse({ entry, arg, invert, val, data }) {
    if (entry.id === 0) {
      const avg = parseRate(arg!);
      if (avg === undefined) throw paramProblem(`bad rate "${arg}"'`);
      data.avg = avg;
    } else {
      data.burst = val.num!;
    }
    // unreachable for x6 options without XTOPT_INVERT (the generic check refuses first), kept as in C
    if (invert) throw paramProblem('limit does not support invert');
  },
  print: (d) => ` limit: avg${rateStr(d.avg)} burst ${d.burst}`,
  save: (d) => ` --limit${rateStr(d.avg)}${d.burst !== XT_LIMIT_BURST ? ` --limit-burst ${d.burst}` : ''}`,
  canonicalize(d) {
    return {
      avg: nftLimitRoundTrip(d.avg).avg,
      // nft_limit_init(): a packet limit with burst 0 gets the default burst, and is dumped so
      burst: d.burst === 0 ? NFT_LIMIT_PKT_BURST_DEFAULT : d.burst,
    };
  },
  /**
   * nft_limit_pkts_eval(): a bucket of nanoseconds, full at the start, refilled by elapsed time
   * up to cost*burst; each packet costs unit*1e9/rate ns and matches while that much is left.
   */
  match(d, _pkt, ctx) {
    const { rate, unit } = nftLimitRoundTrip(d.avg);
    const burst = BigInt(d.burst || NFT_LIMIT_PKT_BURST_DEFAULT);
    const cost = (unit * 1_000_000_000n) / rate;
    const max = cost * burst;
    const now = BigInt(Math.round(ctx.now() * 1e9));
    const b = ctx.state<Bucket>(() => ({ tokens: max.toString(), last: now.toString() }));
    let tokens = BigInt(b.tokens) + now - BigInt(b.last);
    if (tokens > max) tokens = max;
    b.last = now.toString();
    const delta = tokens - cost;
    if (delta >= 0n) {
      b.tokens = delta.toString();
      return true;
    }
    b.tokens = tokens.toString();
    return false;
  },
};
