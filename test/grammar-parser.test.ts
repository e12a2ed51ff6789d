import { describe, expect, it } from 'vitest';
import { IptablesParser } from '../grammar/parser.js';

// Chevrotain's recording versions of its DSL methods, as it names them
const RECORDING = ['CONSUME', 'CONSUME1', 'SUBRULE', 'OPTION', 'OR', 'MANY', 'AT_LEAST_ONE', 'consume', 'or', 'ACTION', 'LA'];

/** the parser, telling which recording methods were its own properties while the grammar was recorded */
class Probe extends IptablesParser {
  static own: string[] | undefined;
  override disableRecording(): void {
    Probe.own = RECORDING.filter((k) => Object.hasOwn(this, k));
    super.disableRecording();
  }
}

describe('building the parser', () => {
  for (const skipValidations of [false, true]) {
    it(`records the grammar without putting methods on the parser itself (skipValidations ${skipValidations})`, () => {
      Probe.own = undefined;
      const p = new Probe(skipValidations);
      // they were somewhere else while recording (deleting them from the parser costs start-up time)
      expect(Probe.own).toEqual([]);
      // and are gone after: the DSL methods are the class's again, the parser is out of recording
      expect(Object.getPrototypeOf(p)).toBe(Probe.prototype);
      expect(RECORDING.filter((k) => Object.hasOwn(p, k))).toEqual([]);
      expect((p as unknown as { RECORDING_PHASE: boolean }).RECORDING_PHASE).toBe(false);
      const consume = (o: object): unknown => (o as { CONSUME?: unknown }).CONSUME;
      expect(consume(p)).toBe(consume(IptablesParser.prototype));
      // the grammar recorded: every rule, with its alternatives
      const rules = p.getGAstProductions();
      expect(Object.keys(rules)).toEqual(['commandLine', 'negation', 'command', 'ruleOption', 'flagOption', 'extensionOption', 'implicitMatch', 'stray', 'badOption']);
      expect(rules.commandLine!.definition.length).toBeGreaterThan(0);
    });
  }
});
