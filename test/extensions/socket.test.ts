/**
 * socket match: the rule is stored as iptables stores it (struct xt_socket_mtinfo3 flags), and a
 * packet is matched as socket_match() decides on the socket the host has for it (the kernel's
 * answers for the lab's connections are in fixtures/kernel/174-socket-match). A one-packet trace
 * opens no connection: only the hosts' listening services are there.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { ruleFrom } from '../helpers/ext.js';

describe('socket match', () => {
  it('keeps the XT_SOCKET_* flags', () => {
    expect(ruleFrom('-t mangle -A PREROUTING -m socket').matches[0]).toMatchObject({ data: { flags: 0 } });
    expect(ruleFrom('-t mangle -A PREROUTING -m socket --restore-skmark --transparent').matches[0]).toMatchObject({ data: { flags: 5 } });
  });

  /** the mark a SYN to the router's port `dport` leaves mangle PREROUTING with, after -m socket OPTS sets 1 */
  function markAfter(opts: string, dport: number): number {
    const l = builtinLab();
    const t = (l.hosts.router!.tables.mangle ??= newTable('mangle'));
    const c = t.chains.find((x) => x.name === 'PREROUTING')!;
    c.created = true;
    c.rules.push(ruleFrom(`-t mangle -A PREROUTING -p tcp -m socket ${opts} -j MARK --set-mark 1`));
    const syn: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport, tcpFlags: 0x02 };
    const r = tracePacket(l, 'router', syn);
    return r.outcome.pkt.mark;
  }

  it('a listener bound to 0.0.0.0 counts only under --nowildcard, and never under --transparent', () => {
    // the router's services listen on 0.0.0.0:80
    expect(markAfter('', 80)).toBe(0);
    expect(markAfter('--nowildcard', 80)).toBe(1);
    expect(markAfter('--nowildcard --transparent', 80)).toBe(0);
    // nothing listens on 22
    expect(markAfter('--nowildcard', 22)).toBe(0);
  });
});
