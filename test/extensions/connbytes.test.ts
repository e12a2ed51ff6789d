import { describe, expect, it } from 'vitest';
import type { ConntrackView } from '../../src/engine/ext-api.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';
import { ctView } from './ct-helpers.js';

// 10 packets / 5000 bytes original, 4 packets / 400 bytes reply
const ct = ctView({ packets: [10, 4], bytes: [5000, 400] });
const noPackets = ctView({ packets: [0, 0], bytes: [0, 0] });
const cb = (spec: string, dir: string, mode: string) => `-m connbytes ${spec} --connbytes-dir ${dir} --connbytes-mode ${mode}`;

const rows: [string, ConntrackView | undefined, boolean][] = [
  [cb('--connbytes 10', 'original', 'packets'), ct, true],
  [cb('--connbytes 11', 'original', 'packets'), ct, false],
  [cb('--connbytes 0:10', 'original', 'packets'), ct, true],
  [cb('--connbytes 0:9', 'original', 'packets'), ct, false],
  [cb('--connbytes 4:4', 'reply', 'packets'), ct, true],
  [cb('--connbytes 14:14', 'both', 'packets'), ct, true],
  [cb('--connbytes 5000', 'original', 'bytes'), ct, true],
  [cb('--connbytes 5401', 'both', 'bytes'), ct, false],
  [cb('--connbytes 5400:5400', 'both', 'bytes'), ct, true],
  // avgpkt: integer division, 5000/10 = 500, 400/4 = 100, 5400/14 = 385
  [cb('--connbytes 500:500', 'original', 'avgpkt'), ct, true],
  [cb('--connbytes 100:100', 'reply', 'avgpkt'), ct, true],
  [cb('--connbytes 385:385', 'both', 'avgpkt'), ct, true],
  [cb('--connbytes 386', 'both', 'avgpkt'), ct, false],
  [cb('--connbytes 0:0', 'both', 'avgpkt'), noPackets, true],
  // '!' swaps the bounds: outside the range
  [cb('! --connbytes 11', 'original', 'packets'), ct, true],
  [cb('! --connbytes 10', 'original', 'packets'), ct, false],
  [cb('! --connbytes 2:5', 'reply', 'packets'), ct, false],
  [cb('! --connbytes 5:9', 'reply', 'packets'), ct, true],
  // no conntrack entry: never
  [cb('--connbytes 0', 'both', 'packets'), undefined, false],
  [cb('! --connbytes 1', 'both', 'packets'), { ...ct, state: 'UNTRACKED' }, false],
];

describe('connbytes match', () => {
  it.each(rows)('%s on %j -> %s', (spec, c, want) => {
    expect(matches(ruleFrom(spec), packet({ ct: c }))).toBe(want);
  });
});
