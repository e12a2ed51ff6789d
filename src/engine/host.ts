/**
 * One host's IPv4 stack, in the kernel's order. A packet either arrives on an interface
 * (ip_rcv: PREROUTING, the input route, then INPUT or FORWARD) or is sent by a local process
 * (ip_route_output, OUTPUT, the reroute check), and leaves through POSTROUTING. At each hook the
 * tables run in nf_tables priority order, conntrack sits between raw and mangle, NAT runs only for
 * a connection's first packet and is applied to every later one.
 */
import { findIpset, type AnySet, type ElemExt } from '../net/ipset.js';
import { countNfacct, findNfacct } from '../net/nfacct.js';
import { SimError } from '../errors.js';
import { ipToString, LOOPBACK, parseDotted, type Ip4 } from '../net/ipv4.js';
import type { Host, Lab, PolicyRule } from '../net/lab.js';
import { addrType, buildFib, defaultLookup, describeRoute, fibLookup, inputMartian, interfaceAddresses, isLoopbackAddr, flowPorts, isMulticast, fullSourceCheck, inSubnet, routeErrno, ruleText, selectSourceAddress, sourceRefused, type InputMartian, type L4, type FibRoute, type IfAddr, type RouteErrno } from '../net/routing.js';
import { arpConf, defaultTtl, effectiveConf, srcValidMark, type ConfKey } from '../net/sysctl.js';
import type { Rule } from '../ruleset/rule.js';
import { anyChainCreated, findChain, type TableName } from '../ruleset/tables.js';
import { lazyRules } from '../ruleset/lazy-rules.js';
import type { Rng } from '../util/rng.js';
import { addStatus, canStart, ConntrackTable, NAT_DONE_DST, NAT_DONE_SRC, ctView, updateCtView, invert, sameTuple, timeoutsOf, tupleOf, tupleText, type Conn, type Timeouts } from './conntrack.js';
import type { EventBody, Hook, TraceEvent } from './events.js';
import type { AddrType, ConntrackView, LocalSocket, NatRequest, PacketView, TargetContext, Tuple } from './ext-api.js';
import { runChain, type ChainResult, type ChainRunContext } from './netfilter.js';
import type { ChainPlan, RuleIndex } from './rule-index.js';
import { advertisedMss, deviceMtu, routeAdvmss, routeMtu } from '../net/mtu.js';
import { endpoint, isIcmpError, newPacket, nextPacketId, PROTO_ICMP, PROTO_TCP, PROTO_UDP, setSynMss, summarize, type Packet, type QuotedHeader } from './packet.js';
import { jhash2, rawBe32, reciprocalScale } from '../net/jhash.js';

export type HostOutcome =
  /** handed to the local socket layer after INPUT */
  | { kind: 'deliver'; pkt: Packet }
  /** sent out of `dev` towards `nexthop` after POSTROUTING */
  | { kind: 'transmit'; pkt: Packet; dev: string; nexthop: number }
  /**
   * gone; `replies` are what the host sends back (REJECT, ICMP errors). `sendErrno`: it was a local
   * process's packet, dropped on its way out (OUTPUT, the reroute, POSTROUTING): ip_local_out()
   * returns the drop as EPERM to the sender, which UDP and ICMP sockets report at once (TCP
   * retransmits instead)
   */
  | { kind: 'drop'; pkt: Packet; reason: string; replies: Packet[]; sendErrno?: 'EPERM' | RouteErrno }
  /** the local sender got an error at once (no route: ENETUNREACH/EHOSTUNREACH, EINVAL, EPERM) */
  | { kind: 'error'; pkt: Packet; errno: 'ENETUNREACH' | 'EHOSTUNREACH' | 'EINVAL' | 'EPERM' | 'EACCES'; reason: string };

type Step = TableName | 'conntrack' | 'nat' | 'confirm';

/** hook -> tables and conntrack steps in nf_tables priority order */
const HOOK_ORDER: Record<Hook, Step[]> = {
  PREROUTING: ['raw', 'conntrack', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat', 'confirm'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'conntrack', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat', 'confirm'],
};

/** NAT of the destination happens before routing, of the source after */
const MANIP: Partial<Record<Hook, 'SRC' | 'DST'>> = { PREROUTING: 'DST', OUTPUT: 'DST', INPUT: 'SRC', POSTROUTING: 'SRC' };

/**
 * A destination without a usable route (routeErrno()): the error a local sender gets back, and
 * the ICMP destination-unreachable code ip_error() answers a forwarded packet with (none for a
 * blackhole). Measured: fixtures/kernel/63-icmp-errors-beyond-nat, 146-policy-routing-actions.
 */
const NO_ROUTE_ANSWER: Record<RouteErrno, { code?: number; what: string }> = {
  ENETUNREACH: { code: 0, what: 'network unreachable' },
  EHOSTUNREACH: { code: 1, what: 'host unreachable' },
  EACCES: { code: 13, what: 'communication administratively prohibited' },
  EINVAL: { what: 'discarded without an answer' },
};

function martianDropped(m: InputMartian, src: number, dst: number, dev: string): Dropped {
  const source = (why: string) => new Dropped(`martian source ${ipToString(src)} on ${dev} (${why})`);
  switch (m) {
    case 'multicast-source':
      return source('multicast or broadcast source');
    case 'zero-source':
      return source('zero network source');
    case 'loopback-source':
      return source(`127.0.0.0/8 source needs net.ipv4.conf.${dev}.route_localnet=1`);
    case 'zero-destination':
      return new Dropped(`martian destination ${ipToString(dst)} on ${dev}`);
    case 'loopback-destination':
      return new Dropped(`martian destination ${ipToString(dst)} arriving on ${dev}: 127.0.0.0/8 is not routable there (net.ipv4.conf.${dev}.route_localnet=0)`);
    case 'group-not-joined':
      return new Dropped(`no route for multicast group ${ipToString(dst)} on ${dev}: no program joined it, and multicast is not forwarded`);
  }
}

class Dropped {
  constructor(
    readonly reason: string,
    readonly replies: Packet[] = [],
    /** a local packet's reroute found no usable route: the sender gets the route's error (NF_DROP_ERR) */
    readonly errno?: RouteErrno,
  ) {}
}

/** a socket of a traced connection on its host: its own address and port, its peer's */
export interface OpenSocket {
  proto: number;
  local: Ip4;
  lport: number;
  remote: Ip4;
  rport: number;
  /** false: a request socket (the server got the SYN and has not accepted yet) */
  full: boolean;
}

export interface HostEnv {
  lab: Lab;
  name: string;
  host: Host;
  rng: Rng;
  now: number;
  /** forced outcomes of random draws when every path is explored */
  chooser?: (probability: number) => boolean;
  emit(e: TraceEvent): void;
  /** skip the rules that cannot match (./rule-index.ts); results stay the rule-by-rule walk's */
  index?: RuleIndex;
  /**
   * trace --batch: no hook or rule events, no counters, and extension state that lives for one
   * packet only (the lab is read, never changed)
   */
  batch?: {
    /** this packet's state of an extension instance: a copy of the lab's, made on first use */
    extState(key: string, init: () => unknown): unknown;
    /** this packet's state under `key`, if it has made one */
    peek(key: string): unknown;
    /** each base chain run's result, in path order */
    chainResult(table: TableName, hook: Hook, res: ChainResult): void;
  };
}

/**
 * extensions whose kernel modules register conntrack for the network namespace (nf_ct_netns_get);
 * not socket, whose checkentry only enables defragmentation (fixtures/kernel/75-socket-no-conntrack)
 */
const CT_MATCHES = new Set(['conntrack', 'state', 'connmark', 'connlimit', 'connbytes', 'helper', 'cluster']);
const CT_TARGETS = new Set(['SNAT', 'DNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'CONNMARK', 'CT', 'NOTRACK']);

/**
 * Conntrack runs in a namespace only while something needs it: a nat base chain, or a rule
 * using a conntrack match or target. Without it packets carry no conntrack state at all.
 */
export function conntrackActive(host: Host): boolean {
  for (const [name, t] of Object.entries(host.tables)) {
    if (!t) continue;
    if (name === 'nat' && anyChainCreated(t)) return true;
    for (const c of t.chains) {
      // a long chain still in the lab file: the extensions its rules use are listed with it
      const lazy = lazyRules(c);
      if (lazy) {
        if (lazy.matches.some((m) => CT_MATCHES.has(m)) || lazy.targets.some((n) => CT_TARGETS.has(n))) return true;
        continue;
      }
      for (const r of c.rules) {
        if (r.matches.some((m) => CT_MATCHES.has(m.name))) return true;
        if (r.target?.kind === 'ext' && CT_TARGETS.has(r.target.name)) return true;
      }
    }
  }
  return false;
}

export class HostStack {
  readonly fib: FibRoute[];
  ct: ConntrackTable;
  private readonly name: string;
  private readonly host: Host;
  private readonly ctActive: boolean;
  /**
   * the kernel's NAT hooks run in this host (it has a nat base chain: nf_nat registers its hooks
   * at all four hooks for the first one), so every new connection gets the IPS_SRC_NAT_DONE and
   * IPS_DST_NAT_DONE status bits, which `conntrack -n/-g/-j` look at
   */
  private readonly natHooks: boolean;
  /** the host's addresses and interface settings do not change while a stack runs */
  private readonly addrs: IfAddr[];
  private readonly confs = new Map<string, Partial<Record<ConfKey, number>>>();
  /** srcValidMark() of each device asked for (the sysctls do not change while the stack runs) */
  private readonly vmarks = new Map<string, boolean>();
  /** TCP entries this run's packets went through (closed together when the connection ends; not kept in a batch, which never closes them) */
  private readonly tcpConns = new Set<Conn>();
  /** trace --batch: events nobody reads are not made */
  private readonly quiet: boolean;
  /** trace --batch: the last conntrack view made (refreshCtView()) */
  private view: ConntrackView | undefined;
  /** runChain() contexts by table and hook (tableRun()) */
  private readonly runs: (TableRun | undefined)[] = [];
  /**
   * with the rule index (trace --batch, whose tables do not change): by table and hook as `runs`,
   * the base chain's plan, or null when the table has no such chain in nf_tables; looked up once
   * instead of by name at every hook of every packet
   */
  private readonly basePlans: (ChainPlan | null | undefined)[] = [];
  /** the sockets of the connections this run traces here (socketFor()) */
  private readonly sockets: OpenSocket[] = [];
  /** fullSourceCheck() of the host */
  private readonly fullSourceCheck: boolean;
  /** the policy rule that answered lookup() last (fibLookup() fills it in) */
  private readonly found: { rule?: PolicyRule } = {};
  /** the host's conntrack timeouts (its sysctls do not change while it handles packets) */
  private readonly timeouts: Timeouts;

  constructor(private readonly env: HostEnv) {
    this.name = env.name;
    this.host = env.host;
    this.fib = buildFib(env.host);
    this.timeouts = timeoutsOf(env.host.sysctls);
    this.fullSourceCheck = fullSourceCheck(env.host);
    this.ct = new ConntrackTable(env.host.conntrack, env.now, this.timeouts);
    this.ctActive = conntrackActive(env.host);
    this.natHooks = !!env.host.tables.nat && anyChainCreated(env.host.tables.nat);
    this.addrs = interfaceAddresses(env.host);
    this.quiet = !!env.batch;
  }

  /**
   * fib_lookup() for a routing decision of this host, through its policy rules: `src` 0 when the
   * sender has no source yet, `iif` 'lo' for what the host sends itself
   */
  lookup(dst: Ip4, src = 0, iif = 'lo', mark = 0, tos = 0, l4?: L4, uid = 0): FibRoute | undefined {
    const rules = this.host.rules;
    // (the kernel's default rules ask nothing of the flow: no object made for a batch's every packet)
    return rules ? fibLookup(this.fib, rules, { dst, src, iif, mark, tos, uid, ...flowPorts(l4) }, this.found) : defaultLookup(this.fib, dst);
  }

  /** the policy rule that gave lookup()'s last answer, as `ip rule show` prints it, on a host whose rules were changed */
  private usedRule(): string | undefined {
    const r = this.host.rules && this.found.rule;
    return r ? ruleText(r, this.host.interfaces.map((i) => i.name), this.host.rules!).replace('\t', ' ') : undefined;
  }

  private conf(dev: string, key: ConfKey): number {
    let d = this.confs.get(dev);
    if (!d) this.confs.set(dev, (d = {}));
    return (d[key] ??= effectiveConf(this.host.sysctls, dev, key));
  }

  /** The TCP connections whose packets this run carried have been closed by their endpoints. */
  closeTcpConnections(): void {
    for (const c of this.tcpConns) this.ct.closeTcp(c);
  }

  /** Writes conntrack back into the host (the lab is saved by the caller). */
  persist(): void {
    this.host.conntrack = this.ct.toEntries();
  }

  /** trace --batch: the host's conntrack table as the lab holds it, for the next packet */
  resetConntrack(): void {
    // (without stored entries the table is emptied rather than made again)
    if (this.host.conntrack.length) this.ct = new ConntrackTable(this.host.conntrack, this.env.now, this.timeouts);
    else this.ct.clear();
    // (a batch keeps no TCP entries to close: conntrackIn() does not add them)
  }

  private emit(e: EventBody): void {
    this.env.emit({ host: this.name, ...e } as TraceEvent);
  }

  /**
   * __ip_dev_find(): whether a socket that is not transparent, or the stack answering a packet it
   * took in (an ICMP error, an echo reply, a reset, a SYN-ACK: from the address the packet was
   * sent to), may send from `a` (an address of an interface, up or down, or one the local table
   * has as local); routing refuses it otherwise, which a packet taken in through another table's
   * local route meets (measured: fixtures/kernel/147-policy-routing-local, 238-policy-routing-local-answers)
   */
  ownsSource(a: number): boolean {
    return addrType(this.fib, a) === 'LOCAL';
  }

  /** why an answer from `a` does not leave (see ownsSource()): "A, which is no address of HOST, ..." */
  refusedSource(a: number): string {
    return `${ipToString(a)}, which is no address of ${this.name}, and routing refuses that source`;
  }

  /** the MTU of this host's device `dev` */
  mtu(dev: string | undefined): number {
    return deviceMtu(this.host, dev);
  }

  /**
   * The MTUs TCPMSS --clamp-mss-to-pmtu takes the smaller of: the packet's route out, and
   * tcpmss_reverse_mtu()'s route to its source, asked with the address alone (none: no limit)
   */
  routeMtus(pkt: Packet): { out: number; back: number } {
    const out = pkt.route?.mtu ?? this.mtu(pkt.outIface);
    const r = this.lookup(pkt.src);
    const back = !r || routeErrno(r) ? Infinity : routeMtu(r, this.mtu(r.type === 'local' ? 'lo' : r.dev));
    return { out, back };
  }

  isLocalAddress(a: number): boolean {
    return this.addrs.some((x) => x.addr === a) || isLoopbackAddr(a);
  }

  // ---------------------------------------------------------------- receive path

  /** A packet arrives on `dev` (ip_rcv). */
  fromWire(pkt: Packet, dev: string): HostOutcome {
    pkt.inIface = dev;
    pkt.outIface = undefined;
    // eth_type_trans(): the frame's class, as a sender addresses it: a broadcast address to the
    // link's broadcast MAC, a group to its multicast MAC, anything else to this host's MAC
    pkt.pktType ??= pkt.dst === 0xffffffff || (pkt.dst !== 0 && addrType(this.fib, pkt.dst) === 'BROADCAST') ? 'broadcast' : isMulticast(pkt.dst) ? 'multicast' : 'unicast';
    setSynMss(pkt, advertisedMss(this.mtu(dev)));
    try {
      this.hook('PREROUTING', pkt);
      const route = this.routeInput(pkt, dev);
      if (route.local) {
        this.hook('INPUT', pkt);
        return { kind: 'deliver', pkt };
      }
      return this.forward(pkt, route);
    } catch (e) {
      if (e instanceof Dropped) return this.dropped(pkt, e);
      throw e;
    }
  }

  /** A locally generated packet looped back through lo: conntrack and NAT are already settled. */
  private fromLoopback(pkt: Packet): HostOutcome {
    // received again on lo: a new skb as far as nf_tables' trace ids go
    pkt.id = nextPacketId();
    pkt.inIface = 'lo';
    pkt.outIface = undefined;
    try {
      this.hook('PREROUTING', pkt, true);
      if (!this.quiet) this.emit({ kind: 'route', decision: 'input', dst: ipToString(pkt.dst), route: 'local (looped back on lo)' });
      this.hook('INPUT', pkt);
      return { kind: 'deliver', pkt };
    } catch (e) {
      if (e instanceof Dropped) return this.dropped(pkt, e);
      throw e;
    }
  }

  private dropped(pkt: Packet, d: Dropped, sendErrno?: 'EPERM' | RouteErrno): HostOutcome {
    const c = pkt.conn?.entry;
    if (c && !c.confirmed && !pkt.conn!.related) this.ct.discard(c);
    this.emit({ kind: 'drop', reason: d.reason });
    return { kind: 'drop', pkt, reason: d.reason, replies: d.replies, sendErrno };
  }

  /**
   * ip_route_input_noref() with the martian and reverse-path checks; `traced`: false for a lookup
   * that is no packet's way (an ARP request's checks), which shows no route events
   */
  private routeInput(pkt: Packet, dev: string, traced = true): { local: boolean; route?: FibRoute } {
    const say = traced && !this.quiet;
    const src = pkt.src;
    const dst = pkt.dst;
    const martian = inputMartian(src, dst, !!this.conf(dev, 'route_localnet'), pkt.proto);
    if (martian === 'broadcast' || martian === 'multicast') {
      // brd_input, ip_route_input_mc(): taken in without a lookup; a source other than 0.0.0.0 is validated
      if (src) this.validateSource(pkt, dev);
      const what = martian === 'broadcast' ? 'broadcast (the limited broadcast: taken in without a lookup)' : `multicast (a group ${this.name} has joined on ${dev}: taken in without a lookup)`;
      if (say) this.emit({ kind: 'route', decision: 'input', dst: ipToString(dst), route: what });
      return { local: true };
    }
    if (martian) throw martianDropped(martian, src, dst, dev);
    // (after PREROUTING: the mark and TOS mangle gave it count)
    const r = this.lookup(dst, src, dev, pkt.mark, pkt.tos, pkt);
    if (r && (r.type === 'local' || r.type === 'broadcast')) {
      this.validateSource(pkt, dev);
      if (say) this.emit({ kind: 'route', decision: 'input', dst: ipToString(dst), route: describeRoute(r), rule: this.usedRule() });
      return { local: true, route: r };
    }
    if (!this.conf(dev, 'forwarding')) {
      // ip_error(): a host that does not forward drops such packets without an ICMP error
      throw new Dropped(`${ipToString(dst)} is not a local address and forwarding is off on ${dev} (net.ipv4.ip_forward=0)`);
    }
    if (!r || r.type !== 'unicast') {
      // ip_error(): the route's error decides the answer; a blackhole gives none
      const { code, what } = NO_ROUTE_ANSWER[routeErrno(r)!];
      const reason = r ? `the route to ${ipToString(dst)} is ${describeRoute(r)}: ${what}` : `no route to ${ipToString(dst)}: ${what}`;
      throw new Dropped(reason, code === undefined ? [] : [this.attach(this.icmpError(pkt, 3, code), pkt)]);
    }
    this.validateSource(pkt, dev, r.dev);
    if (say) this.emit({ kind: 'route', decision: 'forward', dst: ipToString(dst), route: describeRoute(r), dev: r.dev, via: r.gateway !== undefined ? ipToString(r.gateway) : undefined, rule: this.usedRule() });
    return { local: false, route: r };
  }

  /** fib_validate_source(): a local address as source, and rp_filter; `oif`: the forward route's device */
  private validateSource(pkt: Packet, dev: string, oif?: string): void {
    const rpf = this.conf(dev, 'rp_filter');
    // (the way back is asked with the mark under src_valid_mark, rp_filter on or not: measured,
    // fixtures/kernel/321-random-frames-563)
    let vmark = this.vmarks.get(dev);
    if (vmark === undefined) this.vmarks.set(dev, (vmark = srcValidMark(this.host.sysctls, dev)));
    const mark = vmark ? pkt.mark : 0;
    const refused = sourceRefused({ fib: this.fib, rules: this.host.rules, addrs: this.addrs, src: pkt.src, dst: pkt.dst, dev, oif, mark, tos: pkt.tos, rpf, acceptLocal: !!this.conf(dev, 'accept_local'), full: this.fullSourceCheck, l4: pkt });
    if (refused === undefined) return;
    if (refused === 'own') throw new Dropped(`martian source ${ipToString(pkt.src)} on ${dev}: that is one of this host's own addresses (net.ipv4.conf.${dev}.accept_local=0)`);
    if ('martian' in refused) throw new Dropped(`martian source ${ipToString(pkt.src)} on ${dev}: the way back to it is ${describeRoute(refused.martian)}, not a unicast route`);
    throw new Dropped(`reverse-path filter (rp_filter=${rpf}) on ${dev}: a reply to ${ipToString(pkt.src)} would ${refused.rpf ? `leave by ${refused.rpf.dev}` : 'have no route'}`);
  }

  /** ip_forward(): TTL, FORWARD, then out */
  private forward(pkt: Packet, route: { route?: FibRoute }): HostOutcome {
    const r = route.route!;
    // (a frame the sender addressed to the link's broadcast or a multicast MAC is never forwarded,
    // whatever its address became: measured, fixtures/kernel/289-random-frames-533, a broadcast DNATed)
    if (pkt.pktType && pkt.pktType !== 'unicast') throw new Dropped(`not forwarded: the frame came to the link's ${pkt.pktType} address, not to ${this.name}'s own (ip_forward() forwards only frames addressed to it)`);
    if (pkt.ttl <= 1) throw new Dropped(`TTL expired while forwarding`, [this.attach(this.icmpError(pkt, 11, 0), pkt)]);
    // ip_exceeds_mtu(): too long for the way out (the route's MTU), and DF set (every traced
    // packet has it, as a Linux sender's do): not forwarded, not fragmented; the sender is told
    // the MTU, before the FORWARD chain (measured: fixtures/kernel/437-frag-needed, 438-route-mtu)
    const mtu = routeMtu(r, this.mtu(r.dev));
    if (pkt.len > mtu && !pkt.fragment) {
      const whose = r.mtu || r.mtuLock ? `the route's MTU (${describeRoute(r)})` : `${r.dev}'s MTU`;
      throw new Dropped(`${pkt.len} bytes with DF set do not fit ${whose} of ${mtu}: ICMP fragmentation needed (mtu ${mtu}) sent back`, [this.attach(this.icmpError(pkt, 3, 4), pkt)]);
    }
    pkt.ttl -= 1;
    pkt.outIface = r.dev;
    pkt.route = { dev: r.dev, gateway: r.gateway, local: false, mtu };
    this.hook('FORWARD', pkt);
    return this.postrouting(pkt);
  }

  // ---------------------------------------------------------------- local output

  /**
   * A local process sends `pkt` (src 0 = let routing choose); `connected`: by a socket that
   * connects (TCP, connected UDP), whose source, once chosen, is asked about again
   */
  fromSocket(pkt: Packet, connected = true): HostOutcome {
    pkt.inIface = undefined;
    // ip_route_output_key_hash_rcu(): no destination means this host: the source address, or
    // 127.0.0.1 for both when the sender chose none
    if (!pkt.dst) {
      if (!pkt.src) pkt.src = LOOPBACK;
      pkt.dst = pkt.src;
    }
    const unbound = !pkt.src;
    // (the sender's uid: a kernel's answer has none, 0)
    const uid = pkt.owner?.uid ?? 0;
    let r = this.lookup(pkt.dst, pkt.src, 'lo', pkt.mark, pkt.tos, pkt, uid);
    if (!r || routeErrno(r)) return this.noOutputRoute(pkt, r);
    let local = r.type === 'local' || r.type === 'broadcast';
    if (!pkt.src) pkt.src = r.prefsrc ?? (local ? pkt.dst : selectSourceAddress(this.host, r.dev, r.gateway ?? pkt.dst, this.addrs)) ?? 0;
    if (unbound && connected && this.host.rules && (pkt.proto === PROTO_TCP || pkt.proto === PROTO_UDP)) {
      // ip_route_connect(): a TCP or UDP socket that connects asks again with the source the first
      // answer chose, so that rules `from` that address decide (measured:
      // fixtures/kernel/147-policy-routing-local); the source stays
      // (a local route of another table gives the destination itself as the source: no address of
      // this host, which the second lookup refuses, -ENETUNREACH: measured, fixtures/kernel/186)
      if (!this.ownsSource(pkt.src)) {
        const reason = `the route gave ${ipToString(pkt.src)} as the source, which is no address of ${this.name}: connect() fails with ENETUNREACH`;
        this.emit({ kind: 'drop', reason });
        return { kind: 'error', pkt, errno: 'ENETUNREACH', reason };
      }
      r = this.lookup(pkt.dst, pkt.src, 'lo', pkt.mark, pkt.tos, pkt, uid);
      if (!r || routeErrno(r)) return this.noOutputRoute(pkt, r);
      local = r.type === 'local' || r.type === 'broadcast';
    }
    const dev = local ? 'lo' : r.dev;
    pkt.socketSrc = pkt.src;
    // ip_select_ttl(): what the host sends itself (sockets, RST and ICMP answers, REJECT) starts
    // with net.ipv4.ip_default_ttl (measured, fixtures/kernel/60-default-ttl)
    if (!pkt.ttlSet) pkt.ttl = defaultTtl(this.host.sysctls);
    const bad = this.outputSourceCheck(pkt.src, dev);
    if (!this.quiet) this.emit({ kind: 'route', decision: 'output', dst: ipToString(pkt.dst), route: describeRoute(r), dev, src: ipToString(pkt.src), via: r.gateway !== undefined ? ipToString(r.gateway) : undefined, rule: this.usedRule() });
    if (bad) {
      this.emit({ kind: 'drop', reason: bad });
      return { kind: 'error', pkt, errno: 'EINVAL', reason: bad };
    }
    pkt.outIface = dev;
    const mtu = routeMtu(r, this.mtu(dev));
    pkt.route = { dev, gateway: r.gateway, local, mtu };
    setSynMss(pkt, routeAdvmss(r, mtu));
    try {
      this.hook('OUTPUT', pkt);
      return this.postrouting(pkt);
    } catch (e) {
      if (e instanceof Dropped) return this.dropped(pkt, e, e.errno ?? 'EPERM');
      throw e;
    }
  }

  /** the sender's error when routing gave no usable route: fib_props[].error of the route, or the rule's */
  private noOutputRoute(pkt: Packet, r: FibRoute | undefined): HostOutcome {
    const errno = routeErrno(r)!;
    const { what } = NO_ROUTE_ANSWER[errno];
    const reason = r ? `the route to ${ipToString(pkt.dst)} from ${this.name} is ${describeRoute(r)}: ${what}` : `no route to ${ipToString(pkt.dst)} from ${this.name}`;
    this.emit({ kind: 'route', decision: 'output', dst: ipToString(pkt.dst), route: r ? describeRoute(r) : 'none', rule: this.usedRule() });
    this.emit({ kind: 'drop', reason });
    return { kind: 'error', pkt, errno, reason };
  }

  /** __mkroute_output(): a 127/8 source may leave only by lo unless route_localnet is on */
  private outputSourceCheck(src: number, dev: string): string | undefined {
    if (dev !== 'lo' && isLoopbackAddr(src) && !this.conf(dev, 'route_localnet')) {
      return `a packet from ${ipToString(src)} cannot leave by ${dev}: 127.0.0.0/8 sources need net.ipv4.conf.${dev}.route_localnet=1`;
    }
    return undefined;
  }

  /**
   * ip_route_me_harder(): routing again after OUTPUT changed the packet; the source stays. The
   * new route's device is the packet's from POSTROUTING on: the rest of the OUTPUT hook keeps the
   * hook's own out device (state->out), so filter OUTPUT's `-o` and the kernel's trace still see
   * the first route's (measured, fixtures/kernel/42-local-recent-owner).
   */
  private reroute(pkt: Packet): void {
    // (the source is kept when it is an address of this host or a unicast one, as here)
    const r = this.lookup(pkt.dst, pkt.src, 'lo', pkt.mark, pkt.tos, pkt, pkt.owner?.uid ?? 0);
    // (ipt_mangle_out(): NF_DROP_ERR() of the lookup's error, which the sender gets: measured,
    // fixtures/kernel/416-random-all-648, a mark that sends the lookup to a blackhole rule: EINVAL)
    if (!r || routeErrno(r)) throw new Dropped(`reroute: no route to ${ipToString(pkt.dst)}${r ? ` (${describeRoute(r)})` : ''}`, [], routeErrno(r));
    const local = r.type === 'local' || r.type === 'broadcast';
    const dev = local ? 'lo' : r.dev;
    const bad = this.outputSourceCheck(pkt.src, dev);
    if (!this.quiet) this.emit({ kind: 'route', decision: 'reroute', dst: ipToString(pkt.dst), route: describeRoute(r), dev, src: ipToString(pkt.src), via: r.gateway !== undefined ? ipToString(r.gateway) : undefined, rule: this.usedRule() });
    if (bad) throw new Dropped(`reroute check: ${bad}`);
    pkt.route = { dev, gateway: r.gateway, local, mtu: routeMtu(r, this.mtu(dev)) };
  }

  private postrouting(pkt: Packet): HostOutcome {
    pkt.outIface = pkt.route!.dev;
    this.hook('POSTROUTING', pkt);
    const route = pkt.route!;
    if (route.local) return this.fromLoopback(pkt);
    return { kind: 'transmit', pkt, dev: route.dev, nexthop: route.gateway ?? pkt.dst };
  }

  // ---------------------------------------------------------------- hooks

  private hook(hook: Hook, pkt: Packet, looped = false): void {
    for (const step of HOOK_ORDER[hook]) {
      if (step === 'conntrack') {
        if (!looped && this.ctActive) this.conntrackIn(pkt);
        continue;
      }
      if (step === 'confirm') {
        if (this.ctActive) this.confirm(pkt);
        continue;
      }
      if (step === 'nat') {
        if (this.ctActive) this.nat(hook, pkt, looped);
        continue;
      }
      const changedBefore = hook === 'OUTPUT' && step === 'mangle' ? snapshot(pkt) : undefined;
      const res = this.runTable(step, hook, pkt);
      if (res) this.handleVerdict(res, pkt, hook);
      if (changedBefore && changedBefore !== snapshot(pkt)) this.reroute(pkt);
    }
  }

  /** Runs a table's base chain for this hook if nf_tables has it. */
  private runTable(table: TableName, hook: Hook, pkt: Packet): ReturnType<typeof runChain> | undefined {
    const t = this.host.tables[table];
    const index = this.env.index;
    let plan: ChainPlan | undefined;
    if (index) {
      const key = TABLE_RUN_SLOT[table] * 5 + HOOK_SLOT[hook];
      let p = this.basePlans[key];
      if (p === undefined) {
        const chain = t && index.chain(t, hook);
        this.basePlans[key] = p = t && chain && chain.created ? index.plan(t, chain) : null;
      }
      if (!p) return undefined;
      plan = p;
    } else {
      const chain = t && findChain(t, hook);
      if (!t || !chain || !chain.created) return undefined;
    }
    const batch = this.env.batch;
    if (!batch) this.emit({ kind: 'hook', hook, table, chain: hook, pkt: summarize(pkt), nftrace: pkt.nftrace });
    this.refreshCtView(pkt);
    const run = this.tableRun(table, hook, pkt);
    run.plan = plan;
    let res: ChainResult;
    run.busy = true;
    try {
      res = runChain(t!, hook, pkt, run);
    } finally {
      run.busy = false;
    }
    batch?.chainResult(table, hook, res);
    return res;
  }

  /** the context of a base chain run: one per table and hook, for one run at a time (runs do not nest) */
  private tableRun(table: TableName, hook: Hook, pkt: Packet): TableRun {
    const key = TABLE_RUN_SLOT[table] * 5 + HOOK_SLOT[hook];
    let run = this.runs[key];
    if (!run || run.busy) {
      run = new TableRun(this, this.env, this.name, table, hook);
      if (!this.runs[key]) this.runs[key] = run;
    }
    run.pkt = pkt;
    return run;
  }

  private handleVerdict(res: ReturnType<typeof runChain>, pkt: Packet, hook: Hook): void {
    const t = res.target;
    if (res.verdict === 'DROP') {
      const reply = t?.reject ? this.rejectReply(pkt, t.reject, hook) : undefined;
      const what = !t?.reject ? (t?.note ? `dropped it (${t.note})` : 'dropped it') : `rejected it (${t.reject}${reply ? '' : `; no answer leaves: it would come from ${this.refusedSource(pkt.dst)}`})`;
      throw new Dropped(`${res.decidedBy} ${what}`, reply ? [this.attach(reply, pkt)] : []);
    }
    if (res.verdict === 'QUEUE') {
      throw new Dropped(`${res.decidedBy} queued it to userspace queue ${t?.queue ?? 0}, where nothing listens in the lab`);
    }
  }

  // ---------------------------------------------------------------- conntrack

  private conntrackIn(pkt: Packet): void {
    if (pkt.conn?.related) {
      // a reset or ICMP error this host made: it carries the connection it answers (nf_ct_attach)
      this.emit({ kind: 'conntrack', action: 'related', text: `RELATED to ${tupleText(pkt.conn.entry.orig)}` });
      this.refreshCtView(pkt);
      return;
    }
    if (pkt.notrack) {
      pkt.ct = { ...untrackedView(pkt), state: 'UNTRACKED' };
      this.emit({ kind: 'conntrack', action: 'untracked', text: 'not tracked (CT --notrack)' });
      return;
    }
    if (pkt.proto === PROTO_ICMP && isIcmpError(pkt.icmpType)) {
      this.icmpErrorIn(pkt);
      return;
    }
    const t = tupleFromPacket(pkt);
    let hit = this.ct.find(t, pkt.ctZone, pkt.proto === PROTO_ICMP ? pkt.icmpType : undefined);
    if (hit && this.ct.reopens(hit.conn, pkt, hit.reply)) {
      if (!this.quiet) this.emit({ kind: 'conntrack', action: 'destroyed', text: `entry deleted: a new SYN reopens ${tupleText(hit.conn.orig)}, which was in ${hit.conn.state}` });
      hit = undefined;
    }
    if (hit) {
      if (!this.ct.track(hit.conn, pkt, hit.reply)) {
        pkt.ct = { ...untrackedView(pkt), state: 'INVALID' };
        pkt.conn = undefined;
        this.emit({ kind: 'conntrack', action: 'invalid', text: `INVALID: a TCP segment that does not fit ${tupleText(hit.conn.orig)} in state ${hit.conn.state} (no answer to its SYN yet)` });
        return;
      }
      pkt.conn = { entry: hit.conn, reply: hit.reply };
      if (pkt.proto === PROTO_TCP && !this.quiet) this.tcpConns.add(hit.conn);
      const st = hit.reply || hit.conn.status.includes('SEEN_REPLY') ? 'ESTABLISHED' : 'NEW';
      if (!this.quiet) this.emit({ kind: 'conntrack', action: 'established', text: `${st}${hit.reply ? ' (reply direction)' : ''}: ${tupleText(hit.conn.orig)}` });
      if (hit.conn.killed) this.emit({ kind: 'conntrack', action: 'destroyed', text: `entry deleted: ${hit.conn.killed}` });
      this.refreshCtView(pkt);
      return;
    }
    if (!canStart(pkt)) {
      pkt.ct = { ...untrackedView(pkt), state: 'INVALID' };
      pkt.conn = undefined;
      this.emit({ kind: 'conntrack', action: 'invalid', text: `INVALID: a ${pkt.proto === PROTO_TCP ? 'TCP segment' : pkt.proto === PROTO_ICMP ? 'ICMP message that is no query' : 'packet'} that belongs to no known connection` });
      return;
    }
    const c = this.ct.create(pkt);
    this.ct.track(c, pkt, false);
    if (pkt.proto === PROTO_TCP && !this.quiet) this.tcpConns.add(c);
    pkt.conn = { entry: c, reply: false };
    if (!this.quiet) this.emit({ kind: 'conntrack', action: 'new', text: `NEW: ${tupleText(c.orig)}` });
    this.refreshCtView(pkt);
  }

  /**
   * nf_conntrack_icmpv4_error(): an ICMP error belongs to the connection of the packet it quotes
   * (looked up by the quoted header turned around) and is RELATED to it, in that packet's opposite
   * direction; an error about no known connection gets no conntrack at all (INVALID).
   */
  private icmpErrorIn(pkt: Packet): void {
    const q = pkt.inner;
    const hit = q && this.ct.find(invert(tupleOf(q)), pkt.ctZone);
    if (!hit) {
      pkt.ct = { ...untrackedView(pkt), state: 'INVALID' };
      pkt.conn = undefined;
      this.emit({ kind: 'conntrack', action: 'invalid', text: `INVALID: an ICMP error about ${q ? describeQuoted(q) : 'nothing it quotes'}, which belongs to no known connection` });
      return;
    }
    pkt.conn = { entry: hit.conn, reply: hit.reply, related: true };
    this.emit({ kind: 'conntrack', action: 'related', text: `RELATED to ${tupleText(hit.conn.orig)} (an ICMP error about ${describeQuoted(q!)})` });
    this.refreshCtView(pkt);
  }

  private confirm(pkt: Packet): void {
    const c = this.connOf(pkt);
    if (c && !c.confirmed) {
      // __nf_conntrack_confirm(): a new entry whose tuples another entry already holds (NAT found
      // no free port in its range) is not inserted, and its packet is dropped
      let clash: Conn | undefined;
      for (const o of this.ct.conns) {
        if (o === c || !o.confirmed || o.zone !== c.zone) continue;
        if (sameTuple(o.orig, c.orig) || sameTuple(o.orig, c.reply) || sameTuple(o.reply, c.orig) || sameTuple(o.reply, c.reply)) {
          clash = o;
          break;
        }
      }
      if (clash) {
        throw new Dropped(`conntrack could not insert the new entry: its reply tuple ${tupleText(c.reply)} is already used by the connection ${tupleText(clash.orig)} (insertion clash: the NAT range has no free port left for it)`);
      }
      c.confirmed = true;
      if (!this.quiet) this.emit({ kind: 'conntrack', action: 'confirmed', text: `entry confirmed: ${tupleText(c.orig)} (reply expected as ${tupleText(c.reply)})` });
    }
  }

  private connOf(pkt: Packet): Conn | undefined {
    return pkt.conn?.entry;
  }

  private refreshCtView(pkt: Packet): void {
    const c = this.connOf(pkt);
    if (!c) return;
    // trace --batch: the packet's view is brought up to date in place (nothing keeps an older one:
    // no events), instead of a new one for each table run
    if (this.quiet && pkt.ct !== undefined && pkt.ct === this.view) updateCtView(pkt.ct, c, pkt.conn!.reply, this.env.now);
    else {
      pkt.ct = ctView(c, pkt.conn!.reply, this.env.now);
      if (this.quiet) this.view = pkt.ct;
    }
    // a reset or ICMP error attached to a connection is seen by the rules as RELATED (IP_CT_RELATED)
    if (pkt.conn!.related) pkt.ct.state = 'RELATED';
  }

  // ---------------------------------------------------------------- NAT

  /** nf_nat_inet_fn(): decide the binding for a new connection, then rewrite the packet */
  private nat(hook: Hook, pkt: Packet, looped: boolean): void {
    const manip = MANIP[hook]!;
    const c = this.connOf(pkt);
    if (!c) return;
    const reply = pkt.conn!.reply;
    if (!reply && !(c.natDone & (manip === 'SRC' ? NAT_DONE_SRC : NAT_DONE_DST)) && !looped && !pkt.conn!.related) {
      if (c.confirmed) {
        // an entry `conntrack -I` made without NAT: its new packets (IP_CT_NEW) still go through the
        // nat table, but nf_nat_setup_info() sets nothing up for a confirmed connection
        if (c.status.includes('SEEN_REPLY')) return;
        const res = this.runTable('nat', hook, pkt);
        if (res?.verdict === 'DROP' || res?.verdict === 'QUEUE') this.handleVerdict(res, pkt, hook);
        else if (res?.target?.nat && !this.quiet) this.emit({ kind: 'note', text: `${res.target.nat.kind} does nothing here: the connection's entry is confirmed (made by conntrack -I without NAT), and the kernel sets no NAT up for a confirmed connection` });
        return;
      }
      const res = this.runTable('nat', hook, pkt);
      if (res?.verdict === 'DROP' || res?.verdict === 'QUEUE') this.handleVerdict(res, pkt, hook);
      const req = res?.target?.nat;
      if (req) this.bind(c, pkt, req, manip, hook);
      else this.nullBinding(c, manip);
      c.natDone |= manip === 'SRC' ? NAT_DONE_SRC : NAT_DONE_DST;
      if (this.natHooks) addStatus(c, manip === 'SRC' ? 'SRC_NAT_DONE' : 'DST_NAT_DONE');
    }
    this.manipPacket(c, pkt, manip, reply, hook);
  }

  private bind(c: Conn, pkt: Packet, req: NatRequest, manip: 'SRC' | 'DST', hook: Hook): void {
    const cur = invert(c.reply);
    let addr: number;
    let port: number;
    if (manip === 'DST') {
      addr = cur.dst;
      port = cur.dport;
      if (req.kind === 'REDIRECT') {
        addr = hook === 'OUTPUT' ? LOOPBACK : this.primaryAddress(pkt.inIface) ?? addr;
      } else if (req.kind === 'NETMAP' && req.netmap) {
        addr = ((req.netmap.addr & req.netmap.mask) | (cur.dst & ~req.netmap.mask)) >>> 0;
      } else if (req.minIp !== undefined) {
        addr = this.pickAddress(req, c, cur, manip);
      }
    } else {
      addr = cur.src;
      port = cur.sport;
      // the range of addresses the target asks for (one address for MASQUERADE and NETMAP)
      let range: [number, number] | undefined;
      if (req.kind === 'MASQUERADE') {
        const dev = pkt.outIface!;
        const a = selectSourceAddress(this.host, dev, pkt.route?.gateway ?? pkt.dst, this.addrs);
        if (a === undefined) throw new Dropped(`MASQUERADE: ${dev} has no address`);
        range = [a, a];
      } else if (req.kind === 'NETMAP' && req.netmap) {
        const a = ((req.netmap.addr & req.netmap.mask) | (cur.src & ~req.netmap.mask)) >>> 0;
        range = [a, a];
      } else if (req.minIp !== undefined) {
        range = [req.minIp, req.maxIp ?? req.minIp];
      }
      const kept = range && this.currentSrcMap(c, cur, req, range[0], range[1]);
      if (kept) {
        this.setBinding(c, manip, kept.src, kept.sport, req.kind, hook);
        return;
      }
      if (range) addr = range[0] === range[1] ? range[0] : this.pickAddress(req, c, cur, manip);
    }
    port = this.pickPort(c, manip, addr, port, req);
    this.setBinding(c, manip, addr, port, req.kind, hook);
  }

  primaryAddress(dev: string | undefined): number | undefined {
    return dev === undefined ? undefined : this.addrs.find((a) => a.dev === dev)?.addr;
  }

  /**
   * get_unique_tuple()'s choice of address in the range: source NAT keeps a source already in the
   * range (and its port, when a port range is given) if that tuple is free; otherwise
   * find_best_ips_proto() hashes the connection's current source with its destination (0 with
   * --persistent) and scales the hash into the range. No boot-time key: the same connection gets
   * the same address on every machine (measured, fixtures/kernel/44-nat-address-ranges).
   */
  private pickAddress(req: NatRequest, c: Conn, cur: Tuple, manip: 'SRC' | 'DST'): number {
    const lo = req.minIp!;
    const hi = req.maxIp ?? lo;
    if (hi <= lo) return lo;
    if (manip === 'SRC' && !req.random && !req.randomFully && cur.src >= lo && cur.src <= hi) {
      const portOk = req.minPort === undefined || (cur.sport >= req.minPort && cur.sport <= (req.maxPort ?? req.minPort));
      if (portOk && !this.ct.replyTaken(this.replyWith(c, 'SRC', cur.src, cur.sport), c)) return cur.src;
    }
    const j = jhash2([rawBe32(cur.src), 0, 0, 0], req.persistent ? 0 : (rawBe32(cur.dst) ^ c.zone) >>> 0);
    return lo + reciprocalScale(j, hi - lo + 1);
  }

  /**
   * get_unique_tuple()'s find_appropriate_src(): a source outside the range [lo, hi] (and outside
   * the port range, when one is given) that an earlier connection from the same address and port
   * (same protocol and zone, its source NAT set up: the nf_nat_bysource list, newest first) was
   * mapped to a source in the range keeps that mapping, if the tuple is free. Only the first such
   * connection is asked. Not with --random or --random-fully. Measured: SNAT to an address range
   * (fixtures/kernel/213-snat-same-source: the second destination gets the first one's address,
   * not its own hash's), and by hand MASQUERADE --to-ports 1024-65535 of a UDP server's answers
   * from port 80: each answer got the port drawn at random for the first one.
   */
  private currentSrcMap(c: Conn, cur: Tuple, req: NatRequest, lo: number, hi: number): { src: number; sport: number } | undefined {
    if (req.random || req.randomFully) return undefined;
    const inRange = (a: number, p: number) => a >= lo && a <= hi && (req.minPort === undefined || (p >= req.minPort && p <= (req.maxPort ?? req.minPort)));
    // (a source already in the range is get_unique_tuple()'s first case: pickAddress/pickPort)
    if (inRange(cur.src, cur.sport)) return undefined;
    const conns = this.ct.conns;
    for (let i = conns.length - 1; i >= 0; i--) {
      const o = conns[i]!;
      if (o === c || !(o.natDone & NAT_DONE_SRC) || o.zone !== c.zone || o.proto !== c.proto || o.orig.src !== cur.src || o.orig.sport !== cur.sport) continue;
      const mapped = invert(o.reply);
      if (!inRange(mapped.src, mapped.sport)) continue;
      return this.ct.replyTaken(this.replyWith(c, 'SRC', mapped.src, mapped.sport), c) ? undefined : mapped;
    }
    return undefined;
  }

  /** nf_nat_l4proto_unique_tuple(): keep the port if it is allowed and free, else find one */
  private pickPort(c: Conn, manip: 'SRC' | 'DST', addr: number, port: number, req: NatRequest): number {
    const ported = c.proto === PROTO_TCP || c.proto === PROTO_UDP;
    if (!ported) return port;
    const min = req.minPort ?? (manip === 'SRC' ? (port < 1024 ? (port < 512 ? 1 : 600) : 1024) : port);
    const max = req.maxPort ?? (manip === 'SRC' ? (port < 1024 ? (port < 512 ? 511 : 1023) : 65535) : port);
    const free = (p: number) => this.ct.alone(c) || !this.ct.replyTaken(this.replyWith(c, manip, addr, p), c);
    const inRange = port >= min && port <= max;
    if (inRange && !req.random && !req.randomFully && free(port)) return port;
    if (req.minPort === undefined && free(port)) return port;
    const span = max - min + 1;
    // nf_nat_l4proto_unique_tuple(): the search starts at a random offset for source NAT (and
    // with --random), at the range's first port for destination NAT
    const start = req.randomFully || req.random || manip === 'SRC' ? Math.floor(this.env.rng.next() * span) : 0;
    let p = port;
    for (let i = 0; i < span; i++) {
      p = min + ((start + i) % span);
      if (free(p)) return p;
    }
    // every port is taken: the last one tried stays, and the entry clashes when it is confirmed
    return p;
  }

  private replyWith(c: Conn, manip: 'SRC' | 'DST', addr: number, port: number): Tuple {
    return manip === 'SRC' ? { ...c.reply, dst: addr, dport: port } : { ...c.reply, src: addr, sport: port };
  }

  private nullBinding(c: Conn, manip: 'SRC' | 'DST'): void {
    // the current address is kept; a clashing source port is still moved (nf_nat_alloc_null_binding)
    const cur = invert(c.reply);
    if (manip === 'SRC' && (c.proto === PROTO_TCP || c.proto === PROTO_UDP) && this.ct.replyTaken(c.reply, c)) {
      const port = this.pickPort(c, 'SRC', cur.src, cur.sport, { kind: 'SNAT' });
      this.setBinding(c, 'SRC', cur.src, port, 'null binding', 'POSTROUTING');
      return;
    }
    if (!this.quiet) this.emit({ kind: 'conntrack', action: 'null-binding', text: `no ${manip === 'DST' ? 'destination' : 'source'} NAT for this connection` });
  }

  private setBinding(c: Conn, manip: 'SRC' | 'DST', addr: number, port: number, kind: string, hook: Hook): void {
    const before = c.reply;
    c.reply = this.replyWith(c, manip, addr, port);
    const changed = before.src !== c.reply.src || before.dst !== c.reply.dst || before.sport !== c.reply.sport || before.dport !== c.reply.dport;
    if (changed) addStatus(c, manip === 'SRC' ? 'SNAT' : 'DNAT');
    const ported = c.proto === PROTO_TCP || c.proto === PROTO_UDP;
    if (this.quiet) return;
    this.emit({
      kind: 'conntrack',
      action: 'nat-binding',
      text: `${kind} in ${hook}: ${manip === 'SRC' ? 'source' : 'destination'} becomes ${endpoint(addr, ported ? port : undefined)}; replies will come as ${tupleText(c.reply)}`,
    });
  }

  /** nf_nat_packet(): rewrite this packet according to the connection's bindings */
  private manipPacket(c: Conn, pkt: Packet, manip: 'SRC' | 'DST', reply: boolean, hook: Hook): void {
    const bit = manip === 'SRC' ? 'SNAT' : 'DNAT';
    const statusBit = reply ? (bit === 'SNAT' ? 'DNAT' : 'SNAT') : bit;
    if (!c.status.includes(statusBit)) return;
    if (pkt.conn?.related && pkt.inner && pkt.proto === PROTO_ICMP && isIcmpError(pkt.icmpType)) this.manipQuoted(c, pkt, manip, reply);
    // the tuple the packet's own direction gets: the other direction's, turned around
    const other = reply ? c.orig : c.reply;
    const ported = pkt.proto === PROTO_TCP || pkt.proto === PROTO_UDP;
    if (manip === 'SRC') {
      const addr = pkt.src;
      const port = pkt.sport;
      pkt.src = other.dst;
      if (ported) pkt.sport = other.dport;
      const changed = pkt.src !== addr || pkt.sport !== port;
      if (changed && !this.quiet) {
        const before = endpoint(addr, ported ? port : undefined);
        const after = endpoint(pkt.src, ported ? pkt.sport : undefined);
        this.emit({ kind: 'rewrite', table: 'nat', chain: hook, target: reply ? 'reverse DNAT' : 'SNAT', field: 'source', before, after });
      }
    } else {
      const addr = pkt.dst;
      const port = pkt.dport;
      pkt.dst = other.src;
      if (ported) pkt.dport = other.sport;
      const changed = pkt.dst !== addr || pkt.dport !== port;
      if (changed && !this.quiet) {
        const before = endpoint(addr, ported ? port : undefined);
        const after = endpoint(pkt.dst, ported ? pkt.dport : undefined);
        this.emit({ kind: 'rewrite', table: 'nat', chain: hook, target: reply ? 'reverse SNAT' : 'DNAT', field: 'destination', before, after });
      }
      if (hook === 'OUTPUT' && changed) this.reroute(pkt);
    }
    this.refreshCtView(pkt);
  }

  /**
   * nf_nat_icmp_reply_translation(): the header an ICMP error quotes gets this hook's opposite
   * manipulation, taken from the quoted packet's own direction, so that it reads as the packet its
   * receiver will recognise (the outer header is rewritten like any packet of that direction)
   */
  private manipQuoted(c: Conn, pkt: Packet, manip: 'SRC' | 'DST', reply: boolean): void {
    const own = reply ? c.orig : c.reply;
    const q = { ...pkt.inner! };
    const ported = q.proto === PROTO_TCP || q.proto === PROTO_UDP;
    if (manip === 'SRC') {
      q.dst = own.dst;
      if (ported) q.dport = own.dport;
    } else {
      q.src = own.src;
      // an echo's id is the source part of its tuple
      if (ported || q.proto === PROTO_ICMP) q.sport = own.sport;
    }
    const before = describeQuoted(pkt.inner!);
    const after = describeQuoted(q);
    pkt.inner = q;
    if (before !== after) this.emit({ kind: 'conntrack', action: 'reverse-nat', text: `the ICMP error's quoted header ${before} becomes ${after}` });
  }

  // ---------------------------------------------------------------- extension context

  /** the state of an extension instance (ExtContext.state/shared) */
  extState<T>(key: string, init: () => T): T {
    const batch = this.env.batch;
    if (batch) return batch.extState(key, init) as T;
    const st = this.host.extState;
    if (!(key in st)) st[key] = init();
    return st[key] as T;
  }

  /**
   * The host's IP set of that name as this packet sees it, to read or to change. A batch's packet
   * that changes a set (SET) works on a copy of its own, which its later lookups see.
   */
  ipset(name: string, change: boolean): AnySet | undefined {
    const set = findIpset(this.host, name);
    const batch = this.env.batch;
    if (!set || !batch) return set;
    const key = `ipset/${name}`;
    if (change) return batch.extState(key, () => structuredClone(set)) as AnySet;
    return (batch.peek(key) as AnySet | undefined) ?? set;
  }

  /** an nfacct match counts into the host's accounting object (a batch's packet leaves it as it is) */
  countNfacct(name: string, bytes: number): boolean {
    const o = findNfacct(this.host.nfacct, name);
    // (the kernel keeps the object while a rule names it: only a lab file edited by hand lacks it)
    if (!o) throw new SimError(`cannot trace through the nfacct match: the accounting object "${name}" is missing from ${this.name}'s lab file; was it edited by hand? \`nfacct add ${name}\` makes it`, 1);
    return countNfacct(o, bytes, !this.env.batch);
  }

  /** a socket of a connection being traced: lab-sim opens it (a client's, a server's request socket) */
  openSocket(s: OpenSocket): void {
    this.sockets.push(s);
  }

  /**
   * nf_sk_lookup_slow_v4(): the socket of this host a packet is for. Its addresses and ports (for
   * an ICMP error, those of the packet it quotes, turned round; for a reply of a connection with
   * SNAT, the original source as destination) find one of the connections the trace opened here,
   * else a listener (TCP) or bound socket (UDP) on the port, one bound to the address before one
   * bound to 0.0.0.0, whatever the destination address (a forwarded packet finds them too).
   */
  socketFor(pkt: Packet): LocalSocket | undefined {
    let { proto, src: saddr, dst: daddr, sport, dport } = pkt;
    const ct = pkt.ct;
    if (proto === PROTO_ICMP) {
      // extract_icmp4_fields(): an echo has no socket to find
      const q = isIcmpError(pkt.icmpType) ? pkt.inner : undefined;
      if (!q || (q.proto !== PROTO_TCP && q.proto !== PROTO_UDP)) return undefined;
      ({ proto, src: daddr, dst: saddr, sport: dport, dport: sport } = q);
    } else if (proto !== PROTO_TCP && proto !== PROTO_UDP) return undefined;
    if (ct && ct.reply && ct.state === (pkt.proto === PROTO_ICMP ? 'RELATED' : 'ESTABLISHED') && ct.status.includes('SNAT')) {
      daddr = ct.orig.src;
      dport = ct.orig.sport;
    }
    for (const s of this.sockets) if (s.proto === proto && s.local === daddr && s.lport === dport && s.remote === saddr && s.rport === sport) return { full: s.full, anyAddr: false };
    const name = proto === PROTO_TCP ? 'tcp' : 'udp';
    let any = false;
    for (const s of this.host.services) {
      if (s.proto !== name || s.port !== dport) continue;
      if (s.addr === '0.0.0.0') any = true;
      else if (parseDotted(s.addr) === daddr) return { full: true, anyAddr: false };
    }
    return any ? { full: true, anyAddr: true } : undefined;
  }

  /**
   * rpfilter_mt()'s question (rpfilter_lookup_reverse()): the way back to the source, asked as the
   * host's own packet from the destination would be (no source when that is multicast, limited
   * broadcast or 0/8), with the packet's mark under --validmark; a unicast route (or a local one
   * under --accept-local) by the device the packet came in by, or any under --loose
   */
  reversePathOk(p: PacketView, o: { loose: boolean; validmark: boolean; acceptLocal: boolean }): boolean {
    const from = isMulticast(p.dst) || p.dst === 0xffffffff || p.dst >>> 24 === 0 ? 0 : p.dst;
    const back = this.lookup(p.src, from, 'lo', o.validmark ? p.mark : 0, p.tos);
    if (!back || (back.type !== 'unicast' && !(back.type === 'local' && o.acceptLocal))) return false;
    return o.loose || back.dev === p.inIface;
  }

  ctMark(pkt: Packet): number | undefined {
    return this.connOf(pkt)?.mark;
  }

  setCtMark(pkt: Packet, m: number): void {
    const c = this.connOf(pkt);
    if (c) c.mark = m >>> 0;
    this.refreshCtView(pkt);
  }

  // ---------------------------------------------------------------- replies the stack makes

  /** nf_ct_attach(): an answer the stack makes travels as RELATED, in the other direction */
  attach(reply: Packet, to: Packet): Packet {
    if (to.conn) reply.conn = { entry: to.conn.entry, reply: !to.conn.reply, related: true };
    return reply;
  }

  // ---------------------------------------------------------------- ARP

  /**
   * arp_solicit(): the sender address of this host's ARP request for `target` on `dev`, asked to
   * send a packet from `src`: that source when it is an address of the host (arp_announce 0, or 1
   * when `target` is on a subnet of `dev` that holds it too), else a primary address of `dev`
   * (inet_select_addr(), arp_announce 2 always)
   */
  arpSender(dev: string, target: Ip4, src: Ip4): Ip4 {
    const announce = arpConf(this.host.sysctls, dev).announce;
    // (inet_addr_type_dev_table(): any address of the host, not only those of `dev`)
    const own = src !== 0 && addrType(this.fib, src) === 'LOCAL';
    if (own && announce !== 1 && announce !== 2) return src;
    if (own && announce === 1 && this.addrs.some((a) => a.dev === dev && inSubnet(target, a) && inSubnet(src, a))) return src;
    return selectSourceAddress(this.host, dev, target, this.addrs) ?? 0;
  }

  /**
   * arp_process(): whether this host answers an ARP request for `tip` from `sip` that came in on
   * `dev`. 'local': ip_route_input_noref(tip, sip, tos 0, dev) takes it in by a local route (the
   * martian and reverse-path checks of a packet from sip included; any address of the host, not
   * only those of `dev`), and arp_ignore and arp_filter let it answer; 'proxy': a forwarding
   * device with proxy_arp, whose route to `tip` leaves by another device. Measured:
   * fixtures/kernel/351-arp-answers, 352-arp-martian.
   */
  arpAnswer(dev: string, sip: Ip4, tip: Ip4): 'local' | 'proxy' | { refused: string } | undefined {
    if (isMulticast(tip) || (isLoopbackAddr(tip) && !this.conf(dev, 'route_localnet'))) return undefined;
    const arp = arpConf(this.host.sysctls, dev);
    // why a host that has the address does not answer (nothing to say for one that has not)
    const refused = (why: string) => (addrType(this.fib, tip) === 'LOCAL' ? { refused: why } : undefined);
    const ignored = () => refused(`net.ipv4.conf.${dev}.arp_ignore is ${arp.ignore}: ${ARP_IGNORE[arp.ignore]}`);
    // a duplicate address probe (from 0.0.0.0): an address of the host, as arp_ignore allows
    if (sip === 0) return addrType(this.fib, tip) !== 'LOCAL' ? undefined : this.arpIgnores(arp.ignore, dev, sip, tip) ? ignored() : 'local';
    let r: { local: boolean; route?: FibRoute };
    try {
      r = this.routeInput(newPacket({ src: sip, dst: tip, proto: 0 }), dev, false);
    } catch (e) {
      if (e instanceof Dropped) return refused(`routing refuses the request as it would a packet from ${ipToString(sip)} (${e.reason})`);
      throw e;
    }
    const route = r.route;
    if (route?.type === 'local') {
      if (this.arpIgnores(arp.ignore, dev, sip, tip)) return ignored();
      // arp_filter(): the way back to the requester leaves by the device asked
      const back = arp.filter ? this.lookup(sip, tip)?.dev : dev;
      if (back !== dev) return refused(`arp_filter is on and the way back to ${ipToString(sip)} ${back ? `leaves by ${back}` : 'is missing'}, not ${dev}`);
      return 'local';
    }
    // (routeInput() refused a non-local destination on a device that does not forward)
    return route?.type === 'unicast' && route.dev !== dev && arp.proxy ? 'proxy' : refused(`its route to ${ipToString(tip)} is not a local one for a request from ${ipToString(sip)}`);
  }

  /** arp_ignore() (inet_confirm_addr()): true when the setting keeps this host from answering */
  private arpIgnores(level: number, dev: string, sip: Ip4, tip: Ip4): boolean {
    const onDev = this.addrs.filter((a) => a.dev === dev);
    switch (level) {
      case 1: // the address asked is one of the device's
        return !onDev.some((a) => a.addr === tip);
      case 2: // and the requester is on a subnet of the device that holds it
        return !onDev.some((a) => a.addr === tip) || !onDev.some((a) => inSubnet(tip, a) && inSubnet(sip, a));
      case 3: // no answer for an address of host scope
        return !this.addrs.some((a) => a.addr === tip && !isLoopbackAddr(a.addr));
      case 8:
        return true;
      default: // 0, and the reserved 4-7 and anything above 8
        return false;
    }
  }

  /**
   * arp_error_report(), ipv4_link_failure(): a packet queued for a next hop that answers no ARP
   * request is reported lost to its source with an ICMP host unreachable, RELATED to its
   * connection; none about an ICMP error (icmp_send()). Measured: fixtures/kernel/350-arp-no-answer.
   */
  neighbourFailure(pkt: Packet): Packet | undefined {
    if (pkt.proto === PROTO_ICMP && isIcmpError(pkt.icmpType)) return undefined;
    return this.attach(this.icmpError(pkt, 3, 1), pkt);
  }

  /**
   * icmp_send(): an ICMP error about `pkt`, from the address facing its sender, quoting as much of
   * it as fits in 576 bytes (LEN=576 for a long datagram: fixtures/kernel/437-frag-needed)
   */
  icmpError(pkt: Packet, type: number, code: number): Packet {
    return {
      id: pkt.id + 1000000,
      src: 0,
      dst: pkt.src,
      proto: PROTO_ICMP,
      icmpType: type,
      icmpCode: code,
      ttl: 64,
      tos: 0,
      len: 28 + Math.min(pkt.len, 576 - 28),
      fragment: false,
      mark: 0,
      priority: 0,
      nftrace: false,
      notrack: false,
      ctZone: 0,
      inner: quote(pkt),
    };
  }

  /**
   * REJECT's answer: a TCP reset or an ICMP error; no ICMP error when it would come from an
   * address routing refuses as a source
   */
  rejectReply(pkt: Packet, kind: string, hook: Hook): Packet | undefined {
    if (kind === 'tcp-reset') {
      return {
        id: pkt.id + 1000000,
        src: pkt.dst,
        dst: pkt.src,
        proto: PROTO_TCP,
        sport: pkt.dport,
        dport: pkt.sport,
        tcpFlags: 0x14,
        ttl: 64,
        tos: 0,
        len: 40,
        fragment: false,
        mark: 0,
        priority: 0,
        nftrace: false,
        notrack: false,
        ctZone: 0,
      };
    }
    const codes: Record<string, [number, number]> = {
      'icmp-net-unreachable': [3, 0],
      'icmp-host-unreachable': [3, 1],
      'icmp-proto-unreachable': [3, 2],
      'icmp-port-unreachable': [3, 3],
      'icmp-net-prohibited': [3, 9],
      'icmp-host-prohibited': [3, 10],
      'icmp-admin-prohibited': [3, 13],
    };
    const [type, code] = codes[kind] ?? [3, 3];
    const reply = this.icmpError(pkt, type, code);
    // icmp_send() answers from the address the packet was sent to when it was for this host
    // (taken in, RTCF_LOCAL); for a packet passing through, routing picks the source
    if (hook === 'INPUT' || this.isLocalAddress(pkt.dst)) {
      // (routing refuses a source that is no address of the host, see ownsSource(); REJECT's TCP
      // reset is not asked: ip_route_me_harder() lets any unicast source through. Measured:
      // fixtures/kernel/238-policy-routing-local-answers)
      if (!this.ownsSource(pkt.dst)) return undefined;
      reply.src = pkt.dst;
    }
    return reply;
  }
}

/** what each arp_ignore level that can refuse answers for */
const ARP_IGNORE: Record<number, string> = {
  1: 'it answers only for the addresses of that device',
  2: "it answers only for the addresses of that device whose subnet holds the requester's",
  3: 'it answers for no address of host scope',
  8: 'it answers no request',
};

const TABLE_RUN_SLOT: Record<TableName, number> = { raw: 0, mangle: 1, nat: 2, filter: 3, security: 4 };
const HOOK_SLOT: Record<Hook, number> = { PREROUTING: 0, INPUT: 1, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4 };

/**
 * runChain()'s context for one table and hook. It and its extension context are reused from run
 * to run and from rule to rule (a batch would otherwise make millions): extensions use the
 * context they are given only while their match() or apply() runs.
 */
class TableRun implements ChainRunContext {
  pkt!: Packet;
  /** in a run (a run that starts meanwhile gets a context of its own) */
  busy = false;
  readonly index: RuleIndex | undefined;
  /** with the index: the plan of the base chain this run walks */
  plan: ChainPlan | undefined;
  readonly quiet: boolean;
  readonly counters: boolean;
  private ext: ExtContext | undefined;

  constructor(
    private readonly stack: HostStack,
    private readonly env: HostEnv,
    readonly host: string,
    readonly table: TableName,
    readonly hook: Hook,
  ) {
    this.index = env.index;
    this.quiet = !!env.batch;
    this.counters = !env.batch;
  }

  extContext(rule: Rule, chain: string): TargetContext {
    const ext = (this.ext ??= new ExtContext(this.stack, this.env, this.table, this.hook));
    ext.rule = rule;
    ext.chain = chain;
    ext.pkt = this.pkt;
    return ext;
  }

  emit(e: TraceEvent): void {
    this.env.emit(e);
  }
}

/** What a rule's matches and target see of the host (struct xt_action_param and friends). */
class ExtContext implements TargetContext {
  rule!: Rule;
  chain = '';
  pkt!: Packet;

  constructor(
    private readonly stack: HostStack,
    private readonly env: HostEnv,
    readonly table: TableName,
    readonly hook: Hook,
  ) {}

  addrType(addr: number, dev?: string): AddrType {
    return addrType(this.stack.fib, addr, dev);
  }
  random(): number {
    return this.env.rng.next();
  }
  draw(p: number): boolean {
    return this.env.chooser ? this.env.chooser(p) : Math.floor(this.env.rng.next() * 0x80000000) < Math.round(p * 0x80000000);
  }
  state<T>(init: () => T): T {
    return this.stack.extState(`${this.table}/${this.rule.handle ?? 0}`, init);
  }
  shared<T>(name: string, init: () => T): T {
    return this.stack.extState(`shared/${name}`, init);
  }
  now(): number {
    return this.env.now;
  }
  socket(): LocalSocket | undefined {
    return this.stack.socketFor(this.pkt);
  }
  reversePathOk(p: PacketView, o: { loose: boolean; validmark: boolean; acceptLocal: boolean }): boolean {
    return this.stack.reversePathOk(p, o);
  }
  ipset(name: string): AnySet | undefined {
    return this.stack.ipset(name, false);
  }
  changeIpset(name: string): AnySet | undefined {
    return this.stack.ipset(name, true);
  }
  countIpsetElem(e: ElemExt, bytes: number): [number, number] {
    const counts: [number, number] = [(e.packets ?? 0) + (bytes ? 1 : 0), (e.bytes ?? 0) + bytes];
    if (!this.env.batch) [e.packets, e.bytes] = counts;
    return counts;
  }
  countNfacct(name: string, bytes: number): boolean {
    return this.stack.countNfacct(name, bytes);
  }
  countConnections(pred: (orig: Tuple, reply: Tuple) => boolean): number {
    return this.stack.ct.conns.filter((c) => pred(c.orig, c.reply)).length;
  }
  ctMark(): number | undefined {
    return this.stack.ctMark(this.pkt);
  }
  setCtMark(m: number): void {
    this.stack.setCtMark(this.pkt, m);
  }
  ifaceAddress(dev: string): number | undefined {
    return this.stack.primaryAddress(dev);
  }
  routeMtus(): { out: number; back: number } {
    return this.stack.routeMtus(this.pkt);
  }
}

/** the header an ICMP error about `p` quotes */
function quote(p: Packet): QuotedHeader {
  if (p.proto === PROTO_ICMP) return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport, icmpType: p.icmpType };
  return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport, dport: p.dport };
}

function describeQuoted(q: QuotedHeader): string {
  const ported = q.proto === PROTO_TCP || q.proto === PROTO_UDP;
  const name = q.proto === PROTO_TCP ? 'tcp' : q.proto === PROTO_UDP ? 'udp' : q.proto === PROTO_ICMP ? 'icmp' : `proto ${q.proto}`;
  return `${name} ${endpoint(q.src, ported ? q.sport : undefined)} -> ${endpoint(q.dst, ported ? q.dport : undefined)}`;
}

function snapshot(p: Packet): string {
  return `${p.src}|${p.dst}|${p.mark}|${p.tos}`;
}

function tupleFromPacket(p: Packet): Tuple {
  if (p.proto === PROTO_ICMP) return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport ?? 0, dport: p.sport ?? 0 };
  return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport ?? 0, dport: p.dport ?? 0 };
}

function untrackedView(p: Packet) {
  const t = tupleFromPacket(p);
  return { reply: false, status: [], mark: 0, zone: p.ctZone, orig: t, replyTuple: invert(t), packets: [0, 0] as [number, number], bytes: [0, 0] as [number, number], expires: 0 };
}

