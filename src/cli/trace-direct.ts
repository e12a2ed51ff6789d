/**
 * A plain `trace` without commander: the options object commander would hand the trace command,
 * read from the command line's plain form, so that an everyday trace starts without loading
 * commander. The full bundle's dispatch (./dispatch.ts) runs traces this way, and so does the trace
 * bundle (./entry-trace.ts), which holds what a trace runs and nothing else.
 */
import { defaultStatePath } from '../state/paths.js';
import type { Io } from './io.js';
import { globalOptions, hasOwn, runInContext } from './tool-run.js';

/** `trace` options that take a value, by every name commander knows them by, and their key */
const TRACE_VALUES: Record<string, string> = {
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-p': 'protocol',
  '--protocol': 'protocol',
  '-s': 'source',
  '--source': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '--sport': 'sport',
  '--dport': 'dport',
  '--tcp-flags': 'tcpFlags',
  '--icmp-type': 'icmpType',
  '--mark': 'mark',
  '--len': 'len',
  '--ttl': 'ttl',
  '--format': 'format',
  '--seed': 'seed',
  '--from': 'from',
};
const TRACE_FLAGS: Record<string, string> = { '--all-paths': 'allPaths', '--brief': 'brief' };

/**
 * `[global options] trace OPTION VALUE... [--brief] [--all-paths]` in its plain form (each option
 * once, as its own word, its value the next word and not starting with -): the options object
 * commander would hand the trace command, so that an everyday trace starts without loading
 * commander. Anything else (--diagram, --batch, --hooks, --help, --opt=value, repeats, a stray
 * word) is left to commander: undefined.
 */
export function directTrace(argv: readonly string[], env: NodeJS.ProcessEnv): { options: Record<string, string | boolean>; statePath: string; host?: string; json: boolean; color: boolean } | undefined {
  const g = globalOptions(argv);
  if (!g || argv[g.at] !== 'trace') return undefined;
  // commander sets the defaults first
  const options: Record<string, string | boolean> = { protocol: 'tcp' };
  const seen = new Set<string>();
  for (let i = g.at + 1; i < argv.length; i++) {
    const a = argv[i]!;
    const key = TRACE_VALUES[a] ?? TRACE_FLAGS[a];
    if (!hasOwn(TRACE_VALUES, a) && !hasOwn(TRACE_FLAGS, a)) return undefined;
    if (seen.has(key!)) return undefined;
    seen.add(key!);
    if (hasOwn(TRACE_FLAGS, a)) {
      options[key!] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined || v.startsWith('-')) return undefined;
    options[key!] = v;
  }
  return { options, statePath: g.state ?? defaultStatePath(env), host: g.host, json: g.json, color: g.color };
}

/** runs what directTrace() read, as main() would have (same context, same error reporting) */
export function runTrace(d: NonNullable<ReturnType<typeof directTrace>>, io: Io): Promise<number> {
  return runInContext(async (ctx) => (await import('./commands/trace.js')).traceCommand(ctx, d.options), [], io, d);
}
