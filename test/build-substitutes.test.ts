/**
 * The substitutes the build puts in the bundles for Chevrotain's modules (src/tools/build.mjs,
 * SUBSTITUTES), against Chevrotain's own. The token type helpers (src/tools/chevrotain-tokens.mjs):
 * the same token types made through the two end up the same (indexes, categories, matches,
 * property order, the index-to-type table), and answer the matchers alike. applyMixins()
 * (src/tools/chevrotain-mixins.mjs): the same classes mixed by each give instances that answer
 * every method and accessor the same way, enumerate the same keys, and let a later trait win over
 * an earlier one and over a method of the class itself, as Chevrotain's does. (The bundles'
 * parser, made with both, is held to main()'s output by test/launcher.test.ts and the tests that
 * run the CLI as a process; that test also checks commander's node:child_process substitute.)
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

type Mixer = (derived: new () => object, bases: (new () => object)[]) => void;

const root = join(import.meta.dirname, '..');
const load = async (path: string): Promise<Mixer> => ((await import(pathToFileURL(join(root, path)).href)) as { applyMixins: Mixer }).applyMixins;

/** a class with own methods, and three traits: methods, an accessor, a name two traits share, a name the class has */
function classes() {
  class Derived {
    store = 0;
    own(): string {
      return 'own';
    }
    shared(): string {
      return 'derived';
    }
  }
  class A {
    a(): string {
      return 'a';
    }
    twice(): string {
      return 'A';
    }
  }
  class B {
    get value(): number {
      return (this as unknown as { store: number }).store * 2;
    }
    set value(v: number) {
      (this as unknown as { store: number }).store = v;
    }
    twice(): string {
      return 'B';
    }
    shared(): string {
      return 'trait';
    }
  }
  class C {
    c(this: { a(): string }): string {
      return `c${this.a()}`;
    }
  }
  return { Derived, bases: [A, B, C] };
}

function answers(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['own', 'a', 'twice', 'shared', 'c']) out[name] = (o[name] as () => unknown).call(o);
  o.value = 21;
  out.value = o.value;
  out.store = o.store;
  const keys: string[] = [];
  for (const k in o) keys.push(k);
  out.keys = keys.sort();
  return out;
}

describe("the bundles' applyMixins", () => {
  it("mixes as Chevrotain's does", async () => {
    const theirs = await load('node_modules/chevrotain/lib/src/parse/parser/utils/apply_mixins.js');
    const ours = await load('src/tools/chevrotain-mixins.mjs');
    const expected = classes();
    theirs(expected.Derived, expected.bases);
    const got = classes();
    ours(got.Derived, got.bases);
    const want = answers(new expected.Derived() as unknown as Record<string, unknown>);
    expect(want).toMatchObject({ twice: 'B', shared: 'trait', c: 'ca', value: 42, store: 21 });
    expect(answers(new got.Derived() as unknown as Record<string, unknown>)).toEqual(want);
    // the traits' methods sit one link up, the class's own where they were
    expect(Object.getOwnPropertyNames(got.Derived.prototype).sort()).toEqual(['constructor', 'own', 'shared']);
  });
});

/** a token type as Chevrotain's helpers leave it, other token types by name */
type Tok = Record<string, unknown> & { name: string };
interface TokenHelpers {
  augmentTokenTypes(t: Tok[]): void;
  expandCategories(t: Tok[]): Tok[];
  tokenStructuredMatcher(instance: { tokenTypeIdx: number }, type: Tok): boolean;
  tokenIdxToClass: Record<number, Tok>;
  tokenShortNameIdx: number;
}

/** what createToken and the parser's constructor ask of the helpers, on token types made afresh */
function exercise(h: TokenHelpers): unknown {
  const made: Tok[] = [];
  const token = (name: string, categories?: Tok | Tok[]): Tok => {
    const t: Tok = { name, PATTERN: 'NOT_APPLICABLE', ...(categories === undefined ? {} : { CATEGORIES: categories }) };
    h.augmentTokenTypes([t]);
    made.push(t);
    return t;
  };
  const word = token('Word');
  const opt = token('Opt', word);
  const cmd = token('Cmd', [opt]);
  const a = token('A', [cmd, opt]);
  const b = token('B', cmd);
  const lone = token('Lone');
  // categories that name each other (Chevrotain stops at the cycle)
  const x: Tok = { name: 'X', PATTERN: 'NOT_APPLICABLE' };
  const y: Tok = { name: 'Y', PATTERN: 'NOT_APPLICABLE', CATEGORIES: [x] };
  x.CATEGORIES = [y];
  const z = token('Z', [x, y, word]);
  made.push(x, y);
  const expanded = h.expandCategories([a, b, z, lone]).map((t) => t.name);
  // the parser's constructor: everything again
  h.augmentTokenTypes([word, opt, cmd, a, b, lone, z]);
  const names = (v: unknown): unknown => (Array.isArray(v) ? v.map((t: Tok) => t.name) : v);
  return {
    expanded,
    tokens: made.map((t) => Object.entries(t).map(([k, v]) => [k, k === 'CATEGORIES' ? names(v) : v])),
    table: Object.entries(h.tokenIdxToClass).map(([i, t]) => [i, t.name]),
    next: h.tokenShortNameIdx,
    matches: made.map((t) => made.map((u) => h.tokenStructuredMatcher({ tokenTypeIdx: u.tokenTypeIdx as number }, t))),
  };
}

describe("the bundles' token type helpers", () => {
  it("leave token types as Chevrotain's do", async () => {
    const mod = async (path: string) => (await import(pathToFileURL(join(root, path)).href)) as TokenHelpers;
    const want = exercise(await mod('node_modules/chevrotain/lib/src/scan/tokens.js'));
    // (lodash's difference() keeps a category twice when two token types name it)
    expect(want).toMatchObject({ expanded: ['A', 'B', 'Z', 'Lone', 'Cmd', 'Opt', 'Cmd', 'X', 'Y', 'Word'] });
    expect(exercise(await mod('src/tools/chevrotain-tokens.mjs'))).toEqual(want);
  });
});
