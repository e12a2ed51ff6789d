/**
 * jhash as include/linux/jhash.h computes it. jhash2 over three words is jhash_3words (the same
 * function in the kernel); the longer keys are the ones find_best_ips_proto() hashes for NAT to an
 * address range, whose choices fixtures/kernel/44-nat-address-ranges recorded from the kernel.
 */
import { describe, expect, it } from 'vitest';
import { jhash2, jhash3, rawBe32, reciprocalScale } from '../src/net/jhash.js';
import { parseDotted } from '../src/net/ipv4.js';

const ip = (s: string) => parseDotted(s)!;

describe('jhash', () => {
  it('jhash2 of three words is jhash_3words', () => {
    for (const [a, b, c, iv] of [[1, 2, 3, 0], [0x0100000a, 0x0200000a, 6, 0x12345678], [0xffffffff, 0x80000000, 17, 0xdeadbeef]] as const) {
      expect(jhash2([a, b, c], iv)).toBe(jhash3(a, b, c, iv));
    }
  });

  it('an empty key is the initial value', () => {
    expect(jhash2([], 7)).toBe((0xdeadbeef + 7) >>> 0);
  });

  it('picks the addresses the kernel picked for SNAT to 50.60.70.81-50.60.70.84', () => {
    const pick = (src: string, dst: string | undefined) => {
      const j = jhash2([rawBe32(ip(src)), 0, 0, 0], dst === undefined ? 0 : rawBe32(ip(dst)));
      return reciprocalScale(j, 4);
    };
    // offsets into the range: .82 .83 .82 .83 without --persistent, .84 .82 with it
    expect([pick('192.168.1.2', '203.0.113.10'), pick('192.168.1.3', '203.0.113.10'), pick('192.168.1.2', '50.60.70.1'), pick('192.168.1.3', '50.60.70.1')]).toEqual([1, 2, 1, 2]);
    expect([pick('192.168.1.2', undefined), pick('192.168.1.3', undefined)]).toEqual([3, 1]);
  });
});
