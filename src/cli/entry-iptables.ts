/**
 * The iptables bundle's entry point (dist/iptables-sim.iptables.cjs): the iptables tools typed one
 * by one (iptables, iptables-save, iptables-restore, their ip6tables twins and -nft names: see
 * ./iptables-tools.ts), after the global options or run by those names. People type those one at a
 * time, and every command starts by reading its bundle and V8 taking in its code cache; this bundle
 * holds what they run and nothing else, about half the full one.
 *
 * The launcher (bin/iptables-sim) loads it when the first word that is not a global option, or
 * the name it runs by, is one of IPTABLES_TOOLS, and calls cli(). What this entry does not take (a
 * global option only commander reads, such as --help, or one missing its value) it leaves
 * untouched, returning false, and the launcher runs the full bundle (./entry.ts) instead: the same
 * command, by the same code, either way.
 */
import { processIo, type BufferIo, type Io } from './io.js';
import { IPTABLES_TOOLS } from './iptables-tools.js';
import { directCommand, hasOwn, processArgv, runInContext, type DirectTool } from './tool-run.js';

const run = (d: DirectTool, io: Io): Promise<number> => runInContext(IPTABLES_TOOLS[d.tool]!, d.args, io, d);

/** runs the process's command and exits; false, having done nothing, if it is not one this bundle takes */
export function cli(): boolean {
  const io = processIo();
  const d = directCommand(processArgv(), io.env, IPTABLES_TOOLS);
  if (!d) return false;
  void run(d, io).then((code) => process.exit(code));
  return true;
}

/** the build's warm-up of this bundle: its iptables tools' commands */
export async function warmUp(): Promise<void> {
  return (await import('./warmup.js')).warmUp(async (argv: string[], io: BufferIo) => {
    const d = directCommand(argv, io.env, IPTABLES_TOOLS);
    if (!d) throw new Error(`warm-up: ${argv.join(' ')} is no iptables tool's command`);
    return run(d, io);
  }, (argv) => hasOwn(IPTABLES_TOOLS, argv[0]!));
}
