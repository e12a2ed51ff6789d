/**
 * The iptables tools: iptables, iptables-save and iptables-restore, their ip6tables twins and
 * iptables-nft's names of all six, each under the program name it prints (iptables-nft's binaries
 * are the same programs: `iptables-nft` prints "iptables", `iptables-nft-save` its own name). The
 * full bundle runs them among every other tool (./dispatch.ts); the iptables bundle
 * (./entry-iptables.ts) runs these alone, and the launcher (bin/iptables-sim) picks it for these
 * names.
 */
import type { Family } from '../extensions/registry.js';
import type { ToolRun } from './tool-run.js';

/** a module imported on first use and kept (a dynamic import per call costs a module-map lookup) */
export function once<M>(load: () => Promise<M>): () => Promise<M> {
  let p: Promise<M> | undefined;
  return () => (p ??= load());
}

const iptablesModule = once(() => import('./commands/iptables.js'));
const saveModule = once(() => import('./commands/save.js'));
const restoreModule = once(() => import('./commands/restore.js'));

export const iptablesTool = (prog: string, family: Family): ToolRun => async (ctx, args) => (await iptablesModule()).iptablesCommand(ctx, args, prog, family);
export const saveTool = (prog: string, family: Family): ToolRun => async (ctx, args) => (await saveModule()).saveCommand(ctx, args, prog, family);
export const restoreTool = (prog: string, family: Family): ToolRun => async (ctx, args) => (await restoreModule()).restoreCommand(ctx, args, prog, family);

/** the iptables tools by the names they are run by */
export const IPTABLES_TOOLS: Readonly<Record<string, ToolRun>> = {
  iptables: iptablesTool('iptables', 4),
  'iptables-nft': iptablesTool('iptables', 4),
  ip6tables: iptablesTool('ip6tables', 6),
  'ip6tables-nft': iptablesTool('ip6tables', 6),
  'iptables-save': saveTool('iptables-save', 4),
  'iptables-nft-save': saveTool('iptables-nft-save', 4),
  'ip6tables-save': saveTool('ip6tables-save', 6),
  'ip6tables-nft-save': saveTool('ip6tables-nft-save', 6),
  'iptables-restore': restoreTool('iptables-restore', 4),
  'iptables-nft-restore': restoreTool('iptables-nft-restore', 4),
  'ip6tables-restore': restoreTool('ip6tables-restore', 6),
  'ip6tables-nft-restore': restoreTool('ip6tables-nft-restore', 6),
};
