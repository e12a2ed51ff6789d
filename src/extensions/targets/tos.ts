/**
 * TOS target, revision 1 (libxt_TOS.c tos_tg_* of iptables 1.8.9, net/netfilter/xt_DSCP.c
 * tos_tg): "clear the mask bits of the TOS byte, then XOR the value". Mangle table only.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

const O_SET_TOS = 0;
const O_AND_TOS = 1;
const O_OR_TOS = 2;
const O_XOR_TOS = 3;
const F_ANY = [O_SET_TOS, O_AND_TOS, O_OR_TOS, O_XOR_TOS];

export interface TosData {
  value: number;
  mask: number;
}

/** tos_symbol_names[] of tos_values.c */
const TOS_SYMBOLS: [number, string][] = [
  [0x10, 'Minimize-Delay'],
  [0x08, 'Maximize-Throughput'],
  [0x04, 'Maximize-Reliability'],
  [0x02, 'Minimize-Cost'],
  [0x00, 'Normal-Service'],
];

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

export const TOS: TargetExtension<TosData> = {
  kind: 'target',
  name: 'TOS',
  revision: 1,
  // tos_tg_help() of libxt_TOS.c, byte for byte as iptables 1.8.9 prints it (its "v%s" is filled
  // with XTABLES_VERSION, the library's soname, not a version number)
  help:
    'TOS target vlibxtables.so.12 options:\n' +
    '  --set-tos value[/mask]  Set Type of Service/Priority field to value\n' +
    '                          (Zero out bits in mask and XOR value into TOS)\n' +
    '  --set-tos symbol        Set TOS field (IPv4 only) by symbol\n' +
    '                          (this zeroes the 4-bit Precedence part!)\n' +
    '                          Accepted symbolic names for value are:\n' +
    '                            (0x10) 16 Minimize-Delay\n' +
    '                            (0x08)  8 Maximize-Throughput\n' +
    '                            (0x04)  4 Maximize-Reliability\n' +
    '                            (0x02)  2 Minimize-Cost\n' +
    '                            (0x00)  0 Normal-Service\n' +
    '\n' +
    '  --and-tos bits          Binary AND the TOS value with bits\n' +
    '  --or-tos  bits          Binary OR the TOS value with bits\n' +
    '  --xor-tos bits          Binary XOR the TOS value with bits\n',
  options: [
    // a symbolic name gets the mask 0x3f (entry max): it leaves the precedence bits alone
    { name: 'set-tos', id: O_SET_TOS, type: 'tosmask', excl: F_ANY, max: 0x3f },
    { name: 'and-tos', id: O_AND_TOS, type: 'uint8', excl: F_ANY },
    { name: 'or-tos', id: O_OR_TOS, type: 'uint8', excl: F_ANY },
    { name: 'xor-tos', id: O_XOR_TOS, type: 'uint8', excl: F_ANY },
  ],
  init: () => ({ value: 0, mask: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case O_SET_TOS:
        data.value = val.value!;
        data.mask = val.mask!;
        break;
      case O_AND_TOS:
        data.value = 0;
        data.mask = ~val.num! & 0xff;
        break;
      case O_OR_TOS:
        data.value = val.num!;
        data.mask = val.num!;
        break;
      case O_XOR_TOS:
        data.value = val.num!;
        data.mask = 0;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (!F_ANY.some((id) => xflags & (1 << id))) throw paramProblem('TOS: An action is required');
  },
  print(d, { numeric }) {
    if (numeric) return ` TOS set ${hex2(d.value)}/${hex2(d.mask)}`;
    // tos_try_print_symbolic(" TOS set", ...) prints " %s%s": a second space and no space
    // before the name ("  TOS setMinimize-Delay"), as the real binary shows
    if (d.mask === 0x3f) {
      const sym = TOS_SYMBOLS.find(([v]) => v === d.value);
      if (sym) return `  TOS set${sym[1]}`;
    }
    if (d.value === 0) return ` TOS and ${hex2(~d.mask & 0xff)}`;
    if (d.value === d.mask) return ` TOS or ${hex2(d.value)}`;
    if (d.mask === 0) return ` TOS xor ${hex2(d.value)}`;
    return ` TOS set ${hex2(d.value)}/${hex2(d.mask)}`;
  },
  save: (d) => ` --set-tos ${hex2(d.value)}/${hex2(d.mask)}`,
  tables: ['mangle'],
  // tos_tg(): nv = (orig & ~mask) ^ value over the whole byte (ECN bits included)
  apply(d, pkt) {
    const before = pkt.tos;
    pkt.tos = ((pkt.tos & ~d.mask) ^ d.value) & 0xff;
    return { verdict: 'CONTINUE', note: `TOS ${hex2(before)} -> ${hex2(pkt.tos)}` };
  },
};
