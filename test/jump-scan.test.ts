// scanJumps() (src/state/jump-scan.ts): the jump and goto targets of a rules line read from its
// bytes must be what decoding the line and asking jumpTarget() of each rule gives, for every line
// JSON.stringify writes; for any other JSON it may decline (undefined) but never answer otherwise.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scanJumps } from '../src/state/jump-scan.js';
import { jumpTarget, type Rule } from '../src/ruleset/rule.js';

/** what decoding gives: the targets in rule order, or undefined where decoding them throws */
function reference(text: string): string[] | undefined {
  try {
    const out: unknown[] = [];
    for (const r of JSON.parse(text) as Rule[]) {
      const j = jumpTarget(r);
      if (j !== undefined) out.push(j);
    }
    return out as string[];
  } catch {
    return undefined;
  }
}

const scan = (text: string): string[] | undefined => {
  // the line somewhere inside a bigger buffer, as in a lab file
  const b = Buffer.from(`xx\n${text}\nyy`);
  return scanJumps(b, 3, b.length - 3);
};

/** names as iptables takes them, and any text at all (quotes, backslashes, newlines, surrogates) */
const name = fc.oneof(fc.stringMatching(/^[A-Z][A-Z0-9_-]{0,28}$/), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '"}', '","chain":"X', ''));
/** JSON values that look like rule parts: keys named target, kind, chain at any depth */
const lookalike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    name,
    fc.dictionary(fc.constantFrom('target', 'kind', 'chain', 'name', 'data', 't\u0061rget'), tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
})).value;
const target = fc.oneof(
  fc.record({ kind: fc.constantFrom('jump', 'goto'), chain: name }),
  fc.record({ chain: name, kind: fc.constantFrom('jump', 'goto') }),
  fc.record({ kind: fc.constantFrom('jump', 'goto'), other: lookalike, chain: name }),
  fc.record({ kind: fc.constantFrom('jump', 'goto') }),
  fc.record({ kind: fc.constantFrom('jump', 'goto'), chain: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ kind: fc.constant('verdict'), verdict: fc.constantFrom('ACCEPT', 'DROP', 'RETURN') }),
  fc.record({ kind: fc.constant('ext'), name, data: lookalike }),
  fc.record({ kind: fc.constantFrom('jump\u0000', 'Jump', 'ext', 'goto ') }),
  fc.constantFrom(null, 'jump', 1, [], true),
  lookalike,
);
const rule = fc.record(
  {
    matches: fc.array(fc.record({ name, data: lookalike }), { maxLength: 3 }),
    pkts: fc.nat(),
    src: fc.record({ addr: fc.nat(), mask: fc.nat() }),
    target,
    handle: fc.nat(),
    comment: lookalike,
  },
  { requiredKeys: [] },
);

describe('scanJumps(): the jump targets of a rules line without decoding it', () => {
  it('gives what decoding gives, for every line JSON.stringify writes (whose jumps name strings)', () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
        const text = JSON.stringify(rules);
        const want = reference(text)!;
        // a jump to something that is no string: declined (the caller decodes, as before)
        if (want.some((j) => typeof j !== 'string')) expect(scan(text)).toBeUndefined();
        else expect(scan(text)).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('declines, or gives what decoding gives, for any other JSON', () => {
    const line = fc.oneof(
      // white space between the tokens
      fc.array(rule, { maxLength: 4 }).map((rs) => JSON.stringify(rs, null, 1)),
      // a list of anything (rules that are no objects: decoding them throws)
      fc.array(fc.oneof(lookalike, rule), { maxLength: 4 }).map((v) => JSON.stringify(v)),
      // a key written twice, or with an escape (JSON.parse takes the last, and the escape's meaning)
      fc.tuple(name, name).map(([a, b]) => `[{"target":{"kind":"jump","chain":${JSON.stringify(a)}},"target":{"kind":"jump","chain":${JSON.stringify(b)}}}]`),
      fc.tuple(name, name).map(([a, b]) => `[{"target":{"kind":"jump","chain":${JSON.stringify(a)},"chain":${JSON.stringify(b)}}}]`),
      name.map((a) => `[{"t\\u0061rget":{"kind":"jump","chain":${JSON.stringify(a)}}}]`),
      name.map((a) => `[{"target":{"kind":"ju\\u006dp","chain":${JSON.stringify(a)}}}]`),
      name.map((a) => `[{"target":{"kind":"ext","kind":"goto","chain":${JSON.stringify(a)}}}]`),
      // not a list
      lookalike.map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(line, (text) => {
        const got = scan(text);
        if (got !== undefined) expect(got).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads names with escapes as JSON means them', () => {
    expect(scan('[{"target":{"kind":"jump","chain":"A\\"B\\\\"}},{"target":{"kind":"goto","chain":"\\u0043"}}]')).toEqual(['A"B\\', 'C']);
  });

  it('declines the lines a list of rules is not: other values, a list cut short or run together', () => {
    for (const text of ['[null]', '["x"]', '{}', '[1]', '[[]]', '[{},null]', '[{"target":{"kind":"jump","chain":"A"}}', '[{"target":{"kind":"jump","chain":"A}}]', '[{}][{}]', '[{},]', '[,{}]', '[{}{}]', '[{},,{}]']) {
      expect(scan(text), text).toBeUndefined();
    }
    expect(scan('[]')).toEqual([]);
    expect(scan('[{}]')).toEqual([]);
  });
});
