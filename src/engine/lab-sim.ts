/**
 * A connection through the lab, the way a client program would live it: its first packet leaves
 * a host's socket, crosses every host's netfilter hooks, routing and links (next hops found by
 * who owns the address on the segment, as ARP would), reaches a listening socket or a closed port,
 * and the answer travels back through conntrack's reverse NAT or around it. The client accepts
 * only answers that match what it sent; anything else is answered with a reset and ignored.
 *
 * TCP is played as SYN, SYN-ACK, then the request and the response (the client only reports
 * success once the server's answer arrived, like the kernel lab's probe). UDP is one request and
 * one answer, ICMP an echo request and reply.
 */
import { SimError } from '../errors.js';
import { ipToString, LOOPBACK, parseDotted } from '../net/ipv4.js';
import { findHost, noHostMessage, type Host, type Lab, type Neighbour } from '../net/lab.js';
import { interfaceAddresses, isMulticast, parsePrefix } from '../net/routing.js';
import type { HostOutcome } from './host.js';
import type { TraceEvent } from './events.js';
import { describePacket, endpoint, isIcmpError, newPacket, processOwner, PROTO_ICMP, PROTO_TCP, PROTO_UDP, summarize, TCP, type Packet } from './packet.js';
import { Run } from './simulate.js';
import { GLOBAL_SYSCTLS } from '../net/sysctl.js';

const LIMITED_BROADCAST = 0xffffffff;

export type ConnVerdict = 'established' | 'refused' | 'unreachable' | 'timeout';

export interface ConnectionSpec {
  from: string;
  proto: number;
  dst: number;
  dport?: number;
  sport?: number;
}

export interface ConnectionResult {
  verdict: ConnVerdict;
  server: { host: string; address: string; port: number } | null;
  peer: { address: string; port: number } | null;
  explanation: string;
  /**
   * the error the client's socket reported, when it did: at send() (no route, its own firewall's
   * EPERM) or from an ICMP error it took (ECONNREFUSED, EHOSTUNREACH, ENOPROTOOPT, ...)
   */
  errno?: string;
  events: TraceEvent[];
  /** the client's source port */
  sport?: number;
}

/**
 * a packet in flight and where it is; `dir` is its conntrack direction; `sendto`: sent by a socket
 * that is not connected (a UDP server's answer), which routing asks once
 */
type Arrival = { host: string; pkt: Packet; iface?: string; dir?: Direction; sendto?: boolean };
type Direction = 'original' | 'reply';

/**
 * a packet that reached no socket: `replies`, what the host where it ended sends back about it;
 * `noNeighbour`: its next hop answered no ARP request
 */
/** strerror() of the errors a local send gets at once */
const STRERROR: Record<string, string> = { EPERM: 'Operation not permitted', EINVAL: 'Invalid argument', EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable', EACCES: 'Permission denied' };

type Lost = { end: 'lost'; host: string; reason: string; replies: Arrival[]; sendErrno?: string; noNeighbour?: boolean };

const MAX_HOPS = 64;

export class LabSim {
  constructor(
    readonly lab: Lab,
    readonly run: Run = new Run(lab),
  ) {}

  /** transmissions so far, and the one in flight (events are tagged with it for the diagrams) */
  private xmits = 0;
  private current?: { n: number; dir: Direction };

  private emit(e: TraceEvent): void {
    if (this.current && !e.xmit) e.xmit = { ...this.current };
    this.run.events.push(e);
  }

  /**
   * Where a frame for `nexthop` sent out of `fromHost`'s `dev` lands: the host its neighbour entry
   * names, or else the host on the segment that answers the ARP request for it
   * (HostStack.arpAnswer(); the request's sender address is the sender's arpSender() for the
   * packet's source `src`): one whose routing takes the address in as its own, or else one that
   * answers by proxy. An answer leaves an entry on both sides (the answerer learns the requester
   * from the request, neigh_event_ns()), and later frames go by them without asking again, even
   * to a host that would answer no longer (measured: fixtures/kernel/21-rp-filter, whose first
   * probes fill the caches).
   */
  private link(fromHost: string, dev: string, nexthop: number, src: number): { host: string; iface: string } | { unanswered: string } {
    const seg = this.lab.segments.find((s) => s.members.includes(`${fromHost}:${dev}`));
    const members = seg?.members ?? [];
    const ifaceOf = (h: string, ifname: string) => this.lab.hosts[h]?.interfaces.find((i) => i.name === ifname);
    const cached = this.neighbour(fromHost, dev, nexthop);
    if (cached && !cached.failed && members.includes(`${cached.host}:${cached.iface}`) && ifaceOf(cached.host, cached.iface)?.up) return { host: cached.host, iface: cached.iface };
    const sip = this.run.stack(fromHost).arpSender(dev, nexthop, src);
    // the request is a broadcast: a host of the link with an entry for its sender's address, in
    // any state, brings it up to date (arp_process(): neigh_update() to STALE, which is used)
    if (sip) {
      const a = ipToString(sip);
      for (const m of members) {
        const [h, ifname] = m.split(':') as [string, string];
        if (m === `${fromHost}:${dev}` || !ifaceOf(h, ifname)?.up) continue;
        if (this.lab.hosts[h]!.neighbours?.some((n) => n.dev === ifname && n.addr === a)) this.learn(h, { dev: ifname, addr: a, host: fromHost, iface: dev });
      }
    }
    // several hosts may answer (any address of a host, by proxy): the first answer the sender
    // gets wins, and the host with the address on that link answered first where measured
    // (fixtures/kernel/172-random-routes-423: a router whose policy routing takes every address
    // in on eth1 answers for the LAN hosts' addresses too)
    let own: { host: string; iface: string } | undefined;
    let other: typeof own;
    let proxy: typeof own;
    let refused: string | undefined;
    for (const m of members) {
      const [h, ifname] = m.split(':') as [string, string];
      const iface = ifaceOf(h, ifname);
      if (m === `${fromHost}:${dev}` || !iface?.up) continue;
      const answer = this.run.stack(h).arpAnswer(ifname, sip, nexthop);
      if (answer === 'local') {
        if (iface.addrs.some((a) => parsePrefix(a).addr === nexthop)) {
          own = { host: h, iface: ifname };
          break;
        }
        other ??= { host: h, iface: ifname };
      } else if (answer === 'proxy') proxy ??= { host: h, iface: ifname };
      else if (answer) refused ??= `${h} does not answer ${fromHost}'s ARP request for ${ipToString(nexthop)} from ${ipToString(sip)} on its ${ifname}: ${answer.refused}`;
    }
    const to = own ?? other ?? proxy;
    if (!to) {
      // (the entry stays, failed, until flushed: what a later request it overhears fills in)
      this.learn(fromHost, { dev, addr: ipToString(nexthop), failed: true });
      return { unanswered: refused ?? `nobody on ${fromHost}'s ${dev} segment has ${ipToString(nexthop)} (ARP gets no answer)` };
    }
    this.learn(fromHost, { dev, addr: ipToString(nexthop), ...to });
    if (sip) this.learn(to.host, { dev: to.iface, addr: ipToString(sip), host: fromHost, iface: dev });
    return to;
  }

  private neighbour(host: string, dev: string, addr: number): Neighbour | undefined {
    const a = ipToString(addr);
    return this.lab.hosts[host]!.neighbours?.find((n) => n.dev === dev && n.addr === a);
  }

  /** a neighbour entry made or brought up to date */
  private learn(host: string, n: Neighbour): void {
    const list = (this.lab.hosts[host]!.neighbours ??= []);
    const i = list.findIndex((e) => e.dev === n.dev && e.addr === n.addr);
    if (i >= 0) list[i] = n;
    else list.push(n);
  }

  /**
   * One transmission: carries the packet and tags its events (from `from` on) with its number and
   * direction; what a host sends back about a lost packet travels in the other direction.
   */
  private travel(start: Arrival, dir: Direction = 'original', from = this.run.events.length): ReturnType<LabSim['carry']> {
    const tag = { n: this.xmits++, dir };
    this.current = tag;
    const sent = summarize(start.pkt);
    const r = this.carry(start);
    const ev = this.run.events;
    for (let i = from; i < ev.length; i++) ev[i]!.xmit ??= { ...tag };
    if (ev[from]) ev[from]!.xmit = { ...tag, pkt: sent };
    if (r.end === 'lost') for (const x of r.replies) x.dir = dir === 'original' ? 'reply' : 'original';
    return r;
  }

  /**
   * Carries a packet from a local socket (or from the wire) until it reaches some host's socket
   * layer, is dropped, or fails at the sender. Returns where it ended.
   */
  private carry(start: Arrival): { end: 'deliver'; host: string; pkt: Packet } | Lost | { end: 'error'; host: string; errno: string; reason: string } {
    let at = start;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const stack = this.run.stack(at.host);
      const o: HostOutcome = at.iface === undefined ? stack.fromSocket(at.pkt, !at.sendto) : stack.fromWire(at.pkt, at.iface);
      switch (o.kind) {
        case 'deliver':
          return { end: 'deliver', host: at.host, pkt: o.pkt };
        case 'error':
          return { end: 'error', host: at.host, errno: o.errno, reason: o.reason };
        case 'drop':
          return { end: 'lost', host: at.host, reason: o.reason, replies: o.replies.map((p) => ({ host: at.host, pkt: p })), sendErrno: o.sendErrno };
        case 'transmit': {
          const to = this.link(at.host, o.dev, o.nexthop, o.pkt.src);
          if ('unanswered' in to) {
            const reason = to.unanswered;
            this.emit({ kind: 'drop', host: at.host, reason, at: 'link' });
            const error = this.run.stack(at.host).neighbourFailure(o.pkt);
            return { end: 'lost', host: at.host, reason, replies: error ? [{ host: at.host, pkt: error }] : [], noNeighbour: true };
          }
          this.emit({ kind: 'link', host: at.host, from: at.host, to: to.host, iface: o.dev, peerIface: to.iface, pkt: summarize(o.pkt) });
          const next = { ...o.pkt };
          // a frame crossing a link leaves its skb state behind (skb_scrub_packet)
          next.mark = 0;
          next.nftrace = false;
          next.notrack = false;
          next.ctZone = 0;
          next.conn = undefined;
          next.ct = undefined;
          next.route = undefined;
          next.pktType = undefined;
          at = { host: to.host, pkt: next, iface: to.iface };
          break;
        }
      }
    }
    return { end: 'lost', host: at.host, reason: 'routing loop: the packet went around more than 64 hops', replies: [] };
  }

  private listening(host: Host, proto: 'tcp' | 'udp', addr: number, port: number): boolean {
    return host.services.some((s) => s.proto === proto && s.port === port && (s.addr === '0.0.0.0' || parseDotted(s.addr) === addr));
  }

  /** An ephemeral port the client host is not using (ip_local_port_range, chosen by the lab's generator). */
  private ephemeralPort(host: Host): number {
    const [lo, hi] = (host.sysctls['net.ipv4.ip_local_port_range'] ?? GLOBAL_SYSCTLS['net.ipv4.ip_local_port_range']!.value).split(/\s+/).map(Number) as [number, number];
    const used = new Set(host.conntrack.map((c) => c.orig[2]));
    for (let i = 0; i < 1000; i++) {
      const p = this.run.rng.int(lo, hi);
      if (!used.has(p)) return p;
    }
    return lo;
  }

  connect(asked: ConnectionSpec): ConnectionResult {
    // ip_route_output(): a destination of 0.0.0.0 is the host itself, and the socket's peer
    // becomes 127.0.0.1 (measured, fixtures/kernel/61-broadcast-and-local-types)
    const spec = asked.dst === 0 ? { ...asked, dst: LOOPBACK } : asked;
    const client = findHost(this.lab, spec.from);
    if (!client) throw new Error(noHostMessage(this.lab, spec.from));
    const sport = spec.sport ?? (spec.proto === PROTO_ICMP ? this.run.rng.int(1, 65535) : this.ephemeralPort(client));
    const ported = spec.proto === PROTO_TCP || spec.proto === PROTO_UDP;
    const first = newPacket({
      src: 0,
      dst: spec.dst,
      proto: spec.proto,
      sport,
      dport: ported ? spec.dport : undefined,
      tcpFlags: spec.proto === PROTO_TCP ? TCP.SYN : undefined,
      icmpType: spec.proto === PROTO_ICMP ? 8 : undefined,
      icmpCode: spec.proto === PROTO_ICMP ? 0 : undefined,
      owner: processOwner(),
    });
    const opened = this.run.events.length;
    const zero = asked.dst === 0 ? ' (0.0.0.0 is the host itself: the socket connects to 127.0.0.1)' : '';
    this.emit({ kind: 'packet', host: spec.from, pkt: { ...summarizeLite(first) }, note: `${spec.from} opens ${describePacket(first).replace(/^(\w+) 0\.0\.0\.0:?\d*/, `$1 port ${sport}`)}${zero}` });
    const res = this.broadcastRefusal(spec) ?? this.exchange(spec, first, sport, opened);
    this.run.finish();
    return { ...res, events: this.run.events, sport };
  }

  /**
   * A broadcast destination (the limited one, or a subnet's by the client's local table): TCP
   * cannot connect there (tcp_v4_connect: ENETUNREACH), and a UDP or ping socket may send there
   * only with SO_BROADCAST, which a client program does not set (EACCES).
   */
  private broadcastRefusal(spec: ConnectionSpec): Omit<ConnectionResult, 'events' | 'sport'> | undefined {
    const multicast = isMulticast(spec.dst);
    const r = this.run.stack(spec.from).lookup(spec.dst);
    if (spec.dst !== LIMITED_BROADCAST && r?.type !== 'broadcast' && !multicast) return undefined;
    const kind = multicast ? 'multicast' : 'broadcast';
    const asked = `${spec.from} asked ${endpoint(spec.dst, spec.proto === PROTO_ICMP ? undefined : spec.dport)}, a ${kind} address`;
    if (spec.proto === PROTO_TCP) {
      const reason = `TCP cannot connect to a ${kind} address: connect() fails with ENETUNREACH`;
      this.emit({ kind: 'drop', host: spec.from, reason });
      return { verdict: 'unreachable', server: null, peer: null, errno: 'ENETUNREACH', explanation: `${asked}: ${reason}.` };
    }
    if (multicast) {
      throw new SimError(`${asked}: a multicast datagram goes to every host of the link that joined the group, which trace --from does not model; trace the packet one host at a time (iptables-sim --host HOST trace -i IFACE ...)`, 3);
    }
    const reason = `a socket sends to a broadcast address only with SO_BROADCAST set: send() fails with EACCES (Permission denied)`;
    this.emit({ kind: 'drop', host: spec.from, reason });
    return { verdict: 'unreachable', server: null, peer: null, errno: 'EACCES', explanation: `${asked}; ${reason}.` };
  }

  private exchange(spec: ConnectionSpec, first: Packet, sport: number, opened: number): Omit<ConnectionResult, 'events' | 'sport'> {
    const want = (what: string) => `${spec.from} asked ${endpoint(spec.dst, spec.proto === PROTO_ICMP ? undefined : spec.dport)}${what}`;
    const out = this.travel({ host: spec.from, pkt: first }, 'original', opened);
    if (out.end === 'error') {
      return { verdict: 'unreachable', server: null, peer: null, errno: out.errno, explanation: `${out.host} could not send at all: ${out.reason}.` };
    }
    if (out.end === 'lost' && out.sendErrno && spec.proto !== PROTO_TCP) {
      // the datagram never left: send() fails at once; a REJECT's answer only follows it
      const what = spec.proto === PROTO_UDP ? 'datagram' : 'echo request';
      return {
        verdict: 'unreachable',
        server: null,
        peer: null,
        errno: out.sendErrno,
        explanation: `${want('')}, but its own netfilter dropped the ${what} on the way out (${out.reason}): send() failed at once with ${out.sendErrno} (${STRERROR[out.sendErrno] ?? out.sendErrno}).`,
      };
    }
    // the client's own address, as routing chose it before any NAT
    const clientAddr = first.socketSrc ?? first.src;
    // its connected socket, which the socket match finds for what comes back
    if (spec.proto !== PROTO_ICMP) this.run.stack(spec.from).openSocket({ proto: spec.proto, local: clientAddr, lport: sport, remote: spec.dst, rport: spec.dport!, full: true });
    if (out.end === 'lost') return this.afterLoss(spec, out, clientAddr, sport, want(''));
    const server = out.host;
    const req = out.pkt;
    const serverHost = this.lab.hosts[server]!;
    const peer = { address: ipToString(req.src), port: req.sport ?? 0 };

    // the server's answer
    let answer: Packet;
    let accepted: { host: string; address: string; port: number } | null = null;
    // the stack's own answers (a reset, an ICMP error, an echo reply) come from the address asked
    const stack = this.run.stack(server);
    const noAnswer = (what: string) => {
      const why = `${what} would come from ${stack.refusedSource(req.dst)}`;
      this.emit({ kind: 'drop', host: server, reason: why });
      return { verdict: 'timeout' as const, server: null, peer: null, explanation: `${want('')}; ${server} took it in, but ${why}. The client keeps waiting: timeout.` };
    };
    const ownsAsked = stack.ownsSource(req.dst);
    if (req.proto === PROTO_TCP || req.proto === PROTO_UDP) {
      const proto = req.proto === PROTO_TCP ? 'tcp' : 'udp';
      if (this.listening(serverHost, proto, req.dst, req.dport!)) {
        accepted = { host: server, address: ipToString(req.dst), port: req.dport! };
        this.emit({ kind: 'deliver', host: server, socket: `${proto} socket listening on ${endpoint(req.dst, req.dport)} (peer ${endpoint(req.src, req.sport)})` });
        // the request socket the SYN made, until the handshake's ACK (the socket match finds it)
        if (req.proto === PROTO_TCP) stack.openSocket({ proto: PROTO_TCP, local: req.dst, lport: req.dport!, remote: req.src, rport: req.sport!, full: false });
        if (req.proto === PROTO_TCP && !ownsAsked) {
          // a local route of another table delivered a SYN for an address the host does not have:
          // the SYN-ACK's route refuses that source (measured: fixtures/kernel/147-policy-routing-local)
          const why = `its SYN-ACK would come from ${stack.refusedSource(req.dst)} to a socket that is not transparent (ENETUNREACH)`;
          this.emit({ kind: 'drop', host: server, reason: why });
          return { verdict: 'timeout', server: accepted, peer, explanation: `${want('')}; ${server} took the SYN in, but ${why}. The client keeps waiting: timeout.` };
        }
        // a TCP answer comes from the address connected to; a UDP server on 0.0.0.0 answers from
        // whatever address routing picks towards the client
        const anyAddr = serverHost.services.some((s) => s.proto === proto && s.port === req.dport && s.addr === '0.0.0.0');
        const src = req.proto === PROTO_UDP && anyAddr ? 0 : req.dst;
        // a SYN-ACK leaves from the request socket; the owner match looks at its listener
        // (a UDP answer carries the lab's text, "<host> saw <peer>:<port>\n", after its 28 header bytes)
        const udpLen = req.proto === PROTO_UDP ? { len: 28 + Buffer.byteLength(`${server} saw ${peer.address}:${peer.port}\n`) } : {};
        answer = newPacket({ src, dst: req.src, proto: req.proto, sport: req.dport, dport: req.sport, tcpFlags: req.proto === PROTO_TCP ? TCP.SYN | TCP.ACK : undefined, owner: processOwner(), ...udpLen });
      } else if (req.proto === PROTO_TCP) {
        if (!ownsAsked) return noAnswer(`nothing listens on tcp ${endpoint(req.dst, req.dport)}; the reset`);
        this.emit({ kind: 'reply', host: server, what: `nothing listens on tcp ${endpoint(req.dst, req.dport)}: the kernel answers with a reset` });
        answer = newPacket({ src: req.dst, dst: req.src, proto: PROTO_TCP, sport: req.dport, dport: req.sport, tcpFlags: TCP.RST | TCP.ACK, len: 40 });
      } else {
        if (!ownsAsked) return noAnswer(`nothing listens on udp ${endpoint(req.dst, req.dport)}; the ICMP port unreachable`);
        this.emit({ kind: 'reply', host: server, what: `nothing listens on udp ${endpoint(req.dst, req.dport)}: the kernel answers ICMP port unreachable` });
        // icmp_send() attaches the error to the datagram's connection: RELATED, no entry of its own
        answer = stack.attach(stack.icmpError(req, 3, 3), req);
        answer.src = req.dst;
      }
    } else if (serverHost.sysctls['net.ipv4.icmp_echo_ignore_all'] === '1') {
      // icmp_echo(): the request was taken in (INPUT passed it), and nothing answers it
      const why = `${server} ignores echo requests (net.ipv4.icmp_echo_ignore_all=1)`;
      this.emit({ kind: 'reply', host: server, what: `${why}: no answer` });
      return { verdict: 'timeout', server: null, peer: null, explanation: `${want('')}; ${why}. The client keeps waiting: timeout.` };
    } else {
      if (!ownsAsked) return noAnswer('the echo reply');
      this.emit({ kind: 'reply', host: server, what: `${server} answers the echo request` });
      answer = newPacket({ src: req.dst, dst: req.src, proto: PROTO_ICMP, sport: req.sport, icmpType: 0, icmpCode: 0 });
      accepted = { host: server, address: ipToString(req.dst), port: 0 };
    }
    const back = this.travel({ host: server, pkt: answer, sendto: answer.proto === PROTO_UDP }, 'reply');
    const seen = this.clientSees(spec, back, clientAddr, sport);
    if (seen.kind === 'lost') {
      return { verdict: 'timeout', server: accepted, peer: accepted ? peer : null, explanation: `${want('')}; ${server} answered but ${seen.why}. The client keeps waiting: timeout.` };
    }
    if (seen.kind === 'mismatch') {
      const fix = seen.pkt.proto === PROTO_TCP
        ? ` It answers with a reset and keeps waiting. The reply bypassed the NAT that rewrote the request; for hairpin NAT add a MASQUERADE (or SNAT) in POSTROUTING so the answer comes back through the router.`
        : ' It ignores it and keeps waiting.';
      return {
        verdict: 'timeout',
        server: accepted,
        peer: accepted ? peer : null,
        explanation: `${spec.from} got ${describePacket(seen.pkt)} but had asked ${endpoint(spec.dst, spec.dport)}.${fix}`,
      };
    }
    const pkt = seen.pkt;
    if (pkt.proto === PROTO_TCP && pkt.tcpFlags! & TCP.RST) {
      // (tcp_reset() in SYN_SENT: the socket's error is ECONNREFUSED)
      return { verdict: 'refused', server: null, peer: null, errno: 'ECONNREFUSED', explanation: `${want('')}; ${seen.from} answered with a TCP reset: connection refused.` };
    }
    if (pkt.proto === PROTO_ICMP && isIcmpError(pkt.icmpType)) {
      const v = icmpErrorFate(spec.proto, pkt);
      if (v === 'ignored') return { verdict: 'timeout', server: null, peer: null, explanation: `${want('')}; ${ipToString(pkt.src)} answered ICMP ${icmpText(pkt)}, ${IGNORED}` };
      const errno = socketErrno(spec.proto, pkt);
      return { verdict: v, server: null, peer: null, errno, explanation: `${want('')}; ${ipToString(pkt.src)} answered ICMP ${icmpText(pkt)}: ${v === 'refused' ? 'connection refused' : 'unreachable'}${errnoNote(errno)}.` };
    }
    if (spec.proto !== PROTO_TCP) {
      return { verdict: 'established', server: accepted, peer: accepted ? peer : null, explanation: `${accepted!.host} answered from ${endpoint(spec.dst, spec.dport)} as the client expected; it saw the client as ${peer.address}${spec.proto === PROTO_ICMP ? '' : `:${peer.port}`}.` };
    }
    // SYN-ACK accepted: the client sends its request, the server answers it
    this.emit({ kind: 'phase', host: spec.from, name: 'data' });
    const ackReq = newPacket({ src: clientAddr, dst: spec.dst, proto: PROTO_TCP, sport, dport: spec.dport, tcpFlags: TCP.ACK | TCP.PSH, len: 56, owner: processOwner() });
    const reqArrives = this.travel({ host: spec.from, pkt: ackReq });
    if (reqArrives.end === 'lost' && reqArrives.replies.length) {
      // an ICMP port unreachable for the handshake's ACK (REJECT on an established connection)
      // ends the connection at once: the client's send or receive fails with ECONNREFUSED
      // (measured: fixtures/kernel/187-random-ports-436, the client sent its FIN, never its data)
      const back = this.clientSees(spec, reqArrives, clientAddr, sport);
      if (back.kind === 'ok' && back.pkt.proto === PROTO_ICMP && back.pkt.icmpType === 3 && back.pkt.icmpCode === 3) {
        return { verdict: 'refused', server: null, peer: null, errno: 'ECONNREFUSED', explanation: `${spec.from} completed the handshake with ${server}, but ${ipToString(back.pkt.src)} answered its ACK with ICMP ${icmpText(back.pkt)}: the connection fails with ECONNREFUSED (connection refused).` };
      }
    }
    if (reqArrives.end !== 'deliver' || reqArrives.host !== server) {
      const why = reqArrives.end === 'deliver' ? `reached ${reqArrives.host} instead` : reqArrives.end === 'lost' ? reqArrives.reason : reqArrives.reason;
      return { verdict: 'timeout', server: accepted, peer, explanation: `${spec.from} completed the handshake with ${server}, but its request was lost: ${why}. Timeout waiting for the answer.` };
    }
    const resp = newPacket({ src: req.dst, dst: req.src, proto: PROTO_TCP, sport: req.dport, dport: req.sport, tcpFlags: TCP.ACK | TCP.PSH, len: 77, owner: processOwner() });
    const respBack = this.travel({ host: server, pkt: resp }, 'reply');
    const seen2 = this.clientSees(spec, respBack, clientAddr, sport);
    if (seen2.kind !== 'ok') {
      return { verdict: 'timeout', server: accepted, peer, explanation: `${spec.from} completed the handshake, but ${server}'s answer never came back: ${seen2.kind === 'lost' ? seen2.why : 'it did not match the connection'}.` };
    }
    // both programs close the connection (FIN both ways, not traced packet by packet): every
    // conntrack entry on its path lingers in TIME_WAIT, and a new SYN on the same ports reopens
    // it as a new connection (measured, fixtures/kernel/65-reused-source-port)
    this.emit({ kind: 'phase', host: spec.from, name: 'close' });
    for (const s of this.run.allStacks()) s.closeTcpConnections();
    return {
      verdict: 'established',
      server: accepted,
      peer,
      explanation: `${accepted!.host} accepted the connection on ${accepted!.address}:${accepted!.port} and saw the client as ${peer.address}:${peer.port}.`,
    };
  }

  /** What the client makes of what came back to it. */
  private clientSees(
    spec: ConnectionSpec,
    back: ReturnType<LabSim['travel']>,
    clientAddr: number,
    sport: number,
  ): { kind: 'ok'; pkt: Packet; from: string } | { kind: 'mismatch'; pkt: Packet } | { kind: 'lost'; why: string } {
    if (back.end === 'error') return { kind: 'lost', why: back.reason };
    if (back.end === 'lost') {
      for (const r of back.replies) {
        const again = this.travel({ host: r.host, pkt: r.pkt }, r.dir);
        if (again.end === 'deliver' && again.host === spec.from) return this.clientSees(spec, again, clientAddr, sport);
      }
      return { kind: 'lost', why: back.reason };
    }
    if (back.host !== spec.from) return { kind: 'lost', why: `the answer went to ${back.host} instead` };
    const p = back.pkt;
    const matchesSocket =
      p.dst === clientAddr &&
      (p.proto === PROTO_ICMP
        ? p.icmpType === 0
          ? p.src === spec.dst && p.sport === sport
          : isIcmpError(p.icmpType) && quotesRequest(p, spec, clientAddr, sport)
        : p.src === spec.dst && p.sport === spec.dport && p.dport === sport);
    if (!matchesSocket) {
      this.emit({ kind: 'reply', host: spec.from, what: `${spec.from} has no socket expecting ${describePacket(p)}` });
      if (p.proto === PROTO_TCP && !(p.tcpFlags! & TCP.RST)) {
        const rst = newPacket({ src: p.dst, dst: p.src, proto: PROTO_TCP, sport: p.dport, dport: p.sport, tcpFlags: TCP.RST, len: 40 });
        this.emit({ kind: 'reply', host: spec.from, what: `${spec.from} answers with a reset to ${endpoint(p.src, p.sport)}` });
        this.travel({ host: spec.from, pkt: rst });
      }
      return { kind: 'mismatch', pkt: p };
    }
    this.emit({ kind: 'deliver', host: spec.from, socket: `the client's socket (${describePacket(p)})` });
    return { kind: 'ok', pkt: p, from: ipToString(p.src) };
  }

  private afterLoss(spec: ConnectionSpec, out: Lost, clientAddr: number, sport: number, asked: string): Omit<ConnectionResult, 'events' | 'sport'> {
    const seen = this.clientSees(spec, out, clientAddr, sport);
    if (seen.kind === 'ok') {
      const p = seen.pkt;
      if (p.proto === PROTO_TCP) return { verdict: 'refused', server: null, peer: null, errno: 'ECONNREFUSED', explanation: `${asked}; ${out.host} rejected it with a TCP reset: connection refused.` };
      const v = icmpErrorFate(spec.proto, p);
      // (with the kernel's defaults the sender gives up after 3 ARP requests 1 s apart:
      // net.ipv4.neigh.DEV.mcast_solicit and retrans_time_ms)
      const answered = out.noNeighbour ? `${out.reason}; after about 3 s of unanswered requests ${out.host} ${out.host === spec.from ? 'reported it lost to itself' : 'answered'} with ICMP ${icmpText(p)}` : undefined;
      if (v === 'ignored') return { verdict: 'timeout', server: null, peer: null, explanation: `${asked}; ${answered ?? `${out.host} answered ICMP ${icmpText(p)} (${out.reason})`}, ${IGNORED}` };
      const errno = socketErrno(spec.proto, p);
      return { verdict: v, server: null, peer: null, errno, explanation: `${asked}; ${answered ? `${answered}: unreachable` : `${out.host} rejected it with ICMP ${icmpText(p)}`}${errnoNote(errno)}.` };
    }
    return { verdict: 'timeout', server: null, peer: null, explanation: `${asked}, but the request was lost on ${out.host}: ${out.reason}. Nothing came back: timeout.` };
  }
}

const IGNORED = 'an error a connected UDP socket does not report (the kernel counts it as soft): the client keeps waiting: timeout.';

/** icmp_err_convert[]: the errno a TCP or UDP socket reports for each destination-unreachable code */
const UNREACH_ERRNO = [
  'ENETUNREACH', 'EHOSTUNREACH', 'ENOPROTOOPT', 'ECONNREFUSED', 'EMSGSIZE', 'EOPNOTSUPP', 'ENETUNREACH', 'EHOSTDOWN',
  'ENONET', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH',
];

/**
 * The error the client's TCP or UDP socket reports for an ICMP error it took (tcp_v4_err,
 * __udp4_lib_err; time exceeded is EHOSTUNREACH); a ping socket has no errno, only the message.
 */
function socketErrno(clientProto: number, p: Packet): string | undefined {
  if (clientProto !== PROTO_TCP && clientProto !== PROTO_UDP) return undefined;
  if (p.icmpType === 3) return UNREACH_ERRNO[p.icmpCode ?? 0] ?? 'EHOSTUNREACH';
  return 'EHOSTUNREACH';
}

/** the errnos that are not what the verdict's word already says */
function errnoNote(errno: string | undefined): string {
  const text: Record<string, string> = { ENOPROTOOPT: 'Protocol not available', EHOSTDOWN: 'Host is down', ENONET: 'Machine is not on the network', EMSGSIZE: 'Message too long', EOPNOTSUPP: 'Operation not supported' };
  return errno && text[errno] ? ` (the client's socket reports ${errno}: ${text[errno]})` : '';
}

/** hard errors among the destination-unreachable codes (icmp_err_convert[].fatal) */
const HARD_UNREACH = new Set([2, 3, 6, 7, 8, 9, 10, 13, 14, 15]);

/**
 * What an ICMP error does to the client's socket (tcp_v4_err, __udp4_lib_err): a connecting TCP
 * socket gives up on any destination unreachable but "fragmentation needed", and on time exceeded;
 * a connected UDP socket reports only the errors icmp_err_convert[] calls fatal and ignores net
 * and host unreachable and time exceeded (it has no IP_RECVERR); an echo (ping) reports them all.
 */
export function icmpErrorFate(clientProto: number, p: Packet): 'refused' | 'unreachable' | 'ignored' {
  const type = p.icmpType;
  const code = p.icmpCode ?? 0;
  if (type === 3 && code === 3) return 'refused';
  if (clientProto === PROTO_UDP) return type === 3 && HARD_UNREACH.has(code) ? 'unreachable' : 'ignored';
  if (clientProto === PROTO_TCP) {
    if (type === 3) return code === 4 || code > 15 ? 'ignored' : 'unreachable';
    return type === 11 || type === 12 ? 'unreachable' : 'ignored';
  }
  return type === 3 || type === 11 ? 'unreachable' : 'ignored';
}

/** The socket an ICMP error is for is found from the header it quotes (the client's own request). */
function quotesRequest(p: Packet, spec: ConnectionSpec, clientAddr: number, sport: number): boolean {
  const q = p.inner;
  if (!q) return false;
  if (q.src !== clientAddr || q.proto !== spec.proto || q.sport !== sport) return false;
  // (an ICMP client takes only an error about its echo request: one about the echo reply, which
  // a host pinging itself also sent from its own address, is not for it; measured:
  // fixtures/kernel/267-random-frames-512)
  return spec.proto === PROTO_ICMP ? q.icmpType === 8 : q.dst === spec.dst && q.dport === spec.dport;
}

function icmpText(p: Packet): string {
  const names: Record<number, string> = { 0: 'net unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable', 9: 'net prohibited', 10: 'host prohibited', 13: 'administratively prohibited' };
  return p.icmpType === 3 ? (names[p.icmpCode ?? 0] ?? `unreachable code ${p.icmpCode}`) : `type ${p.icmpType} code ${p.icmpCode}`;
}

function summarizeLite(p: Packet) {
  return { id: p.id, src: ipToString(p.src), dst: ipToString(p.dst), proto: p.proto, sport: p.sport, dport: p.dport, ttl: p.ttl, len: p.len, mark: 0 };
}

export function hostAddresses(host: Host): string[] {
  return interfaceAddresses(host).map((a) => ipToString(a.addr));
}

export interface PathOutcome {
  probability: number;
  result: ConnectionResult;
}

/**
 * Every way a connection can go where rules draw at random (statistic --mode random), each with
 * its probability: the connection is replayed on a copy of the lab for every combination of
 * draws, so the lab itself does not change.
 */
export function allPaths(lab: Lab, spec: ConnectionSpec, limit = 1024): PathOutcome[] {
  const out: PathOutcome[] = [];
  const queue: boolean[][] = [[]];
  while (queue.length) {
    if (out.length >= limit) throw new Error(`more than ${limit} paths: narrow the trace`);
    const prefix = queue.shift()!;
    const taken: { choice: boolean; p: number }[] = [];
    const chooser = (p: number): boolean => {
      const i = taken.length;
      const certain = p <= 0 ? false : p >= 1 ? true : undefined;
      const choice = i < prefix.length ? prefix[i]! : (certain ?? true);
      taken.push({ choice, p });
      return choice;
    };
    const copy = structuredClone(lab);
    const result = new LabSim(copy, new Run(copy, chooser)).connect(spec);
    let probability = 1;
    taken.forEach((t, i) => {
      probability *= t.choice ? t.p : 1 - t.p;
      if (i >= prefix.length && t.p > 0 && t.p < 1) queue.push([...taken.slice(0, i).map((x) => x.choice), !t.choice]);
    });
    out.push({ probability, result });
  }
  return out;
}
