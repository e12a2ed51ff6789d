/**
 * SYNPROXY target: the rule is stored as iptables stores it (struct xt_synproxy_info: the uint32
 * options cut to __u8 wscale and __u16 mss), and a trace that reaches it stops with exit 3, since
 * its effect (a cookie SYN-ACK in place of the SYN, then a proxied connection) is not modelled.
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable, type TableName } from '../../src/ruleset/tables.js';
import { expectTraceRefused, ruleFrom } from '../helpers/ext.js';

describe('SYNPROXY target', () => {
  it('keeps the values the kernel structure can hold', () => {
    expect(ruleFrom('-p tcp -j SYNPROXY --wscale 256 --mss 65536').target).toMatchObject({ data: { options: 0x03, wscale: 0, mss: 0 } });
    expect(ruleFrom('-p tcp -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460 --ecn').target).toMatchObject({
      data: { options: 0x1f, wscale: 7, mss: 1460 },
    });
  });

  /** the typical "DDoS protection" pair: SYNs untracked in raw, then SYNPROXY for them in filter */
  function lab(notrack: boolean) {
    const l = builtinLab();
    const put = (table: TableName, chain: string, spec: string) => {
      const t = (l.hosts.router!.tables[table] ??= newTable(table));
      const c = t.chains.find((x) => x.name === chain)!;
      c.created = true;
      c.rules.push(ruleFrom(`-t ${table} -A ${chain} ${spec}`));
    };
    if (notrack) put('raw', 'PREROUTING', '-p tcp -m tcp --syn -j CT --notrack');
    put('filter', 'INPUT', '-p tcp -m tcp -m conntrack --ctstate INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460');
    put('filter', 'INPUT', '-m conntrack --ctstate INVALID -j DROP');
    return l;
  }
  const syn: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 22, tcpFlags: 0x02 };

  it('a trace reaching it is refused with exit 3', () =>
    expectTraceRefused(
      () => tracePacket(lab(true), 'router', syn),
      /rule 1 of filter INPUT: the SYNPROXY target is accepted by iptables-sim but its effect on packets is not modelled/,
    ));

  it('a tracked SYN (ctstate NEW) passes the rule by', () => {
    expect(tracePacket(lab(false), 'router', syn).outcome.kind).toBe('deliver');
  });
});
