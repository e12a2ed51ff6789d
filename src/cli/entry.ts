/**
 * The bundle's entry point (dist/iptables-sim.cjs, started by bin/iptables-sim). It runs the CLI
 * for the process, unless IPTABLES_SIM_NO_AUTORUN is set (test harnesses and the build's code
 * cache step call main() and warmUp() themselves). Nothing here loads commander: the tools run
 * without it (./dispatch.ts).
 */
import { cli } from './dispatch.js';
import type { main as mainFn } from './main.js';

export async function main(...args: Parameters<typeof mainFn>): ReturnType<typeof mainFn> {
  return (await import('./main.js')).main(...args);
}

export async function warmUp(only?: 'iptables' | 'all'): Promise<void> {
  return (await import('./warmup.js')).warmUp(only);
}

if (!process.env.IPTABLES_SIM_NO_AUTORUN) void cli();
