/**
 * u32 match (libxt_u32.c of iptables 1.8.9, net/netfilter/xt_u32.c): tests on 32-bit words read
 * at computed offsets of the packet, "location=value[,value...]" joined by "&&", where a location
 * is a number followed by operators & << >> @ and numbers, and a value a number or "min:max".
 *
 * u32_parse() is ported as written, with its messages and the character positions they give;
 * -S/-L write every number in hex (u32_dump()), quoted. Measured (fixtures/cli/ext-u32.case): at
 * most 10 numbers per location and 10 ranges per value (the 11th is "too many"), and 10 tests:
 * an 11th is refused only at the end of the input, a 12th at its "&&". -C compares the parsed
 * tests, so "0x0<<0x1=0x0" finds a rule given as "0<<1=0".
 *
 * No match(): the tests read raw packet bytes (IP header, then wherever "@" leads), and traced
 * packets are header summaries without bytes, so a trace reaching such a rule stops with the
 * engine's "effect on packets is not modelled".
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';
import type { MatchExtension } from '../types.js';

/** XT_U32_MAXSIZE */
const MAXSIZE = 10;

/** enum xt_u32_ops: XT_U32_AND, XT_U32_LEFTSH, XT_U32_RIGHTSH, XT_U32_AT */
const OPS = ['&', '<<', '>>', '@'] as const;

export interface U32Test {
  /** location[].number */
  nums: number[];
  /** location[i].nextop for i >= 1, as an index into OPS (ops[0] is unused, always 0) */
  ops: number[];
  /** value[]: [min, max] */
  values: [number, number][];
}

export interface U32Data {
  tests: U32Test[];
  invert: boolean;
}

const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);

/** parse_number(): xtables_strtoui() with an end pointer; `pos` is where the number starts */
function parseNumber(s: string, at: number, pos: number): { value: number; end: number } {
  const r = xtStrtoul(s.slice(at), 0, 0xffffffff, true);
  if (!r.ok || r.end === 0) throw paramProblem(`u32: at char ${pos}: not a number or out of range`);
  return { value: Number(r.value), end: at + r.end };
}

/** u32_parse() */
export function parseU32(arg: string): U32Test[] {
  const tests: U32Test[] = [];
  let ct: U32Test = { nums: [], ops: [], values: [] };
  let i = 0;
  let state = 0;
  const fail = (msg: string) => paramProblem(`u32: at char ${i}: ${msg}`);
  for (;;) {
    while (isSpace(arg[i])) i++;
    if (i >= arg.length) {
      if (state === 0) throw paramProblem('u32: abrupt end of input after location specifier');
      if (ct.values.length === 0) throw paramProblem('u32: test ended with no value specified');
      tests.push(ct);
      if (tests.length > MAXSIZE) throw fail('too many "&&"s');
      return tests;
    }
    if (state === 0) {
      if (arg[i] === '=') {
        if (ct.nums.length === 0) throw fail('location spec missing');
        i++;
        state = 1;
        continue;
      }
      let op = 0;
      if (ct.nums.length !== 0) {
        // an operator before every number but the first
        const c = arg[i];
        if (c === '&') op = 0;
        else if (c === '<') {
          if (arg[++i] !== '<') throw fail("a second '<' was expected");
          op = 1;
        } else if (c === '>') {
          if (arg[++i] !== '>') throw fail("a second '>' was expected");
          op = 2;
        } else if (c === '@') op = 3;
        else throw fail('operator expected');
        i++;
      }
      const n = parseNumber(arg, i, i);
      ct.nums.push(n.value);
      ct.ops.push(op);
      i = n.end;
      if (ct.nums.length > MAXSIZE) throw fail('too many operators');
    } else if (arg[i] === '&') {
      if (arg[++i] !== '&') throw fail("a second '&' was expected");
      if (ct.values.length === 0) throw fail('value spec missing');
      tests.push(ct);
      ct = { nums: [], ops: [], values: [] };
      // tests[++testind]: the check counts the test now begun
      if (tests.length > MAXSIZE) throw fail('too many "&&"s');
      i++;
      state = 0;
    } else {
      if (ct.values.length > 0) {
        if (arg[i] !== ',') throw fail('expected "," or "&&"');
        i++;
      }
      const min = parseNumber(arg, i, i);
      i = min.end;
      while (isSpace(arg[i])) i++;
      let max = min.value;
      if (arg[i] === ':') {
        i++;
        const m = parseNumber(arg, i, i);
        max = m.value;
        i = m.end;
      }
      ct.values.push([min.value, max]);
      if (ct.values.length > MAXSIZE) throw fail('too many ","s');
    }
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** u32_dump() */
function dump(d: U32Data): string {
  const tests = d.tests.map(
    (t) =>
      t.nums.map((n, k) => (k === 0 ? '' : OPS[t.ops[k]!]) + hex(n)).join('') +
      '=' +
      t.values.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}:${hex(hi)}`)).join(','),
  );
  return ` "${tests.join('&&')}"`;
}

export const u32: MatchExtension<U32Data> = {
  kind: 'match',
  name: 'u32',
  // u32_help() of libxt_u32.c
  help:
    'u32 match options:\n' +
    '[!] --u32 tests\n' +
    '\t\ttests := location "=" value | tests "&&" location "=" value\n' +
    '\t\tvalue := range | value "," range\n' +
    '\t\trange := number | number ":" number\n' +
    '\t\tlocation := number | location operator number\n' +
    '\t\toperator := "&" | "<<" | ">>" | "@"\n',
  options: [{ name: 'u32', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ tests: [], invert: false }),
  parse({ arg, invert, data }) {
    data.invert = invert;
    data.tests = parseU32(arg!);
  },
  print: (d) => ` u32${d.invert ? ' !' : ''}${dump(d)}`,
  save: (d) => `${d.invert ? ' !' : ''} --u32${dump(d)}`,
};
