/**
 * esp and ah matches: expected values from esp_mt() of net/netfilter/xt_esp.c and ah_mt() of
 * net/ipv4/netfilter/ipt_ah.c: a non-first fragment (fragoff != 0) never matches, otherwise
 * spi_match(min, max, spi, invert) = (min <= spi <= max) ^ invert. Traced packets carry no
 * ESP/AH header, so only SPI-independent answers are given; anything else stops the trace (exit 3).
 */
import { describe, expect, it } from 'vitest';
import { SimError } from '../../src/errors.js';
import { builtinLab } from '../../src/net/builtin-lab.js';
import { tracePacket } from '../../src/engine/simulate.js';
import { newTable } from '../../src/ruleset/tables.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe.each([
  ['esp', 50, 'espspi'],
  ['ah', 51, 'ahspi'],
])('%s match', (name, proto, option) => {
  const rule = (spec: string) => ruleFrom(`-p ${proto} -m ${name} ${spec}`);
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    // no --spi option: spis 0:0xffffffff, any SPI is in range
    ['', { proto }, true],
    [`--${option} 0:4294967295`, { proto }, true],
    [`! --${option} 0:4294967295`, { proto }, false],
    [`--${option} :`, { proto }, true],
    // a reversed range holds no SPI
    [`--${option} 7:3`, { proto }, false],
    [`! --${option} 7:3`, { proto }, true],
    // fragoff != 0: false before the header is read, whatever the range and '!'
    ['', { proto, fragment: true }, false],
    [`! --${option} 7:3`, { proto, fragment: true }, false],
    [`--${option} 100`, { proto, fragment: true }, false],
  ];
  it.each(cases)(`-m ${name} %s on %o -> %s`, (spec, p, want) => {
    expect(matches(rule(spec), packet(p))).toBe(want);
  });

  it('a test that depends on the SPI stops the trace with exit 3', () => {
    let err: unknown;
    try {
      matches(rule(`! --${option} 100:200`), packet({ proto }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).status).toBe(3);
    expect((err as Error).message).toMatch(new RegExp(`${name} match on SPI !100:200: traced packets carry no ${name.toUpperCase()} header`));
  });
});

describe('ah for iptables and ip6tables', () => {
  it('iptables refuses ip6tables-only options as getopt does', () => {
    expect(() => ruleFrom('-p ah -m ah --ahres')).toThrow(/^unknown option "--ahres"$/);
  });
});

describe('esp in a trace', () => {
  function run(spec: string) {
    const l = builtinLab();
    const c = (l.hosts.router!.tables.filter ??= newTable('filter')).chains.find((x) => x.name === 'INPUT')!;
    c.created = true;
    c.rules.push(ruleFrom(`-A INPUT ${spec}`));
    return tracePacket(l, 'router', { iface: 'eth0', proto: 50, src: 0x323c4601, dst: 0x323c4650 });
  }

  it('an SPI-independent rule decides the packet', () => {
    expect(run('-p esp -m esp -j DROP').outcome.kind).toBe('drop');
    expect(run('-p esp -m esp ! --espspi 0:4294967295 -j DROP').outcome.kind).toBe('deliver');
  });

  it('an SPI test stops the trace with exit 3', () => {
    expect(() => run('-p esp -m esp --espspi 256 -j DROP')).toThrow(expect.objectContaining({ status: 3 }));
  });
});
