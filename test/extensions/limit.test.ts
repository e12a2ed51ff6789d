import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';
import { nftLimitRoundTrip } from '../../src/extensions/matches/limit.js';

/** runs the rule on one packet per clock value, in order, on one context */
function run(spec: string, times: number[]): boolean[] {
  const rule = ruleFrom(spec);
  const ctx = context();
  return times.map((t) => {
    ctx.clock = t;
    return matches(rule, packet(), ctx);
  });
}

describe('limit match (nft_limit token bucket)', () => {
  const cases: [string, number[], boolean[]][] = [
    // 1/sec burst 2: two at once, then one per second
    ['-m limit --limit 1/sec --limit-burst 2', [1000, 1000, 1000, 1000.5, 1001, 1001], [true, true, false, false, true, false]],
    // the default 3/hour burst 5: five, then one every 20 minutes
    ['-m limit', [0, 0, 0, 0, 0, 0, 1199, 1200, 1200], [true, true, true, true, true, false, false, true, false]],
    // burst 0 becomes nft_limit's default of 5
    ['-m limit --limit 1/min --limit-burst 0', [0, 0, 0, 0, 0, 0], [true, true, true, true, true, false]],
    // 961/minute is stored as 16/second: a packet every 62.5 ms
    ['-m limit --limit 961/minute --limit-burst 1', [0, 0, 0.06, 0.0625, 0.0626], [true, false, false, true, false]],
    // a long pause refills only up to the burst
    ['-m limit --limit 10/sec --limit-burst 3', [0, 100, 100, 100, 100], [true, true, true, true, false]],
  ];
  it.each(cases)('%s at %j -> %j', (spec, times, want) => {
    expect(run(spec, times)).toEqual(want);
  });

  it('stores the rate the way nf_tables gives it back', () => {
    // rate/unit as add_nft_limit() stores them
    expect(nftLimitRoundTrip(Math.floor((10000 * 3600) / 7))).toMatchObject({ rate: 7n, unit: 3600n });
    expect(nftLimitRoundTrip(Math.floor((10000 * 60) / 961))).toMatchObject({ rate: 16n, unit: 1n, avg: 625 });
    expect(nftLimitRoundTrip(Math.floor((10000 * 86400) / 99999))).toMatchObject({ rate: 100000n, unit: 86400n });
    expect(nftLimitRoundTrip(Math.floor((10000 * 3600) / 123456))).toMatchObject({ rate: 2061n, unit: 60n });
  });

  it('keeps the canonical data in the rule', () => {
    expect(ruleFrom('-m limit --limit 961/minute --limit-burst 0').matches[0]!.data).toEqual({ avg: 625, burst: 5 });
  });
});
