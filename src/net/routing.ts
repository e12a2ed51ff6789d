/**
 * A host's routing as the kernel builds it from addresses and routes: the `local` table (every
 * address, the broadcast addresses of its subnet, all of 127/8 on lo) looked up before `main`
 * (connected subnets with their preferred source, static routes). Longest prefix wins within a
 * table. Source address selection follows inet_select_addr().
 */
import { SimError } from '../errors.js';
import { inPrefix, ipToString, parseDotted, prefixToMask, type Ip4 } from './ipv4.js';
import type { Host, Interface, PolicyRule } from './lab.js';
import type { AddrType } from '../engine/ext-api.js';

export type RouteType = 'local' | 'broadcast' | 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface FibRoute {
  table: 'local' | 'main';
  type: RouteType;
  addr: Ip4;
  plen: number;
  dev: string;
  gateway?: Ip4;
  prefsrc?: Ip4;
  scope: 'host' | 'link' | 'global';
  proto: 'kernel' | 'static';
}

export interface IfAddr {
  dev: string;
  addr: Ip4;
  plen: number;
}

export function parsePrefix(s: string): { addr: Ip4; plen: number } {
  const [a, p] = s.split('/');
  const addr = parseDotted(a!);
  const plen = p === undefined ? 32 : Number(p);
  if (addr === undefined || !Number.isInteger(plen) || plen < 0 || plen > 32) throw new SimError(`bad address/prefix \`${s}'`, 2);
  return { addr, plen };
}

/** addresses of up interfaces, primary (first) address of each subnet first */
export function interfaceAddresses(host: Host): IfAddr[] {
  const out: IfAddr[] = [];
  for (const i of host.interfaces) {
    if (!i.up) continue;
    for (const a of i.addrs) {
      const p = parsePrefix(a);
      out.push({ dev: i.name, addr: p.addr, plen: p.plen });
    }
  }
  return out;
}

/** The FIB: kernel routes derived from the addresses, then the host's static routes. */
export function buildFib(host: Host): FibRoute[] {
  const fib: FibRoute[] = [];
  for (const a of interfaceAddresses(host)) {
    const mask = prefixToMask(a.plen);
    const net = (a.addr & mask) >>> 0;
    fib.push({ table: 'local', type: 'local', addr: a.addr, plen: 32, dev: a.dev, prefsrc: a.addr, scope: 'host', proto: 'kernel' });
    if (a.dev === 'lo' && a.plen < 32) {
      fib.push({ table: 'local', type: 'local', addr: net, plen: a.plen, dev: a.dev, prefsrc: a.addr, scope: 'host', proto: 'kernel' });
    }
    if (a.plen < 31) {
      const bcast = (net | (~mask >>> 0)) >>> 0;
      fib.push({ table: 'local', type: 'broadcast', addr: bcast, plen: 32, dev: a.dev, prefsrc: a.addr, scope: 'link', proto: 'kernel' });
    }
    if (a.dev !== 'lo') {
      fib.push({ table: 'main', type: 'unicast', addr: net, plen: a.plen, dev: a.dev, prefsrc: a.addr, scope: 'link', proto: 'kernel' });
    }
  }
  // a link set down loses its subnet and broadcast routes, but its addresses stay local: the host
  // still answers them, from any interface (fib_sync_down_dev() spares host-scope routes;
  // measured, fixtures/kernel/64-link-down)
  for (const i of host.interfaces) {
    if (i.up) continue;
    for (const a of i.addrs) {
      const p = parsePrefix(a);
      fib.push({ table: 'local', type: 'local', addr: p.addr, plen: 32, dev: i.name, prefsrc: p.addr, scope: 'host', proto: 'kernel' });
    }
  }
  for (const r of host.routes) {
    // routes of the other tables (`ip route ... table N`) are stored and shown, never looked up
    if (typeof r.table === 'number') continue;
    const dst = r.dst === 'default' ? { addr: 0, plen: 0 } : parsePrefix(r.dst);
    const type = (r.type ?? 'unicast') as RouteType;
    fib.push({
      table: r.table ?? 'main',
      type,
      addr: dst.addr,
      plen: dst.plen,
      dev: r.dev,
      gateway: r.via !== undefined ? parsePrefix(r.via).addr : undefined,
      prefsrc: r.src !== undefined ? parsePrefix(r.src).addr : undefined,
      scope: r.via !== undefined ? 'global' : (r.scope ?? 'link'),
      proto: 'static',
    });
  }
  return fib;
}

function lookupIn(fib: FibRoute[], table: 'local' | 'main', dst: Ip4, dev?: string): FibRoute | undefined {
  let best: FibRoute | undefined;
  for (const r of fib) {
    if (r.table !== table) continue;
    if (dev !== undefined && r.dev !== dev) continue;
    if (!inPrefix(dst, { addr: r.addr, mask: prefixToMask(r.plen) })) continue;
    if (!best || r.plen > best.plen) best = r;
  }
  return best;
}

/** fib_lookup(): local table, then main. */
export function fibLookup(fib: FibRoute[], dst: Ip4, oif?: string): FibRoute | undefined {
  return lookupIn(fib, 'local', dst, oif) ?? lookupIn(fib, 'main', dst, oif);
}

/** the reserved table numbers (rtnetlink.h: RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL) */
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/** fib_default_rules_init(): the rules of every new network namespace */
export const DEFAULT_RULES: readonly PolicyRule[] = [
  { pref: 0, table: RT_TABLE_LOCAL },
  { pref: 32766, table: RT_TABLE_MAIN },
  { pref: 32767, table: RT_TABLE_DEFAULT },
];

/** the host's policy rules (a host without the field has the defaults) */
export function hostRules(host: Host): PolicyRule[] {
  return host.rules ?? DEFAULT_RULES.map((r) => ({ ...r }));
}

/** the rules are exactly the kernel's three defaults, the only rules a trace follows */
export function defaultRules(host: Host): boolean {
  const rules = host.rules;
  if (rules === undefined) return true;
  return rules.length === DEFAULT_RULES.length && rules.every((r, i) => Object.keys(r).length === 2 && r.pref === DEFAULT_RULES[i]!.pref && r.table === DEFAULT_RULES[i]!.table);
}

/**
 * Why a routing decision on `host` cannot be traced, or undefined: traces look up the local and
 * main tables only, so a host with other rules, or one that would fall through to table default
 * (`missed`: local and main had no route), uses routing iptables-sim stores and shows but does
 * not model.
 */
export function policyRoutingProblem(host: Host, missed: boolean): string | undefined {
  if (!defaultRules(host)) return "its policy routing rules (`ip rule`) are not the kernel's three defaults, and policy routing is stored and shown but not modelled in traces";
  if (missed && host.routes.some((r) => r.table === RT_TABLE_DEFAULT)) return 'the local and main tables have no route, so the kernel would look up table default (253), and policy routing is stored and shown but not modelled in traces';
  return undefined;
}

/** inet_select_addr(): a primary address of `dev`, preferring one whose subnet holds `near` */
export function selectSourceAddress(host: Host, dev: string, near?: Ip4, all: IfAddr[] = interfaceAddresses(host)): Ip4 | undefined {
  const addrs = all.filter((a) => a.dev === dev);
  if (near !== undefined) {
    const same = addrs.find((a) => inPrefix(near, { addr: (a.addr & prefixToMask(a.plen)) >>> 0, mask: prefixToMask(a.plen) }));
    if (same) return same.addr;
  }
  if (addrs.length) return addrs[0]!.addr;
  // no address on that device: the kernel takes one of another device with global scope
  return all.find((a) => a.dev !== 'lo')?.addr;
}

export function isLoopbackAddr(a: Ip4): boolean {
  return a >>> 24 === 127;
}

export function isMulticast(a: Ip4): boolean {
  return a >>> 28 === 0xe;
}

/** inet_addr_type() / inet_dev_addr_type(): what the addrtype match sees */
export function addrType(fib: FibRoute[], addr: Ip4, dev?: string): AddrType {
  if (addr === 0 || addr === 0xffffffff) return 'BROADCAST';
  if (isMulticast(addr)) return 'MULTICAST';
  const r = lookupIn(fib, 'local', addr);
  if (r && (dev === undefined || r.dev === dev)) {
    return r.type === 'local' ? 'LOCAL' : r.type === 'broadcast' ? 'BROADCAST' : 'UNICAST';
  }
  return 'UNICAST';
}

export function describeRoute(r: FibRoute): string {
  const dst = r.plen === 0 ? 'default' : r.plen === 32 ? ipToString(r.addr) : `${ipToString(r.addr)}/${r.plen}`;
  let s = r.type === 'unicast' ? dst : `${r.type} ${dst}`;
  if (r.gateway !== undefined) s += ` via ${ipToString(r.gateway)}`;
  s += ` dev ${r.dev}`;
  if (r.table === 'local') s += ' table local';
  if (r.prefsrc !== undefined && r.type === 'unicast') s += ` src ${ipToString(r.prefsrc)}`;
  return s;
}

export function ifaceOf(host: Host, name: string): Interface | undefined {
  return host.interfaces.find((i) => i.name === name);
}
