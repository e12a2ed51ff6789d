/**
 * CONNMARK target, revision 2 (libxt_CONNMARK.c connmark_tg_*_v2 of iptables 1.8.9,
 * net/netfilter/xt_connmark.c connmark_tg_shift): set the connection mark, or copy marks between
 * packet and connection through masks, optionally shifting the copied bits.
 *
 * Masks are stored as the C code stores them, option by option, so the order of the options
 * matters exactly as it does there: --ctmask/--nfmask write their field directly (XTOPT_PUT) and
 * --set-xmark/--set-mark/--mask overwrite it again when they come later.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';

const O_SET_MARK = 0;
const O_SAVE_MARK = 1;
const O_RESTORE_MARK = 2;
const O_AND_MARK = 3;
const O_OR_MARK = 4;
const O_XOR_MARK = 5;
const O_LEFT_SHIFT_MARK = 6;
const O_RIGHT_SHIFT_MARK = 7;
const O_SET_XMARK = 8;
const O_CTMASK = 9;
const O_NFMASK = 10;
const O_MASK = 11;
const F_OP_ANY = [O_SET_MARK, O_SAVE_MARK, O_RESTORE_MARK, O_AND_MARK, O_OR_MARK, O_XOR_MARK, O_SET_XMARK];

export interface ConnmarkData {
  /** XT_CONNMARK_SET / SAVE / RESTORE */
  mode: 'set' | 'save' | 'restore';
  ctmark: number;
  ctmask: number;
  nfmask: number;
  shiftDir: 'left' | 'right';
  shiftBits: number;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function shift(value: number, d: ConnmarkData): number {
  // a 32-bit shift by 32 would be undefined in C; the kernel refuses it (see kernelCheck)
  return (d.shiftDir === 'right' ? value >>> d.shiftBits : value << d.shiftBits) >>> 0;
}

export const CONNMARK: TargetExtension<ConnmarkData> = {
  kind: 'target',
  name: 'CONNMARK',
  revision: 2,
  // connmark_tg_help_v2() of libxt_CONNMARK.c, byte for byte as iptables 1.8.9 prints it
  help:
    'CONNMARK target options:\n' +
    '  --set-xmark value[/ctmask]    Zero mask bits and XOR ctmark with value\n' +
    '  --save-mark [--ctmask mask] [--nfmask mask]\n' +
    '                                Copy ctmark to nfmark using masks\n' +
    '  --restore-mark [--ctmask mask] [--nfmask mask]\n' +
    '                                Copy nfmark to ctmark using masks\n' +
    '  --set-mark value[/mask]       Set conntrack mark value\n' +
    '  --save-mark [--mask mask]     Save the packet nfmark in the connection\n' +
    '  --restore-mark [--mask mask]  Restore saved nfmark value\n' +
    '  --and-mark value              Binary AND the ctmark with bits\n' +
    '  --or-mark value               Binary OR  the ctmark with bits\n' +
    '  --xor-mark value              Binary XOR the ctmark with bits\n' +
    '  --left-shift-mark value       Left shift the ctmark with bits\n' +
    '  --right-shift-mark value      Right shift the ctmark with bits\n',
  options: [
    { name: 'set-xmark', id: O_SET_XMARK, type: 'markmask32', excl: F_OP_ANY },
    { name: 'set-mark', id: O_SET_MARK, type: 'markmask32', excl: F_OP_ANY },
    { name: 'and-mark', id: O_AND_MARK, type: 'uint32', excl: F_OP_ANY },
    { name: 'or-mark', id: O_OR_MARK, type: 'uint32', excl: F_OP_ANY },
    { name: 'xor-mark', id: O_XOR_MARK, type: 'uint32', excl: F_OP_ANY },
    { name: 'save-mark', id: O_SAVE_MARK, type: 'none', excl: F_OP_ANY },
    { name: 'restore-mark', id: O_RESTORE_MARK, type: 'none', excl: F_OP_ANY },
    { name: 'left-shift-mark', id: O_LEFT_SHIFT_MARK, type: 'uint8', min: 0, max: 32 },
    { name: 'right-shift-mark', id: O_RIGHT_SHIFT_MARK, type: 'uint8', min: 0, max: 32 },
    { name: 'ctmask', id: O_CTMASK, type: 'uint32', excl: [O_MASK] },
    { name: 'nfmask', id: O_NFMASK, type: 'uint32', excl: [O_MASK] },
    { name: 'mask', id: O_MASK, type: 'uint32', excl: [O_CTMASK, O_NFMASK] },
  ],
  // connmark_tg_init(_v2): both masks all ones for --save-mark/--restore-mark, shift left by 0
  init: () => ({ mode: 'set', ctmark: 0, ctmask: 0xffffffff, nfmask: 0xffffffff, shiftDir: 'left', shiftBits: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case O_SET_XMARK:
        data.mode = 'set';
        data.ctmark = val.value!;
        data.ctmask = val.mask!;
        break;
      case O_SET_MARK:
        data.mode = 'set';
        data.ctmark = val.value!;
        data.ctmask = (val.value! | val.mask!) >>> 0;
        break;
      case O_AND_MARK:
        data.mode = 'set';
        data.ctmark = 0;
        data.ctmask = ~val.num! >>> 0;
        break;
      case O_OR_MARK:
        data.mode = 'set';
        data.ctmark = val.num!;
        data.ctmask = val.num!;
        break;
      case O_XOR_MARK:
        data.mode = 'set';
        data.ctmark = val.num!;
        data.ctmask = 0;
        break;
      case O_SAVE_MARK:
        data.mode = 'save';
        break;
      case O_RESTORE_MARK:
        data.mode = 'restore';
        break;
      case O_CTMASK:
        data.ctmask = val.num!;
        break;
      case O_NFMASK:
        data.nfmask = val.num!;
        break;
      case O_MASK:
        data.nfmask = data.ctmask = val.num!;
        break;
      case O_LEFT_SHIFT_MARK:
        data.shiftDir = 'left';
        data.shiftBits = val.num!;
        break;
      case O_RIGHT_SHIFT_MARK:
        data.shiftDir = 'right';
        data.shiftBits = val.num!;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (!F_OP_ANY.some((id) => xflags & (1 << id))) throw paramProblem('CONNMARK target: No operation specified');
  },
  print(d) {
    let s: string;
    const all = 0xffffffff;
    if (d.mode === 'set') {
      if (d.ctmark === 0) s = ` CONNMARK and ${hex(~d.ctmask)}`;
      else if (d.ctmark === d.ctmask) s = ` CONNMARK or ${hex(d.ctmark)}`;
      else if (d.ctmask === 0) s = ` CONNMARK xor ${hex(d.ctmark)}`;
      else if (d.ctmask === all) s = ` CONNMARK set ${hex(d.ctmark)}`;
      else s = ` CONNMARK xset ${hex(d.ctmark)}/${hex(d.ctmask)}`;
    } else if (d.mode === 'save') {
      if (d.nfmask === all && d.ctmask === all) s = ' CONNMARK save';
      else if (d.nfmask === d.ctmask) s = ` CONNMARK save mask ${hex(d.nfmask)}`;
      else s = ` CONNMARK save nfmask ${hex(d.nfmask)} ctmask ~${hex(d.ctmask)}`;
    } else {
      if (d.ctmask === all && d.nfmask === all) s = ' CONNMARK restore';
      else if (d.ctmask === d.nfmask) s = ` CONNMARK restore mask ${hex(d.ctmask)}`;
      else s = ` CONNMARK restore ctmask ${hex(d.ctmask)} nfmask ~${hex(d.nfmask)}`;
    }
    if (d.shiftBits !== 0) s += ` ${d.shiftDir}-shift-mark ${d.shiftBits}`;
    return s;
  },
  save(d) {
    let s: string;
    if (d.mode === 'set') s = ` --set-xmark ${hex(d.ctmark)}/${hex(d.ctmask)}`;
    else s = ` --${d.mode}-mark --nfmask ${hex(d.nfmask)} --ctmask ${hex(d.ctmask)}`;
    if (d.shiftBits !== 0) s += ` --${d.shiftDir}-shift-mark ${d.shiftBits}`;
    return s;
  },
  // the parser allows 32 (uint8 up to 32) but the kernel refuses a shift of the whole mark
  kernelCheck: (d) => (d.shiftBits > 31 ? `CONNMARK cannot shift the 32-bit mark by ${d.shiftBits} bits (0-31)` : undefined),
  // connmark_tg_shift(): nothing happens without a conntrack entry (untracked packets included)
  apply(d, pkt, ctx) {
    const ct = ctx.ctMark();
    if (ct === undefined) return { verdict: 'CONTINUE', note: 'CONNMARK: packet has no connection' };
    switch (d.mode) {
      case 'set': {
        const v = shift(((ct & ~d.ctmask) ^ d.ctmark) >>> 0, d);
        if (v !== ct) ctx.setCtMark(v);
        return { verdict: 'CONTINUE', note: `CONNMARK ctmark ${hex(ct)} -> ${hex(v)}` };
      }
      case 'save': {
        const v = ((ct & ~d.ctmask) ^ shift(pkt.mark & d.nfmask, d)) >>> 0;
        if (v !== ct) ctx.setCtMark(v);
        return { verdict: 'CONTINUE', note: `CONNMARK ctmark ${hex(ct)} -> ${hex(v)}` };
      }
      case 'restore': {
        const before = pkt.mark;
        pkt.mark = ((pkt.mark & ~d.nfmask) ^ shift(ct & d.ctmask, d)) >>> 0;
        return { verdict: 'CONTINUE', note: `CONNMARK mark ${hex(before)} -> ${hex(pkt.mark)}` };
      }
    }
  },
};
