/**
 * ttl match (libipt_ttl, ipt_ttl): --ttl-eq (invertible), --ttl-lt, --ttl-gt; one of them.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface TtlData {
  /** IPT_TTL_EQ 0, IPT_TTL_NE 1, IPT_TTL_LT 2, IPT_TTL_GT 3 */
  mode: number;
  ttl: number;
}

const O_TTL_EQ = 0;
const O_TTL_LT = 1;
const O_TTL_GT = 2;
const ANY = [O_TTL_EQ, O_TTL_LT, O_TTL_GT];

const EQ = 0;
const NE = 1;
const LT = 2;
const GT = 3;

// each option excludes all three (itself too: the C way of saying "only once")
const opts: OptionEntry[] = [
  { name: 'ttl-lt', id: O_TTL_LT, type: 'uint8', excl: ANY },
  { name: 'ttl-gt', id: O_TTL_GT, type: 'uint8', excl: ANY },
  { name: 'ttl-eq', id: O_TTL_EQ, type: 'uint8', excl: ANY, invert: true },
  { name: 'ttl', id: O_TTL_EQ, type: 'uint8', excl: ANY },
];

const PRINT = ['TTL ==', 'TTL !=', 'TTL <', 'TTL >'];
const SAVE = [' --ttl-eq', ' ! --ttl-eq', ' --ttl-lt', ' --ttl-gt'];

export const ttl: MatchExtension<TtlData> = {
  kind: 'match',
  name: 'ttl',
  // ttl_help() of libipt_ttl.c, byte for byte as iptables 1.8.9 prints it
  help:
    'ttl match options:\n' +
    '[!] --ttl-eq value\tMatch time to live value\n' +
    '  --ttl-lt value\tMatch TTL < value\n' +
    '  --ttl-gt value\tMatch TTL > value\n',
  options: opts,
  init: () => ({ mode: EQ, ttl: 0 }),
  parse({ entry, invert, val, data }) {
    data.ttl = val.num!;
    if (entry.id === O_TTL_EQ) data.mode = invert ? NE : EQ;
    else data.mode = entry.id === O_TTL_LT ? LT : GT;
  },
  finalCheck({ xflags }) {
    if (!(xflags & 0b111)) throw paramProblem("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
  },
  print: (d) => ` TTL match ${PRINT[d.mode]} ${d.ttl}`,
  save: (d) => `${SAVE[d.mode]} ${d.ttl}`,
  // ttl_mt()
  match(d, pkt) {
    switch (d.mode) {
      case EQ:
        return pkt.ttl === d.ttl;
      case NE:
        return pkt.ttl !== d.ttl;
      case LT:
        return pkt.ttl < d.ttl;
      default:
        return pkt.ttl > d.ttl;
    }
  },
};
