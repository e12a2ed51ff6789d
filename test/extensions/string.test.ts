import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

// a TCP data segment: the payload starts at 20 (IP) + 32 (TCP with timestamps) = 52
const http = packet({ proto: 6, sport: 40000, dport: 80, tcpFlags: 0x18, payload: 'GET /index.html HTTP/1.1\r\n', len: 78 });
const udp = packet({ proto: 17, sport: 5353, dport: 53, payload: 'abc\u0000def', len: 35 });

describe('string match', () => {
  const cases: [string, ReturnType<typeof packet>, boolean][] = [
    ['-m string --algo bm --string GET', http, true],
    ['-m string --algo kmp --string "/index.html"', http, true],
    ['-m string --algo bm --string POST', http, false],
    ['-m string --algo bm ! --string POST', http, true],
    ['-m string --algo bm ! --string GET', http, false],
    ['-m string --algo bm --string get', http, false],
    ['-m string --algo bm --string get --icase', http, true],
    ['-m string --algo kmp --string "http/1.1" --icase', http, true],
    ['-m string --algo bm --hex-string "|474554|"', http, true],
    ['-m string --algo bm --hex-string "|0d0a|"', http, true],
    // offsets count from the IP header
    ['-m string --algo bm --string GET --from 52', http, true],
    ['-m string --algo bm --string GET --from 53', http, false],
    ['-m string --algo bm --string GET --to 55', http, true],
    ['-m string --algo bm --string GET --to 54', http, false],
    ['-m string --algo bm --hex-string "c|00|d"', udp, true],
    ['-m string --algo bm --string def --from 28 --to 38', udp, true],
    ['-m string --algo bm --string def --from 33', udp, false],
    ['-m string --algo bm --string GET', packet({ proto: 6, tcpFlags: 0x10 }), false],
  ];
  it.each(cases)('%s -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), p)).toBe(want);
  });

  it('refuses to guess for the fsm algorithm', () => {
    expect(() => matches(ruleFrom('-m string --algo fsm --hex-string "|00000041|"'), http)).toThrow(/fsm/);
  });
});
