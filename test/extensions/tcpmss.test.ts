/**
 * tcpmss match: expected values from tcpmss_mt() of net/netfilter/xt_tcpmss.c (the first MSS
 * option decides: (mss_min <= mss <= mss_max) ^ invert; no MSS option: invert alone), and the
 * MSS a traced SYN carries: the sender's advertised MSS, ipv4_default_advmss() = MTU - 40 (1460
 * on the lab's 1500-byte links, 65495 on lo, capped at IPV4_MAX_PMTU - 40).
 */
import { describe, expect, it } from 'vitest';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket, type PacketSpec } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('tcpmss match', () => {
  const syn = { tcpFlags: 0x02 };
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['--mss 1460', { ...syn, tcpMss: 1460 }, true],
    ['--mss 1460', { ...syn, tcpMss: 1459 }, false],
    ['! --mss 1460', { ...syn, tcpMss: 1459 }, true],
    ['--mss 1:500', { ...syn, tcpMss: 500 }, true],
    ['--mss 1:500', { ...syn, tcpMss: 501 }, false],
    ['--mss 1:500', { ...syn, tcpMss: 0 }, false],
    ['! --mss 536:65535', { ...syn, tcpMss: 535 }, true],
    ['! --mss 536:65535', { ...syn, tcpMss: 536 }, false],
    ['--mss 0', { ...syn, tcpMss: 0 }, true],
    // no MSS option (an ACK, or a SYN sent without one): only the inverted form matches
    ['--mss 0:65535', { tcpFlags: 0x10 }, false],
    ['! --mss 0:65535', { tcpFlags: 0x10 }, true],
    ['! --mss 1460', { tcpFlags: 0x10 }, true],
    ['--mss 0:65535', { ...syn, tcpMss: undefined }, false],
  ];
  it.each(cases)('-p tcp -m tcpmss %s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(`-p tcp -m tcpmss ${spec}`), packet(p))).toBe(want);
  });
});

describe('the MSS a traced SYN carries', () => {
  /** the builtin lab's router with one rule in filter's INPUT or OUTPUT */
  function trace(chain: 'INPUT' | 'OUTPUT', rule: string, spec: PacketSpec) {
    const lab = builtinLab();
    const t = newTable('filter');
    const c = t.chains.find((x) => x.name === chain)!;
    c.created = true;
    c.rules = [ruleFrom(`-A ${chain} ${rule}`)];
    lab.hosts.router!.tables.filter = t;
    return tracePacket(lab, 'router', spec).outcome.kind;
  }
  const fromWan = (flags: number): PacketSpec => ({ iface: 'eth0', proto: 6, src: 0x323c4601, dst: 0x323c4650, sport: 40000, dport: 22, tcpFlags: flags });
  const local = (dst: number): PacketSpec => ({ proto: 6, dst, sport: 40000, dport: 22, tcpFlags: 0x02 });

  it('a SYN arriving on an ethernet link carries 1500 - 40', () => {
    expect(trace('INPUT', '-p tcp -m tcpmss --mss 1460 -j DROP', fromWan(0x02))).toBe('drop');
    expect(trace('INPUT', '-p tcp -m tcpmss ! --mss 1460 -j DROP', fromWan(0x02))).toBe('deliver');
  });
  it('an ACK carries no MSS option', () => {
    expect(trace('INPUT', '-p tcp -m tcpmss --mss 0:65535 -j DROP', fromWan(0x10))).toBe('deliver');
    expect(trace('INPUT', '-p tcp -m tcpmss ! --mss 0:65535 -j DROP', fromWan(0x10))).toBe('drop');
  });
  it('a local SYN advertises the MTU of the device it leaves by', () => {
    // to itself over lo: 65536 - 40, capped at 65535 - 40
    expect(trace('OUTPUT', '-p tcp -m tcpmss --mss 65495 -j DROP', local(0x7f000001))).toBe('drop');
    // to the internet by eth0
    expect(trace('OUTPUT', '-p tcp -m tcpmss --mss 1460 -j DROP', local(0x08080808))).toBe('drop');
    expect(trace('OUTPUT', '-p tcp -m tcpmss --mss 65495 -j DROP', local(0x08080808))).toBe('transmit');
  });
});
