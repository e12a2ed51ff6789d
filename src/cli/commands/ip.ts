/**
 * `ip` (iproute2 6.1) for the part of it firewall scripts use on a host of the lab:
 * `ip address add|del|replace|flush|show`, `ip route add|replace|change|del|show|get|flush SELECTOR`
 * (routes in numbered tables too), `ip rule add|del|show|flush`,
 * `ip link set DEV up|down|mtu N`, `ip link show`, `ip link add|del NAME type dummy`, `ip neigh flush`,
 * with -4, -o and -br.
 * Messages, exit statuses and output formats are iproute2's (measured in a namespace); the kernel's
 * side effects are the kernel's: a secondary address joins the end of the list, deleting a primary
 * takes its secondaries with it (promote_secondaries is 0 in a fresh namespace), routes that name
 * a deleted source address go, an interface that loses its last address or goes down loses every
 * route through it (and, going down, its neighbour entries). Interfaces print as the kernel lab's
 * veth ports do, without the peer suffix (`eth0@if7`) and `link-netns`, which belong to how that
 * lab is wired, not to the host; IPv6 is not modelled, so no inet6 lines are printed and `-6` is
 * refused.
 */
import { ipToString, parseDotted, prefixToMask, type Ip4 } from '../../net/ipv4.js';
import { deviceMtu, MAX_ROUTE_ADVMSS, MAX_ROUTE_MTU } from '../../net/mtu.js';
import { strtoumax } from '../../util/strtoul.js';
import { wildcardSource } from '../../util/glob.js';
import { protocolByName } from '../../net/netdb.js';
import type { Host, Interface, Neighbour, PolicyRule, Route } from '../../net/lab.js';
import { addressRoutes, addrKey, metricsText, routeScope, addrType, buildFib, kernelRouteKey, fibLookup, hostRules, inputMartian, isMulticast, joinedGroup, interfaceAddresses, fullSourceCheck, routeErrno, ruleText, RT_TABLE_DEFAULT, tableLookup, tableName, RT_TABLE_LOCAL, RT_TABLE_MAIN, selectSourceAddress, sourceRefused, type FibRoute, type Flow, type RouteErrno } from '../../net/routing.js';
import { ALL_CONF_KEYS, CONF6, effectiveConf, markAddressed, modelledDefault, srcValidMark, type ConfKey } from '../../net/sysctl.js';
import { hostOf, readOnly, readWrite, type CliContext } from '../context.js';

/** what a command printed and its status; `changed`: it changed the host although it failed (saved all the same) */
type Out = { out: string; err: string; status: number; changed?: boolean };

/** iproute2's matches(): the word is a prefix of the keyword */
function matches(word: string, key: string): boolean {
  return word.length > 0 && key.startsWith(word);
}

class IpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const fail = (message: string, status: number): never => {
  throw new IpError(message, status);
};
/** incomplete_command(): a keyword given without its argument */
const incomplete = (): never => fail('Command line is not complete. Try option "help"\n', 255);
const notModelled = (what: string): never => fail(`iptables-sim: ${what} is not modelled (ip supports: address add|del|replace|flush|show, route add|replace|change|del|show|get|flush, rule add|del|flush|show, link set up|down|mtu, link show, link add|del type dummy, neighbour flush)\n`, 2);

interface Globals {
  family4: boolean;
  oneline: boolean;
  brief: boolean;
}

const OBJECTS = ['address', 'addrlabel', 'maddress', 'route', 'rule', 'neighbor', 'neighbour', 'ntable', 'ntbl', 'link', 'l2tp', 'fou', 'ila', 'macsec', 'tunnel', 'tuntap', 'tap', 'token', 'tcpmetrics', 'tcp_metrics', 'monitor', 'xfrm', 'mroute', 'mrule', 'netns', 'netconf', 'vrf', 'sr', 'nexthop', 'mptcp', 'ioam', 'stats', 'help'];

export interface IpCommand {
  globals: Globals;
  object: 'address' | 'route' | 'rule' | 'link' | 'neighbour';
  args: string[];
}

/** Reads the global options and the object; errors are iproute2's. */
export function parseIp(argv: string[]): IpCommand | { error: string; status: number } {
  const globals: Globals = { family4: false, oneline: false, brief: false };
  let i = 0;
  try {
    for (; i < argv.length; i++) {
      let a = argv[i]!;
      if (a === '--') {
        i++;
        break;
      }
      if (!a.startsWith('-')) break;
      if (a.startsWith('--')) a = a.slice(1);
      const opt = a.slice(1);
      if (opt === '4') globals.family4 = true;
      else if (opt === '6') notModelled('IPv6 (ip -6)');
      else if (opt === '0' || opt === 'M' || opt === 'B') notModelled(`ip ${argv[i]} (link, MPLS and bridge families)`);
      else if (opt === 'f' || (opt.length > 1 && matches(opt, 'family'))) {
        const fam = argv[++i];
        if (fam === 'inet') globals.family4 = true;
        else if (fam === undefined) incomplete();
        else notModelled(`address family ${fam}`);
      } else if (matches(opt, 'oneline')) globals.oneline = true;
      else if (matches(opt, 'brief') && opt.length > 1) globals.brief = true;
      else if (opt === 'c' || matches(opt, 'color') || opt.startsWith('color=')) continue;
      else if (matches(opt, 'details') || matches(opt, 'statistics') || matches(opt, 'json') || matches(opt, 'pretty') || matches(opt, 'netns') || matches(opt, 'batch') || matches(opt, 'resolve') || matches(opt, 'timestamp')) {
        notModelled(`ip ${argv[i]}`);
      } else if (matches(opt, 'Version')) {
        return { error: '', status: -1 };
      } else if (matches(opt, 'help')) {
        fail(USAGE, 255);
      } else fail(`Option "${argv[i]}" is unknown, try "ip -help".\n`, 255);
    }
    const objWord = argv[i];
    if (objWord === undefined) fail(USAGE, 255);
    const obj = OBJECTS.find((o) => matches(objWord!, o));
    if (!obj) fail(`Object "${objWord}" is unknown, try "ip help".\n`, 1);
    if (obj === 'help') fail(USAGE, 255);
    if (obj !== 'address' && obj !== 'route' && obj !== 'rule' && obj !== 'link' && obj !== 'neighbor' && obj !== 'neighbour') notModelled(`ip ${obj}`);
    return { globals, object: (obj === 'neighbor' ? 'neighbour' : obj) as IpCommand['object'], args: argv.slice(i + 1) };
  } catch (e) {
    if (e instanceof IpError) return { error: e.message, status: e.status };
    throw e;
  }
}

const USAGE = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | fou | help | ila | ioam | l2tp | link |
                   macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
`;

export async function ipCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { io } = ctx;
  const p = parseIp(argv);
  if ('error' in p) {
    if (p.status === -1) {
      io.out('ip utility, iproute2-6.1.0, libbpf 1.1.2\n');
      return 0;
    }
    io.err(p.error);
    return p.status;
  }
  const run = (host: Host, write: boolean): Out => {
    const o: Out = { out: '', err: '', status: 0 };
    try {
      if (p.object === 'address') address(host, p.args, p.globals, o, write);
      else if (p.object === 'route') route(host, p.args, p.globals, o, write);
      else if (p.object === 'rule') rule(host, p.args, o, write);
      else if (p.object === 'neighbour') neighbour(host, p.args, write);
      else link(host, p.args, p.globals, o, write);
    } catch (e) {
      if (!(e instanceof IpError)) throw e;
      o.err += e.message;
      o.status = e.status;
    }
    return o;
  };
  const mutating = isMutating(p);
  let result: Out;
  if (!mutating) result = readOnly(ctx, (lab) => run(hostOf(lab, ctx.host)[1], false));
  else
    result = await readWrite(ctx, (lab) => {
      const o = run(hostOf(lab, ctx.host)[1], true);
      return { save: o.status === 0 || !!o.changed, value: o };
    });
  io.out(result.out);
  io.err(result.err);
  return result.status;
}

function isMutating(p: IpCommand): boolean {
  const sub = p.args[0];
  if (sub === undefined) return false;
  if (p.object === 'address') return ['add', 'change', 'chg', 'replace', 'delete', 'flush'].some((k) => matches(sub, k)) && !matches(sub, 'list') && !matches(sub, 'show');
  if (p.object === 'route') return !['list', 'show', 'lst', 'get'].some((k) => matches(sub, k));
  if (p.object === 'rule') return !['list', 'show', 'lst'].some((k) => matches(sub, k));
  if (p.object === 'neighbour') return matches(sub, 'flush');
  return ['set', 'add', 'delete', 'change'].some((k) => matches(sub, k)) && !matches(sub, 'show') && !matches(sub, 'list');
}

// ---- addresses -------------------------------------------------------------------------

interface Prefix {
  addr: Ip4;
  plen: number;
  /** the prefix length was written */
  explicit: boolean;
}

function parseInetPrefix(s: string, what = 'any valid prefix'): Prefix {
  const m = /^(\d{1,3}(?:\.\d{1,3}){0,3})(?:\/(\d{1,2}))?$/.exec(s);
  const a = m ? parseLoose(m[1]!) : undefined;
  const plen = m?.[2] !== undefined ? Number(m[2]) : 32;
  if (!m || a === undefined || plen > 32) fail(`Error: ${what} is expected rather than "${s}".\n`, 1);
  return { addr: a!, plen, explicit: m![2] !== undefined };
}

/** get_addr_1(): dotted quads, missing trailing octets are zero ("10/8") */
function parseLoose(s: string): Ip4 | undefined {
  const parts = s.split('.');
  if (parts.some((x) => x === '' || Number(x) > 255)) return undefined;
  while (parts.length < 4) parts.push('0');
  return parseDotted(parts.join('.'));
}

function parseInetAddr(s: string): Ip4 {
  const a = /^\d{1,3}(\.\d{1,3}){3}$/.test(s) ? parseDotted(s) : undefined;
  if (a === undefined) fail(`Error: inet address is expected rather than "${s}".\n`, 1);
  return a!;
}

function str(a: Ip4, plen: number): string {
  return `${ipToString(a)}/${plen}`;
}

function net(a: Ip4, plen: number): Ip4 {
  return (a & prefixToMask(plen)) >>> 0;
}

function splitAddr(s: string): { addr: Ip4; plen: number } {
  const [a, p] = s.split('/');
  return { addr: parseDotted(a!)!, plen: p === undefined ? 32 : Number(p) };
}

/** an address is secondary when an earlier one of the interface covers the same subnet */
function isSecondary(iface: Interface, idx: number): boolean {
  const me = splitAddr(iface.addrs[idx]!);
  for (let i = 0; i < idx; i++) {
    const o = splitAddr(iface.addrs[i]!);
    if (o.plen === me.plen && net(o.addr, o.plen) === net(me.addr, me.plen)) return true;
  }
  return false;
}

function findDev(host: Host, name: string): Interface {
  const i = host.interfaces.find((x) => x.name === name);
  if (!i) fail(`Cannot find device "${name}"\n`, 1);
  return i!;
}

function ifIndex(host: Host, iface: Interface): number {
  return iface.index ?? host.interfaces.indexOf(iface) + 1;
}

function scopeOf(addr: Ip4): 'host' | 'global' {
  return addr >>> 24 === 127 ? 'host' : 'global';
}

/** the routes of these addresses (addrKey()) were added now, after all others (Host.addrRoutes) */
function addedRoutes(host: Host, keys: string[]): void {
  forgetRoutes(host, keys);
  (host.addrRoutes ??= []).push(...keys);
}

/** these addresses (addrKey()) are gone */
function forgetRoutes(host: Host, keys: string[]): void {
  if (!host.addrRoutes) return;
  host.addrRoutes = host.addrRoutes.filter((k) => !keys.includes(k));
  if (!host.addrRoutes.length) delete host.addrRoutes;
}

/** removes one address as the kernel does (inet_del_ifa, then the FIB's reaction) */
function deleteAddress(host: Host, iface: Interface, idx: number): void {
  const gone: string[] = [];
  const primary = !isSecondary(iface, idx);
  const me = splitAddr(iface.addrs[idx]!);
  if (primary) {
    // promote_secondaries=0: the primary takes every secondary of its subnet with it
    for (let j = iface.addrs.length - 1; j > idx; j--) {
      const o = splitAddr(iface.addrs[j]!);
      if (o.plen === me.plen && net(o.addr, o.plen) === net(me.addr, me.plen)) gone.push(...iface.addrs.splice(j, 1));
    }
  }
  gone.push(...iface.addrs.splice(idx, 1));
  forgetRoutes(host, gone.map((g) => addrKey(iface.name, g)));
  for (const g of gone) {
    if (iface.brd) delete iface.brd[g];
    if (iface.labels) delete iface.labels[g];
    const a = g.split('/')[0];
    // fib_sync_down_addr(): routes preferring a deleted source go
    host.routes = host.routes.filter((r) => r.src !== a);
  }
  // the last address gone: fib_disable_ip() flushes every route through the device
  if (!iface.addrs.length) host.routes = host.routes.filter((r) => r.dev !== iface.name);
}

/** `label PATTERN` of ip address show and flush: fnmatch() of the label */
function labelPattern(p: string): (l: string) => boolean {
  const r = new RegExp(`^${wildcardSource(p, '[\\s\\S]')}$`);
  return (l) => r.test(l);
}

/** an address's label (`ip addr add ... label L`): the device's name unless one was given */
const labelOf = (iface: Interface, a: string): string => iface.labels?.[a] ?? iface.name;

function addressLines(host: Host, iface: Interface, g: Globals, label?: (l: string) => boolean): string {
  let out = '';
  iface.addrs.forEach((a, idx) => {
    if (label && !label(labelOf(iface, a))) return;
    const { addr, plen } = splitAddr(a);
    const brd = iface.brd?.[a];
    const sec = isSecondary(iface, idx) ? 'secondary ' : '';
    const line = `    inet ${str(addr, plen)}${brd ? ` brd ${brd}` : ''} scope ${scopeOf(addr)} ${sec}${labelOf(iface, a)}`;
    if (g.oneline) out += `${ifIndex(host, iface)}: ${iface.name}${line.replace(/^ {4}/, '    ')}\\       valid_lft forever preferred_lft forever\n`;
    else out += `${line}\n       valid_lft forever preferred_lft forever\n`;
  });
  return out;
}

function flags(iface: Interface): string {
  if (iface.name === 'lo') return iface.up ? 'LOOPBACK,UP,LOWER_UP' : 'LOOPBACK';
  const base = iface.kind === 'dummy' ? 'BROADCAST,NOARP' : 'BROADCAST,MULTICAST';
  return iface.up ? `${base},UP,LOWER_UP` : base;
}

function linkHeader(host: Host, iface: Interface, mode: boolean): string {
  const lo = iface.name === 'lo';
  const state = lo || iface.kind === 'dummy' ? (iface.up ? 'UNKNOWN' : 'DOWN') : iface.up ? 'UP' : 'DOWN';
  return `${ifIndex(host, iface)}: ${iface.name}: <${flags(iface)}> mtu ${deviceMtu(host, iface.name)} qdisc noqueue state ${state} ${mode ? 'mode DEFAULT ' : ''}group default qlen 1000`;
}

function linkLine(iface: Interface): string {
  return iface.name === 'lo' ? '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00' : `    link/ether ${iface.mac} brd ff:ff:ff:ff:ff:ff`;
}

function briefState(iface: Interface): string {
  return iface.name === 'lo' || iface.kind === 'dummy' ? (iface.up ? 'UNKNOWN' : 'DOWN') : iface.up ? 'UP' : 'DOWN';
}

function showAddresses(host: Host, args: string[], g: Globals, o: Out): void {
  let dev: string | undefined;
  let upOnly = false;
  let label: ((l: string) => boolean) | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') {
      dev = args[++i];
      if (dev === undefined) incomplete();
    } else if (a === 'up') upOnly = true;
    else if (a === 'label') label = labelPattern(args[++i] ?? incomplete());
    else if (['scope', 'to', 'type', 'master', 'vrf'].includes(a) || ['primary', 'secondary', 'permanent', 'dynamic'].includes(a)) notModelled(`ip address show ${a}`);
    else if (dev === undefined) dev = a;
    else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
  }
  if (dev !== undefined && !host.interfaces.some((x) => x.name === dev)) fail(`Device "${dev}" does not exist.\n`, 1);
  if (label && g.brief) notModelled('ip -brief address show label');
  for (const iface of host.interfaces) {
    if (dev !== undefined && iface.name !== dev) continue;
    if (upOnly && !iface.up) continue;
    // a label selects addresses, which are listed without their link (measured: fixtures/cli/ip-addr-label.case)
    if (label) {
      o.out += addressLines(host, iface, g, label);
      continue;
    }
    if (g.family4 && !iface.addrs.length) continue;
    if (g.brief) {
      o.out += `${iface.name.padEnd(16)} ${briefState(iface).padEnd(14)} ${iface.addrs.map((a) => `${a} `).join('')}\n`;
      continue;
    }
    if (g.oneline) {
      o.out += addressLines(host, iface, g);
      continue;
    }
    o.out += linkHeader(host, iface, false) + '\n';
    if (!g.family4) o.out += linkLine(iface) + '\n';
    o.out += addressLines(host, iface, g);
  }
}

function address(host: Host, args: string[], g: Globals, o: Out, write: boolean): void {
  const sub = args[0];
  if (sub === undefined) return showAddresses(host, [], g, o);
  const rest = args.slice(1);
  if (matches(sub, 'add') || matches(sub, 'replace') || matches(sub, 'change') || sub === 'chg') {
    const replace = !matches(sub, 'add');
    if (!write) return;
    let local: Prefix | undefined;
    let dev: string | undefined;
    let brd: string | undefined;
    let label: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      const arg = (): string => rest[++i] ?? incomplete();
      if (a === 'dev') dev = arg();
      else if (matches(a, 'broadcast') || a === 'brd') brd = arg();
      else if (a === 'local') local = parseInetPrefix(arg());
      else if (a === 'label') label = arg();
      else if (a === 'scope') {
        const s = arg();
        if (s !== 'global' && s !== '0') notModelled(`scope ${s} for addresses`);
      } else if (a === 'valid_lft' || a === 'preferred_lft') {
        const v = arg();
        if (v !== 'forever') notModelled(`${a} ${v}`);
      } else if (['peer', 'anycast', 'home', 'nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'metric', 'proto'].includes(a)) {
        notModelled(`ip address add ... ${a}`);
      } else if (local === undefined) local = parseInetPrefix(a);
      else fail(`Error: either "local" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (dev === undefined) fail('Not enough information: "dev" argument is required.\n', 1);
    const iface = findDev(host, dev!);
    if (local === undefined) fail('Not enough information: "local" argument is required.\n', 1);
    // (IFA_LABEL's netlink policy: a string shorter than IFNAMSIZ)
    if (label !== undefined && label.length >= 16) fail('Error: Attribute failed policy validation.\n', 2);
    // iproute2 makes `brd +` the address with its host bits set, `brd -` with them cleared (up to
    // a /30; a longer prefix gets no broadcast); the kernel keeps no broadcast 0.0.0.0
    let brdText: string | undefined;
    if (brd === '+' || brd === '-') {
      if (local!.plen < 31) brdText = ipToString(brd === '+' ? (net(local!.addr, local!.plen) | (~prefixToMask(local!.plen) >>> 0)) >>> 0 : net(local!.addr, local!.plen));
    } else if (brd !== undefined) brdText = ipToString(parseInetAddr(brd));
    if (brdText === '0.0.0.0') brdText = undefined;
    // (__inet_insert_ifa() keeps no address 0.0.0.0, and says nothing: measured, fixtures/cli/ip-addr-odd.case)
    if (local!.addr === 0) return;
    const text = str(local!.addr, local!.plen);
    const existing = iface.addrs.findIndex((x) => splitAddr(x).addr === local!.addr && splitAddr(x).plen === local!.plen);
    if (existing >= 0 && !replace) fail('Error: ipv4: Address already assigned.\n', 2);
    // (inet_rtm_newaddr() adds an address `change` names that the device lacks: IPv4 asks for no NLM_F_CREATE)
    // a replace or change of an address the device has keeps its broadcast (inet_rtm_newaddr()
    // updates only its lifetimes; measured: fixtures/cli/ip-addr-brd.case)
    if (existing >= 0) {
      markAddressed(host, iface.name);
      return;
    }
    // the kernel keeps primaries before secondaries: a new primary goes after the last primary
    const secondary = iface.addrs.some((x) => splitAddr(x).plen === local!.plen && net(splitAddr(x).addr, local!.plen) === net(local!.addr, local!.plen));
    if (secondary) iface.addrs.push(text);
    else {
      let at = 0;
      while (at < iface.addrs.length && !isSecondary(iface, at)) at++;
      iface.addrs.splice(at, 0, text);
    }
    if (brdText !== undefined) (iface.brd ??= {})[text] = brdText;
    if (label !== undefined && label !== iface.name) (iface.labels ??= {})[text] = label;
    addedRoutes(host, [addrKey(iface.name, text)]);
    restoreRoutes(host, (f) => f.origin === addrKey(iface.name, text));
    markAddressed(host, iface.name);
    return;
  }
  if (matches(sub, 'delete')) {
    if (!write) return;
    let local: Prefix | undefined;
    let dev: string | undefined;
    let label: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === 'dev') dev = rest[++i] ?? incomplete();
      else if (a === 'local') local = parseInetPrefix(rest[++i] ?? '');
      else if (a === 'label') label = rest[++i] ?? incomplete();
      else if (a === 'scope' || a === 'broadcast' || a === 'brd') i++;
      else if (local === undefined) local = parseInetPrefix(a);
      else fail(`Error: either "local" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (dev === undefined) fail('Not enough information: "dev" argument is required.\n', 1);
    const iface = findDev(host, dev!);
    if (local === undefined) notModelled('ip address del without an address');
    if (!local!.explicit) {
      o.err +=
        'Warning: Executing wildcard deletion to stay compatible with old scripts.\n' +
        `         Explicitly specify the prefix length (${str(local!.addr, 32)}) to avoid this warning.\n` +
        '         This special behaviour is likely to disappear in further releases,\n' +
        '         fix your scripts!\n';
    }
    // (inet_rtm_deladdr(): a label given must be the address's)
    const idx = iface.addrs.findIndex((x) => splitAddr(x).addr === local!.addr && (!local!.explicit || splitAddr(x).plen === local!.plen) && (label === undefined || labelOf(iface, x) === label));
    if (idx < 0) fail('Error: ipv4: Address not found.\n', 2);
    deleteAddress(host, iface, idx);
    return;
  }
  if (matches(sub, 'list') || matches(sub, 'show') || matches(sub, 'lst')) return showAddresses(host, rest, g, o);
  if (matches(sub, 'flush')) {
    if (!rest.length) fail('Flush requires arguments.\n', 1);
    if (!write) return;
    let dev: string | undefined;
    let scope: string | undefined;
    let to: Prefix | undefined;
    let label: ((l: string) => boolean) | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === 'dev') dev = rest[++i];
      else if (a === 'scope') scope = rest[++i];
      else if (a === 'to') to = parseInetPrefix(rest[++i] ?? '');
      else if (a === 'label') label = labelPattern(rest[++i] ?? incomplete());
      else if (a === 'primary' || a === 'secondary' || a === 'permanent' || a === 'dynamic') notModelled(`ip address flush ${a}`);
      else if (dev === undefined) dev = a;
      else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (dev !== undefined && !host.interfaces.some((x) => x.name === dev)) fail(`Device "${dev}" does not exist.\n`, 1);
    if (scope !== undefined && !['global', 'host', 'link', 'all'].includes(scope)) fail(`Error: argument "${scope}" is wrong: invalid "scope"\n\n`, 1);
    for (const iface of host.interfaces) {
      if (dev !== undefined && iface.name !== dev) continue;
      for (let idx = iface.addrs.length - 1; idx >= 0; idx--) {
        const { addr, plen } = splitAddr(iface.addrs[idx]!);
        if (scope !== undefined && scope !== 'all' && scopeOf(addr) !== scope) continue;
        if (to && !(plen >= to.plen && net(addr, to.plen) === net(to.addr, to.plen))) continue;
        if (label && !label(labelOf(iface, iface.addrs[idx]!))) continue;
        if (idx < iface.addrs.length) deleteAddress(host, iface, idx);
      }
    }
    return;
  }
  if (matches(sub, 'help')) fail('Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]\n                                                      [ CONFFLAG-LIST ]\n       ip address del IFADDR dev IFNAME [mngtmpaddr]\n       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ]\n                            [ to PREFIX ] [ FLAG-LIST ] [ label LABEL ] [up]\n       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ master DEVICE ]\n', 255);
  if (['get', 'save', 'showdump', 'restore'].some((k) => matches(sub, k))) notModelled(`ip address ${sub}`);
  fail(`Command "${sub}" is unknown, try "ip address help".\n`, 255);
}

// ---- routes ----------------------------------------------------------------------------

interface RouteSpec {
  /** (a route deleted may be named broadcast: the kernel's routes of the local table) */
  type: 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';
  /** a type word was given */
  typed?: boolean;
  /** listing and flushing: `root P` (routes within P), `match P` (routes that P is within) */
  root?: Prefix;
  match?: Prefix;
  dst: Prefix;
  isDefault: boolean;
  via?: Ip4;
  dev?: string;
  src?: Ip4;
  metric?: number;
  proto?: string;
  table: TableId | 'all';
  scope?: 'global' | 'link' | 'host';
  /** `mtu [lock] N`, `advmss [lock] N` as given (RTA_METRICS), for a route to make or delete */
  mtu?: number;
  advmss?: number;
  /** the metrics given with `lock` (RTAX_LOCK's bits) */
  locks?: number;
  /** `onlink`: the gateway is on the device's link, whatever its subnet (RTNH_F_ONLINK) */
  onlink?: boolean;
  /** listing and flushing: `via PREFIX` */
  viaSel?: Prefix;
}

/** /etc/iproute2/rt_scopes, and the scopes the lab's routes have, by number */
const RT_SCOPES: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const SCOPE_OF: Record<number, FibRoute['scope']> = { 0: 'global', 253: 'link', 254: 'host' };

/** RTAX_LOCK bits of the metrics modelled */
const LOCK_MTU = 1 << 2;
const LOCK_ADVMSS = 1 << 8;

/** the mtu and advmss given, as the kernel keeps them (ip_metrics_convert(), fib_metrics_match()) */
function metricValues(spec: RouteSpec): { mtu?: number; advmss?: number } {
  return { mtu: spec.mtu === undefined ? undefined : Math.min(spec.mtu, MAX_ROUTE_MTU), advmss: spec.advmss === undefined ? undefined : Math.min(spec.advmss, MAX_ROUTE_ADVMSS) };
}

/** a route's RTAX_LOCK bits */
const routeLocks = (r: Route): number => (r.mtuLock ? LOCK_MTU : 0) | (r.advmssLock ? LOCK_ADVMSS : 0);

/** /etc/iproute2/rt_protos of iproute2 6.1 (Debian 12), by number */
const RT_PROTOS: Record<number, string> = { 0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird', 13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp' };

/**
 * rtnl_rtprot_a2n(), then back by rtnl_rtprot_n2a(): a name of the file or a number below 256, as
 * `ip route show` prints it (its name, else the number); undefined: not a protocol
 */
function routeProto(v: string): string | undefined {
  if (Object.values(RT_PROTOS).includes(v)) return v;
  const n = parseU32(v);
  return n === undefined || n > 255 ? undefined : (RT_PROTOS[n] ?? String(n));
}

/** a routing table: main and local by name (as the lab file keeps them), any other by number */
type TableId = 'main' | 'local' | number;

const TABLE_NAMES: Record<string, number> = { unspec: 0, default: RT_TABLE_DEFAULT, main: RT_TABLE_MAIN, local: RT_TABLE_LOCAL };

/** get_u32(..., 0): strtoul with base 0 (decimal, 0x hex, 0 octal), the whole word, at most 2^32-1 */
function parseU32(s: string): number | undefined {
  // get_u32(): strtoul(s, &end, 0) over the whole word (leading blanks and + accepted, a negative
  // number wraps above 32 bits), at most 0xffffffff (measured, fixtures/cli/ip-rule.case)
  const r = strtoumax(s, 0);
  return r.end !== 0 && r.end === s.length && !r.overflow && r.value <= 0xffffffffn ? Number(r.value) : undefined;
}

/** get_integer(..., 0): strtol with base 0 over the whole word, within an int */
function parseInt32(s: string): number | undefined {
  const t = s.replace(/^[ \t\n\v\f\r]*/, '');
  const neg = t.startsWith('-');
  const digits = neg ? t.slice(1) : t;
  const r = strtoumax(digits, 0);
  if (r.end === 0 || r.end !== digits.length || r.overflow) return undefined;
  const v = neg ? -Number(r.value) : Number(r.value);
  return v >= -0x80000000 && v <= 0x7fffffff ? v : undefined;
}

/** rtnl_rttable_a2n(): a name of /etc/iproute2/rt_tables or a number */
function tableNumber(s: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(TABLE_NAMES, s) ? TABLE_NAMES[s] : parseU32(s);
}

function tableId(id: number): TableId {
  return id === RT_TABLE_MAIN ? 'main' : id === RT_TABLE_LOCAL ? 'local' : id;
}

function tableExists(host: Host, t: TableId): boolean {
  return typeof t !== 'number' || (host.fibTables ?? []).includes(t);
}

const ROUTE_TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit'];
/** the other route types iproute2 knows (local and broadcast are taken where a deletion may name them) */
const OTHER_ROUTE_TYPES = ['local', 'broadcast', 'multicast', 'throw', 'nat', 'anycast'];

/** what a route's words are for: a listing or flush (selectors), a deletion, or a route to make */
type RouteUse = 'select' | 'delete' | 'make';

function parseRoute(args: string[], use: RouteUse = 'make'): RouteSpec {
  const forShow = use === 'select';
  const spec: RouteSpec = { type: 'unicast', dst: { addr: 0, plen: 0, explicit: false }, isDefault: false, table: 'main' };
  let haveDst = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const arg = (): string => args[++i] ?? incomplete();
    if (a === 'via' && forShow) {
      // iproute_list_flush_or_save(): a prefix the gateway is within (0.0.0.0: routes without one)
      spec.viaSel = parseInetPrefix(arg());
    } else if (a === 'via') {
      if (spec.via !== undefined) fail('Error: argument "via" is wrong: use nexthop syntax to specify multiple via\n\n', 255);
      spec.via = parseInetAddr(arg());
    } else if (a === 'dev' || a === 'oif') spec.dev = arg();
    else if (a === 'src') spec.src = parseInetAddr(arg());
    else if (a === 'metric' || a === 'priority' || a === 'preference') {
      const v = arg();
      if (!/^\d+$/.test(v)) fail(`Error: argument "${v}" is wrong: "metric" value is invalid\n\n`, 255);
      spec.metric = Number(v);
    } else if (a === 'proto' || a === 'protocol') {
      const v = arg();
      spec.proto = routeProto(v) ?? fail(`Error: argument "${v}" is wrong: "protocol" value is invalid\n\n`, 255);
    } else if (a === 'table') {
      const v = arg();
      const id = forShow && v === 'all' ? undefined : tableNumber(v);
      if (forShow && v === 'all') spec.table = 'all';
      else if (id === undefined) fail(`Error: argument "${v}" is wrong: ${forShow ? 'table id' : '"table"'} value is invalid\n\n`, 255);
      else if (id === 0 && forShow) notModelled('ip route show table 0');
      // (table 0 adds to main: measured)
      else spec.table = id === 0 ? 'main' : tableId(id!);
    } else if (a === 'scope') {
      const v = arg();
      // rtnl_rtscope_a2n(): a name of rt_scopes or a number up to 255
      const n = RT_SCOPES[v] ?? parseU32(v);
      if (n === undefined || n > 255) fail(`Error: argument "${v}" is wrong: invalid "scope" value\n\n`, 255);
      const scope = SCOPE_OF[n!];
      spec.scope = scope ?? notModelled(`route scope ${v}`);
    } else if (!forShow && (a === 'mtu' || a === 'advmss')) {
      // iproute_modify(): `lock` first, then get_unsigned() of the value; its error names advmss "mss"
      let v = arg();
      if (v === 'lock') {
        spec.locks = (spec.locks ?? 0) | (a === 'mtu' ? LOCK_MTU : LOCK_ADVMSS);
        v = arg();
      }
      const n = parseU32(v) ?? fail(`Error: argument "${v}" is wrong: "${a === 'mtu' ? 'mtu' : 'mss'}" value is invalid\n\n`, 255);
      if (a === 'mtu') spec.mtu = n;
      else spec.advmss = n;
    } else if (!forShow && a === 'onlink') spec.onlink = true;
    else if (['rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'initcwnd', 'initrwnd', 'realms', 'nexthop', 'tos', 'dsfield', 'from', 'encap', 'expires', 'pref', 'ttl-propagate', 'features', 'quickack', 'congctl', 'fastopen_no_cookie', 'nhid', 'hoplimit', 'ssthresh', 'rto_min', 'as', 'mpath', 'dst', 'iif', 'mark', 'uid', 'vrf', 'cached', 'cloned'].includes(a) || (!forShow && ['root', 'match', 'exact'].includes(a))) {
      notModelled(`ip route ... ${a}`);
    } else if (forShow && (a === 'root' || a === 'match' || a === 'exact')) {
      const p = parseInetPrefix(arg());
      if (a === 'root') spec.root = p;
      else if (a === 'match') spec.match = p;
      else {
        haveDst = true;
        spec.dst = p;
      }
    } else if (!haveDst && ROUTE_TYPES.includes(a) && args[i + 1] !== undefined) {
      spec.type = a as RouteSpec['type'];
      spec.typed = true;
    } else if (!haveDst && (a === 'local' || (a === 'broadcast' && use !== 'make')) && args[i + 1] !== undefined) {
      spec.type = a;
      spec.typed = true;
    } else if (!haveDst && OTHER_ROUTE_TYPES.includes(a)) {
      notModelled(`routes of type ${a}`);
    } else if (!haveDst) {
      haveDst = true;
      if (a === 'default' || a === 'all' || a === 'any') {
        spec.isDefault = true;
      } else {
        spec.dst = parseInetPrefix(a);
      }
    } else if (ROUTE_TYPES.includes(a) || OTHER_ROUTE_TYPES.includes(a)) {
      // (a type word asks for a destination after it, which is then a second one)
      const next = args[i + 1] ?? incomplete();
      fail(`Error: either "to" is duplicate, or "${next}" is a garbage.\n`, 255);
    } else fail(`Error: either "to" is duplicate, or "${a}" is a garbage.\n`, 255);
  }
  if (!haveDst && !forShow) incomplete();
  if (!haveDst) spec.dst.plen = -1;
  return spec;
}

function routeDst(r: Route): { addr: Ip4; plen: number } {
  return r.dst === 'default' ? { addr: 0, plen: 0 } : splitAddr(r.dst);
}

/** one line of `ip route show`, as iproute2's print_route() lays it out */
interface Shown {
  addr: Ip4;
  plen: number;
  metric: number;
  table: TableId;
  proto: string;
  /** the gateway, the preferred source and the scope, as the selectors of `ip route show` see them */
  via?: string;
  src?: string;
  scope: string;
  dev?: string;
  text: (showTable: boolean, showProto: boolean) => string;
  /** deletes the route (`ip route flush`) */
  remove: () => void;
}

function fmtDst(addr: Ip4, plen: number): string {
  return plen === 0 ? 'default' : plen === 32 ? ipToString(addr) : str(addr, plen);
}

function shownRoutes(host: Host): Shown[] {
  const out: Shown[] = [];
  const seen = new Set<string>();
  for (const f of buildFib(host)) {
    if (f.proto !== 'kernel') continue;
    // (one route a key: two addresses of a device may bring the same broadcast route)
    const key = `${f.table} ${f.type} ${f.addr} ${f.plen} ${f.dev}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      addr: f.addr,
      plen: f.plen,
      metric: 0,
      table: f.table,
      proto: 'kernel',
      src: ipToString(f.prefsrc!),
      scope: f.scope,
      dev: f.dev,
      remove: () => removeKernelRoute(host, f),
      text: (t, p) => `${f.type === 'unicast' ? '' : f.type + ' '}${fmtDst(f.addr, f.plen)} dev ${f.dev}${t && f.table === 'local' ? ' table local' : ''}${p ? ' proto kernel' : ''} scope ${f.scope} src ${ipToString(f.prefsrc!)} `,
    });
  }
  for (const r of host.routes) {
    const { addr, plen } = routeDst(r);
    const type = r.type ?? 'unicast';
    const proto = r.proto ?? 'boot';
    const table = r.table ?? 'main';
    const scope = routeScope(r);
    out.push({
      addr,
      plen,
      metric: r.metric ?? 0,
      table,
      proto,
      via: r.via,
      src: r.src,
      scope,
      dev: r.dev || undefined,
      remove: () => (host.routes = host.routes.filter((x) => x !== r)),
      text: (t, p) => {
        let s = `${type === 'unicast' ? '' : type + ' '}${fmtDst(addr, plen)}`;
        if (r.via) s += ` via ${r.via}`;
        if ((type === 'unicast' || type === 'local') && r.dev) s += ` dev ${r.dev}`;
        if (t && table !== 'main') s += ` table ${typeof table === 'number' ? tableName(table) : table}`;
        if (p && proto !== 'boot') s += ` proto ${proto}`;
        if (scope !== 'global') s += ` scope ${scope}`;
        if (r.src) s += ` src ${r.src}`;
        if (r.metric) s += ` metric ${r.metric}`;
        if (r.onlink) s += ' onlink';
        return s + metricsText(r) + ' ';
      },
    });
  }
  // inet_dump_fib() walks the tables by hash bucket (the number's low byte), the newest table of a
  // bucket first (main and local are the oldest); fib_table_dump() walks the trie in key order;
  // within a key, longer prefixes and then lower metrics first
  const created = (t: TableId): number => (typeof t === 'number' ? (host.fibTables ?? []).indexOf(t) : -1);
  const bucket = (t: TableId): number => (typeof t === 'number' ? t : t === 'main' ? RT_TABLE_MAIN : RT_TABLE_LOCAL) & 255;
  return out
    .map((s, i) => ({ s, i }))
    .sort((a, b) => bucket(a.s.table) - bucket(b.s.table) || created(b.s.table) - created(a.s.table) || (a.s.addr !== b.s.addr ? (a.s.addr < b.s.addr ? -1 : 1) : a.s.plen !== b.s.plen ? b.s.plen - a.s.plen : a.s.metric !== b.s.metric ? a.s.metric - b.s.metric : a.i - b.i))
    .map((x) => x.s);
}

function devUp(host: Host, name: string): Interface {
  const i = findDev(host, name);
  if (!i.up) fail('Error: Device for nexthop is not up.\n', 2);
  return i;
}

/** rtm_scope's numbers: a lookup asks for routes of at least a scope */
const SCOPE_RANK: Record<FibRoute['scope'], number> = { global: 0, link: 253, host: 254 };

/**
 * fib_check_nh_v4_gw(): the gateway is looked up among the routes of at least link scope, and of
 * a wider scope than the new route's own (`scope link`: only the host's own addresses), in the
 * route's own table, or else through the policy rules (measured: with the main rule deleted, a
 * gateway on a connected subnet is refused, fixtures/kernel/145-policy-routing-fwmark); it must
 * come out unicast (a neighbour: a connected subnet, an on-link route; of `dev` when given) or
 * local (one of the host's own addresses, 127.0.0.1 included, through its device), not a
 * broadcast address (measured: fixtures/cli/ip-route-gateway.case)
 */
function gatewayDev(host: Host, via: Ip4, dev: string | undefined, table: TableId, scope: FibRoute['scope'] = 'global'): string {
  const need = Math.max(SCOPE_RANK[scope] + 1, SCOPE_RANK.link);
  const eligible = buildFib(host).filter((f) => SCOPE_RANK[f.scope] >= need);
  const own = typeof table === 'number' ? tableLookup(eligible, table, via, dev) : undefined;
  const r = own ?? fibLookup(eligible, host.rules, { dst: via, src: 0, iif: 'lo', oif: dev, mark: 0, tos: 0 });
  if (!r || (r.type !== 'unicast' && r.type !== 'local')) fail('Error: Nexthop has invalid gateway.\n', 2);
  return r!.dev;
}

/**
 * fib_check_nh_v4_gw() for an `onlink` next hop: no lookup of the gateway, which must be a unicast
 * address (none of the host's, no broadcast, multicast or loopback one) on a device that is up;
 * the route's scope below link (measured: fixtures/cli/ip-route-onlink.case)
 */
function onlinkDev(host: Host, via: Ip4, spec: RouteSpec): string {
  if (spec.scope === 'link' || spec.scope === 'host') fail('Error: Nexthop has invalid scope.\n', 2);
  if (spec.dev === undefined) fail('Error: Nexthop device required for onlink.\n', 2);
  const dev = findDev(host, spec.dev!);
  if (!dev.up) fail('Error: Nexthop device is not up.\n', 2);
  if (dev.name === 'lo') notModelled('an onlink route through lo');
  if (addrType(buildFib(host), via) !== 'UNICAST') fail('Error: Nexthop has invalid gateway.\n', 2);
  return dev.name;
}

/** the kernel's route `f` of an address is gone until fib_add_ifaddr() adds it again (Host.removedRoutes) */
function removeKernelRoute(host: Host, f: FibRoute): void {
  const key = kernelRouteKey(f);
  if (!host.removedRoutes?.includes(key)) (host.removedRoutes ??= []).push(key);
}

/** fib_add_ifaddr() added these routes of addresses again (`pick`: which of addressRoutes()) */
function restoreRoutes(host: Host, pick: (f: FibRoute) => boolean): void {
  if (!host.removedRoutes) return;
  const back = new Set(addressRoutes(host).filter(pick).map(kernelRouteKey));
  host.removedRoutes = host.removedRoutes.filter((k) => !back.has(k));
  if (!host.removedRoutes.length) delete host.removedRoutes;
}

/**
 * `ip route del`: fib_table_delete() takes the first route of the prefix, in the table's order
 * (lowest metric first), that every attribute given fits: type, scope, protocol, preferred
 * source, metric, device and gateway. The kernel's own routes of the addresses are among them
 * (measured: fixtures/cli/ip-route-del-kernel.case).
 */
function deleteRoute(host: Host, spec: RouteSpec): void {
  const table = spec.table as TableId;
  if (!tableExists(host, table)) fail('Error: FIB table does not exist.\n', 2);
  const plen = spec.isDefault ? 0 : spec.dst.plen;
  // fib_metrics_match(): each metric given must be the route's (a lock given: the same locks)
  const given = metricValues(spec);
  const fits = (type: string, scope: string, proto: string, src: string | undefined, metric: number, dev: string | undefined, via: string | undefined, r?: Route): boolean =>
    (given.mtu === undefined || (r?.mtu ?? 0) === given.mtu) &&
    (given.advmss === undefined || (r?.advmss ?? 0) === given.advmss) &&
    (!spec.locks || (r ? routeLocks(r) : 0) === spec.locks) &&
    (!spec.typed || type === spec.type) &&
    (spec.scope === undefined || scope === spec.scope) &&
    (spec.proto === undefined || proto === spec.proto) &&
    (spec.src === undefined || src === ipToString(spec.src)) &&
    (spec.metric === undefined || metric === spec.metric) &&
    (spec.dev === undefined || dev === spec.dev) &&
    // (a gateway of 0.0.0.0 is none, and not compared)
    (!spec.via || via === ipToString(spec.via));
  const found: { metric: number; remove: () => void }[] = [];
  for (const f of buildFib(host)) {
    if (f.proto !== 'kernel' || f.table !== table || f.addr !== spec.dst.addr || f.plen !== plen) continue;
    if (fits(f.type, f.scope, 'kernel', ipToString(f.prefsrc!), 0, f.dev, undefined)) found.push({ metric: 0, remove: () => removeKernelRoute(host, f) });
  }
  for (const r of host.routes) {
    const d = routeDst(r);
    if (d.addr !== spec.dst.addr || d.plen !== plen || (r.table ?? 'main') !== table) continue;
    if (fits(r.type ?? 'unicast', routeScope(r), r.proto ?? 'boot', r.src, r.metric ?? 0, r.dev || undefined, r.via, r)) found.push({ metric: r.metric ?? 0, remove: () => (host.routes = host.routes.filter((x) => x !== r)) });
  }
  // (a stable sort: the kernel's routes, older, before the static ones of the same metric)
  const first = found.sort((a, b) => a.metric - b.metric)[0];
  if (!first) fail('RTNETLINK answers: No such process\n', 2);
  first!.remove();
}

function route(host: Host, args: string[], _g: Globals, o: Out, write: boolean): void {
  const sub = args[0];
  const rest = args.slice(1);
  if (sub === undefined || matches(sub, 'list') || matches(sub, 'show') || matches(sub, 'lst')) return showRoutes(host, sub === undefined ? [] : rest, o);
  if (matches(sub, 'get')) return getRoute(host, rest, o);
  if (matches(sub, 'flush')) {
    if (rest[0] === 'cache' && rest.length === 1) return; // no routing cache since Linux 3.6: nothing to flush
    if (!rest.length) fail('"ip route flush" requires arguments.\n', 1);
    const spec = parseRoute(rest, 'select');
    if (spec.dev !== undefined && !host.interfaces.some((i) => i.name === spec.dev)) fail(`Cannot find device "${spec.dev}"\n`, 1);
    if (!write) return;
    if (spec.table !== 'all' && !tableExists(host, spec.table)) fail('Error: ipv4: FIB table does not exist.\nFlush terminated\n', 2);
    // iproute2 lists the routes the selectors name, then deletes each: the kernel's own too (a
    // table stays when its routes go; measured: fixtures/cli/ip-route-del-kernel.case)
    for (const s of selectRoutes(host, spec)) s.remove();
    return;
  }
  const add = matches(sub, 'add');
  const replace = matches(sub, 'replace');
  const change = matches(sub, 'change');
  const del = matches(sub, 'delete');
  if (matches(sub, 'append') || matches(sub, 'prepend') || matches(sub, 'save') || matches(sub, 'restore') || matches(sub, 'showdump')) notModelled(`ip route ${sub}`);
  if (matches(sub, 'help')) fail('Usage: ip route { list | flush } SELECTOR\n       ip route get ADDRESS\n       ip route { add | del | change | append | replace } ROUTE\n', 255);
  if (!add && !replace && !change && !del) fail(`Command "${sub}" is unknown, try "ip route help".\n`, 255);
  if (!write) return;
  const spec = parseRoute(rest, del ? 'delete' : 'make');
  const table = spec.table as TableId;
  // iproute2 finds the device by its name before it asks the kernel; rtm_to_fib_config() checks
  // the prefix before anything else
  if (spec.dev !== undefined) findDev(host, spec.dev);
  validPrefix(spec);
  if (del) return deleteRoute(host, spec);
  if (table === 'local') notModelled('changing the local routing table');
  // inet_rtm_newroute(): fib_new_table() makes the table before the route is checked, and it
  // stays when the route is refused (measured: fixtures/cli/ip-route-checks.case)
  if (typeof table === 'number' && !tableExists(host, table)) {
    (host.fibTables ??= []).push(table);
    o.changed = true;
  }
  const sameKey = (r: Route): boolean => {
    const d = routeDst(r);
    return d.addr === spec.dst.addr && d.plen === (spec.isDefault ? 0 : spec.dst.plen) && (r.table ?? 'main') === spec.table;
  };
  // building the new route: the device and gateway checks of fib_create_info()
  const r: Route = { dst: spec.isDefault || spec.dst.plen === 0 ? 'default' : str(spec.dst.addr, spec.dst.plen), dev: '' };
  // (the kernel keeps the flag on any route; only a unicast next hop is checked for it)
  if (spec.onlink) r.onlink = true;
  if (spec.type === 'local') {
    r.type = spec.type;
    // fib_create_info(): a local route's scope is host (iproute2's default for the type)
    if (spec.scope !== undefined && spec.scope !== 'host') fail('Error: Invalid scope.\n', 2);
    if (spec.via) fail('Error: Route with host scope can not have a gateway.\n', 2);
    // fib_create_info(): a next hop of host scope needs its device, whatever the table (measured:
    // fixtures/cli/ip-route-local-nodev.case)
    if (spec.dev === undefined) fail('RTNETLINK answers: No such device\n', 2);
    // without `table`, iproute2 puts a local route in the local table, where traces would use it
    if (typeof table !== 'number') notModelled('routes of type local in the main or local table');
    r.dev = findDev(host, spec.dev!).name;
  } else if (spec.type !== 'unicast') {
    r.type = spec.type;
    // fib_create_info(): these types have no next hop; they keep the scope given (universe by default)
    // (a gateway of 0.0.0.0 is none: rtm_to_fib_config())
    if (spec.dev !== undefined || spec.via) fail('Error: Gateway, device and multipath can not be specified for this route type.\n', 2);
    if (spec.scope !== undefined && spec.scope !== 'global') r.scope = spec.scope;
  } else {
    // (a gateway of 0.0.0.0 is none: rtm_to_fib_config())
    const via = spec.via || undefined;
    if (via !== undefined && spec.scope === 'host') fail('Error: Route with host scope can not have a gateway.\n', 2);
    // a route of host scope has its device and no next hop to check (fib_create_info())
    if (via === undefined && spec.scope !== 'host') {
      // fib_check_nh_nongw(): an on-link flag without a gateway
      if (spec.onlink) fail('Error: Invalid flags for nexthop - PERVASIVE and ONLINK can not be set.\n', 2);
      if (spec.dev !== undefined) devUp(host, spec.dev);
    }
    if (via !== undefined && spec.onlink) {
      r.dev = onlinkDev(host, via, spec);
      r.via = ipToString(via);
    } else if (via !== undefined) {
      r.dev = gatewayDev(host, via, spec.dev, table, spec.scope);
      if (r.dev === 'lo') notModelled('a route through lo (its gateway one of the loopback addresses)');
      // fib_check_nh_v4_gw(): the gateway's device must be up (one of the host's own addresses,
      // whose local route a device going down keeps: measured, fixtures/cli/ip-route-checks.case)
      if (!findDev(host, r.dev).up) fail('RTNETLINK answers: Network is down\n', 2);
      r.via = ipToString(via);
    } else if (spec.dev !== undefined) {
      r.dev = spec.dev;
      // iproute2's scope when none is given: universe with `via` (0.0.0.0 too), link without
      const scope = spec.scope ?? (spec.via !== undefined ? 'global' : 'link');
      if (scope !== 'link') r.scope = scope;
    } else fail('RTNETLINK answers: No such device\n', 2);
  }
  // (a blackhole, unreachable or prohibit route keeps a source nobody checks: fib_create_info())
  if (spec.src !== undefined) {
    const checked = spec.type === 'unicast' || spec.type === 'local';
    if (checked && !validPrefsrc(host, spec, table)) fail('Error: Invalid prefsrc address.\n', 2);
    r.src = ipToString(spec.src);
  }
  if (spec.metric) r.metric = spec.metric;
  if (spec.proto && spec.proto !== 'boot') r.proto = spec.proto;
  // ip_metrics_convert(): a zero is no metric, a value too large is cut down; a lock is kept alone
  const { mtu, advmss } = metricValues(spec);
  if (mtu) r.mtu = mtu;
  if (advmss) r.advmss = advmss;
  if ((spec.locks ?? 0) & LOCK_MTU) r.mtuLock = true;
  if ((spec.locks ?? 0) & LOCK_ADVMSS) r.advmssLock = true;
  const existing = host.routes.findIndex((x) => sameKey(x) && (x.metric ?? 0) === (spec.metric ?? 0));
  if (typeof table === 'number') r.table = table;
  const kernelClash = table === 'main' && buildFib(host).some((f) => f.proto === 'kernel' && f.table === 'main' && f.addr === spec.dst.addr && f.plen === (spec.isDefault ? 0 : spec.dst.plen) && !spec.metric);
  if (add) {
    if (existing >= 0 || kernelClash) fail('RTNETLINK answers: File exists\n', 2);
    host.routes.push(r);
    return;
  }
  if (kernelClash) notModelled("replacing the kernel's route of a connected subnet");
  if (existing >= 0) host.routes[existing] = r;
  else if (change) fail('RTNETLINK answers: No such file or directory\n', 2);
  else host.routes.push(r);
}

/**
 * fib_valid_prefsrc(): a local route's own address, or an address the route's table (the local
 * one for main) or else the local table takes in as local (measured: fixtures/cli/ip-route-checks.case)
 */
function validPrefsrc(host: Host, spec: RouteSpec, table: TableId): boolean {
  const src = spec.src!;
  if (spec.type === 'local' && spec.dst.addr !== 0 && src === spec.dst.addr) return true;
  const fib = buildFib(host);
  const localIn = (t: TableId): boolean => tableLookup(fib, t, src)?.type === 'local';
  const own = table === 'main' ? 'local' : table;
  return localIn(own) || (own !== 'local' && localIn('local'));
}

/** fib_valid_key_len(): no bits set beyond the prefix length */
function validPrefix(spec: RouteSpec): void {
  if (net(spec.dst.addr, spec.dst.plen) !== spec.dst.addr) fail('Error: Invalid prefix for given prefix length.\n', 2);
}


/** the routes `ip route show|flush SELECTOR` names, in the listing's order */
function selectRoutes(host: Host, spec: RouteSpec): Shown[] {
  const table = spec.table;
  const within = (s: { addr: Ip4; plen: number }, p: Prefix): boolean => s.plen >= p.plen && net(s.addr, p.plen) === net(p.addr, p.plen);
  return shownRoutes(host).filter(
    (s) =>
      (table === 'all' || s.table === table) &&
      (spec.proto === undefined || s.proto === spec.proto) &&
      (spec.dst.plen < 0 || (s.addr === spec.dst.addr && s.plen === spec.dst.plen)) &&
      (!spec.isDefault || s.plen === 0) &&
      (!spec.root || within(s, spec.root)) &&
      (!spec.match || (s.plen <= spec.match.plen && net(spec.match.addr, s.plen) === s.addr)) &&
      (spec.scope === undefined || s.scope === spec.scope) &&
      (!spec.viaSel || within({ addr: s.via === undefined ? 0 : parseDotted(s.via)!, plen: 32 }, spec.viaSel)) &&
      (spec.src === undefined || s.src === ipToString(spec.src)) &&
      (spec.metric === undefined || s.metric === spec.metric) &&
      (spec.dev === undefined || s.dev === spec.dev),
  );
}

function showRoutes(host: Host, args: string[], o: Out): void {
  const spec = parseRoute(args, 'select');
  const table = spec.table;
  if (spec.dev !== undefined && !host.interfaces.some((i) => i.name === spec.dev)) fail(`Cannot find device "${spec.dev}"\n`, 1);
  if (table !== 'all' && !tableExists(host, table)) fail('Error: ipv4: FIB table does not exist.\nDump terminated\n', 2);
  for (const s of selectRoutes(host, spec)) {
    // what a selector fixed is not printed (print_route())
    let text = s.text(table === 'all', spec.proto === undefined);
    const omit = (field: string): void => {
      text = text.replace(field, '');
    };
    if (spec.dev !== undefined) omit(` dev ${spec.dev}`);
    if (spec.scope !== undefined) omit(` scope ${spec.scope}`);
    if (spec.viaSel?.plen === 32) omit(` via ${ipToString(spec.viaSel.addr)}`);
    if (spec.src !== undefined) omit(` src ${ipToString(spec.src)}`);
    if (spec.metric) omit(` metric ${spec.metric}`);
    o.out += text + '\n';
  }
}

/** RTNETLINK's words for the errors a route lookup gives */
const ROUTE_GET_ERROR: Record<RouteErrno, string> = {
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
};

const refuse = (errno: RouteErrno): never => fail(`RTNETLINK answers: ${ROUTE_GET_ERROR[errno]}\n`, 2);

/** print_route()'s mark: below 16 in decimal, from 16 on in hexadecimal */
const markText = (mark: number): string => (!mark ? '' : mark < 16 ? ` mark ${mark}` : ` mark 0x${mark.toString(16)}`);

/** the table print_route() names (the local table is merged into main until the rules are first changed: fib_unmerge()) */
const tableText = (host: Host, r: FibRoute): string => (r.table !== 'main' && (r.table !== 'local' || host.rules !== undefined) ? ` table ${typeof r.table === 'number' ? tableName(r.table) : r.table}` : '');

/**
 * `ip route get ADDR from ADDR iif DEV [mark N] [tos T]`: the input route of a packet arriving on
 * DEV (ip_route_input_slow(): the martian checks, the rules, forwarding, the source's validation),
 * printed as print_route() prints it (measured: fixtures/cli/ip-route-get-rules)
 */
function inputRouteGet(host: Host, fib: FibRoute[], f: Flow, uid: number | undefined, o: Out): void {
  const dev = host.interfaces.find((i) => i.name === f.iif) ?? fail(`Cannot find device "${f.iif}"\n`, 1);
  const { dst, src } = f;
  const conf = (key: ConfKey): number => effectiveConf(host.sysctls, dev.name, key);
  // a link that is down; a martian (the checks before any lookup)
  const martian = inputMartian(src, dst, !!conf('route_localnet'), f.proto);
  if (!dev.up || (martian && martian !== 'broadcast' && martian !== 'multicast')) refuse('EINVAL');
  // (oif: the forward route's device)
  const valid = (oif?: string): void => {
    const rpf = conf('rp_filter');
    const mark = srcValidMark(host.sysctls, dev.name) ? f.mark : 0;
    const l4 = { proto: f.proto ?? 0, sport: f.sport, dport: f.dport };
    if (sourceRefused({ fib, rules: host.rules, addrs: interfaceAddresses(host), src, dst, dev: dev.name, oif, mark, tos: f.tos, rpf, acceptLocal: !!conf('accept_local'), full: fullSourceCheck(host), l4 }) !== undefined) refuse('EINVAL');
  };
  // (a uid given is printed, but an input route is looked up with uid 0: sock_net_uid())
  const tail = (what: string): string => `${markText(f.mark)}${uid !== undefined ? ` uid ${uid}` : ''} \n    cache ${what}iif ${dev.name} \n`;
  const head = `${ipToString(dst)}${src ? ` from ${ipToString(src)}` : ''}`;
  // the limited broadcast (and 0.0.0.0 from 0.0.0.0) and a joined group are taken in before any lookup
  if (martian === 'broadcast' || martian === 'multicast') {
    if (src) valid();
    o.out += martian === 'broadcast' ? `broadcast ${head} dev lo${tail('<local,brd> ')}` : `multicast ${head} dev lo rt_offload_failed${tail('<local,mc> ')}`;
    return;
  }
  const r = fibLookup(fib, host.rules, f);
  const errno = routeErrno(r);
  // (a host that does not forward answers EHOSTUNREACH for every packet it would not take in)
  if (errno) refuse(conf('forwarding') ? errno : 'EHOSTUNREACH');
  if (r!.type === 'local' || r!.type === 'broadcast') {
    valid();
    o.out += `${r!.type} ${head} dev lo${tableText(host, r!)}${tail(r!.type === 'local' ? '<local> ' : '<local,brd> ')}`;
    return;
  }
  if (!conf('forwarding')) refuse('EHOSTUNREACH');
  valid(r!.dev);
  // RTCF_DOREDIRECT: out by the device it came in by, with send_redirects (all or the device)
  const sendRedirects = ['all', dev.name].some((d) => (host.sysctls[`net.ipv4.conf.${d}.send_redirects`] ?? '1') !== '0');
  const redirect = r!.dev === dev.name && sendRedirects ? '<redirect> ' : '';
  o.out += `${head}${r!.gateway !== undefined ? ` via ${ipToString(r!.gateway)}` : ''} dev ${r!.dev}${tableText(host, r!)}${tail(redirect)}`;
}

/** __ip_dev_find(): the device of one of the host's addresses (lo for one only the local table has) */
function sourceDev(host: Host, src: Ip4): string {
  return interfaceAddresses(host).find((a) => a.addr === src)?.dev ?? 'lo';
}

/**
 * `ip route get GROUP [from ADDR]`: the output route of a multicast packet (ip_route_output_key_hash_rcu()):
 * from a given source, by that source's device without a lookup; else by the route the lookup
 * finds, without its gateway; local when the host has joined the group there (measured:
 * fixtures/cli/ip-route-get-multicast)
 */
function multicastRouteGet(host: Host, fib: FibRoute[], f: Flow, uid: number | undefined, o: Out): void {
  let line = `multicast ${ipToString(f.dst)}`;
  if (f.src) {
    line += ` from ${ipToString(f.src)} dev ${sourceDev(host, f.src)}`;
  } else {
    const r = fibLookup(fib, host.rules, f);
    if (!r || routeErrno(r)) return refuse(routeErrno(r)!);
    const src = r.prefsrc ?? selectSourceAddress(host, r.dev, f.dst);
    line += ` dev ${r.dev}${tableText(host, r)}${src !== undefined ? ` src ${ipToString(src)}` : ''}`;
  }
  o.out += `${line} rt_offload_failed${markText(f.mark)} uid ${uid ?? 0} \n    cache ${joinedGroup(f.dst) ? '<local,mc> ' : '<mc> '}\n`;
}

/**
 * `ip route get ADDR [from ADDR] [mark N] [tos TOS]`: the output route the host's own packet gets
 * (inet_rtm_getroute(), ip_route_output_key_hash_rcu()), through its policy rules; printed as
 * iproute2's print_route() prints it.
 */
function getRoute(host: Host, args: string[], o: Out): void {
  let dst: Ip4 | undefined;
  let from: Ip4 | undefined;
  let mark = 0;
  let tos = 0;
  let iif: string | undefined;
  let oif: string | undefined;
  let uid: number | undefined;
  /** the destination's prefix length, as given */
  let plen = 32;
  const l4: { proto: number; sport?: number; dport?: number } = { proto: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const arg = (): string => args[++i] ?? incomplete();
    // iproute_get(): `to` and any other word are the destination, a later one taking its place;
    // once the first set the family, get_prefix() names it (measured: fixtures/cli/ip-route-mtu.case)
    const setDst = (w: string): void => {
      const p = parseInetPrefix(w, dst === undefined ? 'any valid prefix' : 'inet prefix');
      dst = p.addr;
      plen = p.plen;
    };
    if (a === 'to') setDst(arg());
    // (0.0.0.0 is no source: the kernel picks one)
    else if (a === 'from') from = parseInetPrefix(arg(), 'inet prefix').addr || undefined;
    else if (a === 'mark') {
      const v = arg();
      mark = parseU32(v) ?? invarg('invalid mark value', v);
    } else if (a === 'tos' || matches(a, 'dsfield')) tos = parseDsfield(arg());
    else if (a === 'iif') iif = arg();
    else if (a === 'oif') oif = arg();
    else if (a === 'ipproto') {
      const v = arg();
      const n = protocolByName(v) ?? parseU32(v);
      l4.proto = n !== undefined && n <= 255 ? n : invarg('Invalid "ipproto" value\n', v);
    } else if (a === 'sport' || a === 'dport') {
      // get_be16()
      const v = arg();
      const n = parseU32(v);
      l4[a] = n !== undefined && n <= 0xffff ? n : invarg(`invalid ${a}\n`, v);
    } else if (a === 'uid') {
      const v = arg();
      uid = parseU32(v) ?? invarg('invalid UID\n', v);
    } else if (['vrf', 'connected', 'fibmatch'].includes(a)) notModelled(`ip route get ... ${a}`);
    else setDst(a);
  }
  if (plen !== 32) o.err += `Warning: /${plen} as prefix is invalid, only /32 (or none) is supported.\n`;
  if (dst === undefined) fail('need at least a destination address\n', 1);
  const fib = buildFib(host);
  // (with iif, the input route: oif counts for nothing there, measured)
  // (the ports count whatever the protocol: rules with sport or dport and no ipproto see them)
  const ports = { proto: l4.proto, sport: l4.sport ?? 0, dport: l4.dport ?? 0 };
  if (iif !== undefined) return inputRouteGet(host, fib, { dst: dst!, src: from ?? 0, iif, mark, tos, ...ports }, uid, o);
  if (oif !== undefined) notModelled('ip route get ... oif');
  if (from !== undefined) {
    // ip_route_output_key_hash_rcu(): a multicast or limited broadcast source is -EINVAL, one the
    // host does not have -ENETUNREACH (measured: fixtures/cli/ip-route-get-rules)
    if (from >>> 28 === 0xe || from === 0xffffffff) refuse('EINVAL');
    // (__ip_dev_find(): an address of an interface, or one the local table has as local; the
    // interface's address counts with its local route flushed: measured, ip-route-checks.case)
    if (!interfaceAddresses(host).some((a) => a.addr === from) && addrType(fib, from) !== 'LOCAL') refuse('ENETUNREACH');
  }
  if (isMulticast(dst!)) return multicastRouteGet(host, fib, { dst: dst!, src: from ?? 0, iif: 'lo', mark, tos, uid: uid ?? 0, ...ports }, uid, o);
  // ip_route_output_key_hash_rcu(): the limited broadcast from a source leaves by that source's
  // device, no lookup asked (measured: fixtures/cli/ip-route-checks.case)
  if (dst === 0xffffffff && from !== undefined) {
    o.out += `broadcast 255.255.255.255 from ${ipToString(from)} dev ${sourceDev(host, from)}${markText(mark)} uid ${uid ?? 0} \n    cache <local,brd> \n`;
    return;
  }
  // ip_route_output_key_hash_rcu(): no destination is the host itself, through lo from 127.0.0.1
  // (measured: fixtures/cli/ip-misc2.case)
  if (dst === 0 && from === undefined) {
    o.out += `local 0.0.0.0 dev lo src 127.0.0.1${markText(mark)} uid ${uid ?? 0} \n    cache <local> \n`;
    return;
  }
  // (the uid of the process asking: root's here)
  const found = fibLookup(fib, host.rules, { dst: dst!, src: from ?? 0, iif: 'lo', mark, tos, uid: uid ?? 0, ...ports });
  if (!found || routeErrno(found)) return refuse(routeErrno(found)!);
  // __mkroute_output(): the limited broadcast leaves by the device the lookup found, as a broadcast
  const r: FibRoute = dst === 0xffffffff && found.type === 'unicast' ? { ...found, type: 'broadcast', prefsrc: found.prefsrc ?? selectSourceAddress(host, found.dev, found.gateway ?? dst) } : found;
  const local = r.type === 'local' || r.type === 'broadcast';
  // __mkroute_output(): a 127/8 source leaves by lo only, unless route_localnet
  if (from !== undefined && from >>> 24 === 127 && r.type !== 'local' && !effectiveConf(host.sysctls, r.dev, 'route_localnet')) refuse('EINVAL');
  const d = ipToString(dst!);
  let line = local ? `${r.type} ${d}` : d;
  if (from !== undefined) line += ` from ${ipToString(from)}`;
  if (!local && r.gateway !== undefined) line += ` via ${ipToString(r.gateway)}`;
  line += ` dev ${r.type === 'local' ? 'lo' : r.dev}`;
  line += tableText(host, r);
  if (from === undefined) {
    const src = r.prefsrc ?? (local ? dst : selectSourceAddress(host, r.dev, r.gateway ?? dst!));
    if (src !== undefined) line += ` src ${ipToString(src)}`;
  }
  const metrics = metricsText(r);
  o.out += `${line}${markText(mark)} uid ${uid ?? 0} \n    cache ${r.type === 'local' ? '<local> ' : r.type === 'broadcast' ? '<local,brd> ' : ''}${metrics ? metrics.slice(1) + ' ' : ''}\n`;
}

// ---- links -----------------------------------------------------------------------------

function showLinks(host: Host, args: string[], g: Globals, o: Out): void {
  let dev: string | undefined;
  let upOnly = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') dev = args[++i] ?? incomplete();
    else if (a === 'up') upOnly = true;
    else if (['type', 'master', 'vrf', 'group'].includes(a)) notModelled(`ip link show ${a}`);
    else if (dev === undefined) dev = a;
    else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
  }
  if (dev !== undefined && !host.interfaces.some((x) => x.name === dev)) fail(`Device "${dev}" does not exist.\n`, 1);
  for (const iface of host.interfaces) {
    if (dev !== undefined && iface.name !== dev) continue;
    if (upOnly && !iface.up) continue;
    if (g.brief) {
      o.out += `${iface.name.padEnd(16)} ${briefState(iface).padEnd(14)} ${iface.mac} <${flags(iface)}> \n`;
      continue;
    }
    const h = linkHeader(host, iface, true);
    o.out += g.oneline ? `${h}\\${linkLine(iface)}\n` : `${h}\n${linkLine(iface)}\n`;
  }
}

function macFor(host: Host, name: string): string {
  let h = 0x811c9dc5;
  for (const c of name + Object.keys(host.interfaces).length) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const b = [0x02, 0x00, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

// ---- neighbours -------------------------------------------------------------------------

/** the host's neighbour entries without those `gone` picks */
function dropNeighbours(host: Host, gone: (n: Neighbour) => boolean): void {
  if (!host.neighbours) return;
  host.neighbours = host.neighbours.filter((n) => !gone(n));
  if (!host.neighbours.length) delete host.neighbours;
}

/**
 * `ip neigh flush [to] PREFIX [dev DEV] [nud all] [proxy]`: forgets the entries connections
 * left (Host.neighbours), so that the next one asks again. `ip neigh show` is not modelled: the
 * lab keeps no entry's state (REACHABLE, STALE, ...), which depends on time.
 */
function neighbour(host: Host, args: string[], write: boolean): void {
  const sub = args[0];
  if (sub === undefined || !matches(sub, 'flush')) notModelled(`ip neighbour ${sub ?? 'show'} (the lab keeps the entries connections learn without their state; ip neigh flush forgets them)`);
  const rest = args.slice(1);
  if (!rest.length) fail('Flush requires arguments.\n', 1);
  let dev: string | undefined;
  let to: Prefix | undefined;
  let proxy = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const arg = (): string => rest[++i] ?? incomplete();
    if (a === 'dev') {
      const d = arg();
      if (dev !== undefined) fail(`Error: duplicate "dev": "${d}" is the second value.\n`, 255);
      dev = d;
    } else if (a === 'nud') {
      const state = arg();
      if (state !== 'all') notModelled(`ip neigh flush nud ${state} (the lab keeps no entry's state)`);
    } else if (a === 'proxy') proxy = true;
    else if (['unused', 'vrf', 'master', 'nomaster', 'router', 'extern_learn', 'protocol'].includes(a)) notModelled(`ip neigh flush ${a}`);
    else {
      const p = a === 'to' ? arg() : a;
      // get_prefix(): "all", "any" and "default" are 0/0
      to = ['all', 'any', 'default'].includes(p) ? { addr: 0, plen: 0, explicit: true } : parseInetPrefix(p);
    }
  }
  if (dev !== undefined && !host.interfaces.some((x) => x.name === dev)) fail(`Cannot find device "${dev}"\n`, 1);
  // (the lab has no proxy entries: `proxy` flushes nothing)
  if (!write || proxy) return;
  dropNeighbours(host, (n) => (dev === undefined || n.dev === dev) && (to === undefined || net(parseDotted(n.addr)!, to.plen) === net(to.addr, to.plen)));
}

function link(host: Host, args: string[], g: Globals, o: Out, write: boolean): void {
  const sub = args[0];
  const rest = args.slice(1);
  if (sub === undefined || matches(sub, 'show') || matches(sub, 'list') || matches(sub, 'lst')) return showLinks(host, sub === undefined ? [] : rest, g, o);
  if (matches(sub, 'set') || matches(sub, 'change')) {
    if (!write) return;
    let dev: string | undefined;
    let state: boolean | undefined;
    let mtu: number | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === 'dev') dev = rest[++i] ?? incomplete();
      else if (a === 'up') state = true;
      else if (a === 'down') state = false;
      else if (a === 'mtu') {
        const v = rest[++i] ?? incomplete();
        if (mtu !== undefined) fail(`Error: duplicate "mtu": "${v}" is the second value.\n`, 255);
        mtu = parseInt32(v) ?? fail(`Error: argument "${v}" is wrong: Invalid "mtu" value\n\n`, 255);
      } else if (['address', 'name', 'arp', 'multicast', 'allmulticast', 'promisc', 'master', 'nomaster', 'txqueuelen', 'txqlen', 'netns', 'alias', 'broadcast', 'brd', 'peer', 'qlen', 'dynamic', 'trailers', 'carrier', 'type', 'vf', 'group', 'mode', 'state', 'link-netns', 'link-netnsid', 'xdp', 'protodown', 'gso_max_size', 'gro_max_size', 'addrgenmode', 'vrf', 'nomaster'].includes(a)) {
        notModelled(`ip link set ... ${a}`);
      } else if (dev === undefined) dev = a;
      else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (dev === undefined) fail('Not enough information: "dev" argument is required.\n', 255);
    const iface = findDev(host, dev!);
    // do_setlink(): the MTU first (dev_validate_mtu(): a veth port takes 68 to 65535, lo and a
    // dummy device any; measured: fixtures/cli/ip-link-mtu.case), then the flags
    if (mtu !== undefined) {
      const any = iface.name === 'lo' || iface.kind === 'dummy';
      if (mtu < (any ? 0 : 68)) fail('Error: mtu less than device minimum.\n', 2);
      if (!any && mtu > 65535) fail('Error: mtu greater than device maximum.\n', 2);
      // (inetdev_event(): below IPv4's minimum the device loses its IPv4 addresses)
      if (mtu < 68) notModelled(`an MTU below 68 (it takes IPv4 off ${iface.name})`);
      iface.mtu = mtu;
    }
    if (state === undefined || state === iface.up) return;
    iface.up = state;
    // NETDEV_UP: fib_add_ifaddr() of each address, after the routes already there
    if (state) {
      addedRoutes(host, iface.addrs.map((a) => addrKey(iface.name, a)));
      restoreRoutes(host, (f) => f.dev === iface.name);
    }
    if (!state) {
      // fib_sync_down_dev(): a device going down takes every route through it but those of host
      // scope, whose next hop has no scope to lose (measured: fixtures/cli/ip-route-checks.case),
      // and neigh_ifdown() its neighbour entries
      host.routes = host.routes.filter((r) => r.dev !== iface.name || routeScope(r) === 'host');
      dropNeighbours(host, (n) => n.dev === iface.name);
    }
    return;
  }
  if (matches(sub, 'add')) {
    if (!write) return;
    let name: string | undefined;
    let type: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === 'name' || a === 'dev') name = rest[++i];
      else if (a === 'type') {
        type = rest[++i];
        if (rest.length > i + 1) notModelled(`options of link type ${type} (${rest.slice(i + 1).join(' ')})`);
        break;
      } else if (['link', 'txqueuelen', 'address', 'broadcast', 'mtu', 'numtxqueues', 'numrxqueues', 'index', 'netns', 'group'].includes(a)) notModelled(`ip link add ... ${a}`);
      else if (name === undefined) name = a;
      else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (type === undefined) fail('Not enough information: "type" argument is required\n', 1);
    if (type !== 'dummy') notModelled(`link type ${type} (ip link add supports type dummy)`);
    if (name === undefined) fail('Not enough information: "dev" argument is required.\n', 1);
    if (name!.length > 15 || !/^[^\s/:]+$/.test(name!)) fail(`Error: argument "${name}" is wrong: "name" not a valid ifname\n`, 1);
    if (host.interfaces.some((i) => i.name === name)) fail('RTNETLINK answers: File exists\n', 2);
    const index = Math.max(...host.interfaces.map((i) => ifIndex(host, i))) + 1;
    host.interfaces.push({ name: name!, addrs: [], mac: macFor(host, name!), up: false, kind: 'dummy', index });
    // a new device starts from the conf/default values (devinet_init_net's devconf_dflt)
    for (const k of ALL_CONF_KEYS) host.sysctls[`net.ipv4.conf.${name}.${k}`] = host.sysctls[`net.ipv4.conf.default.${k}`] ?? modelledDefault(`net.ipv4.conf.default.${k}`, []) ?? '0';
    // (and from net.ipv6.conf.default: ipv6_add_dev; keys never written keep their default)
    for (const k of Object.keys(CONF6)) {
      const v = host.sysctls[`net.ipv6.conf.default.${k}`];
      if (v !== undefined) host.sysctls[`net.ipv6.conf.${name}.${k}`] = v;
    }
    return;
  }
  if (matches(sub, 'delete')) {
    if (!write) return;
    let name: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === 'dev') name = rest[++i];
      else if (a === 'type' || a === 'group') notModelled(`ip link delete ${a}`);
      else if (name === undefined) name = a;
      else fail(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`, 255);
    }
    if (name === undefined) fail('Not enough information: "dev" argument is required.\n', 1);
    const iface = findDev(host, name!);
    if (iface.kind !== 'dummy') notModelled(`deleting ${name} (a port of the lab's topology; only dummy interfaces can be deleted)`);
    forgetRoutes(host, iface.addrs.map((a) => addrKey(iface.name, a)));
    // keep the other devices' numbers: they do not move when one goes
    for (const i of host.interfaces) i.index = ifIndex(host, i);
    host.interfaces = host.interfaces.filter((i) => i !== iface);
    host.routes = host.routes.filter((r) => r.dev !== iface.name);
    for (const k of Object.keys(host.sysctls)) if (k.startsWith(`net.ipv4.conf.${name}.`) || k.startsWith(`net.ipv6.conf.${name}.`)) delete host.sysctls[k];
    if (host.sysctlsSet) host.sysctlsSet = host.sysctlsSet.filter((k) => !k.startsWith(`net.ipv4.conf.${name}.`));
    return;
  }
  if (matches(sub, 'help')) fail('Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME\n       ip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]\n       ip link set { DEVICE | dev DEVICE | group DEVGROUP }\n                  [ { up | down } ]\n       ip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]\n', 255);
  if (['xstats', 'afstats', 'property'].some((k) => matches(sub, k))) notModelled(`ip link ${sub}`);
  fail(`Command "${sub}" is unknown, try "ip link help".\n`, 255);
}

// ---- rules -----------------------------------------------------------------------------

const RULE_USAGE = `Usage: ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule [ list [ SELECTOR ]]
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ nat ADDRESS ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]
`;

/** what a command line of `ip rule add|del` says; a field is absent when it was not given */
type RuleRequest = Partial<PolicyRule>;

const invarg = (msg: string, arg: string): never => fail(`Error: argument "${arg}" is wrong: ${msg}\n`, 255);

/** rtnl_dsfield_a2n(): a TOS in hexadecimal, with or without 0x */
function parseDsfield(v: string): number {
  const n = /^(0[xX])?[0-9a-fA-F]+$/.test(v) ? parseInt(v.replace(/^0[xX]/, ''), 16) : NaN;
  return n <= 255 ? n : invarg('TOS value is invalid\n', v);
}

/** iprule_modify()'s parser */
function parseRule(args: string[]): RuleRequest {
  const req: RuleRequest = {};
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    const arg = (): string => args[++i] ?? incomplete();
    const prefix = (): string | undefined => {
      const v = arg();
      if (v === 'all' || v === 'any' || v === 'default') return undefined;
      const p = parseInetPrefix(v);
      return p.plen === 0 ? undefined : p.explicit && p.plen < 32 ? `${ipToString(p.addr)}/${p.plen}` : ipToString(p.addr);
    };
    if (a === 'not') req.not = true;
    else if (a === 'from') req.from = prefix();
    else if (a === 'to') req.to = prefix();
    else if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      const v = arg();
      req.pref = parseU32(v) ?? invarg('preference value is invalid\n', v);
    } else if (a === 'tos' || matches(a, 'dsfield')) {
      const n = parseDsfield(arg());
      if (n) req.tos = n;
    } else if (a === 'fwmark') {
      const v = arg();
      const [m, k] = v.split('/');
      const mark = parseU32(m!) ?? invarg('fwmark value is invalid\n', v);
      const mask = k === undefined ? undefined : (parseU32(k) ?? invarg('fwmask value is invalid\n', k));
      // fib_nl2rule(): a mark without a mask matches all of its bits
      if (mark || mask !== undefined) {
        req.fwmark = mark;
        req.fwmask = mask ?? 0xffffffff;
      }
    } else if (a === 'iif' || a === 'dev' || a === 'oif') {
      const v = arg();
      // check_ifname()
      if (v.length > 15 || !/^[^\s/:]+$/.test(v)) invarg(a === 'oif' ? '"oif" not a valid ifname' : '"iif"/"dev" not a valid ifname', v);
      if (a === 'oif') req.oif = v;
      else req.iif = v;
    } else if (matches(a, 'table') || matches(a, 'lookup')) {
      const v = arg();
      const id = tableNumber(v) ?? invarg('invalid table ID\n', v);
      req.table = id;
    } else if (a === 'suppress_prefixlength' || a === 'sup_pl') {
      // get_s32() of any base, not negative
      const v = arg();
      const n = /^[+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(v) ? Number(v.replace(/^\+/, '').replace(/^0(?=[0-7])/, '0o')) : NaN;
      if (!(n <= 0x7fffffff)) invarg('suppress_prefixlength value is invalid\n', v);
      req.suppress = n;
    } else if (a === 'ipproto') {
      // inet_proto_a2n(): a name of /etc/protocols or a number below 256
      const v = arg();
      const n = protocolByName(v) ?? parseU32(v);
      if (n === undefined || n > 255) invarg('Invalid "ipproto" value\n', v);
      req.ipproto = n;
    } else if (a === 'sport' || a === 'dport') {
      // sscanf("%hu-%hu"): one number is a range of one; each taken modulo 65536
      const v = arg();
      const m = /^\s*([+-]?\d+)(?:-\s*([+-]?\d+))?/.exec(v);
      if (!m) invarg(`invalid ${a} range\n`, v);
      const u16 = (x: string): number => ((Number(x) % 65536) + 65536) % 65536;
      req[a] = [u16(m![1]!), u16(m![2] ?? m![1]!)];
    } else if (a === 'uidrange') {
      const v = arg();
      const m = /^\s*(\d+)-\s*(\d+)/.exec(v);
      if (!m || Number(m[1]) > 0xffffffff || Number(m[2]) > 0xffffffff) invarg('invalid UID range\n', v);
      req.uid = [Number(m![1]), Number(m![2])];
    } else if (a === 'goto') {
      const v = arg();
      req.action = 'goto';
      req.goto = parseU32(v) ?? invarg('invalid target\n', v);
    } else if (a === 'nop') {
      req.action = 'nop';
    } else if (['l3mdev', 'realms', 'protocol', 'nat', 'map-to', 'suppress_ifgroup', 'sup_group', 'tun_id'].some((k) => a === k || (k.length > 3 && matches(a, k)))) {
      notModelled(`ip rule ... ${a}`);
    } else {
      if (a === 'type') a = arg();
      if (matches(a, 'help')) fail(RULE_USAGE, 255);
      if (a === 'blackhole' || a === 'unreachable' || a === 'prohibit') req.action = a;
      else if (['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'throw', 'nat', 'xresolve', 'unspec'].includes(a) || /^\d+$/.test(a)) notModelled(`rule type ${a}`);
      else invarg('Failed to parse rule type', a);
    }
  }
  return req;
}

const RULE_FIELDS = ['pref', 'not', 'from', 'to', 'tos', 'fwmark', 'fwmask', 'iif', 'oif', 'uid', 'ipproto', 'sport', 'dport', 'table', 'action', 'goto', 'suppress'] as const;

/** one attribute of two rules compared (port and uid ranges by their bounds) */
const sameField = (a: unknown, b: unknown): boolean => (Array.isArray(a) && Array.isArray(b) ? a[0] === b[0] && a[1] === b[1] : a === b);

function ruleLine(host: Host, r: PolicyRule): string {
  return ruleText(r, host.interfaces.map((i) => i.name), hostRules(host)) + '\n';
}

/** iproute2's list filter: `table` and `pref` of the rules to show or flush */
function ruleFilter(args: string[]): (r: PolicyRule) => boolean {
  let table: number | undefined;
  let pref: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const arg = (): string => args[++i] ?? incomplete();
    if (matches(a, 'table') || matches(a, 'lookup')) {
      const v = arg();
      table = tableNumber(v) ?? invarg('table id value is invalid\n', v);
    } else if (matches(a, 'preference') || matches(a, 'order') || matches(a, 'priority')) {
      const v = arg();
      pref = parseU32(v) ?? invarg('preference value is invalid\n', v);
    } else if (a === 'from' || !['not', 'to', 'tos', 'dsfield', 'fwmark', 'iif', 'oif', 'dev', 'l3mdev', 'uidrange', 'ipproto', 'sport', 'dport', 'protocol', 'type'].includes(a)) {
      const v = a === 'from' ? arg() : a;
      if (v !== 'all' && !/^\d{1,3}(\.\d{1,3}){0,3}(\/\d{1,2})?$/.test(v)) fail(`Error: inet prefix is expected rather than "${v}".\n`, 1);
      notModelled('ip rule show from');
    } else notModelled(`ip rule show ${a}`);
  }
  return (r) => (table === undefined || r.table === table) && (pref === undefined || r.pref === pref);
}

function rule(host: Host, args: string[], o: Out, write: boolean): void {
  const sub = args[0];
  const rest = args.slice(1);
  const rules = hostRules(host);
  if (sub === undefined || matches(sub, 'list') || matches(sub, 'lst') || matches(sub, 'show')) {
    const keep = ruleFilter(rest);
    for (const r of rules) if (keep(r)) o.out += ruleLine(host, r);
    return;
  }
  if (matches(sub, 'save') || matches(sub, 'restore')) notModelled(`ip rule ${sub}`);
  const add = matches(sub, 'add');
  const del = !add && matches(sub, 'delete');
  if (!add && !del) {
    if (matches(sub, 'flush')) {
      const keep = ruleFilter(rest);
      if (!write) return;
      // the kernel does not report priority 0, so iproute2's flush leaves those rules alone
      host.rules = rules.filter((r) => r.pref === 0 || !keep(r));
      return;
    }
    if (matches(sub, 'help')) fail(RULE_USAGE, 255);
    fail(`Command "${sub}" is unknown, try "ip rule help".\n`, 255);
  }
  if (!rest.length) fail(`"ip rule ${add ? 'add' : 'del'}" requires arguments.\n`, 1);
  const req = parseRule(rest);
  if (!write) return;
  // fib_default_rule_pref(): one below the second rule's priority, unless that is 0
  const pref = req.pref ?? (rules[1]?.pref ? rules[1].pref - 1 : 0);
  // fib_nl2rule()'s checks, in its order, for a deletion too (measured: fixtures/cli/ip-route-checks.case)
  if (req.uid && req.uid[0] > req.uid[1]) fail('Error: Invalid uid range.\n', 2);
  for (const k of ['sport', 'dport'] as const) {
    const r = req[k];
    // fib_rule_port_range_valid(): 0 and 65535 are no port (measured: fixtures/kernel/177-random-ports-426)
    if (r && (!r[0] || !r[1] || r[1] >= 0xffff || r[0] > r[1])) fail(`Error: Invalid ${k} range.\n`, 2);
  }
  if (req.action === 'goto' && req.goto! <= pref) fail('Error: Backward goto not supported.\n', 2);
  if (del) {
    // fib_nl_delrule() / rule_find(): the first rule that has every attribute given, but `not` and
    // a goto's target, which it does not compare (measured: fixtures/cli/ip-route-checks.case)
    const idx = rules.findIndex((r) => RULE_FIELDS.every((k) => req[k] === undefined || k === 'not' || k === 'goto' || (k === 'table' && req.table === 0) || sameField(r[k], req[k])));
    if (idx < 0) fail('RTNETLINK answers: No such file or directory\n', 2);
    rules.splice(idx, 1);
    host.rules = rules;
    return;
  }
  // fib4_rule_configure()'s checks (measured)
  if (req.tos !== undefined && req.tos & 0x03) fail('Error: Invalid dsfield (tos): ECN bits must be 0.\n', 2);
  if (req.tos !== undefined && req.tos & ~0x1e) fail('Error: Invalid tos.\n', 2);
  // iproute2 asks for table main unless the rule has a table or another action
  const table = req.table ?? (req.action ? 0 : RT_TABLE_MAIN);
  if (table === 0 && !req.action) notModelled('ip rule ... table 0 (the kernel looks up a table it picks, fib_empty_table())');
  const r: PolicyRule = { pref, table };
  for (const k of RULE_FIELDS) if (k !== 'pref' && k !== 'table' && req[k] !== undefined) (r as unknown as Record<string, unknown>)[k] = req[k];
  // NLM_F_EXCL: rule_exists() compares every attribute, the priority too
  // (the kernel's own three rules have protocol kernel, which an added rule has not: measured,
  // fixtures/cli/ip-route-checks.case, a second `table main pref 32766` is taken)
  if (rules.some((x) => !x.kernel && RULE_FIELDS.every((k) => sameField(x[k], r[k])))) fail('RTNETLINK answers: File exists\n', 2);
  // fib_nl_newrule(): after the last rule of the same or a lower priority
  let at = 0;
  while (at < rules.length && rules[at]!.pref <= pref) at++;
  rules.splice(at, 0, r);
  host.rules = rules;
}
