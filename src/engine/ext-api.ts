/**
 * What matches and targets see while the engine walks the rules (the kernel's sk_buff and
 * struct xt_action_param, reduced to what the modelled extensions read and write).
 *
 * Targets change the packet by writing its fields (mark, tos, priority, ...) and report
 * everything else in their TargetResult; the engine turns that into the verdict, NAT binding,
 * REJECT reply, log line and trace events.
 */
import type { AnySet, ElemExt } from '../net/ipset.js';

export interface PacketView {
  /** IPv4 header */
  src: number;
  dst: number;
  proto: number;
  ttl: number;
  /** the whole TOS byte (DSCP << 2 | ECN) */
  tos: number;
  /** total IP length in bytes */
  len: number;
  /** fragment offset != 0 (second or later fragment) */
  fragment: boolean;
  /** transport */
  sport?: number;
  dport?: number;
  /** TCP flag bits: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
  tcpFlags?: number;
  /** TCP MSS option of a SYN, when present */
  tcpMss?: number;
  icmpType?: number;
  icmpCode?: number;
  /** payload bytes as text, for the string match */
  payload?: string;
  /** skb->mark */
  mark: number;
  /** skb->priority (CLASSIFY) */
  priority: number;
  /** interfaces: `in` set from PREROUTING on, `out` once routed */
  inIface?: string;
  outIface?: string;
  /** bridge ports (physdev) when the packet crossed a bridge */
  physIn?: string;
  physOut?: string;
  /** link-layer source of a received frame, "aa:bb:cc:dd:ee:ff" */
  srcMac?: string;
  /** pkttype of a received frame */
  pktType?: 'unicast' | 'broadcast' | 'multicast';
  /** locally generated: the sending socket's owner */
  owner?: { uid: number; gid: number; supplementaryGids?: number[] };
  /** conntrack as the rules see it (absent = untracked by construction, e.g. before conntrack) */
  ct?: ConntrackView;
  /** IPsec: not modelled, packets are never IPsec-processed in the lab */
  ipsec?: false;
}

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export interface Tuple {
  src: number;
  dst: number;
  proto: number;
  sport: number;
  dport: number;
}

export interface ConntrackView {
  /** ctstate: INVALID and UNTRACKED have no entry */
  state: CtState;
  /** this packet travels in the reply direction (ctdir REPLY) */
  reply: boolean;
  /** status bits: EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED, SNAT, DNAT, DYING */
  status: string[];
  /** connection mark (CONNMARK, connmark) */
  mark: number;
  zone: number;
  helper?: string;
  orig: Tuple;
  replyTuple: Tuple;
  /** packets/bytes so far per direction [original, reply] (connbytes) */
  packets: [number, number];
  bytes: [number, number];
  /** seconds until the entry expires */
  expires: number;
}

export type AddrType =
  | 'UNSPEC'
  | 'UNICAST'
  | 'LOCAL'
  | 'BROADCAST'
  | 'ANYCAST'
  | 'MULTICAST'
  | 'BLACKHOLE'
  | 'UNREACHABLE'
  | 'PROHIBIT'
  | 'THROW'
  | 'NAT'
  | 'XRESOLVE';

export interface LocalSocket {
  full: boolean;
  anyAddr: boolean;
}

export interface MatchContext {
  /** the hook the packet is in: PREROUTING INPUT FORWARD OUTPUT POSTROUTING */
  hook: string;
  table: string;
  chain: string;
  /** the route type of `addr` on this host (inet_dev_addr_type / addrtype), optionally for one device */
  addrType(addr: number, dev?: string): AddrType;
  /** the lab's seeded generator: a float in [0, 1) (random NAT ports, hash seeds) */
  random(): number;
  /**
   * A random yes/no that comes out yes with `probability` (statistic --mode random): drawn from
   * the lab's generator, or forced when a trace explores every path (`trace --all-paths`).
   */
  draw(probability: number): boolean;
  /**
   * Persistent state of this rule's extension instance (statistic nth counter, limit tokens,
   * recent lists, hashlimit buckets). `init` runs the first time; the object must stay JSON.
   */
  state<T>(init: () => T): T;
  /** host-wide named state shared by rules (recent --name lists) */
  shared<T>(name: string, init: () => T): T;
  /** seconds on the lab clock (limit, recent, hashlimit, time) */
  now(): number;
  /** reverse-path lookup for rpfilter: would a reply to this packet's source leave by its input interface? */
  reversePathOk(pkt: PacketView, opts: { loose: boolean; validmark: boolean; acceptLocal: boolean }): boolean;
  /**
   * The local socket nf_sk_lookup_slow_v4() finds for this packet on this host: a socket of a
   * connection the trace has open here, else a TCP listener or bound UDP socket on its port, as
   * the socket match weighs it: `full` (false: a request socket, between SYN and accept),
   * `anyAddr` (bound to 0.0.0.0). Undefined: none.
   */
  socket(): LocalSocket | undefined;
  /** number of tracked connections matching a predicate (connlimit) */
  countConnections(pred: (orig: Tuple, reply: Tuple) => boolean): number;
  /** the host's IP set of that name (`ipset`); undefined: none */
  ipset(name: string): AnySet | undefined;
  /**
   * an element of a set with counters counts a packet of `bytes` bytes (0: the rule skips the
   * update); its packets and bytes after it. A batch's packets leave the lab's sets as they are.
   */
  countIpsetElem(e: ElemExt, bytes: number): [packets: number, bytes: number];
  /**
   * the host's accounting object `name` counts a packet of `bytes` bytes (`nfacct`); whether the
   * match matches (no quota, or past it). A batch's packets leave the objects as they are.
   */
  countNfacct(name: string, bytes: number): boolean;
}

export type Verdict =
  /** NF_ACCEPT: leave this table for the hook */
  | 'ACCEPT'
  | 'DROP'
  /** NF_QUEUE: handed to a userspace queue */
  | 'QUEUE'
  /** XT_CONTINUE: go on with the next rule */
  | 'CONTINUE'
  /** XT_RETURN */
  | 'RETURN';

export interface NatRequest {
  kind: 'SNAT' | 'DNAT' | 'MASQUERADE' | 'REDIRECT' | 'NETMAP';
  /** address range (host order); absent = keep (DNAT/SNAT to port only) or choose (MASQUERADE/REDIRECT) */
  minIp?: number;
  maxIp?: number;
  /** port range; absent = keep the port when possible */
  minPort?: number;
  maxPort?: number;
  /** NETMAP: map the address into this prefix, keeping the host bits */
  netmap?: { addr: number; mask: number };
  random?: boolean;
  randomFully?: boolean;
  persistent?: boolean;
}

export interface TargetResult {
  verdict: Verdict;
  /** REJECT: the error the host sends back before dropping (icmp-port-unreachable, tcp-reset, ...) */
  reject?: string;
  /** SNAT/DNAT/MASQUERADE/REDIRECT/NETMAP: the binding to set up for this new connection */
  nat?: NatRequest;
  /** LOG/NFLOG: the text the kernel would log (prefix and fields) */
  log?: { kind: 'LOG' | 'NFLOG'; prefix: string; level?: number; group?: number };
  /** CT/NOTRACK: conntrack template settings */
  ct?: { notrack?: boolean; zone?: number; helper?: string; ctevents?: string[] };
  /** TRACE: trace this packet from here on */
  trace?: boolean;
  /** NFQUEUE: the queue number the packet went to */
  queue?: number;
  /** free-form one-line note for the trace ("TCPMSS clamped MSS to 1460") */
  note?: string;
}

export interface TargetContext extends MatchContext {
  /** the connection's mark (CONNMARK); undefined when the packet has no conntrack entry */
  ctMark(): number | undefined;
  setCtMark(mark: number): void;
  /** primary address of an interface of this host (MASQUERADE, REDIRECT) */
  ifaceAddress(dev: string): number | undefined;
  /**
   * TCPMSS --clamp-mss-to-pmtu: the MTU of the packet's route out (dst_mtu()) and of the route
   * back to its source (tcpmss_reverse_mtu())
   */
  routeMtus(): { out: number; back: number };
  /** the host's set of that name, to change (SET); a batch's packet changes a copy of its own */
  changeIpset(name: string): AnySet | undefined;
}
