/**
 * MARK target, revision 2 (libxt_MARK.c mark_tg_* of iptables 1.8.9, net/netfilter/xt_mark.c):
 * every form is stored as "clear the mask bits, then XOR the value" (struct xt_mark_tginfo2), so
 * -S always writes --set-xmark VALUE/MASK and -L names the operation the pair amounts to. The
 * kernel accepts it in every table and chain.
 */
import { paramProblem } from '../../errors.js';
import type { TargetResult } from '../../engine/ext-api.js';
import type { TargetExtension } from '../types.js';

const O_SET_MARK = 0;
const O_AND_MARK = 1;
const O_OR_MARK = 2;
const O_XOR_MARK = 3;
const O_SET_XMARK = 4;
const F_ANY = [O_SET_MARK, O_AND_MARK, O_OR_MARK, O_XOR_MARK, O_SET_XMARK];

export interface MarkData {
  mark: number;
  mask: number;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/**
 * MARK's result: its note is written only when read (a batch, which reports no notes, passes
 * kube-proxy's MARK rules twice a packet)
 */
class MarkResult implements TargetResult {
  readonly verdict = 'CONTINUE';
  constructor(
    private readonly before: number,
    private readonly after: number,
  ) {}
  get note(): string {
    return `MARK ${hex(this.before)} -> ${hex(this.after)}`;
  }
}

export const MARK: TargetExtension<MarkData> = {
  kind: 'target',
  name: 'MARK',
  revision: 2,
  // mark_tg_help() of libxt_MARK.c, byte for byte as iptables 1.8.9 prints it
  help:
    'MARK target options:\n' +
    '  --set-xmark value[/mask]  Clear bits in mask and XOR value into nfmark\n' +
    '  --set-mark value[/mask]   Clear bits in mask and OR value into nfmark\n' +
    '  --and-mark bits           Binary AND the nfmark with bits\n' +
    '  --or-mark bits            Binary OR the nfmark with bits\n' +
    '  --xor-mark bits           Binary XOR the nfmark with bits\n',
  options: [
    { name: 'set-xmark', id: O_SET_XMARK, type: 'markmask32', excl: F_ANY },
    { name: 'set-mark', id: O_SET_MARK, type: 'markmask32', excl: F_ANY },
    { name: 'and-mark', id: O_AND_MARK, type: 'uint32', excl: F_ANY },
    { name: 'or-mark', id: O_OR_MARK, type: 'uint32', excl: F_ANY },
    { name: 'xor-mark', id: O_XOR_MARK, type: 'uint32', excl: F_ANY },
  ],
  init: () => ({ mark: 0, mask: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case O_SET_XMARK:
        data.mark = val.value!;
        data.mask = val.mask!;
        break;
      case O_SET_MARK:
        // --set-mark V/M clears M and V, then sets V: OR the value into the mask
        data.mark = val.value!;
        data.mask = (val.value! | val.mask!) >>> 0;
        break;
      case O_AND_MARK:
        data.mark = 0;
        data.mask = ~val.num! >>> 0;
        break;
      case O_OR_MARK:
        data.mark = val.num!;
        data.mask = val.num!;
        break;
      case O_XOR_MARK:
        data.mark = val.num!;
        data.mask = 0;
        break;
    }
  },
  finalCheck({ xflags }) {
    if (xflags === 0) throw paramProblem('MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
  },
  print(d) {
    if (d.mark === 0) return ` MARK and ${hex(~d.mask)}`;
    if (d.mark === d.mask) return ` MARK or ${hex(d.mark)}`;
    if (d.mask === 0) return ` MARK xor ${hex(d.mark)}`;
    if (d.mask === 0xffffffff) return ` MARK set ${hex(d.mark)}`;
    return ` MARK xset ${hex(d.mark)}/${hex(d.mask)}`;
  },
  save: (d) => ` --set-xmark ${hex(d.mark)}/${hex(d.mask)}`,
  // mark_tg(): skb->mark = (skb->mark & ~info->mask) ^ info->mark
  apply(d, pkt) {
    const before = pkt.mark;
    pkt.mark = ((pkt.mark & ~d.mask) ^ d.mark) >>> 0;
    return new MarkResult(before, pkt.mark);
  },
};
