/**
 * SYNPROXY target (libxt_SYNPROXY.c of iptables 1.8.9, net/netfilter/xt_SYNPROXY.c): answer a
 * SYN with a SYN cookie and open the connection to the server only once the client completed the
 * handshake, with the TCP options given here.
 *
 * The options are parsed as uint32 but stored in struct xt_synproxy_info's __u8 wscale and
 * __u16 mss: --wscale 256 is saved as 0 and --mss 65536 as 0, and -C/-D compare the cut values
 * (measured, fixtures/cli/ext-synproxy.case). The kernel registers it for the LOCAL_IN and
 * FORWARD hooks of any table (filter, mangle, nat INPUT were accepted) and synproxy_tg4_check()
 * and synproxy_tg6_check() want -p tcp.
 *
 * No apply(): the target consumes the SYN and answers with a cookie SYN-ACK itself, then builds a
 * second connection to the server after the client's ACK, translating sequence numbers for its
 * whole life. The lab's packets carry neither sequence numbers nor the TCP state that needs, so
 * a trace reaching such a rule stops with the engine's "effect on packets is not modelled".
 */
import type { TargetExtension } from '../types.js';
import { needsProtocol } from '../util/proto.js';

/** XT_SYNPROXY_OPT_* of linux/netfilter/xt_SYNPROXY.h */
const OPT = { MSS: 0x01, WSCALE: 0x02, SACK_PERM: 0x04, TIMESTAMP: 0x08, ECN: 0x10 } as const;

export interface SynproxyData {
  /** XT_SYNPROXY_OPT_* bits */
  options: number;
  /** __u8 */
  wscale: number;
  /** __u16 */
  mss: number;
}

export const SYNPROXY: TargetExtension<SynproxyData> = {
  kind: 'target',
  name: 'SYNPROXY',
  revision: 0,
  // SYNPROXY_help() of libxt_SYNPROXY.c, byte for byte as iptables 1.8.9 prints it
  help:
    'SYNPROXY target options:\n' +
    '  --sack-perm                        Set SACK_PERM\n' +
    '  --timestamp                        Set TIMESTAMP\n' +
    '  --wscale value                     Set window scaling factor\n' +
    '  --mss value                        Set MSS value\n' +
    '  --ecn                              Set ECN\n',
  options: [
    { name: 'sack-perm', id: 0, type: 'none' },
    { name: 'timestamp', id: 1, type: 'none' },
    { name: 'wscale', id: 2, type: 'uint32' },
    { name: 'mss', id: 3, type: 'uint32' },
    { name: 'ecn', id: 4, type: 'none' },
  ],
  init: () => ({ options: 0, wscale: 0, mss: 0 }),
  parse({ entry, val, data }) {
    switch (entry.id) {
      case 0:
        data.options |= OPT.SACK_PERM;
        break;
      case 1:
        data.options |= OPT.TIMESTAMP;
        break;
      case 2:
        data.options |= OPT.WSCALE;
        data.wscale = val.num! & 0xff;
        break;
      case 3:
        data.options |= OPT.MSS;
        data.mss = val.num! & 0xffff;
        break;
      case 4:
        data.options |= OPT.ECN;
        break;
    }
  },
  // SYNPROXY_print(): every word followed by a space, the trailing one included
  print(d) {
    let s = ' SYNPROXY ';
    if (d.options & OPT.SACK_PERM) s += 'sack-perm ';
    if (d.options & OPT.TIMESTAMP) s += 'timestamp ';
    if (d.options & OPT.WSCALE) s += `wscale ${d.wscale} `;
    if (d.options & OPT.MSS) s += `mss ${d.mss} `;
    if (d.options & OPT.ECN) s += 'ecn ';
    return s;
  },
  save(d) {
    let s = '';
    if (d.options & OPT.SACK_PERM) s += ' --sack-perm';
    if (d.options & OPT.TIMESTAMP) s += ' --timestamp';
    if (d.options & OPT.WSCALE) s += ` --wscale ${d.wscale}`;
    if (d.options & OPT.MSS) s += ` --mss ${d.mss}`;
    if (d.options & OPT.ECN) s += ' --ecn';
    return s;
  },
  // synproxy_tg_reg[].hooks: (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD), no .table
  hooks: ['INPUT', 'FORWARD'],
  // synproxy_tg4_check()/synproxy_tg6_check(): EINVAL unless the rule is -p tcp, without a word
  // in the kernel log
  kernelCheck: needsProtocol(6, 'tcp', 'SYNPROXY'),
};
