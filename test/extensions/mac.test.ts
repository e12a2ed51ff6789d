import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('mac match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m mac --mac-source 00:11:22:33:44:55', { srcMac: '00:11:22:33:44:55' }, true],
    ['-m mac --mac-source 00:11:22:33:44:55', { srcMac: '00:11:22:33:44:56' }, false],
    ['-m mac --mac-source AA:BB:CC:DD:EE:FF', { srcMac: 'aa:bb:cc:dd:ee:ff' }, true],
    ['-m mac --mac-source a:b:c:d:e:f', { srcMac: '0a:0b:0c:0d:0e:0f' }, true],
    ['-m mac ! --mac-source 00:11:22:33:44:55', { srcMac: '00:11:22:33:44:56' }, true],
    ['-m mac ! --mac-source 00:11:22:33:44:55', { srcMac: '00:11:22:33:44:55' }, false],
    // no Ethernet header (loopback, locally generated): no match, inverted or not
    ['-m mac --mac-source 00:11:22:33:44:55', {}, false],
    ['-m mac ! --mac-source 00:11:22:33:44:55', {}, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
