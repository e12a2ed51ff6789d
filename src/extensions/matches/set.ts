/**
 * set match (libxt_set revision 4, xt_set). iptables asks the kernel for the set while parsing
 * --match-set (get_set_byname): a set the host's `ipset` made (src/net/ipset.ts), else "Set NAME
 * doesn't exist.". The rule names the set; the kernel counts it as a reference of the set
 * (src/net/ipset-refs.ts). In a trace the packet's addresses and ports, picked by the src/dst
 * flags, are looked up as the set type's kadt() does, with --return-nomatch, the counters and
 * the counter conditions.
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { MatchExtension, OptionEntry, ParseCall } from '../types.js';
import { cidrsOf, familyOf, hasNets, isBitmap, IPSET_TYPES, maskOf, testElem, type AnySet, type BitmapSet, type IpSet, type IpSetElem, type ElemExt, type ListSet } from '../../net/ipset.js';
import { liveMembers } from '../../net/ipset-list.js';
import { idOf, testBit } from '../../net/ipset-bitmap.js';
import type { PacketView } from '../../engine/ext-api.js';

const IPSET_MAXNAMELEN = 32;
const IPSET_DIM_MAX = 6;
const IPSET_INV_MATCH = 1 << 0;
const IPSET_FLAG_RETURN_NOMATCH = 1 << 7;
const IPSET_FLAG_SKIP_COUNTER_UPDATE = 1 << 8;
const IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE = 1 << 9;

const enum Op {
  NONE = 0,
  EQ = 1,
  NE = 2,
  LT = 3,
  GT = 4,
}

interface Counter {
  op: number;
  value: string;
}

export interface SetData {
  name: string;
  /** xt_set_info: dim and the src bits (1 << i for dimension i) plus IPSET_INV_MATCH */
  dim: number;
  setFlags: number;
  /** IPSET_FLAG_* */
  flags: number;
  packets: Counter;
  bytes: Counter;
}

const opts: OptionEntry[] = [
  { name: 'match-set', id: 0, type: 'raw', hasArg: 1, extraArgs: 1 },
  { name: 'set', id: 1, type: 'raw', hasArg: 1, extraArgs: 1 },
  { name: 'return-nomatch', id: 2, type: 'raw', hasArg: 0 },
  { name: 'update-counters', id: 3, type: 'raw', hasArg: 0 },
  { name: 'packets-eq', id: 4, type: 'raw', hasArg: 1 },
  { name: 'packets-lt', id: 5, type: 'raw', hasArg: 1 },
  { name: 'packets-gt', id: 6, type: 'raw', hasArg: 1 },
  { name: 'bytes-eq', id: 7, type: 'raw', hasArg: 1 },
  { name: 'bytes-lt', id: 8, type: 'raw', hasArg: 1 },
  { name: 'bytes-gt', id: 9, type: 'raw', hasArg: 1 },
  { name: 'update-subcounters', id: 10, type: 'raw', hasArg: 0 },
];

function parseCounter(opt: string): string {
  const r = xtStrtoul(opt, 0, 0xffffffffffffffffn);
  if (!r.ok) throw paramProblem(`Cannot parse ${opt} as a counter value`);
  return r.value.toString();
}

/** --packets-* / --bytes-*: one per kind, only -eq may be inverted (it becomes "not equal") */
function counterOption(c: Counter, kind: string, which: 'eq' | 'lt' | 'gt', invert: boolean, arg: string): void {
  if (c.op !== Op.NONE) throw paramProblem(`only one of the --${kind}-[eq|lt|gt] is allowed`);
  if (which !== 'eq' && invert) throw paramProblem(`--${kind}-${which} option cannot be inverted`);
  c.op = which === 'eq' ? (invert ? Op.NE : Op.EQ) : which === 'lt' ? Op.LT : Op.GT;
  c.value = parseCounter(arg);
}

function counterText(c: Counter, name: string, sep: string): string {
  switch (c.op) {
    case Op.EQ:
      return ` ${sep}${name}-eq ${c.value}`;
    case Op.NE:
      return ` ! ${sep}${name}-eq ${c.value}`;
    case Op.LT:
      return ` ${sep}${name}-lt ${c.value}`;
    case Op.GT:
      return ` ${sep}${name}-gt ${c.value}`;
  }
  return '';
}

/** " NAME src,dst": a set and its dimensions, as print_match and print_target write them */
export function setRefText(name: string, dim: number, flags: number): string {
  let s = ` ${name}`;
  for (let i = 1; i <= dim; i++) s += `${i === 1 ? ' ' : ','}${flags & (1 << i) ? 'src' : 'dst'}`;
  return s;
}

/**
 * --match-set / --add-set / --del-set NAME FLAGS (parse_match, parse_target): once only, two
 * words, a name the kernel knows (get_set_byname) of the rule's family, then parse_dirs()
 */
export function parseSetRef(call: ParseCall<unknown>, what: string, ref: { name: string; dim: number; setFlags: number }): void {
  const { arg, extra } = call;
  if (ref.dim) throw paramProblem(`--${what} can be specified only once`);
  if (what === 'match-set' && call.invert) ref.setFlags |= IPSET_INV_MATCH;
  if (extra.length < 1) throw paramProblem(`--${what} requires two args.`);
  if (arg!.length > IPSET_MAXNAMELEN - 1) throw paramProblem(`setname \`${arg}' too long, max ${IPSET_MAXNAMELEN - 1} characters.`);
  const set = call.ipset?.(arg!);
  if (!set) throw paramProblem(`Set ${arg} doesn't exist.\n`);
  // (a list:set or a bitmap:port is of no family: both take it)
  const family = familyOf(set);
  if (family && (call.frame.family === 6) !== (family === 'inet6')) throw paramProblem(`The protocol family of set ${arg} is IPv${family === 'inet6' ? 6 : 4}, which is not applicable.\n`);
  ref.name = arg!;
  parseDirs(extra[0]!, ref);
}

function matchInfoText(d: SetData, opt: string, sep: string): string {
  let s = `${d.setFlags & IPSET_INV_MATCH ? ' !' : ''} ${opt}${setRefText(d.name, d.dim, d.setFlags)}`;
  if (d.flags & IPSET_FLAG_RETURN_NOMATCH) s += ` ${sep}return-nomatch`;
  if (d.flags & IPSET_FLAG_SKIP_COUNTER_UPDATE) s += ` ! ${sep}update-counters`;
  if (d.flags & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE) s += ` ! ${sep}update-subcounters`;
  return s + counterText(d.packets, 'packets', sep) + counterText(d.bytes, 'bytes', sep);
}

export const set: MatchExtension<SetData> = {
  kind: 'match',
  name: 'set',
  revision: 4,
  // set_help_v3() of libxt_set.c, byte for byte as iptables 1.8.9 prints it
  help:
    'set match options:\n' +
    ' [!] --match-set name flags [--return-nomatch]\n' +
    '   [! --update-counters] [! --update-subcounters]\n' +
    '   [[!] --packets-eq value | --packets-lt value | --packets-gt value\n' +
    '   [[!] --bytes-eq value | --bytes-lt value | --bytes-gt value\n' +
    '\t\t \'name\' is the set name from to match,\n' +
    '\t\t \'flags\' are the comma separated list of\n' +
    '\t\t \'src\' and \'dst\' specifications.\n',
  options: opts,
  init: () => ({ name: '', dim: 0, setFlags: 0, flags: 0, packets: { op: Op.NONE, value: '0' }, bytes: { op: Op.NONE, value: '0' } }),
  parse(call) {
    const { entry, arg, invert, data, warn } = call;
    switch (entry.name) {
      case 'update-subcounters':
        if (invert) data.flags |= IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE;
        break;
      case 'update-counters':
        if (invert) data.flags |= IPSET_FLAG_SKIP_COUNTER_UPDATE;
        break;
      case 'return-nomatch':
        if (invert) throw paramProblem('--return-nomatch flag cannot be inverted');
        data.flags |= IPSET_FLAG_RETURN_NOMATCH;
        break;
      case 'packets-eq':
      case 'packets-lt':
      case 'packets-gt':
        counterOption(data.packets, 'packets', entry.name.slice(-2) as 'eq', invert, arg!);
        break;
      case 'bytes-eq':
      case 'bytes-lt':
      case 'bytes-gt':
        counterOption(data.bytes, 'bytes', entry.name.slice(-2) as 'eq', invert, arg!);
        break;
      case 'set':
      case 'match-set': {
        if (entry.name === 'set') warn?.('--set option deprecated, please use --match-set\n');
        parseSetRef(call, 'match-set', data);
        break;
      }
    }
  },
  finalCheck({ xflags }) {
    if (!(xflags & 0b11)) throw paramProblem("You must specify `--match-set' with proper arguments");
  },
  print: (d) => matchInfoText(d, 'match-set', ''),
  save: (d) => matchInfoText(d, '--match-set', '--'),
  match(d, pkt, ctx) {
    return matchSet(d, pkt, ctx) !== !!(d.setFlags & IPSET_INV_MATCH);
  },
};

/** parse_dirs(): up to IPSET_DIM_MAX comma-separated src/dst, dimension i's bit 1 << i set for src */
export function parseDirs(text: string, d: { dim: number; setFlags: number }): void {
  const parts = text.split(',');
  for (const [i, part] of parts.entries()) {
    if (d.dim >= IPSET_DIM_MAX) {
      if (i < parts.length) throw paramProblem(`Can't be more src/dst options than ${IPSET_DIM_MAX}.`);
      break;
    }
    d.dim++;
    if (part.startsWith('src')) d.setFlags |= 1 << d.dim;
    else if (!part.startsWith('dst')) throw paramProblem("You must spefify (the comma separated list of) 'src' or 'dst'.");
  }
}

const PORTED = new Set([6, 17, 132, 136]);

/**
 * A bitmap type's kadt(): the packet's id by dimension 1's flag, undefined when it has none inside
 * the set's range (-IPSET_ERR_BITMAP_RANGE). bitmap:port: the source or destination port, of TCP
 * or UDP only (ip_set_get_ip_port()), none in a later fragment; bitmap:ip: the source or
 * destination address's block.
 */
export function packetBit(set: BitmapSet, flags: number, pkt: PacketView): number | undefined {
  const src = (flags & (1 << 1)) !== 0;
  if (set.type === 'bitmap:ip') {
    const ip = src ? pkt.src : pkt.dst;
    return ip < set.first || ip > set.last ? undefined : idOf(set, ip);
  }
  if ((pkt.proto !== 6 && pkt.proto !== 17) || pkt.fragment) return undefined;
  const port = src ? pkt.sport : pkt.dport;
  return port === undefined || port < set.first || port > set.last ? undefined : port;
}

/**
 * The set type's kadt(): the element a packet stands for, its addresses and ports picked by the
 * src bits of `flags` (bit 1 << i for dimension i); undefined when `dim` names fewer dimensions
 * than the set has (ip_set_test/add/del do nothing then) or the packet has no such element (a
 * later fragment of a protocol with ports). A lookup of a net type is of the host address (the
 * most specific net holding it is found); an add or del takes the set's longest prefix length.
 */
export function packetElem(set: IpSet, dim: number, flags: number, pkt: PacketView, now: number, lookup: boolean): IpSetElem | undefined {
  const t = IPSET_TYPES[set.type];
  // (the lab traces IPv4 packets: an inet6 set, which no iptables rule can name, holds none of them)
  if (dim < t.dim || set.family === 'inet6') return undefined;
  const src = (i: number): boolean => (flags & (1 << i)) !== 0;
  const ip = src(1) ? pkt.src : pkt.dst;
  const e: IpSetElem = { ip };
  if (t.port) {
    // ip_set_get_ip4_port(): no ports in a later fragment of a protocol that has them
    if (pkt.proto <= 0) return undefined;
    const ported = PORTED.has(pkt.proto) || pkt.proto === 1;
    if (pkt.fragment && ported) return undefined;
    e.proto = pkt.proto;
    e.port = PORTED.has(pkt.proto) ? ((src(2) ? pkt.sport : pkt.dport) ?? 0) : pkt.proto === 1 ? (((pkt.icmpType ?? 0) << 8) | (pkt.icmpCode ?? 0)) : 0;
    if (pkt.fragment) e.port = 0;
  }
  // hash:ip,port,ip and hash:ip,port,net: the third dimension's address (its net: as dimension 1's)
  const ip2 = t.third ? (src(3) ? pkt.src : pkt.dst) : 0;
  if (t.third) e.ip2 = ip2;
  if (t.net || t.third === 'net') {
    e.cidr = lookup ? 32 : (cidrsOf(set, now)[0] ?? 32);
    if (t.net) e.ip = (ip & maskOf(e.cidr)) >>> 0;
    else e.ip2 = (ip2 & maskOf(e.cidr)) >>> 0;
  } else if (set.netmask !== undefined) e.ip = (ip & maskOf(set.netmask)) >>> 0;
  return e;
}

type Ctx = Parameters<NonNullable<MatchExtension<SetData>['match']>>[2];

/** xt_set's match: the rule's set tested with the rule's flags */
function matchSet(d: SetData, pkt: PacketView, ctx: Ctx): boolean {
  const set = ctx.ipset(d.name);
  return !!set && ipSetTest(set, d, d.flags, true, pkt, ctx) > 0;
}

/**
 * ip_set_test() with the set type's kadt(): 1 when the set holds the packet's element, else 0
 * (--return-nomatch turns a nomatch element of a net type into a match and a plain one into
 * none); `matchCounters`: the rule's counter conditions apply to the element found
 */
function ipSetTest(set: AnySet, d: SetData, flags: number, matchCounters: boolean, pkt: PacketView, ctx: Ctx): number {
  const now = ctx.now();
  if (set.type === 'list:set') return listTest(set, d, flags, matchCounters, pkt, ctx);
  if (isBitmap(set)) {
    const id = packetBit(set, d.setFlags, pkt);
    const m = id === undefined ? undefined : testBit(set, id, now);
    return m && (!set.counters || countAndCompare(m, d, flags, matchCounters, pkt, ctx)) ? 1 : 0;
  }
  const e = packetElem(set, d.dim, d.setFlags, pkt, now, true);
  if (!e) return 0;
  const res = testElem(set, e, now);
  let ret: number;
  if (!res.found) ret = 0;
  else if (set.counters && !countAndCompare(res.found, d, flags, matchCounters, pkt, ctx)) ret = 0;
  else ret = res.nomatch ? -1 : 1;
  if (flags & IPSET_FLAG_RETURN_NOMATCH && hasNets(set.type) && ret !== 0) ret = -ret;
  return ret > 0 ? 1 : 0;
}

/**
 * list_set_ktest(): the members in turn, each tested without the rule's counter conditions
 * (! --update-subcounters leaves their counters), the first that holds the packet deciding with
 * the list's own extensions of that member (its counters and the conditions)
 */
function listTest(set: ListSet, d: SetData, flags: number, matchCounters: boolean, pkt: PacketView, ctx: Ctx): number {
  const inner = flags & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE ? flags | IPSET_FLAG_SKIP_COUNTER_UPDATE : flags;
  for (const m of liveMembers(set, ctx.now())) {
    const member = ctx.ipset(m.name);
    // (a list:set cannot hold another: ipset refuses it)
    if (!member || member.type === 'list:set' || ipSetTest(member, d, inner, false, pkt, ctx) <= 0) continue;
    if (!set.counters || countAndCompare(m, d, flags, matchCounters, pkt, ctx)) return 1;
  }
  return 0;
}

/** ip_set_match_extensions(): the element counts the packet, then the counter conditions */
function countAndCompare(e: ElemExt, d: SetData, flags: number, matchCounters: boolean, pkt: PacketView, ctx: Ctx): boolean {
  const [packets, bytes] = ctx.countIpsetElem(e, flags & IPSET_FLAG_SKIP_COUNTER_UPDATE ? 0 : pkt.len);
  return !matchCounters || (counterOk(d.packets, packets) && counterOk(d.bytes, bytes));
}

function counterOk(c: Counter, value: number): boolean {
  const v = BigInt(value);
  const want = BigInt(c.value);
  switch (c.op) {
    case Op.EQ:
      return v === want;
    case Op.NE:
      return v !== want;
    case Op.LT:
      return v < want;
    case Op.GT:
      return v > want;
  }
  return true;
}
