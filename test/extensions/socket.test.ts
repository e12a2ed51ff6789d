/**
 * socket match: the rule is stored as iptables stores it (struct xt_socket_mtinfo3 flags), and a
 * trace that reaches it stops with exit 3, since whether a local socket would take the packet is
 * not modelled.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { expectTraceRefused, ruleFrom } from '../helpers/ext.js';

describe('socket match', () => {
  it('keeps the XT_SOCKET_* flags', () => {
    expect(ruleFrom('-t mangle -A PREROUTING -m socket').matches[0]).toMatchObject({ data: { flags: 0 } });
    expect(ruleFrom('-t mangle -A PREROUTING -m socket --restore-skmark --transparent').matches[0]).toMatchObject({ data: { flags: 5 } });
  });

  it('a trace reaching it is refused with exit 3', () => {
    const l = builtinLab();
    const t = (l.hosts.router!.tables.mangle ??= newTable('mangle'));
    const c = t.chains.find((x) => x.name === 'PREROUTING')!;
    c.created = true;
    c.rules.push(ruleFrom('-t mangle -A PREROUTING -p tcp -m socket --transparent -j MARK --set-mark 1'));
    const syn: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 80, tcpFlags: 0x02 };
    return expectTraceRefused(() => tracePacket(l, 'router', syn), /rule 1 of mangle PREROUTING: the socket match is accepted by iptables-sim but/);
  });
});
