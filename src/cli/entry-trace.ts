/**
 * The trace bundle's entry point (dist/iptables-sim.trace.cjs): a plain `trace` typed one by one
 * (the product's main job: the options as their own words, each once; ./trace-direct.ts). It holds
 * the engine, the trace and its text, and nothing of the iptables grammar, the other commands or
 * commander: about a third of the full bundle.
 *
 * The launcher (bin/iptables-sim) loads it when the first word that is not a global option is
 * `trace`, and calls cli(). What it does not take (--batch, --diagram, --help, an option given
 * twice, ...) it leaves untouched, returning false, and the launcher runs the full bundle
 * (./entry.ts), where commander reads it: the same command, by the same code, either way.
 */
import { processIo, type BufferIo } from './io.js';
import { directTrace, runTrace } from './trace-direct.js';
import { processArgv } from './tool-run.js';

/** runs the process's command and exits; false, having done nothing, if it is not one this bundle takes */
export function cli(): boolean {
  const io = processIo();
  const d = directTrace(processArgv(), io.env);
  if (!d) return false;
  void runTrace(d, io).then((code) => process.exit(code));
  return true;
}

/** the build's warm-up of this bundle: its traces */
export async function warmUp(): Promise<void> {
  return (await import('./warmup.js')).warmUp(async (argv: string[], io: BufferIo) => {
    const d = directTrace(argv, io.env);
    if (!d) throw new Error(`warm-up: ${argv.join(' ')} is no plain trace`);
    return runTrace(d, io);
  }, (argv) => argv[0] === 'trace');
}
