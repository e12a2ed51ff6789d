/**
 * C's strtoumax(s, &end, 0) and libxtables' xtables_strtoul()/xtables_strtoui() on top of it.
 * iptables parses nearly every number with base 0, so "0x10" is 16 and "010" is 8, exactly
 * like the real tool; a leading '-' is refused, leading blanks are skipped.
 */
export interface StrtoulResult {
  value: bigint;
  /** index just past the last digit consumed (0 when nothing was parsed) */
  end: number;
  overflow: boolean;
}

const UMAX = (1n << 64n) - 1n;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

/** strtoumax(s, &end, base) with glibc's rules for base 0 / 16 prefixes. */
export function strtoumax(s: string, base = 0): StrtoulResult {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  if ((base === 0 || base === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && i + 2 < s.length && digitValue(s[i + 2]!) < 16) {
    base = 16;
    i += 2;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let value = 0n;
  let overflow = false;
  const b = BigInt(base);
  while (i < s.length) {
    const d = digitValue(s[i]!);
    if (d >= base) break;
    value = value * b + BigInt(d);
    if (value > UMAX) overflow = true;
    i++;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false };
  if (overflow) value = UMAX;
  else if (negative) value = (UMAX + 1n - value) & UMAX;
  return { value, end: i, overflow };
}

/**
 * xtables_strtoul(): true when `s` is a number in [min, max] (max 0 = no upper bound).
 * With `allowTrailing` (the C `end` pointer passed), trailing text is left for the caller.
 */
export function xtStrtoul(
  s: string,
  min: bigint | number,
  max: bigint | number,
  allowTrailing = false,
): { ok: boolean; value: bigint; end: number } {
  let p = 0;
  while (p < s.length && isSpace(s[p]!)) p++;
  if (s[p] === '-') return { ok: false, value: 0n, end: 0 };
  const r = strtoumax(s, 0);
  if (r.end === 0) return { ok: false, value: 0n, end: 0 };
  const lo = BigInt(min);
  const hi = BigInt(max);
  if (!r.overflow && lo <= r.value && (hi === 0n || r.value <= hi)) {
    if (!allowTrailing) return { ok: r.end === s.length, value: r.value, end: r.end };
    return { ok: true, value: r.value, end: r.end };
  }
  return { ok: false, value: r.value, end: r.end };
}

/** xtables_strtoui() without an end pointer: the whole string must be a number in range. */
export function parseUint(s: string, min: number, max: number): number | undefined {
  // the common case, without BigInt: 1-9 decimal digits, no sign, blank or leading zero
  // (a leading zero means octal in base 0)
  const n = s.length;
  if (n > 0 && n < 10 && (s.charCodeAt(0) !== 48 || n === 1)) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === n) return v >= min && (max === 0 || v <= max) ? v : undefined;
  }
  const r = xtStrtoul(s, min, max);
  return r.ok ? Number(r.value) : undefined;
}

/** sscanf("%u")-like leading-number parse used by a few legacy parsers. */
export function scanUnsigned(s: string): number | undefined {
  const r = strtoumax(s, 10);
  return r.end === 0 ? undefined : Number(r.value & 0xffffffffn);
}
