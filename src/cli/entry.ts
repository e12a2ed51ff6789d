/**
 * The full bundle's entry point (dist/iptables-sim.cjs, started by bin/iptables-sim for every
 * command but the iptables tools and plain traces typed one by one, which have bundles of their
 * own: ./entry-iptables.ts, ./entry-trace.ts). It runs the CLI for the process, unless
 * IPTABLES_SIM_NO_AUTORUN is set (test harnesses and the build's code cache step call main() and
 * warmUp() themselves). Nothing here loads commander: the tools run without it (./dispatch.ts).
 */
import { cli, directTool, runTool } from './dispatch.js';
import type { main as mainFn } from './main.js';

export async function main(...args: Parameters<typeof mainFn>): ReturnType<typeof mainFn> {
  return (await import('./main.js')).main(...args);
}

/** the build's warm-up, run the way the process entry runs commands: tools without commander, the rest through main() */
export async function warmUp(): Promise<void> {
  return (await import('./warmup.js')).warmUp(async (argv, io) => {
    const d = directTool(argv, io.env);
    return d ? runTool(d.tool, d.args, io, d) : main(argv, io);
  });
}

if (!process.env.IPTABLES_SIM_NO_AUTORUN) void cli();
