/**
 * The bundle's entry point (dist/iptables-sim.cjs, started by bin/iptables-sim). It runs the CLI
 * for the process, unless IPTABLES_SIM_NO_AUTORUN is set (test harnesses and the build's code
 * cache step call main() and warmUp() themselves).
 */
import { cli } from './main.js';

export { main } from './main.js';
export { warmUp } from './warmup.js';

if (!process.env.IPTABLES_SIM_NO_AUTORUN) void cli();
