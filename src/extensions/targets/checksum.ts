/**
 * CHECKSUM target (libxt_CHECKSUM.c of iptables 1.8.9, net/netfilter/xt_CHECKSUM.c): fill in the
 * checksum of a packet whose checksum the stack left to the hardware (CHECKSUM_PARTIAL). Mangle
 * table only.
 */
import type { TargetExtension } from '../types.js';

export interface ChecksumData {
  /** XT_CHECKSUM_OP_FILL */
  fill: boolean;
}

export const CHECKSUM: TargetExtension<ChecksumData> = {
  kind: 'target',
  name: 'CHECKSUM',
  revision: 0,
  // CHECKSUM_help() of libxt_CHECKSUM.c, byte for byte as iptables 1.8.9 prints it
  help:
    'CHECKSUM target options\n' +
    '  --checksum-fill\t\t\tFill in packet checksum.\n',
  options: [{ name: 'checksum-fill', id: 0, type: 'none', mandatory: true }],
  init: () => ({ fill: false }),
  parse({ data }) {
    data.fill = true;
  },
  print: (d) => ` CHECKSUM${d.fill ? ' fill' : ''}`,
  save: (d) => (d.fill ? ' --checksum-fill' : ''),
  tables: ['mangle'],
  // checksum_tg(): skb_checksum_help() on CHECKSUM_PARTIAL packets. The lab does not model
  // checksums (every packet is valid), so the packet is unchanged as far as the lab can tell.
  apply: () => ({ verdict: 'CONTINUE' }),
};
