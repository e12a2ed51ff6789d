/**
 * What matches and targets see of a packet while the engine walks the rules (the sk_buff and
 * struct xt_action_param of the kernel, reduced to what the modelled extensions read and write).
 */
export type L4Proto = number;

export interface PacketView {
  /** IPv4 header */
  src: number;
  dst: number;
  proto: L4Proto;
  ttl: number;
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
  icmpType?: number;
  icmpCode?: number;
  /** skb metadata */
  mark: number;
  inIface?: string;
  outIface?: string;
  /** link-layer source of a received frame */
  srcMac?: string;
  /** pkttype of a received frame */
  pktType?: 'host' | 'broadcast' | 'multicast' | 'otherhost';
  /** locally generated: owner of the socket */
  owner?: { uid: number; gid: number };
  /** conntrack as seen by the rules */
  ct?: ConntrackView;
  /** priority (CLASSIFY), DSCP, etc. written by targets */
  priority?: number;
}

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export interface ConntrackView {
  state: CtState;
  /** this packet travels in the reply direction */
  reply: boolean;
  /** conntrack status bits as names: SEEN_REPLY, ASSURED, CONFIRMED, EXPECTED, SNAT, DNAT */
  status: string[];
  mark: number;
  zone: number;
  helper?: string;
  /** original and reply tuples */
  orig: Tuple;
  replyTuple: Tuple;
  /** packets/bytes seen so far, per direction [orig, reply] */
  packets: [number, number];
  bytes: [number, number];
}

export interface Tuple {
  src: number;
  dst: number;
  proto: number;
  sport: number;
  dport: number;
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

export interface MatchContext {
  hook: string;
  table: string;
  chain: string;
  /** routing's view of an address on this host (addrtype), optionally limited to one device */
  addrType(addr: number, dev?: string): AddrType;
  /** the lab's seeded generator, [0,1) */
  random(): number;
  /** persistent per-rule counters for statistic --mode nth and similar state, keyed by the caller */
  counter(key: string): { get(): number; set(v: number): void };
  /** seconds since the lab's epoch (limit/recent/hashlimit) */
  now(): number;
  /** reverse-path check for rpfilter */
  reversePathOk(pkt: PacketView, opts: { loose: boolean; validmark: boolean; acceptLocal: boolean }): boolean;
}

export type Verdict = 'ACCEPT' | 'DROP' | 'QUEUE' | 'STOLEN' | 'CONTINUE' | 'RETURN';

export interface TargetResult {
  verdict: Verdict;
  /** for REJECT: the reply the host sends */
  reject?: { kind: string };
  /** a NAT binding request, applied by the engine's conntrack */
  nat?: { kind: 'SNAT' | 'DNAT' | 'MASQUERADE' | 'REDIRECT' | 'NETMAP'; minIp?: number; maxIp?: number; minPort?: number; maxPort?: number; random?: boolean; persistent?: boolean; fully?: boolean; netmap?: { addr: number; mask: number } };
  /** notes for the trace (LOG line, TRACE request, ...) */
  note?: string;
  /** conntrack changes requested by CT / NOTRACK */
  ct?: { notrack?: boolean; zone?: number; helper?: string };
}

export interface TargetContext extends MatchContext {
  /** write access to the conntrack mark of this packet's connection */
  setCtMark(mark: number): void;
}
