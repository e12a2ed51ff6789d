/**
 * A host's routing as the kernel builds it from addresses and routes: the `local` table (every
 * address, the broadcast addresses of its subnet, all of 127/8 on lo), `main` (connected subnets
 * with their preferred source, static routes) and the numbered tables of `ip route ... table N`,
 * looked up as the policy rules (`ip rule`) say: the kernel's three defaults look up local, main
 * and default (253) in turn. Longest prefix wins within a table. Source address selection follows
 * inet_select_addr().
 */
import { SimError } from '../errors.js';
import { inPrefix, ipToString, parseDotted, prefixToMask, type Ip4 } from './ipv4.js';
import { protocolByNumber } from './netdb.js';
import type { Host, Interface, PolicyRule, Route } from './lab.js';
import type { AddrType } from '../engine/ext-api.js';

export type RouteType = 'local' | 'broadcast' | 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface FibRoute {
  table: 'local' | 'main' | number;
  type: RouteType;
  addr: Ip4;
  plen: number;
  dev: string;
  gateway?: Ip4;
  prefsrc?: Ip4;
  scope: 'host' | 'link' | 'global';
  proto: 'kernel' | 'static';
  /** the route's priority (`metric`; 0 for the kernel's own routes): among equal prefixes the lowest wins */
  metric?: number;
  /** a policy rule's action (blackhole, unreachable, prohibit) that answered instead of a route */
  rule?: PolicyRule;
  /** a kernel route: the address that brought it (addrKey()) */
  origin?: string;
  /** the route's mtu and advmss metrics (`ip route add ... mtu [lock] N advmss N`) */
  mtu?: number;
  mtuLock?: boolean;
  advmss?: number;
  advmssLock?: boolean;
}

/** a kernel route as Host.removedRoutes names it */
export const kernelRouteKey = (r: FibRoute): string => `${r.table} ${r.type} ${ipToString(r.addr)}/${r.plen} ${r.dev}`;

/**
 * What a routing decision is asked (struct flowi4): the destination, the source when the sender
 * has one (0: a socket that is not bound, whose source routing picks), the device the packet came
 * in by ('lo' for what the host sends itself: flowi4_iif = LOOPBACK_IFINDEX), the device a
 * socket is bound to, the packet's mark and TOS.
 */
export interface Flow {
  dst: Ip4;
  src: Ip4;
  iif: string;
  oif?: string;
  mark: number;
  tos: number;
  /** the protocol and ports (what rules with ipproto, sport, dport see; 0: none) and the sender's uid */
  proto?: number;
  sport?: number;
  dport?: number;
  uid?: number;
}

export interface IfAddr {
  dev: string;
  addr: Ip4;
  plen: number;
  /** as the lab writes it */
  text: string;
  /** the broadcast given with the address (`ip addr add ... brd B`), when there is one */
  brd?: Ip4;
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
      const b = i.brd?.[a];
      out.push(b === undefined ? { dev: i.name, addr: p.addr, plen: p.plen, text: a } : { dev: i.name, addr: p.addr, plen: p.plen, text: a, brd: parsePrefix(b).addr });
    }
  }
  return out;
}

/** interfaceAddresses() in the order their routes were added (Host.addrRoutes) */
function addressesByAge(host: Host): IfAddr[] {
  const all = interfaceAddresses(host);
  const order = host.addrRoutes;
  if (!order?.length) return all;
  const rank = new Map(order.map((k, i) => [k, i]));
  // (a stable sort: the addresses not listed keep the lab's order, before the listed ones)
  return all.map((a) => [rank.get(addrKey(a.dev, a.text)) ?? -1, a] as const).sort((x, y) => x[0] - y[0]).map(([, a]) => a);
}

/** an address of a device as Host.addrRoutes names it */
export const addrKey = (dev: string, addr: string): string => `${dev} ${addr}`;

/**
 * The primary address of each address's subnet on its device (__inet_insert_ifa(): an address in
 * a subnet of the same mask the device already has is a secondary one), by `dev addr/plen`
 */
function primaries(host: Host): Map<string, Ip4> {
  const prim = new Map<string, Ip4>();
  for (const i of host.interfaces) {
    const seen = new Map<string, Ip4>();
    for (const a of i.addrs) {
      const p = parsePrefix(a);
      const subnet = `${(p.addr & prefixToMask(p.plen)) >>> 0}/${p.plen}`;
      if (!seen.has(subnet)) seen.set(subnet, p.addr);
      prim.set(`${i.name} ${p.addr}/${p.plen}`, seen.get(subnet)!);
    }
  }
  return prim;
}

/**
 * The kernel's routes of the up devices' addresses (fib_add_ifaddr()), in the order they were
 * added, each with the address that brought it, the ones deleted since (Host.removedRoutes) too
 */
export function addressRoutes(host: Host): FibRoute[] {
  const fib: FibRoute[] = [];
  const prim = primaries(host);
  for (const a of addressesByAge(host)) {
    const mask = prefixToMask(a.plen);
    const net = (a.addr & mask) >>> 0;
    const src = prim.get(`${a.dev} ${a.addr}/${a.plen}`) ?? a.addr;
    const origin = addrKey(a.dev, a.text);
    fib.push({ table: 'local', type: 'local', addr: a.addr, plen: 32, dev: a.dev, prefsrc: src, scope: 'host', proto: 'kernel', origin });
    // the broadcast given with the address, a secondary's too (measured: fixtures/cli/ip-addr-brd.case)
    if (a.brd !== undefined && a.brd !== 0xffffffff) fib.push({ table: 'local', type: 'broadcast', addr: a.brd, plen: 32, dev: a.dev, prefsrc: src, scope: 'link', proto: 'kernel', origin });
    // (a multicast address brings its local route alone: measured, fixtures/cli/ip-addr-odd.case)
    if (src !== a.addr || net === 0 || (net === a.addr && a.plen === 32) || isMulticast(a.addr)) continue;
    if (a.dev === 'lo') {
      fib.push({ table: 'local', type: 'local', addr: net, plen: a.plen, dev: a.dev, prefsrc: a.addr, scope: 'host', proto: 'kernel', origin });
    }
    if (a.plen < 31) {
      const bcast = (net | (~mask >>> 0)) >>> 0;
      fib.push({ table: 'local', type: 'broadcast', addr: bcast, plen: 32, dev: a.dev, prefsrc: a.addr, scope: 'link', proto: 'kernel', origin });
    }
    if (a.dev !== 'lo') {
      fib.push({ table: 'main', type: 'unicast', addr: net, plen: a.plen, dev: a.dev, prefsrc: a.addr, scope: 'link', proto: 'kernel', origin });
    }
  }
  return fib;
}

/**
 * The FIB: kernel routes derived from the addresses, then the host's static routes. An address
 * brings its local route, with its subnet's primary address as source, and the broadcast route of
 * the broadcast given with it; a primary one also its subnet's route (none for a /32 or the zero
 * network) and broadcast route (fib_add_ifaddr(); measured: fixtures/cli/ip-addr-routes.case,
 * ip-addr-brd.case).
 */
export function buildFib(host: Host): FibRoute[] {
  const removed = host.removedRoutes?.length ? new Set(host.removedRoutes) : undefined;
  const fib: FibRoute[] = [];
  const kernel = (r: FibRoute): void => {
    if (!removed?.has(kernelRouteKey(r))) fib.push(r);
  };
  for (const r of addressRoutes(host)) kernel(r);
  const prim = primaries(host);
  // a link set down loses its subnet and broadcast routes, but its addresses stay local: the host
  // still answers them, from any interface (fib_sync_down_dev() spares host-scope routes;
  // measured, fixtures/kernel/64-link-down)
  for (const i of host.interfaces) {
    if (i.up) continue;
    for (const a of i.addrs) {
      const p = parsePrefix(a);
      kernel({ table: 'local', type: 'local', addr: p.addr, plen: 32, dev: i.name, prefsrc: prim.get(`${i.name} ${p.addr}/${p.plen}`) ?? p.addr, scope: 'host', proto: 'kernel' });
    }
  }
  // a gateway that is one of the host's own addresses makes a next hop of host scope, which
  // rt_set_nexthop() does not take as a gateway: the route sends straight out of its device
  // (measured: fixtures/cli/ip-route-gateway.case)
  const own = new Set(fib.filter((f) => f.table === 'local' && f.type === 'local' && f.plen === 32).map((f) => f.addr));
  for (const r of host.routes) {
    const dst = r.dst === 'default' ? { addr: 0, plen: 0 } : parsePrefix(r.dst);
    const type = (r.type ?? 'unicast') as RouteType;
    const via = r.via !== undefined ? parsePrefix(r.via).addr : undefined;
    fib.push({
      table: r.table ?? 'main',
      type,
      addr: dst.addr,
      plen: dst.plen,
      dev: r.dev,
      gateway: via !== undefined && !own.has(via) ? via : undefined,
      prefsrc: r.src !== undefined ? parsePrefix(r.src).addr : undefined,
      scope: routeScope(r),
      proto: 'static',
      metric: r.metric,
      mtu: r.mtu,
      mtuLock: r.mtuLock,
      advmss: r.advmss,
      advmssLock: r.advmssLock,
    });
  }
  return fib;
}

/**
 * The scope of a route the host was given, as iproute2 asks for it: a gateway's is global, a
 * local route's host, a blackhole, unreachable or prohibit route's global unless given (so that
 * the lookup of a gateway, which takes routes of link scope or narrower, passes over them:
 * measured, fixtures/kernel/446-random-mtu-675), a device route's link unless given
 */
export function routeScope(r: Route): 'global' | 'link' | 'host' {
  const type = r.type ?? 'unicast';
  return r.via ? 'global' : type === 'unicast' ? (r.scope ?? 'link') : type === 'local' ? 'host' : (r.scope ?? 'global');
}

/** what a rule's ipproto, sport and dport see of a packet */
export interface L4 {
  proto: number;
  sport?: number;
  dport?: number;
}

/** a packet's protocol and ports for a flow (turned round for the way back); an ICMP packet's count as 0 */
export function flowPorts(l4: L4 | undefined, reversed = false): { proto: number; sport: number; dport: number } {
  if (!l4) return { proto: 0, sport: 0, dport: 0 };
  // (tcp, udp, udplite, sctp, dccp)
  const ported = l4.proto === 6 || l4.proto === 17 || l4.proto === 136 || l4.proto === 132 || l4.proto === 33;
  const s = ported ? (l4.sport ?? 0) : 0;
  const d = ported ? (l4.dport ?? 0) : 0;
  return { proto: l4.proto, sport: reversed ? d : s, dport: reversed ? s : d };
}

/**
 * the longest-prefix route for `dst` in one table (by `dev` only, when given); among routes of
 * that prefix the lowest metric, as fib_table_insert() orders a prefix's aliases and
 * fib_table_lookup() takes the first (measured: fixtures/kernel/408-route-metric)
 */
export function tableLookup(fib: FibRoute[], table: FibRoute['table'], dst: Ip4, dev?: string): FibRoute | undefined {
  let best: FibRoute | undefined;
  for (const r of fib) {
    if (r.table !== table) continue;
    if (dev !== undefined && r.dev !== dev) continue;
    if (!inPrefix(dst, { addr: r.addr, mask: prefixToMask(r.plen) })) continue;
    if (!best || r.plen > best.plen || (r.plen === best.plen && (r.metric ?? 0) < (best.metric ?? 0))) best = r;
  }
  return best;
}

export type RouteErrno = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EACCES' | 'EINVAL';

/**
 * The error a lookup's answer gives (undefined: a route to use): fib_props[].error of an
 * unreachable (EHOSTUNREACH), prohibit or blackhole route, fib4_rule_action() of a rule's action
 * (unreachable is ENETUNREACH there, as no route at all is)
 */
export function routeErrno(r: FibRoute | undefined): RouteErrno | undefined {
  if (!r) return 'ENETUNREACH';
  if (r.type === 'unreachable') return r.rule ? 'ENETUNREACH' : 'EHOSTUNREACH';
  if (r.type === 'prohibit') return 'EACCES';
  if (r.type === 'blackhole') return 'EINVAL';
  return undefined;
}

/** the reserved table numbers (rtnetlink.h: RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL) */
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/** fib_default_rules_init(): the rules of every new network namespace */
export const DEFAULT_RULES: readonly PolicyRule[] = [
  { pref: 0, table: RT_TABLE_LOCAL, kernel: true },
  { pref: 32766, table: RT_TABLE_MAIN, kernel: true },
  { pref: 32767, table: RT_TABLE_DEFAULT, kernel: true },
];

/** the host's policy rules (a host without the field has the defaults) */
export function hostRules(host: Host): PolicyRule[] {
  return host.rules ?? DEFAULT_RULES.map((r) => ({ ...r }));
}

/** the rules are exactly the kernel's three defaults */
export function defaultRules(host: Host): boolean {
  const rules = host.rules;
  if (rules === undefined) return true;
  return rules.length === DEFAULT_RULES.length && rules.every((r, i) => Object.keys(r).length === (r.kernel ? 3 : 2) && r.pref === DEFAULT_RULES[i]!.pref && r.table === DEFAULT_RULES[i]!.table);
}

/** fib_lookup() under the kernel's three default rules: local, main, default */
export function defaultLookup(fib: FibRoute[], dst: Ip4, oif?: string): FibRoute | undefined {
  return tableLookup(fib, 'local', dst, oif) ?? tableLookup(fib, 'main', dst, oif) ?? tableLookup(fib, RT_TABLE_DEFAULT, dst, oif);
}

/** a table number as FibRoute names it (fib_get_table(): 0 is main) */
const tableOf = (id: number): FibRoute['table'] => (id === RT_TABLE_LOCAL ? 'local' : id === RT_TABLE_MAIN || id === 0 ? 'main' : id);

/** fib_rule_match() and fib4_rule_match(): whether `rule` selects the flow */
function ruleMatches(rule: PolicyRule, f: Flow): boolean {
  const ok =
    (rule.iif === undefined || rule.iif === f.iif) &&
    (rule.oif === undefined || rule.oif === f.oif) &&
    (rule.fwmark === undefined || ((rule.fwmark ^ f.mark) & rule.fwmask!) === 0) &&
    (rule.from === undefined || inRulePrefix(f.src, rule.from)) &&
    (rule.to === undefined || inRulePrefix(f.dst, rule.to)) &&
    // the rule's DSCP against the packet's (its ECN bits aside)
    (rule.tos === undefined || rule.tos >> 2 === f.tos >> 2) &&
    (rule.ipproto === undefined || rule.ipproto === (f.proto ?? 0)) &&
    inRange(rule.sport, f.sport ?? 0) &&
    inRange(rule.dport, f.dport ?? 0) &&
    inRange(rule.uid, f.uid ?? 0);
  return rule.not ? !ok : ok;
}

const inRange = (r: [number, number] | undefined, v: number): boolean => !r || (v >= r[0] && v <= r[1]);

/** (addr ^ rule's address) & its mask: the host bits a rule keeps count for nothing */
function inRulePrefix(a: Ip4, prefix: string): boolean {
  const p = parsePrefix(prefix);
  const mask = prefixToMask(p.plen);
  return ((a ^ p.addr) & mask) === 0;
}

/**
 * fib_lookup(): the policy rules in order (a host without rules of its own has the kernel's three:
 * local, main, default); a rule that selects the flow looks up its table, and a table without a
 * route for the destination passes the flow on to the next rule (-EAGAIN). A route found is the
 * answer, an unreachable, prohibit or blackhole one too (unless suppress_prefixlength passes a
 * route with a short prefix over); so is a rule whose action is one of those (returned as a route
 * of that type with `rule` set). A nop rule passes the flow on, a goto takes it to the first rule
 * of its target priority. Undefined: no rule found a route. `found.rule`: the rule that answered.
 */
export function fibLookup(fib: FibRoute[], rules: readonly PolicyRule[] | undefined, f: Flow, found?: { rule?: PolicyRule }): FibRoute | undefined {
  if (found) found.rule = undefined;
  if (!rules) return defaultLookup(fib, f.dst, f.oif);
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!ruleMatches(rule, f)) continue;
    if (rule.action === 'nop') continue;
    if (rule.action === 'goto') {
      // on to its target, which is checked like any rule (none: the goto is passed over)
      const t = goToIndex(rules, rule);
      if (t >= 0) i = t - 1;
      continue;
    }
    const answer = rule.action ? { table: 'main' as const, type: rule.action, addr: 0, plen: 0, dev: '', scope: 'global' as const, proto: 'static' as const, rule } : tableLookup(fib, tableOf(rule.table), f.dst, f.oif);
    // fib4_rule_suppress(): a route the lookup found (no error) whose prefix is too short is passed over
    if (!answer || (rule.suppress !== undefined && answer.plen <= rule.suppress && !routeErrno(answer))) continue;
    if (found) found.rule = rule;
    return answer;
  }
  return undefined;
}

/** where a goto rule goes: the first rule of its target priority (-1: none, the goto is [unresolved]) */
function goToIndex(rules: readonly PolicyRule[], rule: PolicyRule): number {
  return rules.findIndex((r) => r.pref === rule.goto);
}

/** the name iproute2 gives a table number (rtnl_rttable_n2a()) */
export function tableName(id: number): string {
  return id === RT_TABLE_LOCAL ? 'local' : id === RT_TABLE_MAIN ? 'main' : id === RT_TABLE_DEFAULT ? 'default' : String(id);
}

/** a rule as `ip rule show` prints it (print_rule()), without the newline; `devices`: the host's interfaces */
export function ruleText(r: PolicyRule, devices: readonly string[], rules: readonly PolicyRule[]): string {
  // printf("%#x"): 0 has no 0x
  const hex = (n: number): string => (n ? `0x${n.toString(16)}` : '0');
  let s = `${r.pref}:\t${r.not ? 'not ' : ''}from ${r.from ?? 'all'}`;
  if (r.to !== undefined) s += ` to ${r.to}`;
  if (r.tos !== undefined) s += ` tos 0x${r.tos.toString(16).padStart(2, '0')}`;
  if (r.fwmark !== undefined) s += ` fwmark ${hex(r.fwmark)}${r.fwmask !== 0xffffffff ? `/${hex(r.fwmask!)}` : ''}`;
  // a device that does not exist (yet) leaves the rule [detached] (measured)
  const dev = (name: string): string => `${name}${devices.includes(name) ? '' : ' [detached]'}`;
  if (r.iif !== undefined) s += ` iif ${dev(r.iif)}`;
  if (r.oif !== undefined) s += ` oif ${dev(r.oif)}`;
  const range = (x: [number, number]): string => (x[0] === x[1] ? `${x[0]}` : `${x[0]}-${x[1]}`);
  if (r.uid) s += ` uidrange ${r.uid[0]}-${r.uid[1]}`;
  if (r.ipproto !== undefined) s += ` ipproto ${protocolByNumber(r.ipproto) ?? r.ipproto}`;
  if (r.sport) s += ` sport ${range(r.sport)}`;
  if (r.dport) s += ` dport ${range(r.dport)}`;
  if (r.table) s += ` lookup ${tableName(r.table)}`;
  // (print_rule() names it for a lookup only; the kernel keeps it on every rule)
  if (!r.action && r.suppress !== undefined) s += ` suppress_prefixlength ${r.suppress}`;
  if (r.action === 'goto') s += ` goto ${r.goto}${goToIndex(rules, r) >= 0 ? '' : ' [unresolved]'}`;
  else if (r.action) s += ` ${r.action}`;
  return s;
}

/**
 * fib_validate_source() asks the way back even without rp_filter once rules or a local route were
 * added to the host (fib4_has_custom_rules(), fib_has_custom_local_routes: never cleared)
 */
export function fullSourceCheck(host: Host): boolean {
  return host.rules !== undefined || host.routes.some((r) => r.type === 'local');
}

/** what fib_validate_source() is given: see sourceRefused() */
export interface SourceCheck {
  fib: FibRoute[];
  rules: readonly PolicyRule[] | undefined;
  addrs: readonly IfAddr[];
  src: Ip4;
  dst: Ip4;
  /** the device the packet came in by */
  dev: string;
  /** the device the forward route leaves by; none for a packet the host takes in */
  oif?: string;
  /** the packet's mark under src_valid_mark, else 0 */
  mark: number;
  tos: number;
  /** rp_filter of `dev` */
  rpf: number;
  acceptLocal: boolean;
  /** the rules or a local route were added: see fullSourceCheck() */
  full: boolean;
  l4?: L4;
}

/**
 * fib_validate_source(): whether a packet from `src` may come in by `dev` towards `dst`.
 * Undefined when it may. Without rp_filter (`rpf` 0) and with the kernel's own rules and no local
 * route added by hand, only `src` being an address of the host counts ('own', unless
 * accept_local). Otherwise (`full`: the rules or a local route were added, or rp_filter is on) the
 * way back is asked, as the host's own packet from `dst` would be, with `mark` and the packet's
 * ports turned round, coming in by `oif` (the forward route's device, __mkroute_input(); lo for a
 * packet taken in): a local route back ('own' for an address of the host) or any other type but
 * unicast is a martian ({ martian }), unless a local one under accept_local; under rp_filter 1 a
 * unicast route by another device, and under any rp_filter no route at all, is refused ({ rpf }:
 * the route, or null for none). (__fib_validate_source(); measured: fixtures/kernel/21, 22, 146,
 * 148, 175, 188, 277-random-frames-521: `iif eth0 lookup 100` to a local route makes every packet
 * forwarded out of eth0 a martian.)
 */
export function sourceRefused(c: SourceCheck): 'own' | { martian: FibRoute } | { rpf: FibRoute | null } | undefined {
  const { src, rpf, acceptLocal } = c;
  const own = (): boolean => c.addrs.some((a) => a.addr === src);
  if (!rpf) {
    if (acceptLocal) return undefined;
    if (!c.full) return own() ? 'own' : undefined;
  }
  const back = c.rules ? fibLookup(c.fib, c.rules, { dst: src, src: c.dst, iif: c.oif ?? 'lo', mark: c.mark, tos: c.tos, ...flowPorts(c.l4, true) }) : defaultLookup(c.fib, src);
  // a lookup that fails (no route, or one of the error types): the last resort
  if (!back || routeErrno(back)) return rpf ? { rpf: back ?? null } : undefined;
  if (back.type !== 'unicast') {
    if (back.type === 'local' && acceptLocal) return undefined;
    return back.type === 'local' && own() ? 'own' : { martian: back };
  }
  return rpf === 1 && back.dev !== c.dev ? { rpf: back } : undefined;
}

/** inet_ifa_match(): `a` is on the subnet of the interface address `ifa` */
export function inSubnet(a: Ip4, ifa: IfAddr): boolean {
  const mask = prefixToMask(ifa.plen);
  return inPrefix(a, { addr: (ifa.addr & mask) >>> 0, mask });
}

/** inet_select_addr(): a primary address of `dev`, preferring one whose subnet holds `near` */
export function selectSourceAddress(host: Host, dev: string, near?: Ip4, all: IfAddr[] = interfaceAddresses(host)): Ip4 | undefined {
  const addrs = all.filter((a) => a.dev === dev);
  if (near !== undefined) {
    const same = addrs.find((a) => inSubnet(near, a));
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

/** why ip_route_input_slow() calls a packet a martian before any lookup (see inputMartian()) */
export type InputMartian = 'multicast-source' | 'zero-source' | 'zero-destination' | 'loopback-destination' | 'loopback-source' | 'group-not-joined';

/**
 * ip_check_mc_rcu(): whether the host has joined multicast group `group` on a device. Every IPv4
 * device (lo too) joins 224.0.0.1, all hosts (ip_mc_up()); the lab's programs join no other.
 */
export function joinedGroup(group: Ip4): boolean {
  return group === 0xe0000001;
}

/**
 * ip_route_input_slow()'s checks before any lookup, in its order, for a packet from `src` to `dst`
 * (protocol `proto`) arriving on a device with route_localnet `localnet`: what makes it a
 * martian, or 'broadcast' for the limited broadcast (and 0.0.0.0 to 0.0.0.0), which is taken in
 * without a lookup (brd_input: a 0.0.0.0 source is allowed there, as DHCP sends it, and any other
 * is validated), or 'multicast' for a group the host has joined, also taken in without a lookup
 * (ip_route_input_mc()). Measured: 0.0.0.0 -> 255.255.255.255 reaches INPUT, 0.0.0.0 ->
 * 192.168.1.1 stops after PREROUTING (fixtures/kernel/239-limited-broadcast, 276-multicast;
 * ip route get: fixtures/cli/ip-route-get-rules, ip-route-get-multicast).
 */
export function inputMartian(src: Ip4, dst: Ip4, localnet: boolean, proto = 0): InputMartian | 'broadcast' | 'multicast' | undefined {
  if (isMulticast(dst)) {
    // ip_route_input_rcu(): a group the device has not joined has no route (no multicast
    // forwarding); ip_mc_validate_source(): 0.0.0.0 only to 224.0.0.0/24 (or IGMP), other
    // sources validated as any (by the caller: 'multicast')
    if (!joinedGroup(dst)) return 'group-not-joined';
    if (isMulticast(src) || src === 0xffffffff) return 'multicast-source';
    if (isLoopbackAddr(src) && !localnet) return 'loopback-source';
    if (src >>> 24 === 0 && dst >>> 8 !== 0xe00000 && proto !== 2) return 'zero-source';
    return 'multicast';
  }
  if (isMulticast(src) || src === 0xffffffff) return 'multicast-source';
  if (dst === 0xffffffff || (!src && !dst)) return 'broadcast';
  if (src >>> 24 === 0) return 'zero-source';
  if (dst >>> 24 === 0) return 'zero-destination';
  if (isLoopbackAddr(dst)) return localnet ? undefined : 'loopback-destination';
  if (isLoopbackAddr(src) && !localnet) return 'loopback-source';
  return undefined;
}

/** inet_addr_type() / inet_dev_addr_type(): what the addrtype match sees */
export function addrType(fib: FibRoute[], addr: Ip4, dev?: string): AddrType {
  if (addr === 0 || addr === 0xffffffff) return 'BROADCAST';
  if (isMulticast(addr)) return 'MULTICAST';
  const r = tableLookup(fib, 'local', addr);
  if (r && (dev === undefined || r.dev === dev)) {
    return r.type === 'local' ? 'LOCAL' : r.type === 'broadcast' ? 'BROADCAST' : 'UNICAST';
  }
  return 'UNICAST';
}

export function describeRoute(r: FibRoute): string {
  if (r.rule) return `${r.type} (ip rule ${r.rule.pref})`;
  const dst = r.plen === 0 ? 'default' : r.plen === 32 ? ipToString(r.addr) : `${ipToString(r.addr)}/${r.plen}`;
  let s = r.type === 'unicast' ? dst : `${r.type} ${dst}`;
  if (r.gateway !== undefined) s += ` via ${ipToString(r.gateway)}`;
  s += ` dev ${r.dev}`;
  if (r.table !== 'main') s += ` table ${typeof r.table === 'number' ? tableName(r.table) : r.table}`;
  if (r.prefsrc !== undefined && r.type === 'unicast') s += ` src ${ipToString(r.prefsrc)}`;
  return s + metricsText(r);
}

/** the metrics of a route as print_route() lists them: " mtu [lock ]N advmss [lock ]N" */
export function metricsText(r: { mtu?: number; mtuLock?: boolean; advmss?: number; advmssLock?: boolean }): string {
  let s = '';
  if (r.mtu || r.mtuLock) s += ` mtu ${r.mtuLock ? 'lock ' : ''}${r.mtu ?? 0}`;
  if (r.advmss || r.advmssLock) s += ` advmss ${r.advmssLock ? 'lock ' : ''}${r.advmss ?? 0}`;
  return s;
}

export function ifaceOf(host: Host, name: string): Interface | undefined {
  return host.interfaces.find((i) => i.name === name);
}
