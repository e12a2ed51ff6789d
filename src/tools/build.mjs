// Bundles the CLI into dist/ with esbuild. One entry chunk that stays small (argv dispatch,
// commander) and lazily imported chunks per command, so a command that never parses a rule
// never pays for Chevrotain. Run by `npm install` (prepare) and `npm run build`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// tests that run the CLI as separate processes build a private copy (IPTABLES_SIM_OUTDIR)
const outdir = process.env.IPTABLES_SIM_OUTDIR || join(root, 'dist');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'iptables-sim': 'src/cli/main.ts', 'grammar-diagram': 'grammar/generate-diagram.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: false,
  chunkNames: 'chunks/[name]-[hash]',
  // commander/cli-table3 are CommonJS; give the ESM bundle a require() for their internals.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { 'process.env.IPTABLES_SIM_BUNDLED': '"1"' },
  logLevel: 'warning',
});
