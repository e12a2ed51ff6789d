/**
 * TPROXY target: the rule is stored as iptables stores it (struct xt_tproxy_target_info_v1), and
 * a packet it takes is dropped, as the kernel drops it when no transparent socket listens
 * (fixtures/kernel/149-tproxy holds the kernel's traces; the lab has no transparent sockets).
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { ruleFrom } from '../helpers/ext.js';

describe('TPROXY target', () => {
  it('stores port, address and mark/mask as the kernel structure holds them', () => {
    expect(ruleFrom('-t mangle -A PREROUTING -p tcp -j TPROXY --on-port 65536').target).toMatchObject({
      data: { lport: 0, laddr: 0, markValue: 0, markMask: 0 },
    });
    expect(ruleFrom('-t mangle -A PREROUTING -p udp -j TPROXY --on-port 53 --on-ip 10.0.0.1 --tproxy-mark 0x23').target).toMatchObject({
      data: { lport: 53, laddr: 0x0a000001, markValue: 0x23, markMask: 0xffffffff },
    });
  });

  function lab(spec: string) {
    const l = builtinLab();
    const t = (l.hosts.router!.tables.mangle ??= newTable('mangle'));
    const c = t.chains.find((x) => x.name === 'PREROUTING')!;
    c.created = true;
    c.rules.push(ruleFrom(`-t mangle -A PREROUTING ${spec}`));
    return l;
  }
  const syn: PacketSpec = { iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 80, tcpFlags: 0x02 };

  it('drops what it takes, its mark unchanged, saying why', () => {
    const r = tracePacket(lab('-p tcp -m tcp --dport 80 -j TPROXY --on-port 3129 --tproxy-mark 0x1/0x1'), 'router', syn);
    expect(r.outcome).toMatchObject({ kind: 'drop', pkt: { mark: 0 } });
    expect(r.events).toContainEqual(expect.objectContaining({ kind: 'drop', reason: expect.stringMatching(/dropped it \(TPROXY: no transparent socket \(IP_TRANSPARENT\) on the address it came to:3129 takes the packet/) }));
  });

  it('a packet the rule does not match passes it by', () => {
    expect(tracePacket(lab('-p udp -j TPROXY --on-port 53'), 'router', { ...syn, dport: 22 }).outcome.kind).toBe('deliver');
  });
});
