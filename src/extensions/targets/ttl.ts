/**
 * TTL target (libipt_TTL.c of iptables 1.8.9, net/netfilter/xt_HL.c ttl_tg): set the TTL, or
 * raise or lower it within 0-255. Exactly one of the three options; mangle table only.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

/** IPT_TTL_SET / _INC / _DEC of ipt_TTL.h */
const O_TTL_SET = 0;
const O_TTL_INC = 1;
const O_TTL_DEC = 2;
const ALL = [O_TTL_SET, O_TTL_INC, O_TTL_DEC];

type Mode = 'set' | 'inc' | 'dec';

export interface TtlTargetData {
  mode: Mode;
  ttl: number;
}

const MODE_OF: Record<number, Mode> = { [O_TTL_SET]: 'set', [O_TTL_INC]: 'inc', [O_TTL_DEC]: 'dec' };
const PRINTED: Record<Mode, string> = { set: 'set to', inc: 'increment by', dec: 'decrement by' };

export const TTL: TargetExtension<TtlTargetData> = {
  kind: 'target',
  name: 'TTL',
  revision: 0,
  // TTL_help() of libipt_TTL.c, as iptables 1.8.9 prints it
  help:
    'TTL target options\n' +
    '  --ttl-set value\t\tSet TTL to <value 0-255>\n' +
    '  --ttl-dec value\t\tDecrement TTL by <value 1-255>\n' +
    '  --ttl-inc value\t\tIncrement TTL by <value 1-255>\n',
  // table order: set, dec, inc ("--ttl-dec --ttl-inc" is reported from --ttl-dec)
  options: [
    { name: 'ttl-set', id: O_TTL_SET, type: 'uint8', min: 0, max: 255, excl: ALL },
    { name: 'ttl-dec', id: O_TTL_DEC, type: 'uint8', min: 1, max: 255, excl: ALL },
    { name: 'ttl-inc', id: O_TTL_INC, type: 'uint8', min: 1, max: 255, excl: ALL },
  ],
  init: () => ({ mode: 'set', ttl: 0 }),
  parse({ entry, val, data }) {
    data.mode = MODE_OF[entry.id]!;
    data.ttl = val.num!;
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('TTL: You must specify an action');
  },
  print: (d) => ` TTL ${PRINTED[d.mode]} ${d.ttl}`,
  save: (d) => ` --ttl-${d.mode} ${d.ttl}`,
  tables: ['mangle'],
  // ttl_tg(): the new TTL saturates at 0 and 255; the packet goes on
  apply(d, pkt) {
    const before = pkt.ttl;
    if (d.mode === 'set') pkt.ttl = d.ttl;
    else if (d.mode === 'inc') pkt.ttl = Math.min(pkt.ttl + d.ttl, 255);
    else pkt.ttl = Math.max(pkt.ttl - d.ttl, 0);
    return { verdict: 'CONTINUE', note: `TTL ${before} -> ${pkt.ttl}` };
  },
};
