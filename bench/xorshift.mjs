// xorshift32 with a fixed seed: the benches generate the same script and the same packets every
// run, so their figures compare across runs and machines.
export function xorshift32(seed = 2463534242) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
