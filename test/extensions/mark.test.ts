import { describe, expect, it } from 'vitest';
import type { ConntrackView } from '../../src/engine/ext-api.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';
import { ctView } from './ct-helpers.js';

describe('mark match', () => {
  const rows: [string, number, boolean][] = [
    ['-m mark --mark 1', 1, true],
    ['-m mark --mark 1', 3, false],
    ['-m mark --mark 0', 0, true],
    ['-m mark --mark 0x10/0xf0', 0x1f, true],
    ['-m mark --mark 0x10/0xf0', 0x2f, false],
    ['-m mark ! --mark 0x10/0xf0', 0x2f, true],
    ['-m mark ! --mark 0x10/0xf0', 0x10, false],
    ['-m mark --mark 0xffffffff', 0xffffffff, true],
    ['-m mark --mark 0xffffffff', 0x7fffffff, false],
    ['-m mark --mark 0x80000000/0x80000000', 0x80000001, true],
    // value bits outside the mask: (mark & mask) can never equal it
    ['-m mark --mark 3/1', 3, false],
    ['-m mark ! --mark 3/1', 3, true],
    ['-m mark --mark 0/0', 0xdeadbeef, true],
    ['-m mark --mark 1 -m mark --mark 2/2', 3, false],
    ['-m mark --mark 3 -m mark --mark 2/2', 3, true],
  ];
  it.each(rows)('%s on mark %d -> %s', (spec, mark, want) => {
    expect(matches(ruleFrom(spec), packet({ mark }))).toBe(want);
  });
});

describe('connmark match', () => {
  const withMark = (mark: number): ConntrackView => ctView({ mark });
  const rows: [string, ConntrackView | undefined, boolean][] = [
    ['-m connmark --mark 1', withMark(1), true],
    ['-m connmark --mark 1', withMark(2), false],
    ['-m connmark --mark 0x100/0xff00', withMark(0x1ff), true],
    ['-m connmark --mark 0x100/0xff00', withMark(0x2ff), false],
    ['-m connmark ! --mark 0x100/0xff00', withMark(0x2ff), true],
    ['-m connmark ! --mark 1', withMark(1), false],
    // no conntrack entry: false even when inverted
    ['-m connmark --mark 0', undefined, false],
    ['-m connmark ! --mark 1', undefined, false],
    ['-m connmark ! --mark 1', { ...withMark(0), state: 'INVALID' }, false],
    ['-m connmark ! --mark 1', { ...withMark(0), state: 'UNTRACKED' }, false],
  ];
  it.each(rows)('%s on %j -> %s', (spec, ct, want) => {
    expect(matches(ruleFrom(spec), packet({ ct, mark: 1 }))).toBe(want);
  });

  it('looks at the connection mark, not the packet mark', () => {
    expect(matches(ruleFrom('-m connmark --mark 5'), packet({ mark: 5, ct: withMark(0) }))).toBe(false);
    expect(matches(ruleFrom('-m mark --mark 5'), packet({ mark: 0, ct: withMark(5) }))).toBe(false);
  });
});
