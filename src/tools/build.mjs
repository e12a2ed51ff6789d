// Bundles the CLI for bin/iptables-sim: three CommonJS files (dist/iptables-sim.cjs, everything;
// dist/iptables-sim.iptables.cjs, what the iptables tools typed one by one run;
// dist/iptables-sim.trace.cjs, what a plain trace runs), then V8's code cache of each after a
// warm-up run in it (dist/NAME.cache, see bin/iptables-sim), because compiling a bundle is most of
// a command's start-up. The bundles carry the grammar as Chevrotain records it (grammar/recorded.ts),
// recorded here once. Also the grammar's diagram tool (dist/grammar-diagram.mjs, `npm run
// diagram`). Run by `npm install` (prepare) and `npm run build`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** a dependency's module path, whatever the separator */
const depFile = (...parts) => new RegExp(`[\\\\/]${parts.map((p) => p.replaceAll('.', '\\.')).join('[\\\\/]')}$`);
const ours = (name) => () => readFileSync(join(root, 'src', 'tools', name), 'utf8');
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
/**
 * What the bundles take in place of dependencies' own code, for start-up time (why: in each file or
 * note here). A substitute that no longer applies (another version moved or rewrote the code) is
 * left out with a warning, and the dependency is bundled as it is: the same behaviour, slower.
 */
const SUBSTITUTES = [
  { what: "Chevrotain's applyMixins()", file: depFile('chevrotain', 'lib', 'src', 'parse', 'parser', 'utils', 'apply_mixins.js'), contents: ours('chevrotain-mixins.mjs') },
  { what: "Chevrotain's token type helpers", file: depFile('chevrotain', 'lib', 'src', 'scan', 'tokens.js'), contents: ours('chevrotain-tokens.mjs') },
  // commander loads node:child_process (and with it net and stream: about 3 ms of every command it
  // parses) for subcommands that run as executables, which iptables-sim has none of: loaded when
  // one would be spawned
  {
    what: "commander's require of node:child_process",
    file: depFile('commander', 'lib', 'command.js'),
    contents: (text) =>
      text.includes(COMMANDER_CHILD_PROCESS)
        ? text.replace(COMMANDER_CHILD_PROCESS, "let childProcess_; const childProcess = { spawn: (...a) => (childProcess_ ??= require('node:child_process')).spawn(...a) };")
        : undefined,
  },
];
const substituted = new Set();
const substitutes = {
  name: 'substitutes',
  setup(b) {
    for (const sub of SUBSTITUTES) {
      b.onLoad({ filter: sub.file }, (args) => {
        const contents = sub.contents(readFileSync(args.path, 'utf8'));
        if (contents === undefined) return undefined;
        substituted.add(sub);
        return { contents, loader: 'js' };
      });
    }
  },
};
// tests that run the CLI as separate processes build a private copy (IPTABLES_SIM_OUTDIR)
const outdir = process.env.IPTABLES_SIM_OUTDIR || join(root, 'dist');
rmSync(outdir, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  // local names shortened: the bundles are a third smaller, and reading a bundle and taking in its
  // code cache cost in proportion (about 5 ms of each command typed, bench/README.md "Twenty-sixth
  // session"). An internal error's stack then names minified functions: the command that raised
  // it, run by a test (main() in-process, on the sources), shows the real ones
  minifyIdentifiers: true,
  sourcemap: false,
  define: { 'process.env.IPTABLES_SIM_BUNDLED': '"1"' },
  logLevel: 'warning',
  plugins: [substitutes],
};
// the grammar as Chevrotain records it (grammar/recorded.ts), handed to the bundles' parser instead of
// a recording on every command
const recorder = await build({
  ...common,
  stdin: { contents: "export { recordGrammar } from './grammar/parser.ts';", resolveDir: root, loader: 'ts' },
  write: false,
  format: 'cjs',
});
const recorderModule = { exports: {} };
new Function('module', 'exports', 'require', recorder.outputFiles[0].text)(recorderModule, recorderModule.exports, createRequire(import.meta.url));
common.define['IPTABLES_SIM_RECORDED_GRAMMAR'] = JSON.stringify(recorderModule.exports.recordGrammar());
// the CLI's bundles (see bin/iptables-sim): everything, what the iptables tools typed one by one run, a plain trace
const bundles = {
  'iptables-sim.cjs': 'src/cli/entry.ts',
  'iptables-sim.iptables.cjs': 'src/cli/entry-iptables.ts',
  'iptables-sim.trace.cjs': 'src/cli/entry-trace.ts',
};
for (const [out, entry] of Object.entries(bundles)) {
  await build({
    ...common,
    entryPoints: [entry],
    outfile: join(outdir, out),
    format: 'cjs',
    // the modules that look for files next to themselves (the launcher, for shims) get the bundle's
    // URL, made when first asked for (most commands never do)
    define: { ...common.define, 'import.meta.url': '__bundle.url' },
    banner: { js: "var __bundle = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  });
  if (out === 'iptables-sim.cjs') {
    for (const sub of SUBSTITUTES) if (!substituted.has(sub)) console.warn(`build: ${sub.what} not found; bundled as it is`);
  }
  // the launcher reads a bundle as latin1, which is only the same string if it is ASCII
  if (/[^\x00-\x7f]/.test(readFileSync(join(outdir, out), 'latin1'))) {
    throw new Error(`build: dist/${out} is not ASCII (bin/iptables-sim reads it as latin1)`);
  }
}
await build({
  ...common,
  entryPoints: ['grammar/generate-diagram.ts'],
  outfile: join(outdir, 'grammar-diagram.mjs'),
  format: 'esm',
  // commander/cli-table3 are CommonJS; give the ESM bundle a require() for their internals.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
// the code cache, made by the launcher itself (so its wrapper and V8 flags are the ones used later);
// a private outdir gets a copy of the launcher next to it
const launcher = join(root, 'bin', 'iptables-sim');
let bin = launcher;
if (outdir !== join(root, 'dist')) {
  bin = join(outdir, '..', 'bin', 'iptables-sim');
  mkdirSync(dirname(bin), { recursive: true });
  copyFileSync(launcher, bin);
  copyFileSync(join(root, 'bin', 'package.json'), join(dirname(bin), 'package.json'));
}
// (one for each bundle: everything the warm-up runs in the full one, the iptables tools' commands
// and the trace in the others)
for (const which of ['1', 'iptables', 'trace']) {
  execFileSync(process.execPath, [bin], { env: { ...process.env, IPTABLES_SIM_WRITE_CACHE: which }, stdio: 'inherit' });
}
