/**
 * policy match (libxt_policy, xt_policy): the IPsec policy used to decapsulate a packet (--dir in)
 * or the one that will encapsulate it (--dir out), as a list of up to four elements separated by
 * --next. The lab never runs IPsec, so "--pol none" always matches and "--pol ipsec" never does.
 * ip6tables' form (policy_mt6_reg) is the same but for the tunnel addresses, which are IPv6 ones
 * kept as given, with a prefix length (a mask with holes is taken as /128, as libxtables does:
 * fixtures/cli/ip6tables-policy-netmap.case).
 */
import { paramProblem } from '../../errors.js';
import { ipToString, maskToNumericSuffix } from '../../net/ipv4.js';
import { protocolByNumber } from '../../net/netdb.js';
import { hostmask6 } from '../xtoptions.js';
import type { MatchExtension, OptionEntry } from '../types.js';

export interface PolicyElem {
  reqid?: number;
  spi?: number;
  proto?: number;
  /** 0 transport, 1 tunnel */
  mode?: number;
  saddr?: [number, number];
  daddr?: [number, number];
  /** ip6tables: the tunnel addresses as inet_ntop() writes them, and their prefix lengths */
  saddr6?: [string, number];
  daddr6?: [string, number];
  invReqid?: boolean;
  invSpi?: boolean;
  invProto?: boolean;
  invMode?: boolean;
  invSaddr?: boolean;
  invDaddr?: boolean;
}

export interface PolicyData {
  dirIn?: boolean;
  dirOut?: boolean;
  none?: boolean;
  strict?: boolean;
  /** element count as the kernel sees it (after the final check) */
  len: number;
  pol: PolicyElem[];
}

const O_DIRECTION = 0;
const O_POLICY = 1;
const O_STRICT = 2;
const O_REQID = 3;
const O_SPI = 4;
const O_PROTO = 5;
const O_MODE = 6;
const O_TUNNELSRC = 7;
const O_TUNNELDST = 8;
const O_NEXT = 9;

const MAX_ELEM = 4;
const MODE_TRANSPORT = 0;
const MODE_TUNNEL = 1;

const opts: OptionEntry[] = [
  { name: 'dir', id: O_DIRECTION, type: 'string' },
  { name: 'pol', id: O_POLICY, type: 'string' },
  { name: 'strict', id: O_STRICT, type: 'none' },
  { name: 'reqid', id: O_REQID, type: 'uint32', multi: true, invert: true },
  { name: 'spi', id: O_SPI, type: 'uint32', multi: true, invert: true },
  { name: 'tunnel-src', id: O_TUNNELSRC, type: 'hostmask', multi: true, invert: true },
  { name: 'tunnel-dst', id: O_TUNNELDST, type: 'hostmask', multi: true, invert: true },
  { name: 'proto', id: O_PROTO, type: 'protocol', multi: true, invert: true },
  { name: 'mode', id: O_MODE, type: 'string', multi: true, invert: true },
  { name: 'next', id: O_NEXT, type: 'none', multi: true, also: [O_STRICT] },
];

function double(opt: string): never {
  throw paramProblem(`policy match: double --${opt} option`);
}

const hasTunnel = (e: PolicyElem) => !!(e.saddr || e.daddr || e.saddr6 || e.daddr6);

const hasAny = (e: PolicyElem) => e.reqid !== undefined || e.spi !== undefined || hasTunnel(e) || e.proto !== undefined || e.mode !== undefined;

/** "addr" or "addr/N" (xtables_ip6addr_to_numeric() and xtables_ip6mask_to_numeric()) */
const addr6Text = ([addr, len]: [string, number]) => (len === 128 ? addr : `${addr}/${len}`);

function entryText(prefix: string, e: PolicyElem, numeric: boolean): string {
  const inv = (b?: boolean) => (b ? ' !' : '');
  let s = '';
  if (e.reqid !== undefined) s += `${inv(e.invReqid)} ${prefix}reqid ${e.reqid}`;
  if (e.spi !== undefined) s += `${inv(e.invSpi)} ${prefix}spi 0x${e.spi.toString(16)}`;
  if (e.proto !== undefined) {
    const name = numeric ? undefined : protocolByNumber(e.proto);
    s += `${inv(e.invProto)} ${prefix}proto ${name ?? e.proto}`;
  }
  if (e.mode !== undefined) s += `${inv(e.invMode)} ${prefix}mode ${e.mode === MODE_TUNNEL ? 'tunnel' : 'transport'}`;
  if (e.daddr) s += `${inv(e.invDaddr)} ${prefix}tunnel-dst ${ipToString(e.daddr[0])}${maskToNumericSuffix(e.daddr[1])}`;
  if (e.daddr6) s += `${inv(e.invDaddr)} ${prefix}tunnel-dst ${addr6Text(e.daddr6)}`;
  if (e.saddr) s += `${inv(e.invSaddr)} ${prefix}tunnel-src ${ipToString(e.saddr[0])}${maskToNumericSuffix(e.saddr[1])}`;
  if (e.saddr6) s += `${inv(e.invSaddr)} ${prefix}tunnel-src ${addr6Text(e.saddr6)}`;
  return s;
}

function flagsText(prefix: string, d: PolicyData): string {
  let s = d.dirIn ? ` ${prefix}dir in` : ` ${prefix}dir out`;
  s += d.none ? ` ${prefix}pol none` : ` ${prefix}pol ipsec`;
  if (d.strict) s += ` ${prefix}strict`;
  return s;
}

export const policy: MatchExtension<PolicyData> = {
  kind: 'match',
  name: 'policy',
  v6Addresses: true,
  // policy_help() of libxt_policy.c, byte for byte as iptables 1.8.9 prints it
  help:
    'policy match options:\n' +
    '  --dir in|out\t\t\tmatch policy applied during decapsulation/\n' +
    '\t\t\t\tpolicy to be applied during encapsulation\n' +
    '  --pol none|ipsec\t\tmatch policy\n' +
    '  --strict \t\t\tmatch entire policy instead of single element\n' +
    '\t\t\t\tat any position\n' +
    'These options may be used repeatedly, to describe policy elements:\n' +
    '[!] --reqid reqid\t\tmatch reqid\n' +
    '[!] --spi spi\t\t\tmatch SPI\n' +
    '[!] --proto proto\t\tmatch protocol (ah/esp/ipcomp)\n' +
    '[!] --mode mode \t\tmatch mode (transport/tunnel)\n' +
    '[!] --tunnel-src addr/mask\tmatch tunnel source\n' +
    '[!] --tunnel-dst addr/mask\tmatch tunnel destination\n' +
    '  --next \t\t\tbegin next element in policy\n',
  options: opts,
  init: () => ({ len: 0, pol: [{}] }),
  parse({ entry, arg, invert, val, data, frame }) {
    // policy_parse() works on the element at index len; --next moves on
    const e = (data.pol[data.len] ??= {});
    switch (entry.id) {
      case O_DIRECTION:
        if (arg === 'in') data.dirIn = true;
        else if (arg === 'out') data.dirOut = true;
        else throw paramProblem(`policy_match: invalid dir "${arg}"`);
        break;
      case O_POLICY:
        if (arg === 'none') data.none = true;
        else if (arg !== 'ipsec') throw paramProblem(`policy match: invalid policy "${arg}"`);
        break;
      case O_STRICT:
        data.strict = true;
        break;
      case O_REQID:
        if (e.reqid !== undefined) double('reqid');
        e.reqid = val.num!;
        if (invert) e.invReqid = true;
        break;
      case O_SPI:
        if (e.spi !== undefined) double('spi');
        e.spi = val.num!;
        if (invert) e.invSpi = true;
        break;
      case O_TUNNELSRC:
        if (e.saddr || e.saddr6) double('tunnel-src');
        if (frame.family === 6) e.saddr6 = hostmask6(val);
        else e.saddr = [val.haddr!, val.hmask!];
        if (invert) e.invSaddr = true;
        break;
      case O_TUNNELDST:
        if (e.daddr || e.daddr6) double('tunnel-dst');
        if (frame.family === 6) e.daddr6 = hostmask6(val);
        else e.daddr = [val.haddr!, val.hmask!];
        if (invert) e.invDaddr = true;
        break;
      case O_PROTO:
        if (e.proto !== undefined) double('proto');
        if (val.protocol !== 51 && val.protocol !== 50 && val.protocol !== 108) {
          throw paramProblem('policy match: protocol must be ah/esp/ipcomp');
        }
        e.proto = val.protocol;
        if (invert) e.invProto = true;
        break;
      case O_MODE:
        if (e.mode !== undefined) double('mode');
        if (arg === 'transport') e.mode = MODE_TRANSPORT;
        else if (arg === 'tunnel') e.mode = MODE_TUNNEL;
        else throw paramProblem(`policy match: invalid mode "${arg}"`);
        if (invert) e.invMode = true;
        break;
      case O_NEXT:
        if (++data.len === MAX_ELEM) throw paramProblem('policy match: maximum policy depth reached');
        data.pol[data.len] = {};
        break;
    }
  },
  finalCheck({ data }) {
    if (!data.dirIn && !data.dirOut) throw paramProblem('policy match: neither --dir in nor --dir out specified');
    if (data.none) {
      if (data.strict) throw paramProblem('policy match: policy none but --strict given');
      if (data.len !== 0) throw paramProblem('policy match: policy none but policy given');
      // elements given without --next stay in the data but the kernel never looks at them
    } else {
      data.len++;
    }
    data.pol.length = Math.max(data.len, 1);
    for (let i = 0; i < data.len; i++) {
      const e = data.pol[i]!;
      if (data.strict && !hasAny(e)) {
        throw paramProblem(
          `policy match: empty policy element ${i}. --strict is in effect, but at least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.`,
        );
      }
      // an element without --mode is in transport mode (0)
      const mode = e.mode ?? MODE_TRANSPORT;
      if (hasTunnel(e) && ((mode === MODE_TUNNEL && e.invMode) || (mode === MODE_TRANSPORT && !e.invMode))) {
        throw paramProblem('policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode');
      }
    }
  },
  print(d, { numeric }) {
    let s = ' policy match' + flagsText('', d);
    for (let i = 0; i < d.len; i++) {
      if (d.len > 1) s += ` [${i}]`;
      s += entryText('', d.pol[i]!, numeric);
    }
    return s;
  },
  save(d) {
    let s = flagsText('--', d);
    for (let i = 0; i < d.len; i++) {
      s += entryText('--', d.pol[i]!, false);
      if (i + 1 < d.len) s += ' --next';
    }
    return s;
  },
  // policy_mt_check(): the direction must exist at the hook
  kernelCheck(d, { hooks }) {
    if (d.dirOut && hooks.some((h) => h === 'PREROUTING' || h === 'INPUT')) return 'output policy not valid in PREROUTING and INPUT';
    if (d.dirIn && hooks.some((h) => h === 'POSTROUTING' || h === 'OUTPUT')) return 'input policy not valid in POSTROUTING and OUTPUT';
    return undefined;
  },
  /**
   * policy_mt(): match_policy_in/out() return -1 when the packet has no IPsec state (no secpath,
   * no xfrm bundle on its route), which is always the case in the lab.
   */
  match: (d) => !!d.none,
};
