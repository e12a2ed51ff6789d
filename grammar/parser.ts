/**
 * The iptables command-line grammar. getopt gives iptables a flat, order-free list of options;
 * the grammar states which words each option takes and hands every item, in argv order, to the
 * command semantics (src/ruleset/command-parse.ts), which raise iptables' own errors.
 *
 * One parser instance, built lazily on first use and reused (`parser.input = tokens`).
 */
import {
  Alternation,
  Alternative,
  EmbeddedActionsParser,
  EOF,
  LLkLookaheadStrategy,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  Terminal,
  type ILookaheadStrategy,
  type IProduction,
  type IToken,
  type OptionalProductionType,
  type Rule,
  type TokenType,
} from 'chevrotain';
import * as T from './tokens.js';
import { decodeGrammar, encodeGrammar, type Encoded } from './recorded.js';
import { lexCommandLine, type BadOptionPayload, type ExtOptPayload, type MatchLoadPayload } from './lexer.js';
import type { CommandParse } from '../src/ruleset/command-parse.js';

const LETTER: Map<TokenType, string> = new Map([
  [T.Append, 'A'], [T.Check, 'C'], [T.Delete, 'D'], [T.Insert, 'I'], [T.Replace, 'R'], [T.List, 'L'],
  [T.ListRules, 'S'], [T.Flush, 'F'], [T.Zero, 'Z'], [T.NewChain, 'N'], [T.DeleteChain, 'X'],
  [T.RenameChain, 'E'], [T.Policy, 'P'], [T.Help, 'h'], [T.Version, 'V'], [T.Protocol, 'p'], [T.Source, 's'],
  [T.Destination, 'd'], [T.InInterface, 'i'], [T.OutInterface, 'o'], [T.Fragment, 'f'], [T.Jump, 'j'],
  [T.Goto, 'g'], [T.Match, 'm'], [T.Table, 't'], [T.Numeric, 'n'], [T.Verbose, 'v'], [T.Exact, 'x'],
  [T.LineNumbers, '0'], [T.Wait, 'w'], [T.WaitInterval, 'W'], [T.SetCounters, 'c'], [T.Modprobe, 'M'],
  [T.Ipv4, '4'], [T.Ipv6, '6'],
]);

/**
 * The first token of `defs`, as the token types it may be; undefined when `defs` may be empty or
 * holds a production this does not follow (the general strategy decides those).
 */
function firstTokens(defs: readonly IProduction[]): TokenType[] | undefined {
  const p = defs[0];
  if (p instanceof Terminal) return [p.terminalType];
  if (p instanceof NonTerminal) return firstTokens(p.referencedRule.definition);
  if (p instanceof RepetitionMandatory) return firstTokens(p.definition);
  if (p instanceof Alternation) {
    let all: TokenType[] = [];
    for (let i = 0; i < p.definition.length; i++) {
      const alt = p.definition[i];
      const f = alt instanceof Alternative ? firstTokens(alt.definition) : undefined;
      if (!f) return undefined;
      all = all.concat(f);
    }
    return all;
  }
  return undefined;
}

// (Building the parser runs once, in a process too young for V8 to have optimized anything: the
// loops here are indexed, as a for-of loop there allocates a result object for every element.)

/** the production of `type` with occurrence `idx` in `defs` (nested ones included) */
function findProduction<T extends IProduction>(defs: readonly IProduction[], type: abstract new (...a: never[]) => T, idx: number): T | undefined {
  for (let i = 0; i < defs.length; i++) {
    const p = defs[i]!;
    if (p instanceof type && (p as unknown as { idx: number }).idx === idx) return p;
    const inner = (p as { definition?: IProduction[] }).definition;
    const found = inner && !(p instanceof NonTerminal) ? findProduction(inner, type, idx) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** the token type indexes a terminal of type `t` matches: its own and those of its category's members */
const matching = (t: TokenType): number[] => [t.tokenTypeIdx!].concat((t as { categoryMatches?: number[] }).categoryMatches ?? []);

const OPTIONAL: Record<string, abstract new (...a: never[]) => IProduction> = { Option, Repetition, RepetitionMandatory };

/**
 * Chevrotain's LL(k) lookahead for k = 1 where every choice starts with a token: the same
 * functions (the first alternative that can start with the next token wins; an optional part is
 * entered when the next token can start it), made from the first tokens directly instead of
 * through the general path computation, which was most of building the parser on every command
 * (a few milliseconds, cold). Anything else, and the grammar checks, go to LLkLookaheadStrategy.
 */
class FirstTokenLookahead implements ILookaheadStrategy {
  private readonly general = new LLkLookaheadStrategy({ maxLookahead: 1 });

  validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ReturnType<ILookaheadStrategy['validate']> {
    return this.general.validate(options);
  }

  buildLookaheadForAlternation(options: { prodOccurrence: number; rule: Rule; maxLookahead: number; hasPredicates: boolean; dynamicTokensEnabled: boolean }): ReturnType<ILookaheadStrategy['buildLookaheadForAlternation']> {
    const or = options.hasPredicates || options.dynamicTokensEnabled || options.maxLookahead !== 1 ? undefined : findProduction(options.rule.definition, Alternation, options.prodOccurrence);
    const firsts = or?.definition.map((alt) => (alt instanceof Alternative ? firstTokens(alt.definition) : undefined));
    if (!firsts || firsts.some((f) => !f)) return this.general.buildLookaheadForAlternation(options);
    const choice: Record<number, number> = {};
    for (let alt = 0; alt < firsts.length; alt++) {
      const types = firsts[alt]!;
      for (let i = 0; i < types.length; i++) {
        const m = matching(types[i]!);
        for (let j = 0; j < m.length; j++) if (!(m[j]! in choice)) choice[m[j]!] = alt;
      }
    }
    return function (this: { LA_FAST(i: number): IToken }): number | undefined {
      return choice[this.LA_FAST(1).tokenTypeIdx];
    } as ReturnType<ILookaheadStrategy['buildLookaheadForAlternation']>;
  }

  buildLookaheadForOptional(options: { prodOccurrence: number; prodType: OptionalProductionType; rule: Rule; maxLookahead: number; dynamicTokensEnabled: boolean }): () => boolean {
    const type = OPTIONAL[options.prodType];
    const prod = type && !options.dynamicTokensEnabled && options.maxLookahead === 1 ? findProduction(options.rule.definition, type, options.prodOccurrence) : undefined;
    const first = prod && firstTokens((prod as unknown as { definition: IProduction[] }).definition);
    if (!first) return this.general.buildLookaheadForOptional(options);
    const enter: boolean[] = [];
    for (let i = 0; i < first.length; i++) {
      const m = matching(first[i]!);
      for (let j = 0; j < m.length; j++) enter[m[j]!] = true;
    }
    return function (this: { LA_FAST(i: number): IToken }): boolean {
      return enter[this.LA_FAST(1).tokenTypeIdx] === true;
    } as () => boolean;
  }
}

export class IptablesParser extends EmbeddedActionsParser {
  /** the semantics the current parse feeds */
  sink!: CommandParse;

  /**
   * `recorded`: the grammar's rules as a recording made them (grammar/recorded.ts), taken instead of
   * recording them again
   */
  constructor(skipValidations: boolean, recorded?: readonly Rule[]) {
    super(T.allTokens, { skipValidations, maxLookahead: 1, lookaheadStrategy: new FirstTokenLookahead() });
    this.#recorded = recorded && new Map(recorded.map((r) => [r.name, r]));
    this.performSelfAnalysis();
  }

  /** the rules handed to the constructor, by name */
  #recorded: Map<string, Rule> | undefined;
  /** while the grammar is recorded: the object between the parser and its class's prototype */
  #recorder: object | undefined;

  /** a rule of the grammar: the one handed over, else what running its body in recording mode gives */
  topLevelRuleRecord(name: string, body: () => void): Rule {
    if (!this.#recorded) return (EmbeddedActionsParser.prototype as unknown as { topLevelRuleRecord(this: object, n: string, b: () => void): Rule }).topLevelRuleRecord.call(this, name, body);
    const rule = this.#recorded.get(name);
    if (!rule) throw new Error(`the recorded grammar has no rule ${name}`);
    return rule;
  }

  /**
   * Chevrotain records the grammar (performSelfAnalysis) by putting recording versions of its DSL
   * methods (CONSUME, SUBRULE, OR and their numbered twins, 86 of them) on the parser itself, and
   * deletes them afterwards. By then V8 treats the parser as a prototype (Chevrotain's
   * toFastProperties), and a delete from a prototype costs tens of microseconds: about 4 ms of
   * every command's start-up. Here Chevrotain puts them on an object placed between the parser and
   * its class's prototype, which one setPrototypeOf takes away again; then the parser is given fast
   * properties again (without that, parsing the 110,000 lines of bench/'s kube-proxy dump took 15 %
   * longer). Internal methods of Chevrotain 11: if they were renamed, these would not be called and
   * its own would do the job.
   */
  enableRecording(): void {
    if (this.#recorded) return;
    const recorder = Object.create(Object.getPrototypeOf(this) as object) as object;
    (EmbeddedActionsParser.prototype as unknown as { enableRecording(this: object): void }).enableRecording.call(recorder);
    Object.setPrototypeOf(this, recorder);
    this.#recorder = recorder;
    (this as unknown as { RECORDING_PHASE: boolean }).RECORDING_PHASE = true;
  }

  disableRecording(): void {
    (this as unknown as { RECORDING_PHASE: boolean }).RECORDING_PHASE = false;
    if (this.#recorder && Object.getPrototypeOf(this) === this.#recorder) {
      Object.setPrototypeOf(this, Object.getPrototypeOf(this.#recorder) as object);
      fastProperties(this);
    }
    this.#recorder = undefined;
  }

  // The alternatives of each OR are made once: built inside the rule they would be allocated again
  // for every word of every command line (Chevrotain's advice for hot rules).
  private readonly itemAlts = [
    { ALT: () => this.SUBRULE(this.negation) },
    { ALT: () => this.SUBRULE(this.command) },
    { ALT: () => this.SUBRULE(this.ruleOption) },
    { ALT: () => this.SUBRULE(this.flagOption) },
    { ALT: () => this.SUBRULE(this.extensionOption) },
    { ALT: () => this.SUBRULE(this.implicitMatch) },
    { ALT: () => this.SUBRULE(this.stray) },
    { ALT: () => this.SUBRULE(this.badOption) },
  ];

  /**
   * iptables ARGS...: any number of items in any order. The items are chosen here rather than in
   * an `item` rule of their own, which was one more rule invocation for every word of every line.
   * True when the whole line was read (on a mismatch Chevrotain's top rule returns undefined).
   */
  commandLine = this.RULE('commandLine', () => {
    this.MANY(() => this.OR(this.itemAlts));
    return this.LA(1).tokenType === EOF;
  });

  private negation = this.RULE('negation', () => {
    this.CONSUME(T.Bang);
    this.ACTION(() => this.sink.bang());
  });

  private readonly commandAlts = [
    { ALT: () => this.CONSUME(T.Append) },
    { ALT: () => this.CONSUME(T.Check) },
    { ALT: () => this.CONSUME(T.NewChain) },
    { ALT: () => this.CONSUME(T.Delete) },
    { ALT: () => this.CONSUME(T.Insert) },
    { ALT: () => this.CONSUME(T.Replace) },
    { ALT: () => this.CONSUME(T.List) },
    { ALT: () => this.CONSUME(T.ListRules) },
    { ALT: () => this.CONSUME(T.Zero) },
    { ALT: () => this.CONSUME(T.Flush) },
    { ALT: () => this.CONSUME(T.DeleteChain) },
    { ALT: () => this.CONSUME(T.RenameChain) },
    { ALT: () => this.CONSUME(T.Policy) },
    { ALT: () => this.CONSUME(T.Help) },
    { ALT: () => this.CONSUME(T.Version) },
  ];

  /** -A/-C/-N chain; -D/-I/-R chain [rulenum]; -L/-S/-Z [chain [rulenum]]; -F/-X [chain]; -E old new; -P chain target */
  private command = this.RULE('command', () => {
    const tok = this.OR(this.commandAlts);
    const words = this.OPTION(this.argWords) ?? [];
    this.ACTION(() => this.sink.commandOption(LETTER.get(tok.tokenType)!, words));
  });

  /**
   * An option's one or two words, as an array of that size (one grown by push would take room
   * for 17 words: a few hundred bytes of garbage for every option of every line).
   */
  private readonly argWords = (): string[] => {
    const first = this.CONSUME(T.Arg).image;
    const second = this.OPTION2(() => this.CONSUME2(T.Arg).image);
    return second === undefined ? [first] : [first, second];
  };

  private readonly ruleOptionAlts = [
    { ALT: () => this.CONSUME(T.Protocol) },
    { ALT: () => this.CONSUME(T.Source) },
    { ALT: () => this.CONSUME(T.Destination) },
    { ALT: () => this.CONSUME(T.InInterface) },
    { ALT: () => this.CONSUME(T.OutInterface) },
    { ALT: () => this.CONSUME(T.Jump) },
    { ALT: () => this.CONSUME(T.Goto) },
    { ALT: () => this.CONSUME(T.Match) },
    { ALT: () => this.CONSUME(T.Table) },
    { ALT: () => this.CONSUME(T.SetCounters) },
    { ALT: () => this.CONSUME(T.Wait) },
    { ALT: () => this.CONSUME(T.WaitInterval) },
    { ALT: () => this.CONSUME(T.Modprobe) },
  ];

  /** options with an argument: -p -s -d -i -o -j -g -m -t -c -w -W --modprobe */
  private ruleOption = this.RULE('ruleOption', () => {
    const tok = this.OR(this.ruleOptionAlts);
    const words = this.OPTION(this.argWords) ?? [];
    this.ACTION(() => this.sink.coreOption(LETTER.get(tok.tokenType)!, words, tok.payload as MatchLoadPayload | undefined));
  });

  private readonly flagOptionAlts = [
    { ALT: () => this.CONSUME(T.Numeric) },
    { ALT: () => this.CONSUME(T.Verbose) },
    { ALT: () => this.CONSUME(T.Exact) },
    { ALT: () => this.CONSUME(T.Fragment) },
    { ALT: () => this.CONSUME(T.LineNumbers) },
    { ALT: () => this.CONSUME(T.Ipv4) },
    { ALT: () => this.CONSUME(T.Ipv6) },
  ];

  /** options without an argument: -n -v -x -f --line-numbers -4 -6 */
  private flagOption = this.RULE('flagOption', () => {
    const tok = this.OR(this.flagOptionAlts);
    this.ACTION(() => this.sink.coreOption(LETTER.get(tok.tokenType)!, []));
  });

  /** --OPTION [ARG [EXTRA...]] of a loaded match or target */
  private extensionOption = this.RULE('extensionOption', () => {
    const tok = this.CONSUME(T.ExtOpt);
    this.ACTION(() => this.sink.extensionOption(tok.payload as ExtOptPayload));
  });

  private implicitMatch = this.RULE('implicitMatch', () => {
    const tok = this.CONSUME(T.ImplicitMatch);
    this.ACTION(() => this.sink.implicitMatch(tok.payload as MatchLoadPayload));
  });

  private stray = this.RULE('stray', () => {
    const tok = this.CONSUME(T.Stray);
    this.ACTION(() => this.sink.stray(tok.image));
  });

  private badOption = this.RULE('badOption', () => {
    const tok = this.CONSUME(T.BadOption);
    this.ACTION(() => this.sink.badOption(tok.payload as BadOptionPayload));
  });
}

/**
 * Has V8 give `o` fast properties again, by making it the prototype of an object and looking a
 * property up through it (what Chevrotain's toFastProperties does before recording)
 */
function fastProperties(o: object): void {
  function Fake(): void {}
  Fake.prototype = o;
  const fake = new (Fake as unknown as new () => { probe?: unknown })();
  for (let i = 0; i < 2; i++) void fake.probe;
}

/** the grammar recorded by the build (grammar/recorded.ts), in the bundles only */
declare const IPTABLES_SIM_RECORDED_GRAMMAR: Encoded[] | undefined;

let instance: IptablesParser | undefined;

export function getParser(): IptablesParser {
  // self-analysis validations and the recording cost start-up time; every test process (unbundled)
  // runs them
  instance ??= new IptablesParser(
    process.env.IPTABLES_SIM_BUNDLED === '1',
    typeof IPTABLES_SIM_RECORDED_GRAMMAR === 'object' ? decodeGrammar(IPTABLES_SIM_RECORDED_GRAMMAR, T.allTokens) : undefined,
  );
  return instance;
}

/** The grammar as recorded, encoded for the bundles (run by the build). */
export function recordGrammar(): Encoded[] {
  return encodeGrammar(Object.values(new IptablesParser(true).getGAstProductions()), T.allTokens);
}

/** Feeds the words of one iptables command line, in order, to `sink`. */
export function parseCommandLine(argv: readonly string[], sink: CommandParse): void {
  const parser = getParser();
  const tokens: IToken[] = lexCommandLine(argv, sink.session.announced, sink.session.family);
  parser.input = tokens;
  parser.sink = sink;
  // parser.errors copies the error list on every read: ask only when the parse says it failed
  if (parser.commandLine() !== true) {
    // the lexer only produces token sequences the grammar accepts; anything else is our bug
    throw new Error(`internal grammar error: ${parser.errors[0]!.message}`);
  }
}
