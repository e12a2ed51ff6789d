/**
 * The grammar as the build writes it down for the bundles (grammar/recorded.ts): the productions
 * read back are the ones a recording makes (classes, own properties in order, token types), and a
 * parser handed them takes them instead of recording its own. (The bundles' parser, built this way,
 * is held to main()'s output by test/launcher.test.ts and the tests that run the CLI as a process.)
 */
import { RepetitionWithSeparator, Rule, Terminal, type TokenType } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { IptablesParser, recordGrammar } from '../grammar/parser.js';
import { decodeGrammar, encodeGrammar, type Encoded } from '../grammar/recorded.js';
import * as T from '../grammar/tokens.js';

/** a production as a plain tree: class, own keys in order, values (token types and referenced rules by name) */
function shape(p: object): unknown {
  const out: [string, string, unknown][] = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === '_definition') out.push([k, '', (v as object[]).map(shape)]);
    else if (k === 'terminalType') out.push([k, 'token', (v as TokenType).name]);
    else if (k === 'referencedRule') out.push([k, 'rule', (v as Rule).name]);
    else out.push([k, typeof v, v]);
  }
  return [Object.getPrototypeOf(p).constructor.name, out];
}

/** the build's text of the grammar, read back as the bundles' literal would be */
const written = (): Encoded[] => JSON.parse(JSON.stringify(recordGrammar())) as Encoded[];

describe('the recorded grammar', () => {
  it('reads back as the productions a recording makes', () => {
    const recorded = Object.values(new IptablesParser(true).getGAstProductions());
    const decoded = decodeGrammar(written(), T.allTokens);
    // the recording's NonTerminals are resolved (referencedRule); the decoded ones are once a parser has them
    expect(decoded.map(shape)).not.toEqual(recorded.map(shape));
    const resolved = Object.values(new IptablesParser(true, decoded).getGAstProductions());
    expect(resolved.map(shape)).toEqual(recorded.map(shape));
    // the same token type objects, not copies (negation is CONSUME(Bang) and an ACTION)
    const negation = resolved.find((r) => r.name === 'negation')!.definition[0];
    expect(negation).toBeInstanceOf(Terminal);
    expect((negation as Terminal).terminalType).toBe(T.Bang);
  });

  it('is what the parser takes, instead of recording its rules', () => {
    const decoded = decodeGrammar(written(), T.allTokens);
    const parser = new IptablesParser(true, decoded);
    const rules = parser.getGAstProductions();
    for (const r of decoded) expect(rules[r.name]).toBe(r);
    // a grammar without a rule the parser defines is refused
    expect(() => new IptablesParser(true, decoded.filter((r) => r.name !== 'stray'))).toThrow('the recorded grammar has no rule stray');
  });

  it('refuses what it cannot write or read back', () => {
    const sep = new Rule({ name: 'r', definition: [new RepetitionWithSeparator({ idx: 0, separator: T.Bang, definition: [new Terminal({ terminalType: T.Arg })] })] });
    expect(() => encodeGrammar([sep], T.allTokens)).toThrow('no encoding for RepetitionWithSeparator.separator');
    const foreign = { ...T.Bang };
    expect(() => encodeGrammar([new Rule({ name: 'r', definition: [new Terminal({ terminalType: foreign })] })], T.allTokens)).toThrow("token type Bang is not the parser's own");
    const data = written();
    const text = JSON.stringify(data).replace('"terminalType":"Bang"', '"terminalType":"Nope"');
    expect(() => decodeGrammar(JSON.parse(text) as Encoded[], T.allTokens)).toThrow('no token type Nope');
    expect(() => decodeGrammar([['Mystery', {}]], T.allTokens)).toThrow('unknown production Mystery');
  });
});
