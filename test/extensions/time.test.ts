import { describe, expect, it } from 'vitest';
import { context, matches, packet, ruleFrom } from '../helpers/ext.js';

/** UTC seconds of an ISO date-time */
const at = (iso: string): number => Date.parse(`${iso}Z`) / 1000;

describe('time match (UTC lab clock)', () => {
  // 2024-01-01 was a Monday, 2024-01-07 a Sunday
  const cases: [string, string, boolean][] = [
    ['-m time --timestart 09:00 --timestop 17:00', '2024-01-01T10:00:00', true],
    ['-m time --timestart 09:00 --timestop 17:00', '2024-01-01T17:00:00', true],
    ['-m time --timestart 09:00 --timestop 17:00', '2024-01-01T17:00:01', false],
    ['-m time --timestart 09:00 --timestop 17:00', '2024-01-01T08:59:59', false],
    ['-m time --weekdays Mon', '2024-01-01T10:00:00', true],
    ['-m time --weekdays Sat,Sun', '2024-01-01T10:00:00', false],
    ['-m time --weekdays Sun', '2024-01-07T10:00:00', true],
    ['-m time --weekdays 7', '2024-01-07T10:00:00', true],
    ['-m time ! --weekdays Sun', '2024-01-07T10:00:00', false],
    ['-m time --monthdays 1', '2024-01-01T10:00:00', true],
    ['-m time --monthdays 2,3', '2024-01-01T10:00:00', false],
    ['-m time ! --monthdays 1', '2024-01-01T10:00:00', false],
    ['-m time --datestart 2024-01-02', '2024-01-01T23:59:59', false],
    ['-m time --datestart 2024-01-02', '2024-01-02T00:00:00', true],
    ['-m time --datestop 2024-01-01T10:00:00', '2024-01-01T10:00:00', true],
    ['-m time --datestop 2024-01-01T10:00:00', '2024-01-01T10:00:01', false],
    // a window over midnight: both ends belong to it
    ['-m time --timestart 23:00 --timestop 01:00', '2024-01-01T23:30:00', true],
    ['-m time --timestart 23:00 --timestop 01:00', '2024-01-02T00:30:00', true],
    ['-m time --timestart 23:00 --timestop 01:00', '2024-01-02T12:00:00', false],
    // without --contiguous Tuesday 00:30 is a Tuesday; with it, it ends Monday's window
    ['-m time --timestart 23:00 --timestop 01:00 --weekdays Mon', '2024-01-02T00:30:00', false],
    ['-m time --timestart 23:00 --timestop 01:00 --weekdays Mon --contiguous', '2024-01-02T00:30:00', true],
    ['-m time --timestart 23:00 --timestop 01:00 --weekdays Mon --contiguous', '2024-01-01T00:30:00', false],
    // the weekday mask lost its bit (8 does not fit the __u8): never matches
    ['-m time --weekdays 8', '2024-01-01T10:00:00', false],
    ['-m time --kerneltz --timestart 09:00 --timestop 11:00', '2024-01-01T10:00:00', true],
  ];
  it.each(cases)('%s at %s -> %s', (spec, iso, want) => {
    const ctx = context();
    ctx.clock = at(iso);
    expect(matches(ruleFrom(spec), packet(), ctx)).toBe(want);
  });
});
