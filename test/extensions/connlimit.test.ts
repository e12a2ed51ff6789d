import { describe, expect, it } from 'vitest';
import type { Tuple } from '../../src/engine/ext-api.js';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';
import { ctView, tuple } from './ct-helpers.js';

const conn = (src: string, dst: string, sport: number): [Tuple, Tuple] => [tuple(src, dst, 6, sport, 22), tuple(dst, src, 6, 22, sport)];

// three connections from 10.0.0.1, one from 10.0.0.7, one from 10.0.1.1, all to 10.0.0.2:22
const table: [Tuple, Tuple][] = [
  conn('10.0.0.1', '10.0.0.2', 40001),
  conn('10.0.0.1', '10.0.0.2', 40002),
  conn('10.0.0.1', '10.0.0.2', 40003),
  conn('10.0.0.7', '10.0.0.2', 40004),
  conn('10.0.1.1', '10.0.0.2', 40005),
];

/** a new connection from src (not yet in the table) */
const fresh = (src: string) =>
  packet({ src, dst: '10.0.0.2', sport: 50000, dport: 22, ct: ctView({ state: 'NEW', status: [], orig: tuple(src, '10.0.0.2', 6, 50000, 22), replyTuple: tuple('10.0.0.2', src, 6, 22, 50000) }) });
/** a packet of the first connection in the table (already counted) */
const known = packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40001, dport: 22, ct: ctView({ orig: table[0]![0], replyTuple: table[0]![1] }) });

const rows: [string, ReturnType<typeof packet>, boolean][] = [
  // 3 existing + the new one = 4
  ['-m connlimit --connlimit-above 3', fresh('10.0.0.1'), true],
  ['-m connlimit --connlimit-above 4', fresh('10.0.0.1'), false],
  ['-m connlimit --connlimit-upto 4', fresh('10.0.0.1'), true],
  ['-m connlimit --connlimit-upto 3', fresh('10.0.0.1'), false],
  ['-m connlimit ! --connlimit-upto 3', fresh('10.0.0.1'), true],
  ['-m connlimit ! --connlimit-above 3', fresh('10.0.0.1'), false],
  // an already counted connection is not counted twice: 3
  ['-m connlimit --connlimit-above 3', known, false],
  ['-m connlimit --connlimit-above 2', known, true],
  // a host with no connection yet counts only itself
  ['-m connlimit --connlimit-above 0', fresh('10.0.0.9'), true],
  ['-m connlimit --connlimit-above 1', fresh('10.0.0.9'), false],
  ['-m connlimit --connlimit-upto 0', fresh('10.0.0.9'), false],
  // grouping by prefix: /24 holds 10.0.0.1 x3 and 10.0.0.7 -> 4 + new = 5
  ['-m connlimit --connlimit-above 4 --connlimit-mask 24', fresh('10.0.0.9'), true],
  ['-m connlimit --connlimit-above 5 --connlimit-mask 24', fresh('10.0.0.9'), false],
  ['-m connlimit --connlimit-above 5 --connlimit-mask 16', fresh('10.0.0.9'), true],
  ['-m connlimit --connlimit-above 5 --connlimit-mask 0', fresh('192.0.2.1'), true],
  // by destination: all 5 go to 10.0.0.2, plus the new one
  ['-m connlimit --connlimit-above 5 --connlimit-daddr', fresh('10.0.0.9'), true],
  ['-m connlimit --connlimit-above 6 --connlimit-daddr', fresh('10.0.0.9'), false],
];

describe('connlimit match', () => {
  it.each(rows)('%s on %j -> %s', (spec, pkt, want) => {
    expect(matches(ruleFrom(spec), pkt, context({ connections: table }))).toBe(want);
  });
});
