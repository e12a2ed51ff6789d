/**
 * length match (libxt_length, xt_length): the IP total length against "min[:max]" (inclusive).
 */
import type { MatchExtension } from '../types.js';
import { initInvRange, inInvRange, invRangeOption, parseInvRange, rangeText, saveInvRange, type InvRange } from '../util/range.js';

export type LengthData = InvRange;

export const length: MatchExtension<LengthData> = {
  kind: 'match',
  name: 'length',
  // length_help() of libxt_length.c, byte for byte as iptables 1.8.9 prints it
  help:
    'length match options:\n' +
    '[!] --length length[:length]    Match packet length against value or range\n' +
    '                                of values (inclusive)\n',
  options: [invRangeOption('length')],
  init: initInvRange,
  parse: ({ val, invert, data }) => parseInvRange(data, val, invert),
  print: (d) => ` length ${d.invert ? '!' : ''}${rangeText(d)}`,
  save: (d) => saveInvRange(d, 'length'),
  // length_mt(): ntohs(iph->tot_len) in [min, max], a reversed range never matches
  match: (d, pkt) => inInvRange(d, pkt.len),
};
