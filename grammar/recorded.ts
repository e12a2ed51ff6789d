/**
 * The grammar as Chevrotain records it, written down once by the build (a literal in the bundles'
 * code) and read back by the bundles. Chevrotain learns a parser's grammar (performSelfAnalysis)
 * by running every rule in a recording mode; for this grammar that was 2.5-3 ms of every command
 * typed (bench/README.md, "Twenty-seventh session"). The bundles' parser is handed the productions
 * this decodes instead (IptablesParser's topLevelRuleRecord), the same objects the recording
 * makes: the same classes, the same own properties in the same order, token types by name.
 * NonTerminal.referencedRule is left out: Chevrotain's resolver sets it from nonTerminalName, as
 * after a recording.
 *
 * Only what the grammar uses is written; anything else (a separator's token type, say) stops the
 * build instead of being lost.
 */
import {
  Alternation,
  Alternative,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Rule,
  Terminal,
  type TokenType,
} from 'chevrotain';

const KINDS: Record<string, { prototype: object }> = {
  Rule,
  NonTerminal,
  Alternative,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Alternation,
  Terminal,
};

/** a production: its class's name and its own properties (`_definition` encoded, `terminalType` by name) */
export type Encoded = [kind: string, props: Record<string, unknown>];

/** The rules (as recorded, resolved or not) as plain data for JSON. */
export function encodeGrammar(rules: readonly Rule[], tokens: readonly TokenType[]): Encoded[] {
  const byName = new Map(tokens.map((t) => [t.name, t]));
  const encode = (p: object): Encoded => {
    const kind = Object.keys(KINDS).find((k) => Object.getPrototypeOf(p) === KINDS[k]!.prototype);
    if (kind === undefined) throw new Error(`recorded grammar: no encoding for a ${p.constructor.name}`);
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) {
      if (k === 'referencedRule' && kind === 'NonTerminal') continue;
      if (k === '_definition' && Array.isArray(v)) props[k] = (v as object[]).map(encode);
      else if (k === 'terminalType') {
        const t = v as TokenType;
        if (byName.get(t.name) !== t) throw new Error(`recorded grammar: token type ${t.name} is not the parser's own by that name`);
        props[k] = t.name;
      } else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') props[k] = v;
      else throw new Error(`recorded grammar: no encoding for ${kind}.${k}`);
    }
    return [kind, props];
  };
  return rules.map(encode);
}

/**
 * The rules encodeGrammar() wrote, made again with `tokens` (the parser's token types). The data's
 * objects become the productions: `data` is taken over.
 */
export function decodeGrammar(data: Encoded[], tokens: readonly TokenType[]): Rule[] {
  const byName = new Map(tokens.map((t) => [t.name, t]));
  // (their own properties are already in order: fewer steps than copying them, which shows in a
  // cold process; so does destructuring, which allocates an iterator's results there)
  const decode = (e: Encoded): object => {
    const kind = e[0];
    const p = e[1];
    const cls = KINDS[kind];
    if (!cls) throw new Error(`recorded grammar: unknown production ${kind}`);
    Object.setPrototypeOf(p, cls.prototype);
    if (Array.isArray(p._definition)) p._definition = (p._definition as Encoded[]).map(decode);
    if (p.terminalType !== undefined) {
      const t = byName.get(p.terminalType as string);
      if (!t) throw new Error(`recorded grammar: no token type ${String(p.terminalType)}`);
      p.terminalType = t;
    }
    return p;
  };
  return data.map(decode) as Rule[];
}
