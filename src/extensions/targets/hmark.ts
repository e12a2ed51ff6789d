/**
 * HMARK target (libxt_HMARK.c of iptables 1.8.9, net/netfilter/xt_HMARK.c): sets the packet's
 * mark to a hash of its addresses, ports and protocol, scaled into --hmark-mod values and moved
 * up by --hmark-offset. What goes into the hash is chosen by masks: --hmark-tuple names whole
 * fields (src and dst: /32 prefixes; sport, dport: 0xffff port masks; spi: both ports' 32 bits;
 * proto: 0xffff; ct: the connection's original source and reply source instead of the packet's),
 * the other options give the masks (and ports ORed in) themselves. The hash, endian-independent
 * by design (hmark_hash()): jhash_3words(lower address, higher address, higher port << 16 | lower
 * port, --hmark-rnd) XOR (protocol & proto mask), then reciprocal_scale(hash, mod) + offset. An
 * ICMP error is hashed by the header it quotes; ICMP and later fragments have no ports. Any table,
 * any chain (measured: nat and filter take it). ip6tables takes it too, with prefixes up to 128
 * (fixtures/cli/ext-hmark-idletimer6.case).
 */
import { paramProblem, SimError } from '../../errors.js';
import type { PacketView } from '../../engine/ext-api.js';
import { isIcmpError, type QuotedHeader } from '../../engine/packet.js';
import { jhash3, reciprocalScale } from '../../net/jhash.js';
import { prefixToMask } from '../../net/ipv4.js';
import type { TargetExtension } from '../types.js';

/** option ids, which are also the bits of `flags` (XT_HMARK_* of xt_HMARK.h) */
const SADDR_MASK = 0;
const DADDR_MASK = 1;
const SPI = 2;
const SPI_MASK = 3;
const SPORT = 4;
const DPORT = 5;
const SPORT_MASK = 6;
const DPORT_MASK = 7;
const PROTO_MASK = 8;
const RND = 9;
const MODULUS = 10;
const OFFSET = 11;
const CT = 12;
const TYPE = 13;

const bit = (b: number): number => 1 << b;
/** the options that choose what the hash covers (HMARK_OPT_PKT_MASK) */
const PKT_OPTS = [SADDR_MASK, DADDR_MASK, SPI_MASK, SPORT_MASK, DPORT_MASK, PROTO_MASK, SPORT, DPORT, SPI].reduce((m, b) => m | bit(b), 0);

export interface HmarkData {
  /** which options were given, by the bits above */
  flags: number;
  /** the address prefixes hashed (a mask with holes counts whole, as the C code keeps it) */
  srcPrefix: number;
  dstPrefix: number;
  /** port_mask and port_set (struct xt_hmark_info), as host values: the source port in the high half, the SPI all 32 bits */
  portMask: number;
  portSet: number;
  protoMask: number;
  rnd: number;
  mod: number;
  offset: number;
  /** an ip6tables rule's (prefixes up to 128) */
  v6?: true;
}

/** a ports word with one 16-bit half replaced: the source port's (high) or the destination port's */
const withHalf = (word: number, v: number, high: boolean): number => (high ? (word & 0xffff) | (v << 16) : (word & 0xffff0000) | v) >>> 0;
/** the options whose number is the field as it is */
const NUMBER_FIELD: Partial<Record<number, 'portSet' | 'portMask' | 'protoMask' | 'rnd' | 'mod' | 'offset'>> = {
  [SPI]: 'portSet',
  [SPI_MASK]: 'portMask',
  [PROTO_MASK]: 'protoMask',
  [RND]: 'rnd',
  [MODULUS]: 'mod',
  [OFFSET]: 'offset',
};

/** --hmark-tuple's names, in the order hmark_parse() tries them (each by a prefix of itself) */
const TUPLE: [string, (d: HmarkData, full: number) => number][] = [
  ['ct', () => CT],
  ['src', (d, full) => ((d.srcPrefix = full), SADDR_MASK)],
  ['dst', (d, full) => ((d.dstPrefix = full), DADDR_MASK)],
  ['sport', (d) => ((d.portMask = (d.portMask | 0xffff0000) >>> 0), SPORT_MASK)],
  ['dport', (d) => ((d.portMask = (d.portMask | 0xffff) >>> 0), DPORT_MASK)],
  ['proto', (d) => ((d.protoMask = 0xffff), PROTO_MASK)],
  ['spi', (d) => ((d.portMask = 0xffffffff), SPI_MASK)],
];

/** hmark_parse_type(): a comma list of names; the option bits it stands for */
function parseTuple(arg: string, d: HmarkData, full: number): number {
  let more = 0;
  const one = (name: string): boolean => {
    const hit = TUPLE.find(([full]) => name.length <= full.length && full.startsWith(name.toLowerCase()));
    if (!hit) return false;
    const b = hit[1](d, full);
    d.flags |= bit(b);
    more |= bit(b);
    return true;
  };
  let rest = arg;
  for (let comma = rest.indexOf(','); comma >= 0; comma = rest.indexOf(',')) {
    if (comma === 0 || !one(rest.slice(0, comma))) throw paramProblem(`Bad type "${rest}"`);
    rest = rest.slice(comma + 1);
  }
  if (rest === '') throw paramProblem('"--hmark-tuple" requires a list of types with no spaces, e.g. src,dst,sport,dport,proto');
  if (!one(rest)) throw paramProblem(`Bad type "${rest}"`);
  return more;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const hexw = (n: number, w: number): string => `0x${(n >>> 0).toString(16).padStart(w, '0')}`;
/** the hash's tuple (struct hmark_tuple): addresses, the ports word before hmark_swap_ports(), the protocol */
interface HTuple {
  src: number;
  dst: number;
  /** the ports as the packet carries them (source << 16 | destination), or undefined: none */
  ports?: number;
  proto: number;
}

/** hmark_swap_ports(): masked and set, then the higher port in the high half */
function swapPorts(ports: number, d: HmarkData): number {
  const hp = ((ports & d.portMask) | d.portSet) >>> 0;
  const src = hp >>> 16;
  const dst = hp & 0xffff;
  return (dst > src ? (dst << 16) | src : (src << 16) | dst) >>> 0;
}

/** the packet's own tuple (hmark_pkt_set_htuple_ipv4), an ICMP error's from the header it quotes */
function packetTuple(pkt: PacketView & { inner?: QuotedHeader }, d: HmarkData): HTuple {
  const quoted = pkt.proto === 1 && isIcmpError(pkt.icmpType) ? pkt.inner : undefined;
  const h = quoted ?? pkt;
  const t: HTuple = { src: (h.src & prefixToMask(d.srcPrefix)) >>> 0, dst: (h.dst & prefixToMask(d.dstPrefix)) >>> 0, proto: h.proto };
  // ICMP has no ports, nor does a later fragment (the kernel skips first fragments too, which traced
  // packets never are)
  if (t.proto === 1 || (!quoted && pkt.fragment)) return t;
  if (t.proto === 50 || t.proto === 51) {
    throw new SimError(`cannot trace through HMARK on an ${t.proto === 50 ? 'ESP' : 'AH'} packet: traced packets carry no ${t.proto === 50 ? 'ESP' : 'AH'} header, so the SPI it hashes is unknown`, 3);
  }
  // proto_ports_offset(): TCP, UDP, UDP-Lite, SCTP and DCCP have ports at the start of their header
  if ([6, 17, 136, 132, 33].includes(t.proto) && h.sport !== undefined && h.dport !== undefined) t.ports = ((h.sport << 16) | h.dport) >>> 0;
  return t;
}

/** hmark_hash() */
function hash(t: HTuple, d: HmarkData): number {
  const [lo, hi] = t.src <= t.dst ? [t.src, t.dst] : [t.dst, t.src];
  const ports = t.ports === undefined ? 0 : swapPorts(t.ports, d);
  const h = (jhash3(lo, hi, ports, d.rnd) ^ (t.proto & d.protoMask)) >>> 0;
  return (reciprocalScale(h, d.mod) + d.offset) >>> 0;
}

export const HMARK: TargetExtension<HmarkData> = {
  kind: 'target',
  name: 'HMARK',
  // (ip6tables keeps its rules, with prefixes up to 128; the lab traces IPv4 only)
  v6Addresses: true,
  // HMARK_help() of libxt_HMARK.c, byte for byte as iptables 1.8.9 prints it
  help:
    'HMARK target options, i.e. modify hash calculation by:\n' +
    '  --hmark-tuple [src|dst|sport|dport|spi|proto|ct][,...]\n' +
    '  --hmark-mod value\t\t    nfmark modulus value\n' +
    '  --hmark-offset value\t\t    Last action add value to nfmark\n\n' +
    '  --hmark-rnd\t\t\t    Random see for hashing\n' +
    ' Alternatively, fine tuning of what will be included in hash calculation\n' +
    '  --hmark-src-prefix length\t    Source address mask CIDR prefix\n' +
    '  --hmark-dst-prefix length\t    Dest address mask CIDR prefix\n' +
    '  --hmark-sport-mask value\t    Mask src port with value\n' +
    '  --hmark-dport-mask value\t    Mask dst port with value\n' +
    '  --hmark-spi-mask value\t    For esp and ah AND spi with value\n' +
    '  --hmark-sport value\t\t    OR src port with value\n' +
    '  --hmark-dport value\t\t    OR dst port with value\n' +
    '  --hmark-spi value\t\t    For esp and ah OR spi with value\n' +
    '  --hmark-proto-mask value\t    Mask Protocol with value\n',
  options: [
    { name: 'hmark-tuple', id: TYPE, type: 'string' },
    { name: 'hmark-src-prefix', id: SADDR_MASK, type: 'plenmask' },
    { name: 'hmark-dst-prefix', id: DADDR_MASK, type: 'plenmask' },
    { name: 'hmark-sport-mask', id: SPORT_MASK, type: 'uint16' },
    { name: 'hmark-dport-mask', id: DPORT_MASK, type: 'uint16' },
    { name: 'hmark-spi-mask', id: SPI_MASK, type: 'uint32' },
    { name: 'hmark-sport', id: SPORT, type: 'uint16' },
    { name: 'hmark-dport', id: DPORT, type: 'uint16' },
    { name: 'hmark-spi', id: SPI, type: 'uint32' },
    { name: 'hmark-proto-mask', id: PROTO_MASK, type: 'uint16' },
    { name: 'hmark-rnd', id: RND, type: 'uint32' },
    { name: 'hmark-mod', id: MODULUS, type: 'uint32', min: 1, mandatory: true },
    { name: 'hmark-offset', id: OFFSET, type: 'uint32' },
  ],
  init: (frame) => ({ flags: 0, srcPrefix: 0, dstPrefix: 0, portMask: 0, portSet: 0, protoMask: 0, rnd: 0, mod: 0, offset: 0, ...(frame.family === 6 ? { v6: true as const } : {}) }),
  parse({ entry, arg, val, data: d }) {
    const full = d.v6 ? 128 : 32;
    if (entry.id === TYPE) return parseTuple(arg!, d, full);
    d.flags |= bit(entry.id);
    const id = entry.id;
    // (a mask with holes reads as the prefix length -1, kept as a uint8_t: the mask stays whole)
    if (id === SADDR_MASK || id === DADDR_MASK) d[id === SADDR_MASK ? 'srcPrefix' : 'dstPrefix'] = val.hlen! < 0 ? full : val.hlen!;
    else if (id === SPORT || id === DPORT) d.portSet = withHalf(d.portSet, val.num!, id === SPORT);
    else if (id === SPORT_MASK || id === DPORT_MASK) d.portMask = withHalf(d.portMask, val.num!, id === SPORT_MASK);
    else d[NUMBER_FIELD[id]!] = val.num!;
    return undefined;
  },
  // HMARK_check(), before the generic check of the mandatory --hmark-mod
  finalCheck({ xflags }) {
    if (!(xflags & bit(MODULUS))) throw paramProblem('--hmark-mod is mandatory');
    if (!(xflags & bit(RND))) throw paramProblem('--hmark-rnd is mandatory');
    if (xflags & bit(SPI_MASK) && xflags & (bit(SPORT_MASK) | bit(DPORT_MASK))) {
      throw paramProblem('you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time');
    }
    if (!(xflags & PKT_OPTS) && !(xflags & bit(CT))) throw paramProblem('you have to specify --hmark-tuple at least');
  },
  print(d) {
    const f = (b: number): boolean => (d.flags & bit(b)) !== 0;
    // ip6tables prints xtables_ip6mask_to_numeric() past its "/": nothing for a whole /128
    const prefix = (n: number): string => (d.v6 && n === 128 ? '' : String(n));
    let s = ' HMARK ';
    if (f(MODULUS)) s += `mod ${d.mod} `;
    if (f(OFFSET)) s += `+ ${hex(d.offset)} `;
    if (f(CT)) s += 'ct, ';
    if (f(SADDR_MASK)) s += `src-prefix ${prefix(d.srcPrefix)} `;
    if (f(DADDR_MASK)) s += `dst-prefix ${prefix(d.dstPrefix)} `;
    if (f(SPORT_MASK)) s += `sport-mask ${hex(d.portMask >>> 16)} `;
    if (f(DPORT_MASK)) s += `dport-mask ${hex(d.portMask & 0xffff)} `;
    if (f(SPI_MASK)) s += `spi-mask ${hex(d.portMask)} `;
    if (f(SPORT)) s += `sport ${hex(d.portSet >>> 16)} `;
    if (f(DPORT)) s += `dport ${hex(d.portSet & 0xffff)} `;
    if (f(SPI)) s += `spi ${hex(d.portSet)} `;
    if (f(PROTO_MASK)) s += `proto-mask ${hex(d.protoMask)} `;
    if (f(RND)) s += `rnd ${hex(d.rnd)} `;
    return s;
  },
  save(d) {
    const f = (b: number): boolean => (d.flags & bit(b)) !== 0;
    let s = '';
    if (f(SADDR_MASK)) s += ` --hmark-src-prefix ${d.srcPrefix}`;
    if (f(DADDR_MASK)) s += ` --hmark-dst-prefix ${d.dstPrefix}`;
    if (f(SPORT_MASK)) s += ` --hmark-sport-mask ${hexw(d.portMask >>> 16, 4)}`;
    if (f(DPORT_MASK)) s += ` --hmark-dport-mask ${hexw(d.portMask & 0xffff, 4)}`;
    if (f(SPI_MASK)) s += ` --hmark-spi-mask ${hexw(d.portMask, 8)}`;
    if (f(SPORT)) s += ` --hmark-sport ${hexw(d.portSet >>> 16, 4)}`;
    if (f(DPORT)) s += ` --hmark-dport ${hexw(d.portSet & 0xffff, 4)}`;
    if (f(SPI)) s += ` --hmark-spi ${hexw(d.portSet, 8)}`;
    if (f(PROTO_MASK)) s += ` --hmark-proto-mask ${hexw(d.protoMask, 2)}`;
    if (f(RND)) s += ` --hmark-rnd ${hexw(d.rnd, 8)}`;
    if (f(MODULUS)) s += ` --hmark-mod ${d.mod}`;
    if (f(OFFSET)) s += ` --hmark-offset ${d.offset}`;
    if (f(CT)) s += ' --hmark-tuple ct';
    return s;
  },
  // hmark_tg_check(): an SPI to OR in cannot go with ports to OR in
  kernelCheck: (d) =>
    d.flags & bit(SPI) && d.flags & (bit(SPORT) | bit(DPORT)) ? 'HMARK cannot OR both an SPI (--hmark-spi) and ports (--hmark-sport/--hmark-dport) into the hash ("spi-set and port-set can\'t be combined")' : undefined,
  // hmark_tg_v4(): with ct, the connection's tuples (nothing without one); the mark is the hash
  apply(d, pkt) {
    let t: HTuple;
    if (d.flags & bit(CT)) {
      const ct = pkt.ct;
      if (!ct || ct.state === 'INVALID' || ct.state === 'UNTRACKED') return { verdict: 'CONTINUE', note: 'HMARK: packet has no connection' };
      t = { src: (ct.orig.src & prefixToMask(d.srcPrefix)) >>> 0, dst: (ct.replyTuple.src & prefixToMask(d.dstPrefix)) >>> 0, proto: ct.orig.proto };
      if (t.proto !== 1) t.ports = ((ct.orig.sport << 16) | ct.replyTuple.sport) >>> 0;
    } else t = packetTuple(pkt, d);
    const before = pkt.mark;
    pkt.mark = hash(t, d);
    return { verdict: 'CONTINUE', note: `HMARK ${hex(before)} -> ${hex(pkt.mark)}` };
  },
};
