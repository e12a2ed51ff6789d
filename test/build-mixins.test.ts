/**
 * The bundles' applyMixins() (src/tools/chevrotain-mixins.mjs, put in place of Chevrotain's by the
 * build) against Chevrotain's own: the same classes mixed by each give instances that answer every
 * method and accessor the same way, enumerate the same keys, and let a later trait win over an
 * earlier one and over a method of the class itself, as Chevrotain's does. (The bundles' parser,
 * mixed by ours, is held to main()'s output by test/launcher.test.ts and the tests that run the
 * CLI as a process.)
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
