/**
 * `ipset` (ipset 7.17, protocol 7) over a host's IP sets: create, add, del, test, list, save,
 * restore, flush, destroy, rename, swap, version and help, with the options -exist (-!), -quiet,
 * -name, -terse, -output plain|save and -file. Command-line handling, messages and exit statuses
 * follow ipset's own (lib/ipset.c, parse.c, errcode.c), measured with the real tool and kernel
 * (fixtures/cli/ipset*.case). Set types: hash:ip, hash:net, hash:ip,port, hash:net,port,
 * hash:ip,port,ip and hash:ip,port,net of family inet and inet6 (../../net/ipset.ts), list:set
 * (../../net/ipset-list.ts), bitmap:port and bitmap:ip (../../net/ipset-bitmap.ts); the others,
 * the skbinfo, forceadd and bitmask options, -output xml, -resolve and the interactive
 * mode are refused by name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inetAton } from '../../net/ipv4.js';
import { formatIp6, parseIp6 } from '../../net/ipv6.js';
import { hostToAddrs, protocolByName, protocolByNumber, serviceToPort } from '../../net/netdb.js';
import {
  addElem,
  delElem,
  familyOf,
  findIpset,
  isBitmap,
  isBitmapType,
  type AnySet,
  type ElemExt,
  type BitmapMember,
  type BitmapSet,
  type ListMember,
  type ListSet,
  elemKeyText,
  flushSet,
  hostMask,
  ICMP_NAMES,
  ICMPV6_NAMES,
  hasNets,
  ipText,
  IPSET_MAX_TIMEOUT,
  IPSET_TYPES,
  maskIp,
  maskOf,
  members,
  memsize,
  portText,
  testElem,
  type IpSet,
  type IpSetElem,
  type IpSetType,
} from '../../net/ipset.js';
import { ipsetReferences } from '../../net/ipset-refs.js';
import { typeHelp } from './ipset-help.js';
import { addBit, BITMAP_MAX_ELEMENTS, bitmapMemsize, bitsOf, delBit, flushBits, hostsOf, idOf, liveBits, rangeToMask, testBit } from '../../net/ipset-bitmap.js';
import { cleanupList, listAdd, listDel, listMemsize, listSize, listTest, liveMembers, type ListPlace } from '../../net/ipset-list.js';
import { Rng } from '../../util/rng.js';
import { strtoumax } from '../../util/strtoul.js';
import type { Host, Lab } from '../../net/lab.js';
import { hostOf, readWrite, type CliContext } from '../context.js';
import { strerror } from '../io.js';

const PROG = 'ipset v7.17';
const NO_PROBLEM = 0;
const OTHER_PROBLEM = 1;
const PARAMETER_PROBLEM = 2;
const SESSION_PROBLEM = 4;

/** the process ends: ipset's exit() with what it printed on stderr */
class Exit {
  constructor(
    readonly status: number,
    readonly stderr = '',
  ) {}
}

/** custom_error(): "ipset v7.17: MSG", the hint after a parameter problem, exit 1 or 2 */
function customError(status: number, msg: string, quiet: boolean): Exit {
  let s = '';
  if (!quiet) {
    s = `${PROG}: ${msg}`;
    if (status !== SESSION_PROBLEM) s += '\n';
    if (status === PARAMETER_PROBLEM) s += "Try `ipset help' for more information.\n";
  }
  return new Exit(status > 3 ? OTHER_PROBLEM : status, s);
}

const enum ErrType {
  NONE = 0,
  NOTICE = 1,
  WARNING = 2,
  ERROR = 3,
}

/** The session's report: libipset collects warnings and errors in one buffer (ipset_session_report). */
class Report {
  text = '';
  type = ErrType.NONE;
  lineno = 0;
  /** -quiet: custom_error() prints nothing */
  quiet = false;

  report(type: ErrType, msg: string): false {
    if (this.type > ErrType.NONE && this.type < type) this.text = '';
    if (this.lineno !== 0 && type === ErrType.ERROR) this.text = `Error in line ${this.lineno}: `;
    this.text += `${msg}\n`;
    this.type = type;
    return false;
  }

  err(msg: string): false {
    return this.report(ErrType.ERROR, msg);
  }

  syntax(msg: string, type = ErrType.ERROR): false {
    return this.report(type, `Syntax error: ${msg}`);
  }

  reset(): void {
    this.text = '';
    this.type = ErrType.NONE;
  }
}

/** what a parsed command line asks for */
interface Env {
  exist: boolean;
  quiet: boolean;
  names: boolean;
  terse: boolean;
  /** -sorted: a hash type's members in ipset's sort order */
  sorted: boolean;
  output?: 'plain' | 'save';
  file?: string;
}

const COMMANDS: { cmd: string; names: string[]; arg: 'none' | 'optional' | 'two' }[] = [
  { cmd: 'create', names: ['create', 'new', '-N'], arg: 'two' },
  { cmd: 'add', names: ['add', '-A'], arg: 'two' },
  { cmd: 'del', names: ['del', '-D'], arg: 'two' },
  { cmd: 'test', names: ['test', '-T'], arg: 'two' },
  { cmd: 'destroy', names: ['destroy', 'x', '-X'], arg: 'optional' },
  { cmd: 'list', names: ['list', '-L'], arg: 'optional' },
  { cmd: 'save', names: ['save', '-S'], arg: 'optional' },
  { cmd: 'restore', names: ['restore', '-R'], arg: 'none' },
  { cmd: 'flush', names: ['flush', '-F'], arg: 'optional' },
  { cmd: 'rename', names: ['rename', 'e', '-E'], arg: 'two' },
  { cmd: 'swap', names: ['swap', 'w', '-W'], arg: 'two' },
  { cmd: 'help', names: ['help', '-h', '-H'], arg: 'optional' },
  { cmd: 'version', names: ['version', '-v', '-V'], arg: 'none' },
  { cmd: 'quit', names: ['quit'], arg: 'none' },
];

/** ipset_match_cmd(): a prefix of a command's name or alias; two leading dashes ignored */
function matchCmd(arg: string, names: string[]): boolean {
  const skip = arg.startsWith('--') ? 2 : 0;
  if (arg.length <= skip || arg === '-') return false;
  const a = arg.slice(skip);
  return names.some((n) => n.startsWith(a));
}

const ENVOPTS: { names: [string, string]; arg: boolean; key: keyof Env | 'resolve' }[] = [
  { names: ['-o', '-output'], arg: true, key: 'output' },
  { names: ['-s', '-sorted'], arg: false, key: 'sorted' },
  { names: ['-q', '-quiet'], arg: false, key: 'quiet' },
  { names: ['-r', '-resolve'], arg: false, key: 'resolve' },
  { names: ['-!', '-exist'], arg: false, key: 'exist' },
  { names: ['-n', '-name'], arg: false, key: 'names' },
  { names: ['-t', '-terse'], arg: false, key: 'terse' },
  { names: ['-f', '-file'], arg: true, key: 'file' },
];

/** ipset_match_envopt(): one leading dash of two ignored */
function matchEnvopt(arg: string, names: [string, string]): boolean {
  const a = arg.startsWith('--') ? arg.slice(1) : arg;
  return a === names[0] || a === names[1];
}

/** the refusal of something ipset has that the emulator does not model */
function notModelled(what: string, why = 'it models sets of the types hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net, list:set, bitmap:port and bitmap:ip'): Exit {
  return new Exit(PARAMETER_PROBLEM, `ipset: ${what} is not modelled by iptables-sim (${why})\n`);
}

/** the modelled types that are no hash type, and the old names of the modelled types */
const OTHER_TYPES = ['list:set', 'bitmap:port', 'bitmap:ip'] as const;
const TYPE_ALIASES: Record<string, SetType> = {
  iphash: 'hash:ip',
  nethash: 'hash:net',
  ipporthash: 'hash:ip,port',
  ipportiphash: 'hash:ip,port,ip',
  ipportnethash: 'hash:ip,port,net',
  setlist: 'list:set',
  portmap: 'bitmap:port',
  ipmap: 'bitmap:ip',
};
const OTHER_ALIASES: Record<string, string> = { macipmap: 'bitmap:ip,mac' };

type SetType = IpSetType | (typeof OTHER_TYPES)[number];

/** a modelled type by its name or alias (hash:ip's "hash:ip" or "iphash") */
function modelledType(name: string): SetType | undefined {
  if (Object.prototype.hasOwnProperty.call(IPSET_TYPES, name) || (OTHER_TYPES as readonly string[]).includes(name)) return name as SetType;
  return Object.prototype.hasOwnProperty.call(TYPE_ALIASES, name) ? TYPE_ALIASES[name] : undefined;
}

/** a type ipset knows and the emulator does not model, by its name or alias */
function unmodelledType(name: string): string | undefined {
  return KNOWN_TYPES.some(([n]) => n === name) ? name : Object.prototype.hasOwnProperty.call(OTHER_ALIASES, name) ? OTHER_ALIASES[name] : undefined;
}

/** ipset_parse_typename() then the type lookup */
function typeByName(r: Report, name: string): SetType | false {
  if (name.length > 31) return r.syntax(`typename '${name}' is longer than 31 characters`);
  const type = modelledType(name);
  if (type) return type;
  const other = unmodelledType(name);
  if (other) throw notModelled(`the set type ${other}`);
  return r.syntax(`typename '${name}' is unknown`);
}

function setname(r: Report, name: string): string | false {
  if (name.length > 31) return r.syntax(`setname '${name}' is longer than 31 characters`);
  return name;
}

/** string_to_number_ll() */
function toNumber(r: Report, s: string, min: bigint, max: bigint, type = ErrType.ERROR): bigint | false {
  // strtoull(s, &end, 0): a number only when it ends the word; ERANGE (overflow or out of
  // [min, max]) says so even with text after it
  const n = strtoumax(s);
  const whole = n.end > 0 && n.end === s.length;
  if (whole && !n.overflow && n.value >= min && (max === 0n || n.value <= max)) return n.value;
  if (n.overflow || whole) return r.syntax(`'${s}' is out of range ${min}-${max === 0n ? 18446744073709551615n : max}`, type);
  return r.syntax(`'${s}' is invalid as number`, type);
}

/** getaddrinfo() of an IPv4 address or a name of the lab's hosts database */
function parseAddr(r: Report, s: string): number | false {
  const a = inetAton(s);
  if (a !== undefined) return a;
  const names = hostToAddrs(s);
  if (names.length) return inetAton(names[0]!)!;
  return r.syntax(`cannot parse ${s}: resolving to IPv4 address failed`);
}

/** getaddrinfo(AF_INET6): a numeric IPv6 address (the lab has no IPv6 host names), as its inet_ntop() text */
function parseAddr6(r: Report, s: string): string | false {
  const w = parseIp6(s);
  return w ? formatIp6(w) : r.syntax(`cannot parse ${s}: resolving to IPv6 address failed`);
}

/** ipset_strchr(): where `c` is in `s`, unless `s` starts or ends with it (-1: nowhere) */
function sepAt(s: string, c: string): number {
  return s.startsWith(c) || s.endsWith(c) ? -1 : s.indexOf(c);
}

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;
const PORT_PROTOS = new Set([PROTO_TCP, PROTO_UDP, 132, 136]);

/** one port by number or service name (ipset_parse_port); the warnings pile up as libipset's do */
function parsePort(r: Report, s: string, proto: string): number | false {
  const n = toNumber(r, s, 0n, 65535n, ErrType.WARNING);
  if (n !== false) return Number(n);
  let protoname = proto;
  const num = toNumber(r, proto, 0n, 255n, ErrType.WARNING);
  if (num !== false) protoname = protocolByNumber(Number(num)) ?? '';
  const port = protoname ? serviceToPort(s, protoname) : undefined;
  if (port !== undefined) {
    r.reset();
    return port;
  }
  r.report(ErrType.WARNING, `cannot parse '${s}' as a ${proto} port`);
  r.type = ErrType.ERROR;
  return false;
}

interface Parsed {
  /** the address (inet) or its inet_ntop() text (inet6) */
  ip: number | string;
  /** the last address of a FROM-TO range */
  ipTo?: number;
  /** the third dimension (hash:ip,port,ip and hash:ip,port,net): its address, range, prefix length */
  ip2?: number | string;
  ip2To?: number;
  cidr2?: number;
  cidr?: number;
  proto?: number;
  port?: number;
  portTo?: number;
  /**
   * the parse reported an error but returned success, after the report had reset the session's
   * data (ipset_session_report): the command then finds no set name
   */
  lost?: boolean;
}

/** an address component as parsed: IP, IP/CIDR or FROM-TO */
interface AddrPart {
  ip: number | string;
  to?: number;
  cidr?: number;
}

/**
 * An address component (parse_ip(), parse_ipaddr()): IP[/CIDR] or FROM-TO ('any'), a plain address
 * (ipset_parse_single_ip: /32 or /128 at most) or no range (ipset_parse_ipnet: 'net'); which of
 * these a type takes depends on the family (ipset_parse_ip4_single6, ipset_parse_ip4_net6)
 */
function parseAddrPart(r: Report, s: string, v6: boolean, rule: 'any' | 'plain' | 'net'): AddrPart | false {
  const slash = sepAt(s, '/');
  if (rule === 'net' && sepAt(s, '-') >= 0) return r.syntax(`IP address or IP/cidr must be specified: ${s}`);
  if (rule === 'plain' && (sepAt(s, '-') >= 0 || (slash >= 0 && s.slice(slash) !== (v6 ? '/128' : '/32')))) return r.syntax(`plain IP address must be supplied: ${s}`);
  const addr = (a: string): number | string | false => (v6 ? parseAddr6(r, a) : parseAddr(r, a));
  if (slash >= 0) {
    // string_to_cidr(0, 32 or 128) before the address
    const max = v6 ? 128n : 32n;
    const c = toNumber(r, s.slice(slash + 1), 0n, 255n);
    if (c === false) return false;
    if (c > max) return r.syntax(`'${s.slice(slash + 1)}' is out of range 0-${max}`);
    const a = addr(s.slice(0, slash));
    return a === false ? false : { ip: a, cidr: Number(c) };
  }
  const dash = sepAt(s, '-');
  if (dash >= 0) {
    const a = parseAddr(r, s.slice(0, dash));
    if (a === false) return false;
    const b = parseAddr(r, s.slice(dash + 1));
    return b === false ? false : { ip: a, to: b };
  }
  const a = addr(s);
  return a === false ? false : { ip: a };
}

/** the first component of every modelled hash type */
function parseIpPart(r: Report, s: string, p: Parsed, type: IpSetType, v6: boolean): boolean {
  const a = parseAddrPart(r, s, v6, !v6 ? 'any' : IPSET_TYPES[type].net ? 'net' : 'plain');
  if (a === false) return false;
  p.ip = a.ip;
  if (a.to !== undefined) p.ipTo = a.to;
  if (a.cidr !== undefined) p.cidr = a.cidr;
  return true;
}

/**
 * name_to_icmp(), name_to_icmpv6(): the first name the word begins (case aside), else
 * parse_icmp_typecode()'s TYPE/CODE
 */
function parseIcmp(r: Report, s: string, v6: boolean): number | false {
  const lower = s.toLowerCase();
  const named = (v6 ? ICMPV6_NAMES : ICMP_NAMES).find(([n]) => n.toLowerCase().startsWith(lower));
  if (named) return named[1];
  const sl = sepAt(s, '/');
  if (sl < 0) return r.err(`Cannot parse ${s} as an ${v6 ? 'ICMPv6' : 'ICMP'} type/code.`);
  const t = toNumber(r, s.slice(0, sl), 0n, 255n);
  if (t === false) return false;
  const c = toNumber(r, s.slice(sl + 1), 0n, 255n);
  if (c === false) return false;
  return (Number(t) << 8) | Number(c);
}

/**
 * [PROTO:]PORT[-PORT] (ipset_parse_proto_port, then a port range for TCP/UDP-like protocols);
 * `v6`: the set's family (undefined: none, as bitmap:port's)
 */
function parseProtoPort(r: Report, s: string, p: Parsed, v6: boolean | undefined): boolean {
  const colon = sepAt(s, ':');
  let portText = s;
  let protoText = 'tcp';
  p.proto = PROTO_TCP;
  if (colon >= 0) {
    protoText = s.slice(0, colon);
    portText = s.slice(colon + 1);
    const num = toNumber(r, protoText, 0n, 255n, ErrType.WARNING);
    if (num !== false) p.proto = Number(num);
    else {
      r.reset();
      const byName = protocolByName(protoText.toLowerCase() === 'icmpv6' ? 'ipv6-icmp' : protoText);
      if (byName === undefined) return r.syntax(`cannot parse '${protoText}' as a protocol`);
      if (byName === 0) return r.syntax(`Unsupported protocol '${protoText}'`);
      p.proto = byName;
    }
    if (p.proto === PROTO_ICMP || p.proto === PROTO_ICMPV6) {
      const icmp6 = p.proto === PROTO_ICMPV6;
      if (icmp6 !== v6) {
        // (reported, but ipset_parse_proto_port() returns the protocol's success)
        r.syntax(icmp6 ? 'Protocol ICMPv6 can be used with family inet6 only' : 'Protocol ICMP can be used with family inet only');
        p.lost = true;
        return true;
      }
      const port = parseIcmp(r, portText, icmp6);
      if (port === false) return false;
      p.port = port;
      return true;
    }
    if (!PORT_PROTOS.has(p.proto)) {
      if (portText !== '0') return r.syntax(`Protocol ${protoText} can be used with pseudo port value 0 only.`);
      p.port = 0;
      return true;
    }
  }
  const dash = sepAt(portText, '-');
  if (dash >= 0) {
    // (ipset_parse_tcpudp_port(): the last port first)
    const b = parsePort(r, portText.slice(dash + 1), protoText);
    if (b === false) return false;
    const a = parsePort(r, portText.slice(0, dash), protoText);
    if (a === false) return false;
    p.port = a;
    p.portTo = b;
    return true;
  }
  const port = parsePort(r, portText, protoText);
  if (port === false) return false;
  p.port = port;
  return true;
}

/**
 * list:set's element (ipset_parse_setname): a set's name, or the old SETNAME,before|after,SETNAME
 * (ipset_parse_name_compat)
 */
function parseListElem(r: Report, s: string): { name: string; ref?: string; before?: boolean } | false {
  const long = (n: string): false => r.syntax(`setname '${n}' is longer than 31 characters`);
  const a = sepAt(s, ',');
  if (a < 0) return s.length > 31 ? long(s) : { name: s };
  const rest = s.slice(a + 1);
  const b = sepAt(rest, ',');
  const where = b < 0 ? rest : rest.slice(0, b);
  if (b < 0 || !(where === 'before' || where === 'after')) return r.err('you must specify elements as setname,[before|after],setname');
  const name = s.slice(0, a);
  const ref = rest.slice(b + 1);
  if (name.length > 31) return long(name);
  if (ref.length > 31) return long(ref);
  return { name, ref, before: where === 'before' };
}

/**
 * ipset_parse_tcp_udp_port(): [PROTO:]PORT[-PORT] of TCP or UDP (an ICMP type kills ipset 7.17:
 * the report of the family clears the protocol it then reads)
 */
function parseTcpUdpPort(r: Report, s: string, p: Parsed): boolean {
  if (!parseProtoPort(r, s, p, undefined)) return false;
  if (p.lost) throw new Exit(139, `iptables-sim: ipset: ${s} crashes ipset 7.17 (Segmentation fault, measured: it reads the protocol its own error report cleared)\n`);
  if (p.proto !== PROTO_TCP && p.proto !== PROTO_UDP) return r.syntax('Only protocols TCP and UDP are valid');
  return true;
}

/** ipset_parse_single_tcp_port(): one port of TCP, no protocol, no range */
function parseSinglePort(r: Report, s: string, p: Parsed): boolean {
  const port = parsePort(r, s, 'tcp');
  if (port === false) return false;
  p.port = port;
  return true;
}

/** ipset_print_elem() of what was parsed: how test names the element it was given */
function parsedText(set: IpSet, p: Parsed): string {
  const type = set.type;
  const ip = (a: number | string): string => `${ipText(a)}${p.cidr !== undefined && p.cidr !== hostMask(set) ? `/${p.cidr}` : ''}`;
  let s = ip(p.ip);
  if (p.ipTo !== undefined) s += `-${ip(p.ipTo)}`;
  if (IPSET_TYPES[type].port) s += `,${portText(p.proto!, p.port!)}`;
  // (the third address without its range: the kernel tests the first)
  if (p.ip2 !== undefined) s += `,${ipText(p.ip2)}${p.cidr2 !== undefined && p.cidr2 !== hostMask(set) ? `/${p.cidr2}` : ''}`;
  return s;
}

/** ipset_parse_elem(): the element's components, split at ',' */
function parseElem(r: Report, set: IpSet, s: string, v6: boolean): Parsed | false {
  const type = set.type;
  const t = IPSET_TYPES[type];
  const p: Parsed = { ip: 0 };
  // elem_separator()
  const sep = (w: string): number => sepAt(w, ',');
  const a = sep(s);
  if (t.dim === 1) {
    if (a >= 0) return r.syntax(`Elem separator in ${s}, but settype ${type} supports none.`);
    return parseIpPart(r, s, p, type, v6) ? p : false;
  }
  if (a < 0) return r.syntax(`Second element is missing from ${s}.`);
  const rest = s.slice(a + 1);
  const b = sep(rest);
  if (t.dim === 2) {
    if (b >= 0) return r.syntax(`Two elem separators in ${s}, but settype ${type} supports one.`);
    if (!parseIpPart(r, s.slice(0, a), p, type, v6)) return false;
    return parseProtoPort(r, rest, p, v6) ? p : false;
  }
  if (b < 0) return r.syntax(`Third element is missing from ${s}.`);
  const third = rest.slice(b + 1);
  if (sep(third) >= 0) return r.syntax(`Three elem separators in ${s}, but settype ${type} supports two.`);
  if (!parseIpPart(r, s.slice(0, a), p, type, v6) || !parseProtoPort(r, rest.slice(0, b), p, v6)) return false;
  // hash:ip,port,ip: ipset_parse_single_ip; hash:ip,port,net: ipset_parse_ip4_net6 (in family
  // inet when a lost protocol took the family with it: parse_ip() takes inet for none)
  const v6third = v6 && !p.lost;
  const c = parseAddrPart(r, third, v6third, t.third === 'ip' ? 'plain' : v6third ? 'net' : 'any');
  if (c === false) return false;
  p.ip2 = c.ip;
  if (c.to !== undefined) p.ip2To = c.to;
  if (c.cidr !== undefined) p.cidr2 = c.cidr;
  return p;
}

/** the options after the element of add/del/test, and of create */
interface AdtOptions {
  /** list:set's before NAME / after NAME */
  ref?: string;
  before?: boolean;
  timeout?: number;
  packets?: number;
  bytes?: number;
  comment?: string;
  nomatch?: boolean;
}
interface CreateOptions {
  /** unspec ("any"): no hash type takes it */
  family?: 'inet' | 'inet6' | 'unspec';
  hashsize?: number;
  maxelem?: number;
  netmask?: number;
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
  bucketsize?: number;
  initval?: number;
  /** list:set's */
  size?: number;
  /** a bitmap type's range (range FROM-TO or, bitmap:ip, IP/CIDR; or from and to) */
  from?: number;
  to?: number;
  cidr?: number;
}

const UNMODELLED_CREATE = new Set(['skbinfo', 'forceadd', 'bitmask', 'markmask']);
const UNMODELLED_ADT = new Set(['skbmark', 'skbprio', 'skbqueue']);

/** call_parser(): each word must be one of the command's options for the type */
function parseCreateOptions(r: Report, type: SetType, words: string[]): CreateOptions | Exit | false {
  const o: CreateOptions = {};
  const allowed =
    type === 'list:set'
      ? ['size', 'timeout', 'counters', 'comment']
      : type === 'bitmap:port'
        ? ['range', 'timeout', 'counters', 'comment', 'from', 'to']
        : type === 'bitmap:ip'
          ? ['range', 'netmask', 'timeout', 'counters', 'comment', 'from', 'to']
          : ['family', '-4', '-6', 'hashsize', 'maxelem', ...(type === 'hash:ip' ? ['netmask', 'gc'] : []), ...(type.startsWith('hash:ip,port') ? ['from', 'to', 'network'] : []), 'timeout', 'counters', 'comment', 'bucketsize', 'initval', 'probes', 'resize'];
  // hash:ip,port's netmask and bitmask are revision 7's; hash:ip's bitmask is revision 6's
  if (type === 'hash:ip,port' && words.some((w) => w.replace(/^--/, '') === 'netmask')) throw notModelled("hash:ip,port's netmask");
  // call_parser() twice: the words and the family first, then the other values in order
  const given: [string, string | undefined][] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.startsWith('--') ? words[i]!.slice(2) : words[i]!;
    if (UNMODELLED_CREATE.has(w)) throw notModelled(`the create option ${w}`);
    if (!allowed.includes(w)) return customError(PARAMETER_PROBLEM, `Unknown argument: \`${words[i]}'`, r.quiet);
    let arg: string | undefined;
    if (!['-4', '-6', 'counters', 'comment'].includes(w)) {
      if (i + 1 >= words.length) return customError(PARAMETER_PROBLEM, `Missing mandatory argument of option \`${w}'`, r.quiet);
      arg = words[++i]!;
    }
    if (w === 'family' || w === '-4' || w === '-6') {
      const f = w === 'family' ? arg! : w;
      if (o.family !== undefined) return r.syntax(`${w} already specified`);
      if (f === 'inet6' || f === 'ipv6' || f === '-6') o.family = 'inet6';
      else if (f === 'inet' || f === 'ipv4' || f === '-4') o.family = 'inet';
      else if (f === 'any' || f === 'unspec') o.family = 'unspec';
      else return r.syntax(`unknown inet family ${f}`);
    } else given.push([w, arg]);
  }
  const seen = new Set<string>();
  for (const [w, arg] of given) {
    // (a bitmap's range sets the first and the last, from the first, to the last)
    const bitmap = isBitmapType(type);
    const sets = bitmap && w === 'range' ? ['from', 'to'] : [w];
    if (sets.some((x) => seen.has(x))) return r.syntax(`${w} already specified`);
    for (const x of sets) seen.add(x);
    switch (w) {
      case 'hashsize':
      case 'maxelem':
      case 'initval':
      case 'size': {
        const n = toNumber(r, arg!, 0n, 0xffffffffn);
        if (n === false) return false;
        o[w] = Number(n);
        break;
      }
      case 'netmask': {
        // string_to_cidr(1, 32 or 128), then its own message after the number's
        const max = o.family === 'inet6' ? 128n : 32n;
        const n = toNumber(r, arg!, 0n, 255n);
        if (n === false || n < 1n || n > max) {
          if (n !== false) r.syntax(`'${arg}' is out of range 1-${max}`);
          return r.syntax(`netmask is out of the inclusive range of 1-${max}`);
        }
        o.netmask = Number(n);
        break;
      }
      case 'timeout': {
        const n = toNumber(r, arg!, 0n, BigInt(IPSET_MAX_TIMEOUT));
        if (n === false) return false;
        o.timeout = Number(n);
        break;
      }
      case 'bucketsize': {
        const n = toNumber(r, arg!, 0n, 255n);
        if (n === false) return false;
        o.bucketsize = Number(n);
        break;
      }
      case 'counters':
      case 'comment':
        o[w] = true;
        break;
      case 'range':
      case 'from':
      case 'to': {
        // (hash:ip,port's from and to are accepted and ignored, as network is)
        if (!bitmap) break;
        if (type === 'bitmap:ip') {
          // ipset_parse_netrange() for range, ipset_parse_single_ip() for from and to
          if (w === 'range' && sepAt(arg!, '-') < 0 && sepAt(arg!, '/') < 0) return r.syntax(`IP/cidr or IP-IP range must be specified: ${arg}`);
          const a = parseAddrPart(r, arg!, false, w === 'range' ? 'any' : 'plain');
          if (a === false) return false;
          if (w === 'to') o.to = a.ip as number;
          else {
            o.from = a.ip as number;
            if (a.to !== undefined) o.to = a.to;
            if (a.cidr !== undefined) o.cidr = a.cidr;
          }
          break;
        }
        // ipset_parse_tcp_udp_port(), or ipset_parse_single_tcp_port() for from and to
        const p: Parsed = { ip: 0 };
        if (w === 'range' ? !parseTcpUdpPort(r, arg!, p) : !parseSinglePort(r, arg!, p)) return false;
        if (w === 'to') o.to = p.port;
        else {
          o.from = p.port;
          if (p.portTo !== undefined) o.to = p.portTo;
        }
        break;
      }
      default:
        // probes, resize, gc, from, to, network: accepted and ignored (backward compatibility)
        break;
    }
  }
  // check_mandatory(): a bitmap's range (an IP/CIDR stands for both ends), named by the first
  // option that gives what is missing
  if (isBitmapType(type) && (o.from === undefined || (o.to === undefined && o.cidr === undefined))) {
    return customError(PARAMETER_PROBLEM, `Mandatory option \`${o.from === undefined ? 'range' : 'to'}' is missing`, r.quiet);
  }
  return o;
}

/** `o`: what the element already set (list:set's SETNAME,before,SETNAME) */
function parseAdtOptions(r: Report, type: SetType, cmd: string, words: string[], o: AdtOptions = {}): AdtOptions | Exit | false {
  const list = type === 'list:set';
  const net = !list && type !== 'bitmap:port' && type !== 'bitmap:ip' && hasNets(type);
  const allowed = list
    ? cmd === 'add'
      ? ['timeout', 'before', 'after', 'packets', 'bytes', 'comment']
      : ['before', 'after']
    : cmd === 'add'
      ? ['timeout', ...(net ? ['nomatch'] : []), 'packets', 'bytes', 'comment']
      : cmd === 'test' && net
        ? ['nomatch']
        : [];
  if (!allowed.length && words.length) return customError(PARAMETER_PROBLEM, `Unknown argument: \`${words[0]}'`, r.quiet);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.startsWith('--') ? words[i]!.slice(2) : words[i]!;
    if (UNMODELLED_ADT.has(w) && cmd === 'add') throw notModelled(`the option ${w}`);
    if (!allowed.includes(w)) return customError(PARAMETER_PROBLEM, `Unknown argument: \`${words[i]}'`, r.quiet);
    if (w === 'nomatch') {
      o.nomatch = true;
      continue;
    }
    if (i + 1 >= words.length) return customError(PARAMETER_PROBLEM, `Missing mandatory argument of option \`${w}'`, r.quiet);
    const arg = words[++i]!;
    if ((w === 'timeout' && o.timeout !== undefined) || (w === 'comment' && o.comment !== undefined) || (w === 'packets' && o.packets !== undefined) || (w === 'bytes' && o.bytes !== undefined)) return r.syntax(`${w} already specified`);
    if (w === 'before' || w === 'after') {
      // (both set the reference: the second of either is "already specified")
      if (o.ref !== undefined) return r.syntax(`${w} already specified`);
      if (arg.length > 31) return r.syntax(`setname '${arg}' is longer than 31 characters`);
      o.ref = arg;
      o.before = w === 'before';
    } else if (w === 'timeout') {
      const n = toNumber(r, arg, 0n, BigInt(IPSET_MAX_TIMEOUT));
      if (n === false) return false;
      o.timeout = Number(n);
    } else if (w === 'comment') {
      if (arg.includes('"')) return r.syntax('" character is not permitted in comments');
      if (arg.length > 255) return r.syntax('Comment is longer than the maximum allowed 255 characters');
      o.comment = arg;
    } else {
      const n = toNumber(r, arg, 0n, 0n);
      if (n === false) return false;
      o[w as 'packets' | 'bytes'] = Number(n);
    }
  }
  return o;
}

/** the kernel's error codes as ipset prints them (errcode.c) */
const KERNEL = {
  ENOENT: 'The set with the given name does not exist',
  EEXIST_CREATE: 'Set cannot be created: set with the same name already exists',
  BUSY: 'Set cannot be destroyed: it is in use by a kernel component',
  EXIST_SETNAME2_RENAME: 'Set cannot be renamed: a set with the new name already exists',
  REFERENCED_RENAME: 'Set cannot be renamed: it is in use by another system',
  EXIST_SETNAME2_SWAP: 'Sets cannot be swapped: the second set does not exist',
  TYPE_MISMATCH: 'The sets cannot be swapped: their type does not match',
  INVALID_CIDR: 'The value of the CIDR parameter of the IP address is invalid',
  TIMEOUT: 'Timeout cannot be used: set was created without timeout support',
  COUNTER: 'Packet/byte counters cannot be used: set was created without counter support',
  COMMENT: 'Comment cannot be used: set was created without comment support',
  EXIST_ADD: "Element cannot be added to the set: it's already added",
  EXIST_DEL: "Element cannot be deleted from the set: it's not added",
  HASH_FULL: 'Hash is full, cannot add more elements',
  HASH_ELEM: 'Null-valued element, cannot be stored in a hash type of set',
  HASH_RANGE: 'Invalid range, covers the whole address space',
  EINVAL: 'Kernel error received: Invalid argument',
  PROTOCOL: 'Kernel error received: ipset protocol error',
  BITMAP_RANGE: 'Element is out of the range of the set',
  BITMAP_RANGE_SIZE: 'The range you specified exceeds the size limit of the set type',
  INVALID_FAMILY: 'Protocol family not supported by the set type',
  NAME: 'Set to be added/deleted/tested as element does not exist.',
  LOOP: 'Sets with list:set type cannot be added to the set.',
  NAMEREF: "The set to which you referred with 'before' or 'after' does not exist.",
  REF_EXIST: "The set to which you referred with 'before' or 'after' is not added to the set.",
};

/** the run of one ipset process over a host */
class IpsetRun {
  readonly r = new Report();
  out = '';
  err = '';
  env: Env = { exist: false, quiet: false, names: false, terse: false, sorted: false };
  restoreLine = 0;
  changed = false;

  constructor(
    readonly lab: Lab,
    readonly host: Host,
  ) {}

  /** the kernel's slots of sets (ip_set_list): null where a destroyed set was */
  get slots(): (AnySet | null)[] {
    return (this.host.ipsets ??= []);
  }

  /** the sets in slot order, as list and save show them */
  get sets(): AnySet[] {
    return this.slots.filter((s): s is AnySet => s !== null);
  }

  find(name: string): AnySet | undefined {
    return findIpset(this.host, name);
  }

  now(): number {
    return this.lab.clock ?? 0;
  }

  /** standard_error(): the report, as an error (exit 1) or a warning */
  standardError(): Exit {
    if ((this.r.type === ErrType.WARNING || this.r.type === ErrType.NOTICE) && !this.env.quiet) {
      this.err += `${this.r.type === ErrType.WARNING ? 'Warning: ' : ''}${this.r.text}`;
    }
    if (this.r.type === ErrType.ERROR) return customError(SESSION_PROBLEM, this.r.text, this.env.quiet);
    return new Exit(this.r.type <= ErrType.WARNING ? NO_PROBLEM : OTHER_PROBLEM);
  }

  /** a kernel error of the current command */
  kernel(msg: string): Exit {
    this.r.lineno = this.restoreLine;
    this.r.err(msg);
    return this.standardError();
  }

  fail(): never {
    throw this.standardError();
  }

  /** ipset_parser() and the command: returns normally when the command succeeded */
  line(argv: string[]): void {
    const args = ['ipset', ...argv];
    if (args.length > 32) throw customError(PARAMETER_PROBLEM, 'Line is too long to parse.', this.env.quiet);
    this.r.lineno = this.restoreLine;
    const env: Env = { ...this.env };
    if (this.restoreLine === 0) this.env = env;
    for (const opt of ENVOPTS) {
      for (let i = 1; i < args.length; ) {
        if (!matchEnvopt(args[i]!, opt.names)) {
          i++;
          continue;
        }
        args.splice(i, 1);
        if (opt.arg) {
          if (i + 1 > args.length) throw customError(PARAMETER_PROBLEM, `Missing mandatory argument to option ${opt.names[0]}`, env.quiet);
          const v = args[i]!;
          args.splice(i, 1);
          if (opt.key === 'output') {
            if (v === 'xml') throw notModelled('-output xml', 'it prints the plain and save formats');
            if (v !== 'plain' && v !== 'save') {
              this.r.err(`Syntax error: unknown output mode '${v}'`);
              this.fail();
            }
            env.output = v;
          } else {
            if (env.file !== undefined) throw customError(PARAMETER_PROBLEM, '-file option cannot be used when full io is activated', env.quiet);
            env.file = v;
          }
        } else if (opt.key === 'resolve') throw notModelled('-resolve', 'the lab has no resolver');
        else env[opt.key as 'exist' | 'quiet' | 'names' | 'terse' | 'sorted'] = true;
      }
    }
    this.env = env;
    this.r.quiet = env.quiet;
    let command: (typeof COMMANDS)[number] | undefined;
    let arg0: string | undefined;
    let arg1: string | undefined;
    if (args.length > 1) command = COMMANDS.find((c) => matchCmd(args[1]!, c.names));
    if (command) {
      if (this.restoreLine !== 0 && ['restore', 'version', 'help'].includes(command.cmd)) {
        throw customError(PARAMETER_PROBLEM, `Command \`${command.names[0]}' is invalid in restore mode.`, env.quiet);
      }
      args.splice(1, 1);
      if (command.arg === 'two' && args.length < 2) throw customError(PARAMETER_PROBLEM, `Missing mandatory argument to command ${command.names[0]}`, env.quiet);
      if (command.arg !== 'none') {
        arg0 = args[1];
        if (args.length >= 2) args.splice(1, 1);
      }
      if (command.arg === 'two') {
        if (args.length < 2) throw customError(PARAMETER_PROBLEM, `Missing second mandatory argument to command ${command.names[0]}`, env.quiet);
        arg1 = args[1];
        args.splice(1, 1);
      }
    }
    const rest = args.slice(1);
    switch (command?.cmd) {
      case undefined:
        if (rest[0] === '-') throw notModelled('the interactive mode (ipset -)', 'run a script of ipset commands with ipset restore or iptables-sim run');
        if (rest.length) throw customError(PARAMETER_PROBLEM, `No command specified: unknown argument ${rest[0]}`, env.quiet);
        throw customError(PARAMETER_PROBLEM, 'No command specified.', env.quiet);
      case 'version':
        this.out += `${PROG}, protocol version: 7\n`;
        throw new Exit(NO_PROBLEM);
      case 'help':
        this.out += HELP;
        if (!env.quiet) {
          if (arg0 === undefined) this.out += TYPES_HELP;
          else {
            // type_find(): the type by its name or an alias, without asking the kernel
            const type = modelledType(arg0);
            if (type) this.out += typeHelp(type)!;
            else if (unmodelledType(arg0)) throw notModelled(`the type help (ipset help ${arg0})`);
            else throw customError(PARAMETER_PROBLEM, `Unknown settype: \`${arg0}'`, env.quiet);
          }
        }
        throw new Exit(NO_PROBLEM);
      case 'quit':
        throw new Exit(NO_PROBLEM);
      case 'restore':
        if (rest.length) throw customError(PARAMETER_PROBLEM, `Unknown argument ${rest[0]}`, env.quiet);
        this.restore();
        return;
      case 'create':
        return this.create(arg0!, arg1!, rest);
      case 'add':
      case 'del':
      case 'test':
        return this.adt(command.cmd, arg0!, arg1!, rest);
      default:
        break;
    }
    // list, save, destroy, flush, rename, swap
    if (arg0 !== undefined && setname(this.r, arg0) === false) this.fail();
    if (arg1 !== undefined && setname(this.r, arg1) === false) this.fail();
    if (rest.length) throw customError(PARAMETER_PROBLEM, `Unknown argument ${rest[0]}`, env.quiet);
    const cmd = command!.cmd;
    switch (cmd) {
      case 'list':
      case 'save':
        return this.kernelCmd(cmd, arg0, () => this.list(cmd, arg0));
      case 'destroy':
        return this.kernelCmd(cmd, arg0, () => this.destroy(arg0));
      case 'flush':
        return this.kernelCmd(cmd, arg0, () => this.flush(arg0));
      case 'rename':
        return this.kernelCmd(cmd, arg0, () => this.rename(arg0!, arg1!));
      case 'swap':
        return this.kernelCmd(cmd, arg0, () => this.swap(arg0!, arg1!));
    }
  }

  create(name: string, typeName: string, words: string[]): void {
    if (setname(this.r, name) === false) this.fail();
    const type = typeByName(this.r, typeName);
    if (type === false) this.fail();
    const o = parseCreateOptions(this.r, type, words);
    if (o instanceof Exit) throw o;
    if (o === false) this.fail();
    this.kernelCmd('create', name, () =>
      type === 'list:set' ? this.createList(name, o) : isBitmapType(type) ? this.createBitmap(name, type, o) : this.createKernel(name, type, o),
    );
  }

  /**
   * bitmap_port_create() and bitmap_ip_create(): the range in order (bitmap:ip's widened to whole
   * netmask blocks, which must split a prefix of the range, at most 65536 of them), then the set
   * into its slot (or, with -exist, the same set kept)
   */
  createBitmap(name: string, type: 'bitmap:port' | 'bitmap:ip', o: CreateOptions): void {
    let first = o.from!;
    let last = o.to ?? first;
    if (o.cidr !== undefined) {
      if (o.cidr >= 32) throw this.kernel(KERNEL.INVALID_CIDR);
      first = (first & maskOf(o.cidr)) >>> 0;
      last = (first | ~maskOf(o.cidr)) >>> 0;
    } else if (first > last) [first, last] = [last, first];
    const netmask = type === 'bitmap:ip' && o.netmask !== undefined && o.netmask !== 32 ? o.netmask : undefined;
    if (netmask !== undefined) {
      first = (first & maskOf(netmask)) >>> 0;
      last = (last | ~maskOf(netmask)) >>> 0;
      const { mask, bits } = rangeToMask(first, last);
      if ((!mask && (first || last !== 0xffffffff)) || netmask <= bits) throw this.kernel(KERNEL.BITMAP_RANGE);
    }
    const set = { name, type, first, last, members: [] } as BitmapSet;
    if (netmask !== undefined && set.type === 'bitmap:ip') set.netmask = netmask;
    if (bitsOf(set) > BITMAP_MAX_ELEMENTS) throw this.kernel(KERNEL.BITMAP_RANGE_SIZE);
    if (o.timeout !== undefined) set.timeout = o.timeout;
    if (o.counters) set.counters = true;
    if (o.comment) set.comment = true;
    const was = this.find(name);
    if (was) {
      // mtype_same_set(): the range (and netmask), the timeout and the extensions
      const same = was.type === type && was.first === first && was.last === last && (was.type !== 'bitmap:ip' || was.netmask === netmask) && was.timeout === set.timeout && !!was.counters === !!set.counters && !!was.comment === !!set.comment;
      if (!this.env.exist || !same) throw this.kernel(KERNEL.EEXIST_CREATE);
    } else this.place(set);
    this.families.set(name, familyOf(set));
  }

  /** list_set_create(), then the set into its slot (or, with -exist, the same set kept) */
  createList(name: string, o: CreateOptions): void {
    const set: ListSet = { name, type: 'list:set', size: listSize(o.size), members: [] };
    if (o.timeout !== undefined) set.timeout = o.timeout;
    if (o.counters) set.counters = true;
    if (o.comment) set.comment = true;
    const was = this.find(name);
    if (was) {
      // list_set_same_set(): the size, the timeout and the extensions
      const same = was.type === 'list:set' && was.size === set.size && was.timeout === set.timeout && !!was.counters === !!set.counters && !!was.comment === !!set.comment;
      if (!this.env.exist || !same) throw this.kernel(KERNEL.EEXIST_CREATE);
    } else this.place(set);
    this.families.set(name, familyOf(set));
  }

  /** find_free_id(): the first free slot */
  place(set: AnySet): void {
    const free = this.slots.indexOf(null);
    if (free >= 0) this.slots[free] = set;
    else this.slots.push(set);
    this.changed = true;
  }

  createKernel(name: string, type: IpSetType, o: CreateOptions): void {
    if (o.family === 'unspec') throw this.kernel(KERNEL.INVALID_FAMILY);
    const was = this.find(name);
    const set: IpSet = {
      name,
      type,
      bits: hashBits(o.hashsize ?? 1024),
      maxelem: o.maxelem ?? 65536,
      bucketsize: bucketSize(o.bucketsize),
      initval: o.initval ?? 0,
      buckets: [],
    };
    if (o.family === 'inet6') set.family = 'inet6';
    if (o.netmask !== undefined && o.netmask !== hostMask(set)) set.netmask = o.netmask;
    if (o.timeout !== undefined) set.timeout = o.timeout;
    if (o.counters) set.counters = true;
    if (o.comment) set.comment = true;
    if (was) {
      // -exist: a set of the same type and parameters is no error (mtype_same_set, which does
      // not compare the families: only the bitmask a netmask makes, where the type has one)
      const same = was.type === set.type && was.maxelem === set.maxelem && was.timeout === set.timeout && bitmask(was) === bitmask(set) && !!was.counters === !!set.counters && !!was.comment === !!set.comment;
      if (!this.env.exist || !same) throw this.kernel(KERNEL.EEXIST_CREATE);
    } else {
      if (o.initval === undefined) {
        // get_random_u32(): the lab's generator stands for the kernel's
        const rng = new Rng(this.lab.rng.state >>> 0);
        set.initval = rng.int(0, 0xffffffff) >>> 0;
        this.lab.rng.state = rng.state;
      }
      this.place(set);
    }
    this.families.set(name, o.family === 'inet6' ? 'inet6' : 'inet');
  }

  adt(cmd: 'add' | 'del' | 'test', name: string, elemText: string, words: string[]): void {
    if (setname(this.r, name) === false) this.fail();
    const set = this.find(name);
    if (!set) throw this.kernel(KERNEL.ENOENT);
    if (set.type === 'list:set') return this.adtList(cmd, set, elemText, words);
    if (isBitmap(set)) return this.adtBitmap(cmd, set, elemText, words);
    // the family libipset believes the set has: its own, or what a create of this process said
    const v6 = (this.families.has(name) ? this.families.get(name) : set.family) === 'inet6';
    const p = parseElem(this.r, set, elemText, v6);
    if (p === false) this.fail();
    const o = parseAdtOptions(this.r, set.type, cmd, words);
    if (o instanceof Exit) throw o;
    if (o === false) this.fail();
    if (p.lost) this.lostElem(cmd, set);
    // check_allowed(): hash:ip,port,ip's third address takes no prefix length, not even /32
    if (p.cidr2 !== undefined && IPSET_TYPES[set.type].third === 'ip') {
      throw customError(OTHER_PROBLEM, "There are not allowed options (28) but can't resolve them. It's a bug, please report the problem.", this.env.quiet);
    }
    if (cmd === 'test') {
      // check_allowed(): test takes a FROM-TO (or IP/CIDR) range only for hash:ip (it tests the
      // first address), an IP/CIDR only for the net types, a port range never
      const what =
        p.ipTo !== undefined && set.type !== 'hash:ip'
          ? 'FROM-TO IP range'
          : p.cidr !== undefined && set.type.startsWith('hash:ip,port')
            ? 'IP/CIDR range'
            : p.portTo !== undefined
              ? 'FROM-TO port range'
              : undefined;
      if (what) throw customError(OTHER_PROBLEM, `${what} is not allowed in command test with set type ${set.type} and family ${v6 ? 'inet6' : 'inet'}`, this.env.quiet);
    }
    this.kernelCmd(cmd, name, () => this.adtKernel(cmd, set, p, o));
  }

  /** add, del and test of a list:set: the element is a set's name, placed before or after another */
  adtList(cmd: 'add' | 'del' | 'test', set: ListSet, elemText: string, words: string[]): void {
    const el = parseListElem(this.r, elemText);
    if (el === false) this.fail();
    // (a place the element gave makes a before/after option "already specified")
    const o = parseAdtOptions(this.r, set.type, cmd, words, { ref: el.ref, before: el.before });
    if (o instanceof Exit) throw o;
    if (o === false) this.fail();
    this.kernelCmd(cmd, set.name, () => this.adtListKernel(cmd, set, el.name, o));
  }

  /** add, del and test of a bitmap type: bitmap:port's [PROTO:]PORT or FROM-TO of TCP or UDP, bitmap:ip's IP, IP/CIDR or FROM-TO */
  adtBitmap(cmd: 'add' | 'del' | 'test', set: BitmapSet, elemText: string, words: string[]): void {
    const p: Parsed = { ip: 0 };
    if (sepAt(elemText, ',') >= 0) {
      this.r.syntax(`Elem separator in ${elemText}, but settype ${set.type} supports none.`);
      this.fail();
    }
    if (set.type === 'bitmap:ip') {
      const a = parseAddrPart(this.r, elemText, false, 'any');
      if (a === false) this.fail();
      p.ip = a.ip;
      p.ipTo = a.to;
      p.cidr = a.cidr;
    } else if (!parseTcpUdpPort(this.r, elemText, p)) this.fail();
    const o = parseAdtOptions(this.r, set.type, cmd, words);
    if (o instanceof Exit) throw o;
    if (o === false) this.fail();
    if (cmd === 'test') {
      const what = p.portTo !== undefined ? 'FROM-TO port range' : p.ipTo !== undefined ? 'FROM-TO IP range' : p.cidr !== undefined ? 'IP/CIDR range' : undefined;
      if (what) throw customError(OTHER_PROBLEM, `${what} is not allowed in command test with set type ${set.type} and family ${set.type === 'bitmap:ip' ? 'inet' : 'unspec'}`, this.env.quiet);
    }
    // (ipset names a bitmap:port element by its port: the protocol is not kept)
    const text = set.type === 'bitmap:ip' ? ipText(p.ip) : `${p.port}`;
    this.kernelCmd(cmd, set.name, () => this.adtBitmapKernel(cmd, set, p, o, text));
  }

  /**
   * bitmap_port_uadt() and bitmap_ip_uadt(): the first value inside the range (bitmap:ip checks
   * the extensions before, bitmap:port after), a range or net in order and inside it, each bit of
   * it in turn (bitmap:ip steps a netmask block at a time from the first address)
   */
  adtBitmapKernel(cmd: 'add' | 'del' | 'test', set: BitmapSet, p: Parsed, o: AdtOptions, text: string): void {
    const now = this.now();
    let from = set.type === 'bitmap:ip' ? (p.ip as number) : p.port!;
    const outside = from < set.first || from > set.last ? KERNEL.BITMAP_RANGE : undefined;
    const refused = set.type === 'bitmap:ip' ? (extRefusal(set, o) ?? outside) : (outside ?? extRefusal(set, o));
    // (ip_set_utest(): a refusal is "not in the set" too)
    if (cmd === 'test') this.testAnswer(!refused && !!testBit(set, idOf(set, from), now), text, set.name);
    if (refused) throw this.kernel(refused);
    let to = set.type === 'bitmap:ip' ? (p.ipTo ?? from) : (p.portTo ?? from);
    if (p.cidr !== undefined) {
      if (p.cidr === 0) throw this.kernel(KERNEL.INVALID_CIDR);
      from = (from & maskOf(p.cidr)) >>> 0;
      to = (from | ~maskOf(p.cidr)) >>> 0;
    } else if (from > to) {
      [from, to] = [to, from];
      if (from < set.first) throw this.kernel(KERNEL.BITMAP_RANGE);
    }
    // (a net reaching below the range too: its masked start is checked as well in Linux 6.18)
    if (from < set.first || to > set.last) throw this.kernel(KERNEL.BITMAP_RANGE);
    const step = hostsOf(set);
    for (let v = from; v <= to; v += step) {
      const id = idOf(set, v);
      if (cmd === 'add') {
        if (addBit(set, addExt<BitmapMember>({ id }, set, o, now), this.env.exist, now) === 'exists') throw this.kernel(KERNEL.EXIST_ADD);
        this.changed = true;
      } else if (delBit(set, id, now)) this.changed = true;
      else if (!this.env.exist) throw this.kernel(KERNEL.EXIST_DEL);
    }
  }

  /** list_set_uadt() and the type's add, del and test */
  adtListKernel(cmd: 'add' | 'del' | 'test', set: ListSet, member: string, o: AdtOptions): void {
    const now = this.now();
    const refused = ((): string | undefined => {
      const ext = extRefusal(set, o);
      if (ext) return ext;
      const m = this.find(member);
      if (!m) return KERNEL.NAME;
      if (m.type === 'list:set') return KERNEL.LOOP;
      if (o.ref !== undefined && !this.find(o.ref)) return KERNEL.NAMEREF;
      return undefined;
    })();
    // a reference without a direction stands after it
    const place: ListPlace = { ref: o.ref, before: o.ref === undefined ? 0 : o.before ? 1 : -1 };
    // (ip_set_utest(): a refusal is "not in the set" too; ipset prints a place as "after", whichever was asked)
    if (cmd === 'test') this.testAnswer(!refused && listTest(set, member, place, now), `${member}${o.ref !== undefined ? ` after ${o.ref}` : ''}`, set.name);
    if (refused) throw this.kernel(refused);
    cleanupList(set, now);
    if (cmd === 'add') {
      const res = listAdd(set, addExt<ListMember>({ name: member }, set, o, now), place, this.env.exist, now);
      if (res === 'ref') throw this.kernel(KERNEL.REF_EXIST);
      if (res === 'exists') throw this.kernel(KERNEL.EXIST_ADD);
    } else {
      const res = listDel(set, member, place, now);
      if (res === 'ref') throw this.kernel(KERNEL.REF_EXIST);
      if (res === 'missing') {
        if (!this.env.exist) throw this.kernel(KERNEL.EXIST_DEL);
        return;
      }
    }
    this.changed = true;
  }

  /** test's answer: "X is in set S." as a warning (exit 0), or "X is NOT in set S." (exit 1) */
  testAnswer(found: boolean, text: string, set: string): never {
    if (found) {
      this.r.report(ErrType.WARNING, `${text} is in set ${set}.`);
      throw this.standardError();
    }
    if (!this.env.quiet) this.err += `${text} is NOT in set ${set}.\n`;
    throw new Exit(OTHER_PROBLEM);
  }

  /**
   * an element whose parse reported an error and returned success, the session's data cleared:
   * check_mandatory() finds the element's flags missing (a command without options to name says
   * so: del, and test of a type without nomatch, measured in fixtures/cli/ipset-icmp-family-test.case),
   * else ipset_cmd() finds no set name; in restore mode, after an add, its test of whether the
   * line joins that add's batch (may_aggregate_ad()) compares the missing name (strcmp of NULL)
   * and ipset dies; a line that cannot join a batch sends the waiting one first
   */
  lostElem(cmd: 'add' | 'del' | 'test', set: IpSet): never {
    if (cmd === 'del' || (cmd === 'test' && !hasNets(set.type))) {
      throw customError(OTHER_PROBLEM, "There are missing mandatory flags but can't check them. It's a bug, please report the problem.", this.env.quiet);
    }
    if (this.restoreLine !== 0 && cmd === 'add' && cmd === this.lastCmd) {
      throw new Exit(139, `iptables-sim: ipset restore: line ${this.restoreLine} crashes ipset 7.17 (Segmentation fault, measured: it compares the set name its own error report cleared); the lines it had not yet sent to the kernel are lost\n`);
    }
    this.commit();
    this.r.err(`Invalid ${cmd} command: missing setname`);
    this.fail();
  }

  /** the kernel's side of add, del and test (ip_set_uadd and friends) */
  adtKernel(cmd: 'add' | 'del' | 'test', set: IpSet, p: Parsed, o: AdtOptions): void {
    const name = set.name;
    // an address of the other family: the type's ip_set_get_ipaddr4/6() refuses its attribute
    const protocol = (typeof p.ip === 'string') !== (set.family === 'inet6');
    if (protocol && cmd !== 'test') throw this.kernel(KERNEL.PROTOCOL);
    const ext = extRefusal(set, o);
    if (ext) throw this.kernel(ext);
    const now = this.now();
    const elems = this.expand(set, p, cmd === 'test');
    if (cmd === 'test') {
      // ip_set_utest(): whatever the type's uadt() fails with (a null address, a /0) is "not in the set"
      let e: IpSetElem | undefined;
      try {
        if (!protocol) e = elems.next().value as IpSetElem;
      } catch (x) {
        if (!(x instanceof Exit)) throw x;
        this.r.reset();
      }
      const res = e ? testElem(set, e, now) : { found: undefined, nomatch: false };
      // (test ... nomatch asks for a nomatch entry: ip_set_enomatch() turns the answer round)
      this.testAnswer(!!res.found && res.nomatch === !!o.nomatch, parsedText(set, p), name);
    }
    for (const e of elems) {
      if (cmd === 'add') {
        if (o.nomatch) e.nomatch = true;
        const res = addElem(set, addExt(e, set, o, now), this.env.exist, now);
        if (res === 'full') throw this.kernel(KERNEL.HASH_FULL);
        if (res === 'exists') throw this.kernel(KERNEL.EXIST_ADD);
        this.changed = true;
      } else if (delElem(set, e, now)) this.changed = true;
      else if (!this.env.exist) throw this.kernel(KERNEL.EXIST_DEL);
    }
  }

  /**
   * ipset_cmd(): in restore mode the adds (or dels) of consecutive lines to one set travel to the
   * kernel together, when another command comes or the input ends; a line that fails to parse
   * ends the process before they do. Anything else goes at once, after what is waiting.
   */
  kernelCmd(cmd: string, set: string | undefined, apply: () => void): void {
    this.lastCmd = cmd;
    const aggregates = this.restoreLine !== 0 && (cmd === 'add' || cmd === 'del');
    const q = this.pending;
    if (aggregates && q && q.cmd === cmd && q.set === set) {
      q.ops.push({ line: this.restoreLine, apply });
      return;
    }
    this.commit();
    if (aggregates) this.pending = { cmd, set, ops: [{ line: this.restoreLine, apply }] };
    else apply();
  }

  pending: { cmd: string; set: string | undefined; ops: { line: number; apply: () => void }[] } | undefined;
  /** the command of the last kernel message (the session's cmd) */
  lastCmd: string | undefined;
  /**
   * libipset's cache of the sets this process created (ipset_cache_add on the create's ACK, with
   * the family the create line gave, even when -exist kept a set of the other family), renamed,
   * swapped (when both are in it) or destroyed: an add, del or test of a cached set takes its
   * family from here, not from the kernel
   */
  families = new Map<string, 'inet' | 'inet6' | undefined>();

  /** ipset_commit(): the waiting lines reach the kernel; an error names the line it came from */
  commit(): void {
    const q = this.pending;
    if (!q) return;
    this.pending = undefined;
    const line = this.restoreLine;
    for (const op of q.ops) {
      this.restoreLine = op.line;
      op.apply();
    }
    this.restoreLine = line;
  }

  /**
   * the kernel's uadt(): the elements an IP/CIDR, FROM-TO or port range stands for, one at a
   * time (an add stops at the first that fails: a /8 into a hash:ip fills it and stops)
   */
  *expand(set: IpSet, p: Parsed, test: boolean): Generator<IpSetElem> {
    const t = IPSET_TYPES[set.type];
    const ports = t.port ? portList(p) : [undefined];
    const withPort = (e: IpSetElem, port: number | undefined): IpSetElem => (t.port ? { ...e, proto: p.proto!, port } : e);
    if (t.third) {
      yield* this.expand3(set, p, test);
      return;
    }
    if (typeof p.ip === 'string') {
      // hash_*6_uadt(): one address (userspace let no range through), a net masked to its prefix
      // length, a host masked with hash:ip's netmask; a null address refused
      let e: IpSetElem;
      if (t.net) {
        const cidr = p.cidr ?? 128;
        if (cidr === 0) throw this.kernel(KERNEL.INVALID_CIDR);
        e = { ip: maskIp(p.ip, cidr), cidr };
      } else {
        e = { ip: set.netmask === undefined ? p.ip : maskIp(p.ip, set.netmask) };
        if (e.ip === '::') throw set.type === 'hash:ip' ? this.kernel(KERNEL.HASH_ELEM) : this.kernel(KERNEL.EINVAL);
      }
      for (const port of ports) yield withPort(e, port);
      return;
    }
    const ip = p.ip;
    if (t.net) {
      let cidrs: Iterable<[number, number]>;
      if (p.ipTo !== undefined) {
        const [from, to] = p.ipTo < ip ? [p.ipTo, ip] : [ip, p.ipTo];
        if (from === 0 && to === 0xffffffff) throw this.kernel(KERNEL.HASH_RANGE);
        cidrs = rangeToCidrs(from, to);
      } else {
        const cidr = p.cidr ?? 32;
        if (cidr === 0) throw this.kernel(KERNEL.INVALID_CIDR);
        cidrs = [[(ip & maskOf(cidr)) >>> 0, cidr]];
      }
      for (const [ip, cidr] of cidrs) for (const port of ports) yield withPort({ ip, cidr }, port);
      return;
    }
    // hash_ip4_uadt(): the first address masked with the netmask (a null one refused), then the range
    const netmask = set.type === 'hash:ip' ? (set.netmask ?? 32) : 32;
    let from = (ip & maskOf(netmask)) >>> 0;
    if (from === 0 && set.type === 'hash:ip') throw this.kernel(KERNEL.HASH_ELEM);
    // a test looks up that first address alone (and the first port), whatever range follows
    if (test) {
      yield withPort({ ip: from }, ports[0]);
      return;
    }
    let to = from;
    if (p.ipTo !== undefined) {
      to = p.ipTo;
      if (from > to) [from, to] = [to, from];
    } else if (p.cidr !== undefined) {
      if (p.cidr === 0) throw this.kernel(KERNEL.INVALID_CIDR);
      from = (from & maskOf(p.cidr)) >>> 0;
      to = (from | ~maskOf(p.cidr)) >>> 0;
    }
    const step = 2 ** (32 - netmask);
    for (let ip = from; ip <= to; ip += step) for (const port of ports) yield withPort({ ip: ip >>> 0 }, port);
  }

  /**
   * hash_ipportip*_uadt() and hash_ipportnet*_uadt(): the first address (an IPv4 range or net
   * address by address), the ports, and the third address, or hash:ip,port,net's net (its prefix
   * length or an IPv4 range in aligned blocks); a test takes the first address of each and looks
   * a third address up as a host
   */
  *expand3(set: IpSet, p: Parsed, test: boolean): Generator<IpSetElem> {
    const t = IPSET_TYPES[set.type];
    const host = hostMask(set);
    let thirds: [number | string, number | undefined][];
    if (t.third === 'ip') thirds = [[p.ip2!, undefined]];
    else {
      if (p.cidr2 === 0) throw this.kernel(KERNEL.INVALID_CIDR);
      const ip2 = p.ip2!;
      if (typeof ip2 === 'number' && p.ip2To !== undefined && !test) {
        const [from, to] = p.ip2To < ip2 ? [p.ip2To, ip2] : [ip2, p.ip2To];
        if (from === 0 && to === 0xffffffff) throw this.kernel(KERNEL.HASH_RANGE);
        thirds = [...rangeToCidrs(from, to)];
      } else {
        const cidr = p.ip2To !== undefined ? host : (p.cidr2 ?? host);
        thirds = [[maskIp(ip2, cidr), cidr]];
      }
    }
    // (an IPv6 address is one: userspace let no range through)
    let from = p.ip;
    let to = p.ip;
    if (typeof p.ip === 'number' && !test && (p.ipTo !== undefined || p.cidr !== undefined)) {
      if (p.ipTo !== undefined) [from, to] = p.ipTo < p.ip ? [p.ipTo, p.ip] : [p.ip, p.ipTo];
      else {
        if (p.cidr === 0) throw this.kernel(KERNEL.INVALID_CIDR);
        from = (p.ip & maskOf(p.cidr!)) >>> 0;
        to = (from | ~maskOf(p.cidr!)) >>> 0;
      }
    }
    const ports = test ? [p.port!] : portList(p);
    for (let ip = from; ; ip = (ip as number) + 1) {
      for (const port of ports) {
        for (const [ip2, cidr] of thirds) {
          const e: IpSetElem = { ip, proto: p.proto!, port, ip2 };
          if (t.third === 'net') e.cidr = cidr!;
          yield e;
        }
      }
      if (ip === to) return;
    }
  }

  list(cmd: 'list' | 'save', name: string | undefined): void {
    // ip_set_dump_do(): all sets in slot order, the list:set ones in a second pass (so that a
    // restore of the listing creates their members first)
    const all = this.sets;
    const sets = name === undefined ? [...all.filter((s) => s.type !== 'list:set'), ...all.filter((s) => s.type === 'list:set')] : [this.find(name)].filter((s): s is AnySet => !!s);
    if (name !== undefined && !sets.length) throw this.kernel(KERNEL.ENOENT);
    const mode = this.env.output ?? (cmd === 'save' ? 'save' : 'plain');
    let text = '';
    const now = this.now();
    sets.forEach((set, i) => {
      if (this.env.names) {
        text += `${set.name}\n`;
        return;
      }
      const v = setView(set, now);
      // -sorted: session->sort, for the hash types only
      if (this.env.sorted && set.type.startsWith('hash:')) v.entries.sort(byStrcmp);
      if (mode === 'save') {
        text += `create ${set.name} ${set.type} ${v.params}\n`;
        if (!this.env.terse) for (const e of v.entries) text += `add ${set.name} ${e}\n`;
        return;
      }
      if (i > 0) text += '\n';
      text += `Name: ${set.name}\nType: ${set.type}\nRevision: ${v.revision}\nHeader: ${v.params}\nSize in memory: ${v.memsize}\nReferences: ${ipsetReferences(this.host, set.name)}\nNumber of entries: ${v.entries.length}\n`;
      if (!this.env.terse) {
        text += 'Members:\n';
        for (const e of v.entries) text += `${e}\n`;
      }
    });
    if (this.env.file !== undefined) {
      // the file is opened for the listing after its input stream is closed: a restore reads no further
      if (this.restoreLine !== 0) this.inputClosed = true;
      try {
        writeFileSync(resolve(this.cwd, this.env.file), text);
      } catch (e) {
        this.r.err(`Cannot open ${this.env.file} for writing: ${strerror(e)}`);
        this.fail();
      }
    } else this.out += text;
  }

  destroy(name: string | undefined): void {
    if (name === undefined) {
      if (this.sets.some((s) => ipsetReferences(this.host, s.name) > 0)) throw this.kernel(KERNEL.BUSY);
      if (this.sets.length) this.changed = true;
      this.host.ipsets = [];
      this.families.clear();
      return;
    }
    const slots = this.slots;
    const i = slots.findIndex((s) => s?.name === name);
    if (i < 0) throw this.kernel(KERNEL.ENOENT);
    if (ipsetReferences(this.host, name) > 0) throw this.kernel(KERNEL.BUSY);
    // the slot stays free for the next create (trailing free slots are not kept)
    slots[i] = null;
    while (slots.length && slots[slots.length - 1] === null) slots.pop();
    this.families.delete(name);
    this.changed = true;
  }

  flush(name: string | undefined): void {
    const sets = name === undefined ? this.sets : [this.find(name)].filter((s): s is AnySet => !!s);
    if (name !== undefined && !sets.length) throw this.kernel(KERNEL.ENOENT);
    for (const s of sets) {
      if (s.type === 'list:set') s.members = [];
      else if (isBitmap(s)) flushBits(s);
      else flushSet(s);
      this.changed = true;
    }
  }

  rename(from: string, to: string): void {
    const set = this.find(from);
    if (!set) throw this.kernel(KERNEL.ENOENT);
    if (ipsetReferences(this.host, from) > 0) throw this.kernel(KERNEL.REFERENCED_RENAME);
    if (this.find(to)) throw this.kernel(KERNEL.EXIST_SETNAME2_RENAME);
    set.name = to;
    if (this.families.has(from)) {
      this.families.set(to, this.families.get(from));
      this.families.delete(from);
    }
    this.changed = true;
  }

  /** ip_set_swap(): the two sets change slots and names, the references stay with the names */
  swap(a: string, b: string): void {
    const slots = this.slots;
    const i = slots.findIndex((s) => s?.name === a);
    if (i < 0) throw this.kernel(KERNEL.ENOENT);
    const j = slots.findIndex((s) => s?.name === b);
    if (j < 0) throw this.kernel(KERNEL.EXIST_SETNAME2_SWAP);
    const x = slots[i]!;
    const y = slots[j]!;
    if (x.type !== y.type || familyOf(x) !== familyOf(y)) throw this.kernel(KERNEL.TYPE_MISMATCH);
    [x.name, y.name] = [y.name, x.name];
    slots[i] = y;
    slots[j] = x;
    if (this.families.has(a) && this.families.has(b)) {
      const fa = this.families.get(a);
      this.families.set(a, this.families.get(b));
      this.families.set(b, fa);
    }
    this.changed = true;
  }

  /** ipset_parse_stream(): line by line; the first error ends the process */
  restore(): void {
    let input: string;
    try {
      // (a file the replaying script wrote lives in the replay's memory, not on disk)
      input = this.env.file === undefined ? this.stdin : (this.scriptFile?.(this.env.file) ?? readFileSync(resolve(this.cwd, this.env.file), 'latin1'));
    } catch (e) {
      // ipset_session_io_normal() fails and restore() returns it to main(): exit 255, no message
      // (measured); the emulator says why on a line of its own
      throw new Exit(255, `iptables-sim: ipset restore: cannot open ${this.env.file} for reading: ${strerror(e)} (ipset 7.17 exits 255 without a message)\n`);
    }
    const lines = input.split(/(?<=\n)/);
    for (const raw of lines) {
      this.restoreLine++;
      const c = raw.replace(/^\s+/, '');
      if (c === '' || c.startsWith('#')) continue;
      if (c === 'COMMIT\n' || c === 'COMMIT\r\n') {
        this.commit();
        continue;
      }
      const argv = buildArgv(c, this.env.quiet);
      this.line(argv);
      if (this.inputClosed) break;
    }
    // the implicit COMMIT at the end of the input
    this.commit();
  }

  stdin = '';
  /** the directory a -file name is relative to, and the files a replayed script wrote */
  cwd = '.';
  scriptFile?: (path: string) => string | undefined;
  /** restore's input was closed (a listing went to the -file it read) */
  inputClosed = false;
}

/** build_argv(): words split at blanks outside double quotes, the quotes dropped */
function buildArgv(line: string, quiet: boolean): string[] {
  const out: string[] = [];
  let arg = '';
  let quoted = false;
  for (let k = 0; k < line.length; k++) {
    if (out.length + 2 === 32) throw customError(PARAMETER_PROBLEM, 'Line is too long to parse.', quiet);
    const ch = line[k]!;
    const last = k === line.length - 1;
    if (ch === '"') {
      quoted = !quoted;
      if (!last) continue;
    } else if (ch === ' ' || ch === '\r' || ch === '\n' || ch === '\t') {
      if (quoted) {
        arg += ch;
        continue;
      }
    } else {
      arg += ch;
      if (!last) continue;
    }
    if (last && quoted) throw customError(PARAMETER_PROBLEM, 'Missing close quote!', quiet);
    if (!arg) continue;
    out.push(arg);
    arg = '';
  }
  return out;
}

/**
 * the bitmask of hash:ip and hash:ip,port as mtype_same_set() compares it: all ones but for the
 * netmask's prefix (of the first word only, in family inet); no bitmask in the net types
 */
function bitmask(set: IpSet): string {
  if (set.type !== 'hash:ip' && set.type !== 'hash:ip,port') return '';
  if (set.netmask === undefined) return 'ones';
  return set.family === 'inet6' ? `${set.netmask}/128` : `${set.netmask}/32`;
}

/** strtol(s + at, &end, 16): the value and where it ends (`at` itself when no digits) */
function strtol16(s: string, at: number): [number, number] {
  const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c);
  let j = at;
  while (j < s.length && ' \t\n\v\f\r'.includes(s[j]!)) j++;
  let sign = 1;
  if (s[j] === '+' || s[j] === '-') sign = s[j++] === '-' ? -1 : 1;
  if (s[j] === '0' && (s[j + 1] === 'x' || s[j + 1] === 'X') && isHex(s[j + 2])) j += 2;
  const start = j;
  let v = 0;
  for (; isHex(s[j]); j++) v = Math.min(v * 16 + parseInt(s[j]!, 16), 2 ** 63);
  return j === start ? [0, at] : [sign * v, j];
}

/**
 * bystrcmp() of libipset's session.c, the order of -sorted: the entries' texts read as runs of
 * hexadecimal numbers (a net's prefix length reverses the order of what follows: longer nets
 * first), words (protocol names, interfaces) compared by length, then as text
 */
function byStrcmp(a: string, b: string): number {
  let x = 0;
  let y = 0;
  let neg = 1;
  const span = (s: string, i: number): number => {
    let j = i;
    while (j < s.length && s[j] !== ':' && s[j] !== ',') j++;
    return j - i;
  };
  while (x < a.length && y < b.length) {
    const [n1, sep1] = strtol16(a, x);
    const [n2, sep2] = strtol16(b, y);
    if (sep1 === x || sep2 === y) {
      // no leading numbers: proto:port, iface, setname
      const l1 = span(a, x);
      const l2 = span(b, y);
      if (l1 !== 0 || l2 !== 0) {
        if (l1 === l2) {
          const c = a.slice(x, x + l1) < b.slice(y, y + l1) ? -1 : a.slice(x, x + l1) > b.slice(y, y + l1) ? 1 : 0;
          if (c === 0) {
            x += l1 + 1;
            y += l1 + 1;
            neg = 1;
            continue;
          }
          return c;
        }
        return l1 < l2 ? -1 : 1;
      }
      return a.slice(x) < b.slice(y) ? -1 : a.slice(x) > b.slice(y) ? 1 : 0;
    }
    if (n1 !== n2) return neg * Math.sign(n1 - n2);
    // the subnet separator
    if (a[sep1] === '/' || b[sep2] === '/') {
      if (a[sep1] === b[sep2]) neg = a[sep1] === '/' ? -1 : 1;
      else return a[sep1] === '/' ? 1 : -1;
    }
    x = sep1 + 1;
    y = sep2 + 1;
    // IPv6's '::'
    if (a[x] === ':' || b[y] === ':') {
      if (a[x] === b[y]) {
        x++;
        y++;
      } else return a[x] === ':' ? -1 : 1;
    }
  }
  return x < a.length ? 1 : y < b.length ? -1 : 0;
}

/** the extensions a set may have */
interface SetExt {
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
}

/** ip_set_get_extensions(): the refusal of an extension the add gives and the set was created without */
function extRefusal(set: SetExt, o: AdtOptions): string | undefined {
  if (o.timeout !== undefined && set.timeout === undefined) return KERNEL.TIMEOUT;
  if ((o.packets !== undefined || o.bytes !== undefined) && !set.counters) return KERNEL.COUNTER;
  if (o.comment !== undefined && !set.comment) return KERNEL.COMMENT;
  return undefined;
}

/** an element with the extensions an add gives it: its timeout or the set's, its counters, its comment */
function addExt<T extends ElemExt>(e: T, set: SetExt, o: AdtOptions, now: number): T {
  const timeout = o.timeout ?? set.timeout;
  if (timeout) e.expires = now + timeout;
  if (o.packets !== undefined) e.packets = o.packets;
  if (o.bytes !== undefined) e.bytes = o.bytes;
  if (o.comment !== undefined) e.comment = o.comment;
  return e;
}

/** htable_bits(): the hashsize rounded up to a power of two, at least 64 */
function hashBits(hashsize: number): number {
  let bits = 0;
  while (2 ** bits < Math.max(hashsize, 64)) bits++;
  return Math.min(bits, 32);
}

/** the bucketsize the kernel keeps: even, 2..12 (AHASH_INIT_SIZE, AHASH_MAX_SIZE) */
function bucketSize(b: number | undefined): number {
  if (b === undefined) return 12;
  if (b < 2) return 2;
  if (b > 12) return 12;
  return b % 2 ? b + 1 : b;
}

function portList(p: Parsed): number[] {
  if (p.portTo === undefined) return [p.port!];
  const [a, b] = p.portTo < p.port! ? [p.portTo, p.port!] : [p.port!, p.portTo];
  const out: number[] = [];
  for (let x = a; x <= b; x++) out.push(x);
  return out;
}

/**
 * hash_net4_uadt()'s walk of FROM-TO: ip_set_range_to_cidr() gives the largest aligned block at
 * each address whose end is not after TO, with the kernel's after() (a signed difference: in a
 * range wider than 2^31 the big blocks fail, and its start goes in address by address)
 */
function* rangeToCidrs(from: number, to: number): Generator<[number, number]> {
  const after = (a: number, b: number): boolean => ((b - a) | 0) < 0;
  let ip = from;
  for (;;) {
    let cidr = 32;
    let last = ip;
    for (let i = 1; i < 32; i++) {
      if ((ip & maskOf(i)) >>> 0 !== ip) continue;
      const end = (ip | ~maskOf(i)) >>> 0;
      if (!after(end, to)) {
        cidr = i;
        last = end;
        break;
      }
    }
    yield [ip, cidr];
    if (last >= to) return;
    ip = last + 1;
  }
}

/** what list and save print of a set: its revision, header parameters, memory and entries */
function setView(set: AnySet, now: number): { revision: number; params: string; memsize: number; entries: string[] } {
  const ext = (s: string, e: IpSetElem | ElemExt): string => {
    // the seconds left as the kernel counts them a moment after the command that set them (0: permanent)
    if (set.timeout !== undefined) s += ` timeout ${e.expires === undefined ? 0 : Math.max(1, e.expires - now - 1)}`;
    if ('nomatch' in e && e.nomatch) s += ' nomatch';
    if (set.counters) s += ` packets ${e.packets ?? 0} bytes ${e.bytes ?? 0}`;
    if (e.comment !== undefined) s += ` comment "${e.comment}"`;
    return s;
  };
  const extParams = `${set.timeout !== undefined ? ` timeout ${set.timeout}` : ''}${set.counters ? ' counters' : ''}${set.comment ? ' comment' : ''}`;
  if (set.type === 'list:set') {
    return { revision: 3, params: `size ${set.size}${extParams}`, memsize: listMemsize(set), entries: liveMembers(set, now).map((m) => ext(m.name, m)) };
  }
  if (set.type === 'bitmap:port') {
    return { revision: 3, params: `range ${set.first}-${set.last}${extParams}`, memsize: bitmapMemsize(set), entries: liveBits(set, now).map((m) => ext(`${m.id}`, m)) };
  }
  if (set.type === 'bitmap:ip') {
    const params = `range ${ipText(set.first)}-${ipText(set.last)}${set.netmask !== undefined ? ` netmask ${set.netmask}` : ''}${extParams}`;
    return { revision: 3, params, memsize: bitmapMemsize(set), entries: liveBits(set, now).map((m) => ext(ipText(m.id), m)) };
  }
  const netmask = set.netmask !== undefined ? ` netmask ${set.netmask}` : '';
  const params = `family ${set.family ?? 'inet'} hashsize ${2 ** set.bits} maxelem ${set.maxelem}${netmask}${extParams} bucketsize ${set.bucketsize} initval 0x${set.initval.toString(16).padStart(8, '0')}`;
  return { revision: IPSET_TYPES[set.type].revision, params, memsize: memsize(set), entries: members(set, now).map((e) => ext(elemKeyText(set, e), e)) };
}

/** `ipset ARGS...` on the host */
export async function ipsetCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { io } = ctx;
  const stdin = commandOf(argv) === 'restore' ? await io.readStdin() : '';
  let out = '';
  let err = '';
  let status = 0;
  const run = (lab: Lab): boolean => {
    const ipset = new IpsetRun(lab, hostOf(lab, ctx.host)[1]);
    ipset.stdin = stdin;
    ipset.cwd = ctx.io.cwd;
    ipset.scriptFile = ctx.io.scriptFile?.bind(ctx.io);
    try {
      ipset.line(argv);
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      status = e.status;
      ipset.err += e.stderr;
    }
    out = ipset.out;
    err = ipset.err;
    // a restore keeps what it did before its error, as the kernel does
    return ipset.changed;
  };
  // (under the lock for every command: which one it is, line() alone decides)
  await readWrite(ctx, (lab) => ({ save: run(lab), value: undefined }));
  io.out(out);
  io.err(err);
  return status;
}

/** the command of a command line: its first word that is no envopt (nor an envopt's value) */
function commandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const opt = ENVOPTS.find((o) => matchEnvopt(argv[i]!, o.names));
    if (!opt) return COMMANDS.find((c) => matchCmd(argv[i]!, c.names))?.cmd;
    if (opt.arg) i++;
  }
  return undefined;
}

// default_help() of ipset 7.17 and the kernel's set types as the Debian 12 package lists them
const HELP =
  'ipset v7.17\n\nUsage: ipset [options] COMMAND\n\nCommands:\n' +
  COMMANDS.map((c) => `${c.names[0]} ${commandHelp(c.cmd)}\n`).join('') +
  '\nOptions:\n' +
  '-o plain|save|xml\n       Specify output mode for listing sets.\n       Default value for "list" command is mode "plain"\n       and for "save" command is mode "save".\n' +
  '-s \n        Print elements sorted (if supported by the set type).\n' +
  '-q \n        Suppress any notice or warning message.\n' +
  '-r \n        Try to resolve IP addresses in the output (slow!)\n' +
  "-! \n        Ignore errors when creating or adding sets or\n        elements that do exist or when deleting elements\n        that don't exist.\n" +
  '-n \n        When listing, just list setnames from the kernel.\n\n' +
  '-t \n        When listing, list setnames and set headers\n        from kernel only.\n' +
  '-f \n        Read from the given file instead of standard\n        input (restore) or write to given file instead\n        of standard output (list/save).\n';

function commandHelp(cmd: string): string {
  const h: Record<string, string> = {
    create: 'SETNAME TYPENAME [type-specific-options]\n        Create a new set',
    add: 'SETNAME ENTRY\n        Add entry to the named set',
    del: 'SETNAME ENTRY\n        Delete entry from the named set',
    test: 'SETNAME ENTRY\n        Test entry in the named set',
    destroy: '[SETNAME]\n        Destroy a named set or all sets',
    list: '[SETNAME]\n        List the entries of a named set or all sets',
    save: '[SETNAME]\n        Save the named set or all sets to stdout',
    restore: '\n        Restore a saved state',
    flush: '[SETNAME]\n        Flush a named set or all sets',
    rename: 'FROM-SETNAME TO-SETNAME\n        Rename two sets',
    swap: 'FROM-SETNAME TO-SETNAME\n        Swap the contect of two existing sets',
    help: '[TYPENAME]\n        Print help, and settype specific help',
    version: '\n        Print version information',
    quit: '\n        Quit interactive mode',
  };
  return h[cmd]!;
}

/**
 * The set types ipset 7.17 knows, as `ipset help` lists them (its library's list: the kernel need
 * not have them all): each type's newest revision and the descriptions of its revisions, newest first
 */
const KNOWN_TYPES: [string, number, string[]][] = [
  ['list:set', 3, ['skbinfo support', 'comment support', 'counters support', 'Initial revision']],
  ['hash:mac', 1, ['bucketsize, initval support', 'Initial revision']],
  ['hash:ip,mac', 1, ['bucketsize, initval support', 'Initial revision']],
  ['hash:net,iface', 8, ['bucketsize, initval support', 'skbinfo and wildcard support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', '/0 network support', 'nomatch flag support', 'Initial revision']],
  ['hash:net,port', 8, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'nomatch flag support', 'Add/del range support', 'SCTP and UDPLITE support']],
  ['hash:net,port,net', 3, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'initial revision']],
  ['hash:net,net', 4, ['netmask and bitmask support', 'bucketsize, initval support', 'skbinfo support', 'forceadd support', 'initial revision']],
  ['hash:net', 7, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'nomatch flag support', 'Add/del range support', 'Initial revision']],
  ['hash:ip,port,net', 8, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'nomatch flag support', 'Add/del range support', 'SCTP and UDPLITE support']],
  ['hash:ip,port,ip', 6, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'SCTP and UDPLITE support']],
  ['hash:ip,mark', 3, ['bucketsize, initval support', 'skbinfo support', 'forceadd support', 'initial revision']],
  ['hash:ip,port', 7, ['netmask and bitmask support', 'bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'SCTP and UDPLITE support']],
  ['hash:ip', 6, ['bitmask support', 'bucketsize, initval support', 'skbinfo support', 'forceadd support', 'comment support', 'counters support', 'Initial revision']],
  ['bitmap:port', 3, ['skbinfo support', 'comment support', 'counters support', 'Initial revision']],
  ['bitmap:ip,mac', 3, ['skbinfo support', 'comment support', 'counters support', 'Initial revision']],
  ['bitmap:ip', 3, ['skbinfo support', 'comment support', 'counters support', 'Initial revision']],
];

const TYPES_HELP =
  '\nSupported set types:\n' +
  KNOWN_TYPES.map(([name, top, revs]) => revs.map((d, i) => `    ${name}\t${name.length < 12 ? '\t' : ''}${top - i}\t${d}\n`).join('')).join('');
