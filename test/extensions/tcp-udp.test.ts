import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('tcp match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p tcp --dport 22', { dport: 22, sport: 40000 }, true],
    ['-p tcp --dport 22', { dport: 23, sport: 40000 }, false],
    ['-p tcp ! --dport 22', { dport: 23, sport: 40000 }, true],
    ['-p tcp --sport 1024:', { dport: 80, sport: 1024 }, true],
    ['-p tcp --sport 1024:', { dport: 80, sport: 1023 }, false],
    ['-p tcp ! --dport 0:1023', { dport: 1024, sport: 5 }, true],
    ['-p tcp --syn', { dport: 80, sport: 5, tcpFlags: 0x02 }, true],
    ['-p tcp --syn', { dport: 80, sport: 5, tcpFlags: 0x12 }, false],
    ['-p tcp ! --syn', { dport: 80, sport: 5, tcpFlags: 0x10 }, true],
    ['-p tcp --tcp-flags ALL NONE', { dport: 80, sport: 5, tcpFlags: 0 }, true],
    ['-p tcp --tcp-flags SYN,ACK SYN,ACK', { dport: 80, sport: 5, tcpFlags: 0x12 }, true],
    ['-p tcp --dport 22', { proto: 17, dport: 22, sport: 5 }, false],
    ['-p tcp --dport 22', { dport: 22, sport: 5, fragment: true }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});

describe('udp match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-p udp --dport 53', { proto: 17, dport: 53, sport: 5000 }, true],
    ['-p udp --dport domain', { proto: 17, dport: 53, sport: 5000 }, true],
    ['-p udp ! --sport 5000', { proto: 17, dport: 53, sport: 5000 }, false],
    ['-p udp --dport 53', { proto: 6, dport: 53, sport: 5000 }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
