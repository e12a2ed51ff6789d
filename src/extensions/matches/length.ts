/**
 * length match (libxt_length, xt_length): the IP total length against "min[:max]" (inclusive).
 */
import { rangeOf } from '../xtoptions.js';
import type { MatchExtension } from '../types.js';

export interface LengthData {
  min: number;
  max: number;
  invert?: boolean;
}

const rangeText = (d: LengthData) => (d.min === d.max ? `${d.min}` : `${d.min}:${d.max}`);

export const length: MatchExtension<LengthData> = {
  kind: 'match',
  name: 'length',
  // length_help() of libxt_length.c, byte for byte as iptables 1.8.9 prints it
  help:
    'length match options:\n' +
    '[!] --length length[:length]    Match packet length against value or range\n' +
    '                                of values (inclusive)\n',
  options: [{ name: 'length', id: 0, type: 'uint16rc', mandatory: true, invert: true }],
  init: () => ({ min: 0, max: 0 }),
  parse({ val, invert, data }) {
    [data.min, data.max] = rangeOf(val);
    if (invert) data.invert = true;
  },
  print: (d) => ` length ${d.invert ? '!' : ''}${rangeText(d)}`,
  save: (d) => `${d.invert ? ' !' : ''} --length ${rangeText(d)}`,
  // length_mt(): ntohs(iph->tot_len) in [min, max], a reversed range never matches
  match: (d, pkt) => (pkt.len >= d.min && pkt.len <= d.max) !== !!d.invert,
};
