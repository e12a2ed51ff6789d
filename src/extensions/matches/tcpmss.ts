/**
 * tcpmss match (libxt_tcpmss.c of iptables 1.8.9, net/netfilter/xt_tcpmss.c): the MSS option of
 * a TCP packet against "min[:max]" (inclusive). The kernel registers it for protocol TCP only
 * (IPv4 and IPv6), so the rule needs -p tcp (measured: exit 4, fixtures/cli/ext-tcpmss.case).
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension } from '../types.js';
import { initInvRange, inInvRange, invRangeOption, parseInvRange, rangeText, saveInvRange, type InvRange } from '../util/range.js';
import { needsProtocol } from '../util/proto.js';

export type TcpmssMatchData = InvRange;

export const tcpmss: MatchExtension<TcpmssMatchData> = {
  kind: 'match',
  name: 'tcpmss',
  // tcpmss_help() of libxt_tcpmss.c, byte for byte as iptables 1.8.9 prints it
  help:
    'tcpmss match options:\n' +
    '[!] --mss value[:value]\tMatch TCP MSS range.\n' +
    '\t\t\t\t(only valid for TCP SYN or SYN/ACK packets)\n',
  options: [invRangeOption('mss')],
  init: initInvRange,
  parse({ val, invert, data }) {
    parseInvRange(data, val, invert);
    // tcpmss_parse(): its own check (unlike length), without the framework's prefix or blank line
    if (data.min > data.max) throw paramProblem('tcpmss: invalid range given');
  },
  print: (d) => ` tcpmss match ${d.invert ? '!' : ''}${rangeText(d)}`,
  save: (d) => saveInvRange(d, 'mss'),
  // xt_tcpmss_match[] has .proto = IPPROTO_TCP: the kernel refuses it on other rules
  kernelCheck: needsProtocol(6, 'tcp', 'the tcpmss match'),
  /**
   * tcpmss_mt(): the first MSS option decides, (min <= mss <= max) XOR invert; a TCP header
   * without one (no options at all, or options without MSS: every segment but SYN and SYN-ACK
   * here) matches only when inverted. Only TCP packets reach it (the rule has -p tcp).
   */
  match(d, pkt) {
    if (pkt.proto !== 6) return false;
    if (pkt.tcpMss === undefined) return !!d.invert;
    return inInvRange(d, pkt.tcpMss);
  },
};
