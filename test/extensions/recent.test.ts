import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom, type FakeContext } from '../helpers/ext.js';

/** steps of [rule spec, packet, clock, expected]; all rules share one host (one context) */
type Step = [string, NonNullable<Parameters<typeof packet>[0]>, number, boolean];

function run(steps: Step[], ctx: FakeContext = context()): boolean[] {
  return steps.map(([spec, p, t]) => {
    ctx.clock = t;
    return matches(ruleFrom(spec), packet(p), ctx);
  });
}

const A = { src: '10.0.0.1', dst: '192.168.1.1' };
const B = { src: '10.0.0.2', dst: '192.168.1.1' };

describe('recent match', () => {
  const scenarios: [string, Step[]][] = [
    [
      'rcheck sees only addresses that --set added, per list name',
      [
        ['-m recent --rcheck', A, 0, false],
        ['-m recent --set', A, 0, true],
        ['-m recent --rcheck', A, 1, true],
        ['-m recent --rcheck', B, 1, false],
        ['-m recent --rcheck --name other', A, 1, false],
      ],
    ],
    [
      '--seconds limits how old the last hit may be',
      [
        ['-m recent --set --name s', A, 100, true],
        ['-m recent --rcheck --seconds 60 --name s', A, 160, true],
        ['-m recent --rcheck --seconds 60 --name s', A, 161, false],
      ],
    ],
    [
      '--seconds is turned into jiffies in 32 bits: 17179870 s wraps to 204 jiffies',
      [
        ['-m recent --set --name w', A, 0, true],
        ['-m recent --rcheck --seconds 17179870 --name w', A, 0.8, true],
        ['-m recent --rcheck --seconds 17179870 --name w', A, 1, false],
        ['-m recent --rcheck --seconds 17179869 --name w', A, 1000000, true],
      ],
    ],
    [
      '--hitcount counts the stamps (within --seconds)',
      [
        ['-m recent --set --name h', A, 0, true],
        ['-m recent --set --name h', A, 10, true],
        ['-m recent --rcheck --hitcount 3 --name h', A, 11, false],
        ['-m recent --set --name h', A, 20, true],
        ['-m recent --rcheck --hitcount 3 --name h', A, 21, true],
        ['-m recent --rcheck --hitcount 3 --seconds 15 --name h', A, 21, false],
      ],
    ],
    [
      '--update refreshes the stamp only when it matches',
      [
        ['-m recent --set --name u', A, 0, true],
        ['-m recent --update --seconds 10 --name u', A, 8, true],
        ['-m recent --update --seconds 10 --name u', A, 17, true],
        ['-m recent --update --seconds 10 --name u', A, 30, false],
        ['-m recent --update --seconds 10 --name u', A, 31, false],
      ],
    ],
    [
      '--remove deletes the address',
      [
        ['-m recent --set --name r', A, 0, true],
        ['-m recent --remove --name r', A, 1, true],
        ['-m recent --remove --name r', A, 2, false],
        ['-m recent --rcheck --name r', A, 3, false],
      ],
    ],
    [
      '--rdest keys on the destination',
      [
        ['-m recent --set --rdest --name d', A, 0, true],
        ['-m recent --rcheck --rdest --name d', { src: '1.1.1.1', dst: '192.168.1.1' }, 1, true],
        ['-m recent --rcheck --name d', { src: '192.168.1.1', dst: '1.1.1.1' }, 1, true],
        ['-m recent --rcheck --rdest --name d', A, 1, true],
        ['-m recent --rcheck --name d', A, 1, false],
      ],
    ],
    [
      '--mask groups addresses of the list',
      [
        ['-m recent --set --name m --mask 255.255.255.0', A, 0, true],
        ['-m recent --rcheck --name m --mask 255.255.255.0', B, 1, true],
        ['-m recent --rcheck --name m --mask 255.255.255.0', { src: '10.0.1.1' }, 1, false],
      ],
    ],
    [
      '--rttl also compares the TTL the address was set with',
      [
        ['-m recent --set --name t', { ...A, ttl: 64 }, 0, true],
        ['-m recent --rcheck --rttl --name t', { ...A, ttl: 64 }, 1, true],
        ['-m recent --rcheck --rttl --name t', { ...A, ttl: 63 }, 1, false],
        ['-m recent --rcheck --name t', { ...A, ttl: 63 }, 1, true],
      ],
    ],
    [
      'inversion flips every outcome, and ! --set still adds',
      [
        ['-m recent ! --rcheck --name i', A, 0, true],
        ['-m recent ! --set --name i', A, 0, false],
        ['-m recent ! --rcheck --name i', A, 1, false],
      ],
    ],
    [
      '--reap drops the oldest entry once it is older than --seconds',
      [
        ['-m recent --set --name p', A, 0, true],
        ['-m recent --set --name p', B, 50, true],
        ['-m recent --rcheck --seconds 30 --reap --name p', B, 60, true],
        ['-m recent --rcheck --name p', A, 61, false],
        ['-m recent --rcheck --name p', B, 61, true],
      ],
    ],
  ];
  it.each(scenarios)('%s', (_name, steps) => {
    expect(run(steps)).toEqual(steps.map((s) => s[3]));
  });

  it('counts the TTL one higher for forwarded packets', () => {
    const ctx = context({ hook: 'FORWARD' });
    const steps: Step[] = [
      ['-m recent --set --name f', { ...A, ttl: 63 }, 0, true],
      ['-m recent --rcheck --rttl --name f', { ...A, ttl: 63 }, 1, true],
    ];
    expect(run(steps, ctx)).toEqual([true, true]);
    const input = context({ hook: 'INPUT' });
    run([['-m recent --set --name f', { ...A, ttl: 64 }, 0, true]], input);
    input.hook = 'FORWARD';
    expect(run([['-m recent --rcheck --rttl --name f', { ...A, ttl: 63 }, 1, true]], input)).toEqual([true]);
  });
});
