/**
 * tcp match (libxt_tcp, xt_tcpudp): --sport/--dport port[:port], --syn, --tcp-flags MASK COMP,
 * --tcp-option N. Old-style option parsing, with its own messages.
 */
import { paramProblem } from '../../errors.js';
import { parseUint } from '../../util/strtoul.js';
import type { MatchExtension, OptionEntry } from '../types.js';
import { inRange, parsePort, portTestsHold, printPortRange, savePortRange, type PortTest } from '../util/ports.js';
import { needsProtocol } from '../util/proto.js';

export interface TcpData {
  spts: [number, number];
  dpts: [number, number];
  option: number;
  flgMask: number;
  flgCmp: number;
  invSrc?: boolean;
  invDst?: boolean;
  invFlags?: boolean;
  invOption?: boolean;
  /**
   * the expressions iptables-nft stored, when the kernel tests more than the ports and flags above
   * (which are what iptables reads back and prints): see ruleset/nft-compat.ts
   */
  nft?: PortTest[];
}

const FLAG_NAMES: [string, number][] = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];

export function parseTcpFlags(list: string): number {
  let ret = 0;
  for (const part of list.split(',').filter((p) => p.length)) {
    const f = FLAG_NAMES.find(([n]) => n.toLowerCase() === part.toLowerCase());
    if (!f) throw paramProblem(`Unknown TCP flag \`${part}'`);
    ret |= f[1];
  }
  return ret;
}

/** print_tcpf(): flag names joined by ',', lowest bit first, "NONE" for none */
export function tcpFlagsText(flags: number): string {
  const names: string[] = [];
  let f = flags & 0xff;
  while (f) {
    const i = FLAG_NAMES.findIndex(([, bit]) => (f & bit) !== 0);
    names.push(FLAG_NAMES[i]![0]);
    f &= ~FLAG_NAMES[i]![1];
  }
  return names.length ? names.join(',') : 'NONE';
}

/** parse_tcp_ports(): "p", "p:q", ":q", "p:"; min > max refused */
export function parsePortSpec(spec: string, proto: string): [number, number] {
  const colon = spec.indexOf(':');
  if (colon < 0) {
    const p = parsePort(spec, proto);
    return [p, p];
  }
  const lo = spec.slice(0, colon);
  const hi = spec.slice(colon + 1);
  const min = lo ? parsePort(lo, proto) : 0;
  const max = hi ? parsePort(hi, proto) : 0xffff;
  if (min > max) throw paramProblem('invalid portrange (min > max)');
  return [min, max];
}

const opts: OptionEntry[] = [
  { name: 'source-port', id: 0, type: 'raw', hasArg: 1 },
  { name: 'sport', id: 0, type: 'raw', hasArg: 1 },
  { name: 'destination-port', id: 1, type: 'raw', hasArg: 1 },
  { name: 'dport', id: 1, type: 'raw', hasArg: 1 },
  { name: 'syn', id: 2, type: 'raw', hasArg: 0 },
  { name: 'tcp-flags', id: 3, type: 'raw', hasArg: 1, extraArgs: 1 },
  { name: 'tcp-option', id: 4, type: 'raw', hasArg: 1 },
];

export const tcp: MatchExtension<TcpData> = {
  kind: 'match',
  name: 'tcp',
  // tcp_help() of libxt_tcp.c, byte for byte as iptables 1.8.9 prints it
  help:
    'tcp match options:\n' +
    '[!] --tcp-flags mask comp\tmatch when TCP flags & mask == comp\n' +
    '\t\t\t\t(Flags: SYN ACK FIN RST URG PSH ALL NONE)\n' +
    '[!] --syn\t\t\tmatch when only SYN flag set\n' +
    '\t\t\t\t(equivalent to --tcp-flags SYN,RST,ACK,FIN SYN)\n' +
    '[!] --source-port port[:port]\n' +
    ' --sport ...\n' +
    '\t\t\t\tmatch source port(s)\n' +
    '[!] --destination-port port[:port]\n' +
    ' --dport ...\n' +
    '\t\t\t\tmatch destination port(s)\n' +
    '[!] --tcp-option number        match if TCP option set\n',
  options: opts,
  init: () => ({ spts: [0, 0xffff], dpts: [0, 0xffff], option: 0, flgMask: 0, flgCmp: 0 }),
  parse({ entry, arg, extra, invert, data, xflags }) {
    const seen = (id: number) => (xflags & (1 << id)) !== 0;
    // syn and tcp-flags share one flag in the C code
    const flagsSeen = seen(2) || seen(3);
    switch (entry.id) {
      case 0:
        if (seen(0)) throw paramProblem("Only one `--source-port' allowed");
        data.spts = parsePortSpec(arg!, 'tcp');
        if (invert) data.invSrc = true;
        break;
      case 1:
        if (seen(1)) throw paramProblem("Only one `--destination-port' allowed");
        data.dpts = parsePortSpec(arg!, 'tcp');
        if (invert) data.invDst = true;
        break;
      case 2:
      case 3: {
        if (flagsSeen) throw paramProblem("Only one of `--syn' or `--tcp-flags'  allowed");
        if (entry.id === 2) {
          data.flgMask = parseTcpFlags('SYN,RST,ACK,FIN');
          data.flgCmp = parseTcpFlags('SYN');
        } else {
          if (extra.length < 1) throw paramProblem('--tcp-flags requires two args.');
          data.flgMask = parseTcpFlags(arg!);
          data.flgCmp = parseTcpFlags(extra[0]!);
        }
        if (invert) data.invFlags = true;
        break;
      }
      case 4: {
        if (seen(4)) throw paramProblem("Only one `--tcp-option' allowed");
        const n = parseUint(arg!, 1, 255);
        if (n === undefined) throw paramProblem(`Bad TCP option "${arg}"`);
        data.option = n;
        if (invert) data.invOption = true;
        break;
      }
    }
  },
  print(d, { numeric }) {
    let s = ' tcp';
    s += printPortRange('spt', d.spts[0], d.spts[1], !!d.invSrc, 'tcp', numeric);
    s += printPortRange('dpt', d.dpts[0], d.dpts[1], !!d.invDst, 'tcp', numeric);
    if (d.option || d.invOption) s += ` option=${d.invOption ? '!' : ''}${d.option}`;
    if (d.flgMask || d.invFlags) {
      s += ` flags:${d.invFlags ? '!' : ''}`;
      s += numeric
        ? `0x${d.flgMask.toString(16).toUpperCase().padStart(2, '0')}/0x${d.flgCmp.toString(16).toUpperCase().padStart(2, '0')}`
        : `${tcpFlagsText(d.flgMask)}/${tcpFlagsText(d.flgCmp)}`;
    }
    return s;
  },
  save(d) {
    let s = savePortRange('sport', d.spts[0], d.spts[1], !!d.invSrc);
    s += savePortRange('dport', d.dpts[0], d.dpts[1], !!d.invDst);
    if (d.option || d.invOption) s += `${d.invOption ? ' !' : ''} --tcp-option ${d.option}`;
    if (d.flgMask || d.invFlags) s += `${d.invFlags ? ' !' : ''} --tcp-flags ${tcpFlagsText(d.flgMask)} ${tcpFlagsText(d.flgCmp)}`;
    return s;
  },
  // xt_tcpudp is registered for protocol 6 only: the kernel refuses it on other rules
  kernelCheck: needsProtocol(6, 'tcp', 'the tcp match'),
  // iptables-nft compares what it reads back, not the expressions behind it
  compareKey: ({ nft: _, ...shown }) => shown,
  match(d, pkt) {
    if (pkt.proto !== 6 || pkt.fragment) return false;
    if (d.nft) return portTestsHold(d.nft, pkt.sport, pkt.dport, pkt.tcpFlags ?? 0);
    if (inRange(pkt.sport, d.spts[0], d.spts[1]) === !!d.invSrc) return false;
    if (inRange(pkt.dport, d.dpts[0], d.dpts[1]) === !!d.invDst) return false;
    if (((((pkt.tcpFlags ?? 0) & d.flgMask) === d.flgCmp) as boolean) === !!d.invFlags) return false;
    // the lab's packets carry TCP options as Linux sends them: a SYN has MSS (2, its value in
    // pkt.tcpMss, see setSynMss() in engine/packet.ts), SACK-perm (4), timestamps (8) and window
    // scale (3); every other segment has timestamps
    if (d.option) {
      const present = (pkt.tcpFlags ?? 0) & 0x02 ? [2, 3, 4, 8].includes(d.option) : d.option === 8;
      if (present === !!d.invOption) return false;
    }
    return true;
  },
};
