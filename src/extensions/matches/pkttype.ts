/**
 * pkttype match (libxt_pkttype, xt_pkttype): the link-layer class of the frame (skb->pkt_type).
 */
import { paramProblem } from '../../errors.js';
import type { MatchExtension } from '../types.js';

export interface PkttypeData {
  /** PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OTHERHOST 3 */
  pkttype: number;
  invert?: boolean;
}

/** supported_types[] of libxt_pkttype, aliases last: printing takes the first name of a value */
const TYPES: [string, number][] = [
  ['unicast', 0],
  ['broadcast', 1],
  ['multicast', 2],
  ['otherhost', 3],
  ['bcast', 1],
  ['mcast', 2],
  ['host', 0],
];

function typeName(t: number): string {
  return TYPES.find(([, v]) => v === t)?.[0] ?? String(t);
}

const PKT_TYPE_VALUE = { unicast: 0, broadcast: 1, multicast: 2 } as const;

export const pkttype: MatchExtension<PkttypeData> = {
  kind: 'match',
  name: 'pkttype',
  // pkttype_help() of libxt_pkttype.c, byte for byte as iptables 1.8.9 prints it
  help:
    'pkttype match options:\n' +
    '[!] --pkt-type packettype    match packet type\n' +
    'Valid packet types:\n' +
    '\tunicast       \t\tto us\n' +
    '\tbroadcast     \t\tto all\n' +
    '\tmulticast     \t\tto group\n' +
    '\totherhost     \t\tto someone else\n' +
    '\n',
  options: [{ name: 'pkt-type', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ pkttype: 0 }),
  parse({ arg, invert, data }) {
    const t = TYPES.find(([n]) => n.toLowerCase() === arg!.toLowerCase());
    if (!t) throw paramProblem(`Bad packet type '${arg}'`);
    data.pkttype = t[1];
    if (invert) data.invert = true;
  },
  print: (d) => ` PKTTYPE ${d.invert ? '!' : ''}= ${typeName(d.pkttype)}`,
  save: (d) => `${d.invert ? ' !' : ''} --pkt-type ${typeName(d.pkttype)}`,
  /**
   * pkttype_mt(). A locally generated packet keeps the zeroed skb->pkt_type, PACKET_HOST
   * ("unicast"), so a packet without a received frame class counts as unicast. OTHERHOST frames
   * are dropped by ip_rcv() before PREROUTING, so "otherhost" never matches an IPv4 packet.
   */
  match(d, pkt) {
    const type = PKT_TYPE_VALUE[pkt.pktType ?? 'unicast'];
    return (type === d.pkttype) !== !!d.invert;
  },
};
