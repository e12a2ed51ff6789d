import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('tos match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m tos --tos 0x10', { tos: 0x10 }, true],
    // no mask given: all eight bits count, ECN included
    ['-m tos --tos 0x10', { tos: 0x11 }, false],
    // a name masks with 0x3f: the precedence bits are ignored, the ECN bits are not
    ['-m tos --tos Minimize-Delay', { tos: 0xd0 }, true],
    ['-m tos --tos Minimize-Delay', { tos: 0x11 }, false],
    ['-m tos --tos 0x10/0x3f', { tos: 0x50 }, true],
    ['-m tos --tos 0x10/0x3f', { tos: 0x18 }, false],
    ['-m tos --tos 0x10/0x1c', { tos: 0x13 }, true],
    ['-m tos ! --tos Normal-Service', { tos: 0x08 }, true],
    ['-m tos ! --tos Normal-Service', { tos: 0x00 }, false],
    // the value is not masked: bits outside the mask never match
    ['-m tos --tos 0xff/0x00', { tos: 0xff }, false],
    ['-m tos --tos 0x00/0x00', { tos: 0xff }, true],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});

describe('dscp match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m dscp --dscp 46', { tos: 0xb8 }, true],
    ['-m dscp --dscp 46', { tos: 0xbb }, true],
    ['-m dscp --dscp 46', { tos: 0xb4 }, false],
    ['-m dscp --dscp-class EF', { tos: 0xb8 }, true],
    ['-m dscp --dscp-class AF41', { tos: 0x88 }, true],
    ['-m dscp --dscp-class BE', { tos: 0x02 }, true],
    ['-m dscp ! --dscp-class BE', { tos: 0x02 }, false],
    ['-m dscp ! --dscp 0', { tos: 0x20 }, true],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});

describe('ttl match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-m ttl --ttl-eq 64', { ttl: 64 }, true],
    ['-m ttl --ttl-eq 64', { ttl: 63 }, false],
    ['-m ttl --ttl 64', { ttl: 64 }, true],
    ['-m ttl ! --ttl-eq 64', { ttl: 63 }, true],
    ['-m ttl ! --ttl 64', { ttl: 64 }, false],
    ['-m ttl --ttl-lt 5', { ttl: 4 }, true],
    ['-m ttl --ttl-lt 5', { ttl: 5 }, false],
    ['-m ttl --ttl-gt 250', { ttl: 251 }, true],
    ['-m ttl --ttl-gt 250', { ttl: 250 }, false],
    ['-m ttl --ttl-lt 0', { ttl: 0 }, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
