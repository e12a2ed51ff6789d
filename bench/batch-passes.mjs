#!/usr/bin/env node
// Bench: where a `trace --batch` spends its time, in one process. The same packets go through one
// HostBatch several times (src/engine/batch.ts, bundled from the sources with esbuild): pass 1
// pays for every chain a packet enters first (decoding its rules from the lab file, making its
// plan) as the command does; later passes show the steady state, where every chain is ready and
// only the packets' own work and the memory it touches are left. Each pass writes the result
// lines as the command does (ResultWriter), into nothing; --no-output leaves them out.
//
// Usage: node bench/batch-passes.mjs LAB PACKETS [--passes 3] [--host router] [--no-output]
//   LAB: a lab file (bench/trace-batch.mjs --keep DIR leaves one, with its packet files)
// Prints, per pass: wall time, microseconds a packet, packets a second, and CPU time.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { args, opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [lab, packets] = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--passes', '--host'].includes(args[i - 1])));
if (!lab || !packets) {
  console.error('usage: node bench/batch-passes.mjs LAB PACKETS [--passes 3] [--host router] [--no-output]');
  process.exit(2);
}

const entry = `
import { readFileSync } from 'node:fs';
import { readLab } from './src/state/store.js';
import { HostBatch } from './src/engine/batch.js';
import { packetSpec } from './src/cli/commands/trace.js';
import { fastSpec, parsePacketLine, splitWords } from './src/cli/commands/trace-batch.js';
import { ResultWriter } from './src/cli/commands/trace-batch-out.js';
export function run(labPath, file, passes, host, output) {
  const lab = readLab(labPath);
  const lines = readFileSync(file, 'utf8').split('\\n').map((l) => l.trim()).filter((l) => l !== '' && l[0] !== '#');
  const specs = lines.map((l) => fastSpec(l) ?? packetSpec(parsePacketLine(splitWords(l))));
  const batch = new HostBatch(lab, host, {});
  let bytes = 0;
  for (let p = 1; p <= passes; p++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = new ResultWriter((b) => { bytes += b.length; });
    for (let i = 0; i < specs.length; i++) {
      const o = batch.run(specs[i], i + 1);
      if (output) out.result(i + 1, host, o, batch.lastDecisions(), batch.lastReject());
    }
    out.flush();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    console.log(\`pass \${p}: \${ms.toFixed(0)} ms, \${((ms * 1000) / specs.length).toFixed(2)} us/packet, \${Math.round(specs.length / (ms / 1000)).toLocaleString('en')} packets/s, CPU \${((c.user + c.system) / 1000).toFixed(0)} ms\`);
  }
  return bytes;
}
`;
const dir = mkdtempSync(join(tmpdir(), 'iptsim-passes-'));
const out = join(dir, 'passes.mjs');
try {
  await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const { run } = await import(pathToFileURL(out).href);
  console.log(`node ${process.version}; ${packets}`);
  run(lab, packets, Number(opt('passes', '3')), opt('host', 'router'), !args.includes('--no-output'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
