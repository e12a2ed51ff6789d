import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { numericToIp, readDotted } from '../src/net/ipv4.js';

describe('numericToIp', () => {
  it('reads the spellings libxtables reads', () => {
    expect(numericToIp('192.168.1.0')).toBe(0xc0a80100);
    expect(numericToIp('10')).toBe(0x0a000000);
    expect(numericToIp('10.1')).toBe(0x0a010000);
    expect(numericToIp('010.0.0.1')).toBe(0x08000001);
    expect(numericToIp('0x7f.1')).toBe(0x7f010000);
    expect(numericToIp('255.255.255.0', true)).toBe(0xffffff00);
    expect(numericToIp('255.255', true)).toBeUndefined();
    expect(numericToIp('1.2.3.256')).toBeUndefined();
    expect(numericToIp('1.2.3.4.5')).toBeUndefined();
    expect(numericToIp('1..3.4')).toBeUndefined();
  });

  it('its quick path for plain dotted decimals agrees with the general reader on any text', () => {
    const text = fc.stringMatching(/^[0-9.x +\-]{0,22}$/);
    const dotted = fc
      .array(fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('', '00', '01', '007', '0x1f')), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(text, dotted), fc.boolean(), (s, isMask) => {
        expect(numericToIp(s, isMask)).toBe(readDotted(s, isMask));
      }),
      { numRuns: 20000 },
    );
  });
});
