/**
 * libxtables' option framework (xtoptions.c): the checks every option gets before the extension
 * sees it (used once, may it be inverted, has an argument) and the standard argument types with
 * their standard error messages; then, after the last option, the mandatory/also/excl checks.
 */
import { XtablesError, paramProblem } from '../errors.js';
import { numericToIp, inetAton, maskToCidr, prefixToMask } from '../net/ipv4.js';
import { hostToAddrs, protocolByName, protocolByNumber as protocolNameByNumber, serviceToPort } from '../net/netdb.js';
import { strtoumax, xtStrtoul, parseUint } from '../util/strtoul.js';
import { formatIp6, maskToCidr6, parseIp6 } from '../net/ipv6.js';
import type { OptValue, OptionEntry } from './types.js';
import type { Family } from './registry.js';

const UMAX: Record<string, bigint> = {
  uint8: 0xffn,
  uint16: 0xffffn,
  uint32: 0xffffffffn,
  uint64: 0xffffffffffffffffn,
};

function baseType(t: string): string {
  return t.endsWith('rc') ? t.slice(0, -2) : t;
}

/** xtopt_parse_int */
function parseInt(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const lmin = BigInt(e.min ?? 0);
  const lmax = e.max !== undefined && e.max !== 0 ? BigInt(e.max) : UMAX[e.type]!;
  const r = xtStrtoul(arg, lmin, lmax);
  if (!r.ok) {
    throw paramProblem(`${ext}: bad value for option "--${e.name}", or out of range (${lmin}-${lmax}).\n`);
  }
  val.big = r.value;
  val.num = Number(r.value);
}

/** xtopt_parse_mint: "a[:b]" ranges, missing parts default to 0 / max */
function parseMint(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const lmax = UMAX[baseType(e.type)]!;
  const maxiter = 2;
  const values: bigint[] = [];
  let pos = 0;
  for (;;) {
    if (values.length === maxiter) {
      throw paramProblem(`${ext}: Too many components for option "--${e.name}" (max: ${maxiter})\n`);
    }
    const rest = arg.slice(pos);
    let end: number;
    let value: bigint;
    if (rest === '' || rest[0] === ':') {
      end = pos;
      value = values.length === 1 ? lmax : 0n;
    } else {
      const r = xtStrtoul(rest, 0, lmax, true);
      if (!r.ok) {
        throw paramProblem(`${ext}: bad value for option "--${e.name}" near "${rest}", or out of range (0-${lmax}).\n`);
      }
      end = pos + r.end;
      if (end < arg.length && arg[end] !== ':') {
        throw paramProblem(`${ext}: Argument to "--${e.name}" has unexpected characters near "${arg.slice(end)}".\n`);
      }
      value = r.value;
    }
    values.push(value);
    if (end >= arg.length) break;
    pos = end + 1;
  }
  val.bigRange = values;
  val.range = values.map(Number);
}

/** xtopt_parse_float */
function parseDouble(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const m = /^[ \t\n\v\f\r]*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf(inity)?|nan)/i.exec(arg);
  const min = e.min ?? 0;
  const max = e.max ?? 0;
  const value = m ? Number(m[0].trim().replace(/^\+/, '')) : NaN;
  if (!m || m[0].length !== arg.length || (min !== max && (value < min || value > max))) {
    throw paramProblem(`${ext}: bad value for option "--${e.name}", or out of range (${min}-${max}).\n`);
  }
  val.dbl = value;
}

/** xtopt_parse_string */
function parseString(e: OptionEntry, arg: string, val: OptValue): void {
  const z = arg.length;
  if (e.min && z < e.min) throw paramProblem(`Argument must have a minimum length of ${e.min} characters\n`);
  if (e.max && z > e.max) throw paramProblem(`Argument must have a maximum length of ${e.max} characters\n`);
  val.str = e.size !== undefined && z >= e.size ? arg.slice(0, e.size - 1) : arg;
}

const TOS_NAMES: [string, number][] = [
  ['Minimize-Delay', 0x10],
  ['Maximize-Throughput', 0x08],
  ['Maximize-Reliability', 0x04],
  ['Minimize-Cost', 0x02],
  ['Normal-Service', 0x00],
];

/** xtopt_parse_tosmask: "value[/mask]" or a symbolic TOS name (mask = entry.max) */
function parseTosMask(e: OptionEntry, arg: string, val: OptValue): void {
  const lead = xtStrtoul(arg, 0, 255, true);
  if (lead.ok) {
    val.value = Number(lead.value);
    val.mask = 0xff;
    let end = lead.end;
    if (arg[end] === '/') {
      const m = xtStrtoul(arg.slice(end + 1), 0, 255, true);
      if (!m.ok) throw paramProblem(`Illegal value: "${arg}"`);
      val.mask = Number(m.value);
      end = end + 1 + m.end;
    }
    if (end !== arg.length) throw paramProblem(`Illegal value: "${arg}"`);
    return;
  }
  val.mask = e.max ?? 0x3f;
  for (const [name, v] of TOS_NAMES) {
    if (name.toLowerCase() === arg.toLowerCase()) {
      val.value = v;
      return;
    }
  }
  throw paramProblem(`Symbolic name "${arg}" is unknown`);
}

/** xtables_parse_mark_mask: "value[/mask]", both uint32 with base 0 */
export function parseMarkMask(arg: string): { value: number; mask: number } {
  const v = xtStrtoul(arg, 0, 0xffffffff, true);
  if (!v.ok) throw paramProblem(`Bad mark value "${arg}"`);
  let mask = 0xffffffff;
  let end = v.end;
  if (arg[end] === '/') {
    const m = xtStrtoul(arg.slice(end + 1), 0, 0xffffffff, true);
    if (!m.ok) throw paramProblem(`Bad mask "${arg.slice(end + 1)}"`);
    mask = Number(m.value);
    end = end + 1 + m.end;
  }
  if (end !== arg.length) throw paramProblem(`Garbage after mark: "${arg.slice(end)}"`);
  return { value: Number(v.value), mask };
}

/**
 * xtables_parse_val_mask() without a name map, as XTTYPE_MARKMASK32 uses it in 1.8.9: the
 * messages name the extension and the option.
 */
function parseValMask(ext: string, e: OptionEntry, arg: string): { value: number; mask: number } {
  const bad = () => paramProblem(`${ext}: bad integer value for option "--${e.name}", or out of range.\n`);
  const garbage = () => paramProblem(`${ext}: trailing garbage after value for option "--${e.name}".\n`);
  const v = xtStrtoul(arg, 0, 0xffffffff, true);
  if (!v.ok) throw bad();
  if (v.end === arg.length) return { value: Number(v.value), mask: 0xffffffff };
  if (arg[v.end] !== '/') throw garbage();
  const rest = arg.slice(v.end + 1);
  const m = xtStrtoul(rest, 0, 0xffffffff, true);
  if (!m.ok) throw bad();
  if (m.end !== rest.length) throw garbage();
  return { value: Number(v.value), mask: Number(m.value) };
}

const SYSLOG_LEVELS: Record<string, number> = {
  alert: 1,
  crit: 2,
  debug: 7,
  emerg: 0,
  error: 3,
  info: 6,
  notice: 5,
  panic: 0,
  warning: 4,
};

function parseSyslogLevel(arg: string, val: OptValue): void {
  const n = parseUint(arg, 0, 7);
  if (n !== undefined) {
    val.syslogLevel = n;
    return;
  }
  const lvl = SYSLOG_LEVELS[arg];
  if (lvl === undefined) throw paramProblem(`log level "${arg}" unknown\n`);
  val.syslogLevel = lvl;
}

/** getaddrinfo(AF_INET) as libc answers it here: numbers (inet_aton forms) and the hosts file */
export function resolveHost(name: string): number[] | undefined {
  const n = inetAton(name);
  if (n !== undefined) return [n];
  const h = hostToAddrs(name);
  if (h.length) return h.map((a) => numericToIp(a)!);
  return undefined;
}

/**
 * gai_strerror() of a failed lookup as glibc reports it with no reachable DNS server (as in the
 * recording namespaces): names nss_dns refuses without asking (not a res_hnok host name; for
 * AF_INET also digits and dots only) are EAI_NONAME, any other name times out as EAI_AGAIN. An
 * AF_INET6 lookup of "1.2.3.256" asks the server (measured, fixtures/cli/getaddrinfo.case).
 */
function gaiError(name: string, family: 4 | 6): string {
  // a numeric address of the other family: EAI_ADDRFAMILY (measured, fixtures/cli/ext-tproxy.case)
  if (parseIp6(name) || inetAton(name) !== undefined) return 'Address family for hostname not supported';
  const allNumeric = family === 4 && /^\d[\d.]*$/.test(name) && !name.endsWith('.');
  const hnok = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.?$/.test(name);
  return allNumeric || !hnok ? 'Name or service not known' : 'Temporary failure in name resolution';
}

function parseHost(arg: string, val: OptValue): void {
  const addrs = resolveHost(arg);
  if (!addrs) throw paramProblem(`getaddrinfo: ${gaiError(arg, 4)}\n`);
  if (addrs.some((a) => a !== addrs[0])) throw paramProblem(`${arg} resolves to more than one address\n`);
  val.haddr = addrs[0]!;
  val.hmask = 0xffffffff;
  val.hlen = 32;
}

/** the same with AF_INET6: numeric IPv6 addresses only (the lab has no IPv6 host names) */
function parseHost6(arg: string, val: OptValue): void {
  const a = parseIp6(arg);
  if (!a) throw paramProblem(`getaddrinfo: ${gaiError(arg, 6)}\n`);
  val.haddr6 = formatIp6(a);
  val.hlen = 128;
}

/** getaddrinfo(NULL, name): decimal port numbers or a service name of any protocol */
export function portByName(name: string): number {
  if (/^\d+$/.test(name)) {
    const n = Number(strtoumax(name, 10).value & 0xffffn);
    return n;
  }
  return serviceToPort(name) ?? -1;
}

function parsePort(arg: string, val: OptValue): void {
  const p = portByName(arg);
  if (p < 0) throw paramProblem(`Port "${arg}" does not resolve to anything.\n`);
  val.port = p;
}

function parsePortRange(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const maxiter = 2;
  const range: [number, number] = [0, 0xffff];
  let n = 0;
  for (const part of arg.split(':')) {
    if (n === maxiter) throw paramProblem(`${ext}: Too many components for option "--${e.name}" (max: ${maxiter})\n`);
    if (part === '') {
      n++;
      continue;
    }
    const p = portByName(part);
    if (p < 0) throw paramProblem(`Port "${part}" does not resolve to anything.\n`);
    range[n] = p;
    n++;
  }
  if (n === 1) {
    range[1] = range[0];
    n++;
  }
  val.portRange = range;
  val.portCount = n;
}

/**
 * xtopt_parse_plenmask(): a mask with holes gives hlen -1, which the C code stores in a uint8_t
 * (255); no shift applies to that length, so the mask stays all ones.
 */
function plenToMask(hlen: number): number {
  return hlen < 0 ? 0xffffffff : prefixToMask(hlen);
}

function parsePlen(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const n = parseUint(arg, 0, 32);
  if (n !== undefined) {
    val.hlen = n;
    return;
  }
  // getaddrinfo(AI_NUMERICHOST) takes every inet_aton form ("0xffffff00", "255.255.255")
  const dotted = inetAton(arg);
  if (dotted !== undefined) {
    val.hlen = maskToCidr(dotted);
    return;
  }
  throw paramProblem(`${ext}: bad value for option "--${e.name}", neither a valid network mask nor valid CIDR (0-32).\n`);
}

/** xtopt_parse_plen() for IPv6: 0-128, or a mask written as an address (-1 when it has holes) */
function parsePlen6(ext: string, e: OptionEntry, arg: string, val: OptValue): void {
  const n = parseUint(arg, 0, 128);
  if (n !== undefined) {
    val.hlen = n;
    return;
  }
  const m = parseIp6(arg);
  if (m) {
    val.hlen = maskToCidr6(m);
    return;
  }
  throw paramProblem(`${ext}: bad value for option "--${e.name}", neither a valid network mask nor valid CIDR (0-128).\n`);
}

function parseEtherMac(arg: string, val: OptValue): void {
  // strtoul(…, 16) per octet; an octet may be empty or at most two characters long
  const mac: number[] = [];
  let pos = 0;
  for (let i = 0; i < 6; i++) {
    const r = strtoumax(arg.slice(pos), 16);
    const last = i === 5;
    if (r.end > 2 || (last ? pos + r.end !== arg.length : arg[pos + r.end] !== ':')) {
      throw paramProblem('Invalid MAC address specified.');
    }
    mac.push(Number(r.value & 0xffn));
    pos += r.end + 1;
  }
  val.mac = mac;
}

/** a "min[:max]" range option (uint*rc) as [min, max]: a lone number is both ends (nvals == 1) */
export function rangeOf(val: OptValue): [number, number] {
  const r = val.range!;
  return [r[0]!, r.length >= 2 ? r[1]! : r[0]!];
}

/**
 * xtables_option_parse(): the generic checks, then the type's own parser. `xflags` is the set of
 * option ids used so far by this extension instance.
 */
export function xtOptionParse(
  ext: string,
  e: OptionEntry,
  arg: string | undefined,
  invert: boolean,
  xflags: number,
  family: Family = 4,
): OptValue {
  // old-style extensions (no x6 option table) check everything themselves
  if (e.type === 'raw') return {};
  const eflag = 1 << e.id;
  if ((!e.multi || (e.excl ?? []).includes(e.id)) && xflags & eflag) {
    throw paramProblem(`${ext}: option "--${e.name}" can only be used once.\n`);
  }
  if (invert && !e.invert) throw paramProblem(`${ext}: option "--${e.name}" cannot be inverted.\n`);
  if (e.type !== 'none' && arg === undefined) {
    throw paramProblem(`${ext}: option "--${e.name}" requires an argument.\n`);
  }
  const val: OptValue = {};
  if (arg === undefined) return val;
  switch (e.type) {
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      parseInt(ext, e, arg, val);
      break;
    case 'uint8rc':
    case 'uint16rc':
    case 'uint32rc':
    case 'uint64rc':
      parseMint(ext, e, arg, val);
      break;
    case 'double':
      parseDouble(ext, e, arg, val);
      break;
    case 'string':
      parseString(e, arg, val);
      break;
    case 'tosmask':
      parseTosMask(e, arg, val);
      break;
    case 'markmask32': {
      const mm = parseValMask(ext, e, arg);
      val.value = mm.value;
      val.mask = mm.mask;
      break;
    }
    case 'sysloglevel':
      parseSyslogLevel(arg, val);
      break;
    case 'host':
      (family === 6 ? parseHost6 : parseHost)(arg, val);
      break;
    case 'hostmask': {
      const slash = arg.indexOf('/');
      if (slash < 0) {
        (family === 6 ? parseHost6 : parseHost)(arg, val);
      } else if (family === 6) {
        parseHost6(arg.slice(0, slash), val);
        parsePlen6(ext, e, arg.slice(slash + 1), val);
      } else {
        parseHost(arg.slice(0, slash), val);
        parsePlen(ext, e, arg.slice(slash + 1), val);
        val.hmask = plenToMask(val.hlen!);
      }
      break;
    }
    case 'protocol':
      val.protocol = parseProtocol(arg);
      break;
    case 'port':
      parsePort(arg, val);
      break;
    case 'portrc':
      parsePortRange(ext, e, arg, val);
      break;
    case 'plen':
      (family === 6 ? parsePlen6 : parsePlen)(ext, e, arg, val);
      break;
    case 'plenmask':
      if (family === 6) parsePlen6(ext, e, arg, val);
      else {
        parsePlen(ext, e, arg, val);
        val.hmask = plenToMask(val.hlen!);
      }
      break;
    case 'ethermac':
      parseEtherMac(arg, val);
      break;
    case 'none':
      break;
  }
  return val;
}

/**
 * An ip6tables host or hostmask option's value as given: the address (inet_ntop() text) and its
 * prefix length; a mask with holes (hlen -1, which libxtables keeps in a u8 as 255) is all ones.
 */
export function hostmask6(val: OptValue): [string, number] {
  return [val.haddr6!, val.hlen! < 0 ? 128 : val.hlen!];
}

/** xtables_options_fcheck(): mandatory options, "also requires", "cannot be used together" */
/**
 * per option table: the first entry of each id, for each entry the ids it names in `also`/`excl`
 * (ascending), and as bit masks the mandatory options and the options that name others
 */
const fcheckCache = new WeakMap<
  OptionEntry[],
  { byId: Map<number, OptionEntry>; named: Map<OptionEntry, number[]>; mandatory: number; related: number }
>();

export function xtOptionsFcheck(ext: string, xflags: number, table: OptionEntry[]): void {
  let c = fcheckCache.get(table);
  if (!c) {
    const byId = new Map<number, OptionEntry>();
    for (const e of table) if (!byId.has(e.id)) byId.set(e.id, e);
    const named = new Map(table.map((e) => [e, [...new Set([...(e.also ?? []), ...(e.excl ?? [])])].sort((a, b) => a - b)] as const));
    let mandatory = 0;
    let related = 0;
    for (const e of table) {
      if (e.mandatory) mandatory |= 1 << e.id;
      if (named.get(e)!.some((i) => i !== e.id)) related |= 1 << e.id;
    }
    c = { byId, named, mandatory, related };
    fcheckCache.set(table, c);
  }
  // nothing missing, no option given that names others: nothing the walk below could find
  if ((xflags & c.mandatory) === c.mandatory && (xflags & c.related) === 0) return;
  // xtables_options_fcheck(): entries in table order, then the other ids in ascending order
  for (const e of table) {
    if (e.mandatory && !(xflags & (1 << e.id))) {
      throw paramProblem(`${ext}: option "--${e.name}" must be specified\n`);
    }
    if (!(xflags & (1 << e.id))) continue;
    for (const i of c.named.get(e)!) {
      if (i === e.id) continue;
      const other = c.byId.get(i);
      if (!other) continue;
      const of = 1 << other.id;
      if ((e.also ?? []).includes(other.id) && !(xflags & of)) {
        throw paramProblem(`${ext}: option "--${e.name}" also requires "--${other.name}".\n`);
      }
      if (!(e.excl ?? []).includes(other.id)) continue;
      if ((xflags & of) === 0) continue;
      throw paramProblem(`${ext}: option "--${e.name}" cannot be used together with "--${other.name}".\n`);
    }
  }
}

const CHAIN_PROTOS: [string, number][] = [
  ['tcp', 6],
  ['sctp', 132],
  ['udp', 17],
  ['udplite', 136],
  ['icmp', 1],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['esp', 50],
  ['ah', 51],
  ['mobility-header', 135],
  ['ipv6-mh', 135],
  ['mh', 135],
  ['all', 0],
];

/** xtables_parse_protocol() */
export function parseProtocol(s: string): number {
  const n = parseUint(s, 0, 255);
  if (n !== undefined) return n;
  // (indexed, not destructured: this runs for every -p of every command line)
  for (let i = 0; i < CHAIN_PROTOS.length; i++) if (CHAIN_PROTOS[i]![0] === s) return CHAIN_PROTOS[i]![1];
  const p = protocolByName(s);
  if (p !== undefined) return p;
  throw paramProblem(`unknown protocol "${s}" specified`);
}

/** proto_to_name(): the chain-protocol names first, then /etc/protocols unless numeric */
export function protoToName(proto: number, numeric: boolean): string | undefined {
  for (let i = 0; i < CHAIN_PROTOS.length; i++) if (CHAIN_PROTOS[i]![1] === proto) return CHAIN_PROTOS[i]![0];
  if (proto && !numeric) {
    return protocolNameByNumber(proto);
  }
  return undefined;
}

/** XTF_ONLY_ONCE / XTF_NO_INVERT / XTF_BAD_VALUE of xtables_param_act(), for old-style parsers */
export const paramAct = {
  onlyOnce(ext: string, opt: string, seen: boolean): void {
    if (seen) throw paramProblem(`${ext}: "${opt}" option may only be specified once`);
  },
  noInvert(ext: string, opt: string, invert: boolean): void {
    if (invert) throw paramProblem(`${ext}: "${opt}" option cannot be inverted`);
  },
  badValue(ext: string, opt: string, value: string): XtablesError {
    return paramProblem(`${ext}: Bad value for "${opt}" option: "${value}"`);
  },
  oneAction(ext: string, seen: boolean): void {
    if (seen) throw paramProblem(`${ext}: At most one action is possible`);
  },
};

