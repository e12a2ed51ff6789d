/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h), on 32-bit words, and
 * the helpers the netfilter code around it uses.
 */

const rol = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** __jhash_final() */
function final(a: number, b: number, c: number): number {
  c = (c ^ b) >>> 0; c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 24)) >>> 0;
  return c;
}

/** jhash2(k, length, initval): `words` are u32 values as the kernel reads them from memory */
export function jhash2(words: readonly number[], initval: number): number {
  let n = words.length;
  let a = (0xdeadbeef + (n << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  while (n > 3) {
    a = (a + words[i]!) >>> 0;
    b = (b + words[i + 1]!) >>> 0;
    c = (c + words[i + 2]!) >>> 0;
    // __jhash_mix()
    a = (a - c) >>> 0; a = (a ^ rol(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 4)) >>> 0; b = (b + a) >>> 0;
    n -= 3;
    i += 3;
  }
  if (n === 0) return c;
  if (n === 3) c = (c + words[i + 2]!) >>> 0;
  if (n >= 2) b = (b + words[i + 1]!) >>> 0;
  a = (a + words[i]!) >>> 0;
  return final(a, b, c);
}

/** jhash_1word(a, initval) */
export function jhash1(a: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + (1 << 2)) >>> 0;
  return final((a + iv) >>> 0, iv, iv);
}

/** jhash_3words(a, b, c, initval) */
export function jhash3(a: number, b: number, c: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + (3 << 2)) >>> 0;
  return final((a + iv) >>> 0, (b + iv) >>> 0, (c + iv) >>> 0);
}

/** an IPv4 address (held in host order here) as a little-endian machine reads its __be32 into a u32 */
export function rawBe32(addr: number): number {
  return (((addr & 0xff) << 24) | ((addr & 0xff00) << 8) | ((addr >>> 8) & 0xff00) | (addr >>> 24)) >>> 0;
}

/** reciprocal_scale(val, ep_ro): val scaled into [0, ep_ro) */
export function reciprocalScale(val: number, range: number): number {
  return Number((BigInt(val >>> 0) * BigInt(range >>> 0)) >> 32n);
}
