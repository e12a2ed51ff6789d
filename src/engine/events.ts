/**
 * What happens to a packet, as a flat list of events in path order. The engine only emits these;
 * renderers (src/trace) turn them into text, JSON or the kernel's own trace format.
 */
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** the header fields a trace line shows */
export interface PacketSummary {
  id: number;
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
  /** TCP flags as xtables-monitor names them: SYN ACK FIN RST PSH URG */
  flags?: string[];
  icmpType?: number;
  icmpCode?: number;
  ttl: number;
  len: number;
  mark: number;
  in?: string;
  out?: string;
}

interface Base {
  host: string;
  /** the packet had nf_trace set (a -j TRACE rule selected it): the kernel would log this event */
  nftrace?: boolean;
  /** the packet as nf_tables dumps it with the first traced event of a base chain run */
  dump?: PacketSummary;
  /**
   * connection traces (`trace --from`): which transmission of the exchange this event belongs to
   * (0 = the client's first packet) and its conntrack direction (the client's packets travel in
   * the original direction, the server's answers and the errors sent back to a sender in the
   * reply direction). `pkt` is on the transmission's first event only: the packet as its sender
   * handed it to the stack (source 0.0.0.0 when routing picks it).
   */
  xmit?: { n: number; dir: 'original' | 'reply'; pkt?: PacketSummary };
}

export type TraceEvent = Base &
  (
    | { kind: 'packet'; pkt: PacketSummary; note: string }
    | { kind: 'hook'; hook: Hook; table: string; chain: string; pkt: PacketSummary }
    | {
        kind: 'rule';
        table: string;
        chain: string;
        /** rule number in its chain (1 = first) */
        num: number;
        /** nf_tables rule handle */
        handle: number;
        /** the rule as `iptables -S` prints it, "-A CHAIN ..." */
        text: string;
        /** the verdict as xtables-monitor names it: ACCEPT DROP CONTINUE JUMP:X GOTO:X RETURN QUEUE */
        verdict: string;
      }
    | { kind: 'policy'; table: string; chain: string; policy: string }
    | { kind: 'return'; table: string; chain: string; to: string }
    | { kind: 'rewrite'; table: string; chain: string; target: string; field: 'source' | 'destination'; before: string; after: string }
    | { kind: 'route'; decision: 'input' | 'forward' | 'output' | 'reroute' | 'reply'; dst: string; route?: string; dev?: string; via?: string; src?: string; rule?: string }
    | { kind: 'conntrack'; action: 'new' | 'established' | 'related' | 'invalid' | 'untracked' | 'confirmed' | 'reverse-nat' | 'nat-binding' | 'null-binding' | 'destroyed'; text: string }
    | {
        kind: 'drop';
        reason: string;
        /** 'link': the packet left the host but no neighbour answered ARP for its next hop */
        at?: 'link';
      }
    | { kind: 'log'; text: string }
    | { kind: 'note'; text: string }
    | { kind: 'link'; from: string; to: string; iface: string; peerIface: string; /** the frame's IP header as it goes on the wire */ pkt?: PacketSummary }
    | { kind: 'deliver'; socket: string }
    | { kind: 'reply'; what: string }
    /** a connection moves on from its handshake to the request and answer */
    | { kind: 'phase'; name: 'data' | 'close' }
  );

export type EventKind = TraceEvent['kind'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** an event without its host (the host stack fills it in) */
export type EventBody = DistributiveOmit<TraceEvent, 'host'>;
