// What the bundles use for Chevrotain's applyMixins() (src/tools/build.mjs puts this module in place
// of node_modules/chevrotain/lib/src/parse/parser/utils/apply_mixins.js; the tests and anything
// run from the sources keep Chevrotain's own).
//
// Why: when Chevrotain loads, applyMixins(Parser, [10 traits]) copies 203 methods onto
// Parser.prototype one at a time, and V8 makes adding a property to an object that is a prototype
// slow: 200 such stores take 2.7-7 ms in a fresh node, and this saved 1.5-2 ms of a command typed
// (bench/README.md, "Twenty-sixth session"). Put on a plain object instead (0.2 ms), placed between
// Parser.prototype and what was its prototype, they are found by the same lookups, through one
// more link.
//
// The same as the original: the methods' values and accessors, assignment (enumerable data
// properties) for the methods and defineProperty for the accessors, later traits winning over
// earlier ones. A name the derived class itself defines would have been overwritten by the
// original: that one is still written onto the class's prototype (Chevrotain 11.2 has none such).
// What differs: the methods are not own properties of Parser.prototype (Chevrotain asks neither
// getOwnPropertyNames nor hasOwnProperty of it; test/build-substitutes.test.ts compares the two).
export function applyMixins(derivedCtor, baseCtors) {
  const proto = derivedCtor.prototype;
  const mixed = Object.create(Object.getPrototypeOf(proto));
  // (indexed loops: in a process this young, a for-of loop allocates a result object for every element)
  for (let i = 0; i < baseCtors.length; i++) {
    const baseProto = baseCtors[i].prototype;
    const names = Object.getOwnPropertyNames(baseProto);
    for (let j = 0; j < names.length; j++) {
      const name = names[j];
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(baseProto, name);
      const to = Object.prototype.hasOwnProperty.call(proto, name) ? proto : mixed;
      if (d.get || d.set) Object.defineProperty(to, name, d);
      else to[name] = d.value;
    }
  }
  Object.setPrototypeOf(proto, mixed);
}
