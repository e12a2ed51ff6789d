/**
 * TTL target (libipt_TTL.c of iptables 1.8.9, net/netfilter/xt_HL.c ttl_tg) and its IPv6 twin HL
 * (libip6t_HL.c, hl_tg6): set the TTL (hop limit), or raise or lower it within 0-255. Exactly one
 * of the three options; mangle table only.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

/** IPT_TTL_SET / _INC / _DEC of ipt_TTL.h (and IP6T_HL_*) */
const O_SET = 0;
const O_INC = 1;
const O_DEC = 2;
const ALL = [O_SET, O_INC, O_DEC];

type Mode = 'set' | 'inc' | 'dec';

export interface TtlTargetData {
  mode: Mode;
  ttl: number;
}

const MODE_OF: Record<number, Mode> = { [O_SET]: 'set', [O_INC]: 'inc', [O_DEC]: 'dec' };
const PRINTED: Record<Mode, string> = { set: 'set to', inc: 'increment by', dec: 'decrement by' };

/** `name`: TTL or HL, whose options are --ttl-* or --hl-* */
function hopTarget(name: string): TargetExtension<TtlTargetData> {
  const o = name.toLowerCase();
  return {
    kind: 'target',
    name,
    revision: 0,
    // TTL_help() of libipt_TTL.c / HL_help() of libip6t_HL.c, as iptables 1.8.9 prints them
    help:
      `${name} target options\n` +
      `  --${o}-set value\t\tSet ${name} to <value 0-255>\n` +
      `  --${o}-dec value\t\tDecrement ${name} by <value 1-255>\n` +
      `  --${o}-inc value\t\tIncrement ${name} by <value 1-255>\n`,
    // table order: set, dec, inc ("--ttl-dec --ttl-inc" is reported from --ttl-dec)
    options: [
      { name: `${o}-set`, id: O_SET, type: 'uint8', min: 0, max: 255, excl: ALL },
      { name: `${o}-dec`, id: O_DEC, type: 'uint8', min: 1, max: 255, excl: ALL },
      { name: `${o}-inc`, id: O_INC, type: 'uint8', min: 1, max: 255, excl: ALL },
    ],
    init: () => ({ mode: 'set', ttl: 0 }),
    parse({ entry, val, data }) {
      data.mode = MODE_OF[entry.id]!;
      data.ttl = val.num!;
    },
    finalCheck({ xflags }) {
      if (xflags === 0) throw paramProblem(`${name}: You must specify an action`);
    },
    print: (d) => ` ${name} ${PRINTED[d.mode]} ${d.ttl}`,
    save: (d) => ` --${o}-${d.mode} ${d.ttl}`,
    tables: ['mangle'],
  };
}

export const TTL: TargetExtension<TtlTargetData> = {
  ...hopTarget('TTL'),
  // IPv4 only (libipt_*)
  family: 4,
  // ttl_tg(): the new TTL saturates at 0 and 255; the packet goes on
  apply(d, pkt) {
    const before = pkt.ttl;
    if (d.mode === 'set') pkt.ttl = d.ttl;
    else if (d.mode === 'inc') pkt.ttl = Math.min(pkt.ttl + d.ttl, 255);
    else pkt.ttl = Math.max(pkt.ttl - d.ttl, 0);
    return { verdict: 'CONTINUE', note: `TTL ${before} -> ${pkt.ttl}` };
  },
};

/** HL: ip6tables rules only, which the lab keeps but never runs packets through (no apply()) */
export const HL: TargetExtension<TtlTargetData> = { ...hopTarget('HL'), family: 6 };
