/**
 * socket match (libxt_socket.c of iptables 1.8.9, revision 3 for iptables and ip6tables;
 * net/netfilter/xt_socket.c): true when a local socket would receive the packet (an established
 * one, or a listener), optionally only a transparent one (--transparent), also a listener bound
 * to the any address (--nowildcard), and then copy the socket's mark to the packet
 * (--restore-skmark).
 *
 * Measured (fixtures/cli/ext-socket.case): -S writes the flags in the order transparent,
 * nowildcard, restore-skmark whatever order they were given in, and -C compares the flags. The
 * kernel registers every revision for the PREROUTING and INPUT hooks of any table; a user chain
 * reached from elsewhere is refused.
 *
 * socket_match(): the socket nf_sk_lookup_slow_v4() finds (MatchContext.socket(): a connection
 * the trace has open on the host, or a listener or bound socket on the port) counts unless it is
 * a full socket bound to 0.0.0.0 and --nowildcard was not given, or --transparent was given and
 * it is not transparent (no socket of the lab is); --restore-skmark gives the packet the mark of a
 * full socket that counts (0: the lab's programs set none). Measured: fixtures/kernel/174-socket-match
 * (a listener on 0.0.0.0 counts under --nowildcard for forwarded packets too; a request socket,
 * not full, leaves the mark alone).
 */
import type { MatchExtension } from '../types.js';

/** XT_SOCKET_* of linux/netfilter/xt_socket.h */
const FLAG = { TRANSPARENT: 1, NOWILDCARD: 2, RESTORESKMARK: 4 } as const;
const SAVE_ORDER: [number, string][] = [
  [FLAG.TRANSPARENT, 'transparent'],
  [FLAG.NOWILDCARD, 'nowildcard'],
  [FLAG.RESTORESKMARK, 'restore-skmark'],
];

export interface SocketData {
  flags: number;
}

const save = (d: SocketData) => SAVE_ORDER.map(([f, n]) => (d.flags & f ? ` --${n}` : '')).join('');

export const socket: MatchExtension<SocketData> = {
  kind: 'match',
  name: 'socket',
  revision: 3,
  // socket_mt_help_v3() of libxt_socket.c, byte for byte
  help:
    'socket match options:\n' +
    '  --nowildcard     Do not ignore LISTEN sockets bound on INADDR_ANY\n' +
    '  --transparent    Ignore non-transparent sockets\n' +
    '  --restore-skmark Set the packet mark to the socket mark if\n' +
    '                   the socket matches and transparent / \n' +
    '                   nowildcard conditions are satisfied\n\n',
  options: SAVE_ORDER.map(([, name], id) => ({ name, id, type: 'none' as const })),
  init: () => ({ flags: 0 }),
  parse({ entry, data }) {
    data.flags |= SAVE_ORDER[entry.id]![0];
  },
  print: (d) => ` socket${save(d)}`,
  save,
  // socket_mt_reg[].hooks: (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_IN)
  hooks: ['PREROUTING', 'INPUT'],
  match(d, pkt, ctx) {
    const sk = ctx.socket();
    if (!sk) return false;
    const wildcard = !(d.flags & FLAG.NOWILDCARD) && sk.full && sk.anyAddr;
    // inet_sk_transparent(): false for every socket of the lab
    const transparent = !(d.flags & FLAG.TRANSPARENT);
    if (d.flags & FLAG.RESTORESKMARK && !wildcard && transparent && sk.full) pkt.mark = 0;
    return !wildcard && transparent;
  },
};
