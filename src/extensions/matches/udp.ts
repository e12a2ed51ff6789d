/**
 * udp match (libxt_udp, xt_tcpudp): --sport/--dport port[:port], resolved with getaddrinfo().
 */
import type { MatchExtension, OptionEntry } from '../types.js';
import { inRange, portTestsHold, printPortRange, savePortRange, type PortTest } from '../util/ports.js';
import { needsProtocol } from '../util/proto.js';

export interface UdpData {
  spts: [number, number];
  dpts: [number, number];
  invSrc?: boolean;
  invDst?: boolean;
  /** as TcpData.nft: the expressions the kernel tests, when they say more than the ports above */
  nft?: PortTest[];
}

const opts: OptionEntry[] = [
  { name: 'source-port', id: 0, type: 'portrc', invert: true },
  { name: 'sport', id: 0, type: 'portrc', invert: true },
  { name: 'destination-port', id: 1, type: 'portrc', invert: true },
  { name: 'dport', id: 1, type: 'portrc', invert: true },
];

export const udp: MatchExtension<UdpData> = {
  kind: 'match',
  name: 'udp',
  // udp_help() of libxt_udp.c, byte for byte as iptables 1.8.9 prints it
  help:
    'udp match options:\n' +
    '[!] --source-port port[:port]\n' +
    ' --sport ...\n' +
    '\t\t\t\tmatch source port(s)\n' +
    '[!] --destination-port port[:port]\n' +
    ' --dport ...\n' +
    '\t\t\t\tmatch destination port(s)\n',
  options: opts,
  init: () => ({ spts: [0, 0xffff], dpts: [0, 0xffff] }),
  parse({ entry, invert, val, data }) {
    if (entry.id === 0) {
      data.spts = val.portRange!;
      if (invert) data.invSrc = true;
    } else {
      data.dpts = val.portRange!;
      if (invert) data.invDst = true;
    }
  },
  print(d, { numeric }) {
    return (
      ' udp' +
      printPortRange('spt', d.spts[0], d.spts[1], !!d.invSrc, 'udp', numeric) +
      printPortRange('dpt', d.dpts[0], d.dpts[1], !!d.invDst, 'udp', numeric)
    );
  },
  save(d) {
    return savePortRange('sport', d.spts[0], d.spts[1], !!d.invSrc) + savePortRange('dport', d.dpts[0], d.dpts[1], !!d.invDst);
  },
  // xt_tcpudp is registered for protocol 17 only: the kernel refuses it on other rules
  kernelCheck: needsProtocol(17, 'udp', 'the udp match'),
  compareKey: ({ nft: _, ...shown }) => shown,
  match(d, pkt) {
    if (pkt.proto !== 17 || pkt.fragment) return false;
    if (d.nft) return portTestsHold(d.nft, pkt.sport, pkt.dport, 0);
    if (inRange(pkt.sport, d.spts[0], d.spts[1]) === !!d.invSrc) return false;
    if (inRange(pkt.dport, d.dpts[0], d.dpts[1]) === !!d.invDst) return false;
    return true;
  },
};
