import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('iprange match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m iprange --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.1' }, true],
    ['-m iprange --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.10' }, true],
    ['-m iprange --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.11' }, false],
    ['-m iprange --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.0' }, false],
    ['-m iprange ! --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.11' }, true],
    ['-m iprange ! --src-range 10.0.0.1-10.0.0.10', { src: '10.0.0.5' }, false],
    ['-m iprange --dst-range 192.168.1.0-192.168.2.255', { dst: '192.168.2.7' }, true],
    ['-m iprange --dst-range 192.168.1.0-192.168.2.255', { dst: '192.168.3.0' }, false],
    // addresses above 128.0.0.0 compare unsigned
    ['-m iprange --dst-range 200.0.0.0-255.255.255.255', { dst: '255.255.255.255' }, true],
    ['-m iprange --dst-range 200.0.0.0-255.255.255.255', { dst: '10.0.0.1' }, false],
    ['-m iprange --src-range 10.0.0.5', { src: '10.0.0.5' }, true],
    ['-m iprange --src-range 10.0.0.5', { src: '10.0.0.6' }, false],
    // a reversed range never matches (and its inversion always does)
    ['-m iprange --src-range 10.0.0.9-10.0.0.1', { src: '10.0.0.5' }, false],
    ['-m iprange ! --src-range 10.0.0.9-10.0.0.1', { src: '10.0.0.5' }, true],
    ['-m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.0.1.0-10.0.1.255', { src: '10.0.0.2', dst: '10.0.2.1' }, true],
    ['-m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.0.1.0-10.0.1.255', { src: '10.0.0.2', dst: '10.0.1.1' }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
