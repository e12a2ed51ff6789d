/**
 * tos match, revision 1 (libxt_tos, xt_dscp's tos_mt): (TOS byte & mask) == value, with the
 * RFC 1349 names as a value under mask 0x3f.
 */
import type { MatchExtension } from '../types.js';

export interface TosData {
  value: number;
  mask: number;
  invert?: boolean;
}

const TOS_NAMES: [number, string][] = [
  [0x10, 'Minimize-Delay'],
  [0x08, 'Maximize-Throughput'],
  [0x04, 'Maximize-Reliability'],
  [0x02, 'Minimize-Cost'],
  [0x00, 'Normal-Service'],
];

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** tos_try_print_symbolic(): names only for mask 0x3f */
function symbolic(value: number, mask: number): string | undefined {
  if (mask !== 0x3f) return undefined;
  return TOS_NAMES.find(([v]) => v === value)?.[1];
}

export const tos: MatchExtension<TosData> = {
  kind: 'match',
  name: 'tos',
  revision: 1,
  // tos_mt_help() of libxt_tos.c, byte for byte as iptables 1.8.9 prints it
  help:
    'tos match options:\n' +
    '[!] --tos value[/mask]    Match Type of Service/Priority field value\n' +
    '[!] --tos symbol          Match TOS field (IPv4 only) by symbol\n' +
    '                          Accepted symbolic names for value are:\n' +
    '                          (0x10) 16 Minimize-Delay\n' +
    '                          (0x08)  8 Maximize-Throughput\n' +
    '                          (0x04)  4 Maximize-Reliability\n' +
    '                          (0x02)  2 Minimize-Cost\n' +
    '                          (0x00)  0 Normal-Service\n' +
    '\n',
  // O_TOS is 1 << 0 in libxt_tos; a symbolic name gets the mask 0x3f (entry .max)
  options: [{ name: 'tos', id: 1, type: 'tosmask', mandatory: true, invert: true, max: 0x3f }],
  init: () => ({ value: 0, mask: 0 }),
  parse({ val, invert, data }) {
    data.value = val.value!;
    data.mask = val.mask!;
    if (invert) data.invert = true;
  },
  // tos_mt_print(): no space between "match" and a numeric value, " Name" for a symbolic one
  print(d, { numeric }) {
    const name = numeric ? undefined : symbolic(d.value, d.mask);
    return ` tos match${d.invert ? '!' : ''}${name !== undefined ? ` ${name}` : `${hex2(d.value)}/${hex2(d.mask)}`}`;
  },
  save: (d) => `${d.invert ? ' !' : ''} --tos ${hex2(d.value)}/${hex2(d.mask)}`,
  // tos_mt(): the value is compared as given, not masked
  match: (d, pkt) => ((pkt.tos & d.mask) === d.value) !== !!d.invert,
};
