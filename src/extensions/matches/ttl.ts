/**
 * ttl match (libipt_ttl, ipt_ttl) and its IPv6 twin hl (libip6t_hl, ip6t_hl): --ttl-eq / --hl-eq
 * (invertible), --ttl-lt, --ttl-gt; one of them. Same code, other words.
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface TtlData {
  /** IPT_TTL_EQ 0, IPT_TTL_NE 1, IPT_TTL_LT 2, IPT_TTL_GT 3 (and IP6T_HL_*) */
  mode: number;
  ttl: number;
}

const O_EQ = 0;
const O_LT = 1;
const O_GT = 2;
const ANY = [O_EQ, O_LT, O_GT];

const EQ = 0;
const NE = 1;
const LT = 2;
const GT = 3;

/**
 * `o`: the options' word (ttl, hl), `label`: what print says (TTL, HL), `what`: the help's words
 * for --*-eq
 */
function hopMatch(o: string, label: string, what: string): MatchExtension<TtlData> {
  // each option excludes all three (itself too: the C way of saying "only once")
  const opts: OptionEntry[] = [
    { name: `${o}-lt`, id: O_LT, type: 'uint8', excl: ANY },
    { name: `${o}-gt`, id: O_GT, type: 'uint8', excl: ANY },
    { name: `${o}-eq`, id: O_EQ, type: 'uint8', excl: ANY, invert: true },
    { name: o, id: O_EQ, type: 'uint8', excl: ANY },
  ];
  const PRINT = ['==', '!=', '<', '>'];
  const SAVE = [` --${o}-eq`, ` ! --${o}-eq`, ` --${o}-lt`, ` --${o}-gt`];
  return {
    kind: 'match',
    name: o,
    // ttl_help() of libipt_ttl.c / hl_help() of libip6t_hl.c, byte for byte as iptables 1.8.9 prints them
    help:
      `${o} match options:\n` +
      `[!] --${o}-eq value\tMatch ${what} value\n` +
      `  --${o}-lt value\tMatch ${label} < value\n` +
      `  --${o}-gt value\tMatch ${label} > value\n`,
    options: opts,
    init: () => ({ mode: EQ, ttl: 0 }),
    parse({ entry, invert, val, data }) {
      data.ttl = val.num!;
      if (entry.id === O_EQ) data.mode = invert ? NE : EQ;
      else data.mode = entry.id === O_LT ? LT : GT;
    },
    print: (d) => ` ${label} match ${label} ${PRINT[d.mode]} ${d.ttl}`,
    save: (d) => `${SAVE[d.mode]} ${d.ttl}`,
  };
}

export const ttl: MatchExtension<TtlData> = {
  ...hopMatch('ttl', 'TTL', 'time to live'),
  // IPv4 only (libipt_*)
  family: 4,
  // (the message lacks its closing quote in libipt_ttl.c)
  finalCheck({ xflags }) {
    if (!(xflags & 0b111)) throw paramProblem("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
  },
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

/** hl: ip6tables rules only, which the lab keeps but never runs packets through (no match()) */
export const hl: MatchExtension<TtlData> = {
  ...hopMatch('hl', 'HL', 'hop limit'),
  family: 6,
  finalCheck({ xflags }) {
    if (!(xflags & 0b111)) throw paramProblem("HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'");
  },
};
