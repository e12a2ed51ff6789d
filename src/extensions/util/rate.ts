/**
 * Helpers shared by the rate-based matches (limit, hashlimit): glibc's atoi()/atoll() as the
 * parsers call them, and the "N/unit" argument grammar of their parse_rate().
 */

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/**
 * strtol(s, NULL, 10) as glibc computes it: leading blanks, a sign, decimal digits, saturated at
 * LONG_MIN/LONG_MAX. atoi() is this value cut to an int; atoll() is it as is.
 */
export function strtolDec(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)!;
  if (!m[2]) return 0n;
  let v = BigInt(m[2]);
  if (m[1] === '-') v = -v;
  if (v > LONG_MAX) return LONG_MAX;
  if (v < LONG_MIN) return LONG_MIN;
  return v;
}

/** atoi(): the long result truncated to a 32-bit int (what the C code then stores) */
export function atoi(s: string): number {
  return Number(BigInt.asIntN(32, strtolDec(s)));
}

/**
 * The unit part of parse_rate(): after '/', a case-insensitive prefix of second/minute/hour/day
 * (strncasecmp with the typed length, so "s", "Min", "hou" all work). Returns the multiplier in
 * seconds, 1 without a '/', undefined for a bad or empty unit.
 */
export function rateUnit(rate: string): number | undefined {
  const slash = rate.indexOf('/');
  if (slash < 0) return 1;
  const unit = rate.slice(slash + 1).toLowerCase();
  if (unit.length === 0) return undefined;
  for (let i = 0; i < RATE_UNITS.length; i++) {
    const name = RATE_UNITS[i]!;
    // strncasecmp(delim+1, name, strlen(delim+1)): a longer word than the unit compares the NUL
    if (unit.length <= name.length && name.startsWith(unit)) return RATE_SECONDS[i];
  }
  return undefined;
}

const RATE_UNITS = ['second', 'minute', 'hour', 'day'];
const RATE_SECONDS = [1, 60, 3600, 86400];

export interface RateName {
  name: string;
  mult: bigint;
}

/**
 * print_rate(): the biggest unit (day, hour, min, sec) in which `period` is a whole-ish count,
 * "N/unit". The loop mirrors the C exactly, remainder comparison included.
 */
export function rateText(period: bigint, rates: RateName[]): { text: string; index: number } {
  if (period === 0n) return { text: 'inf', index: -1 };
  let i = 1;
  for (; i < rates.length; i++) {
    const m = rates[i]!.mult;
    if (period > m || m / period < m % period) break;
  }
  const r = rates[i - 1]!;
  return { text: `${r.mult / period}/${r.name}`, index: i - 1 };
}
