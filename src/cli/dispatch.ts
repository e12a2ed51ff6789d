/**
 * Dispatch without commander: the commands that mirror real tools and the global options in front
 * of them (read, and errors reported, by ./tool-run.ts). `iptables-sim [--state F]
 * [--host H] [--json] [--no-color] iptables ...` (and the other tools, and argv0 dispatch) run
 * from here without loading commander, which with its child_process costs a command's start-up
 * more than the command itself; so does a plain `trace` (./trace-direct.ts); everything else goes to
 * main() (./main.ts).
 */
import { SimError } from '../errors.js';
import { processIo, type Io } from './io.js';
import { IPTABLES_TOOLS, iptablesTool, once, restoreTool, saveTool } from './iptables-tools.js';
import { directTrace, runTrace } from './trace-direct.js';
import { directCommand, processArgv, runInContext, type DirectTool, type ToolOptions, type ToolRun } from './tool-run.js';

export const VERSION = '0.1.0';

const sysctlModule = once(() => import('./commands/sysctl.js'));
const conntrackModule = once(() => import('./commands/conntrack.js'));
const ipModule = once(() => import('./commands/ip.js'));
const ipsetModule = once(() => import('./commands/ipset.js'));
const nfacctModule = once(() => import('./commands/nfacct.js'));

/**
 * xtables-nft-multi's applets, in its order (its error lists them all), with what the emulator
 * runs for those it models: iptables 1.8.9's nf_tables binaries are this one program under these
 * names (measured: fixtures/cli/nft-names.case)
 */
const NFT_APPLETS: [string, ToolRun | undefined][] = [
  ['iptables-xml', undefined],
  ['xml', undefined],
  ['iptables', IPTABLES_TOOLS['iptables']],
  ['iptables-nft', IPTABLES_TOOLS['iptables-nft']],
  ['main4', iptablesTool('iptables', 4)],
  ['save4', saveTool('save4', 4)],
  ['restore4', restoreTool('restore4', 4)],
  ['iptables-save', IPTABLES_TOOLS['iptables-save']],
  ['iptables-restore', IPTABLES_TOOLS['iptables-restore']],
  ['iptables-nft-save', IPTABLES_TOOLS['iptables-nft-save']],
  ['iptables-nft-restore', IPTABLES_TOOLS['iptables-nft-restore']],
  ['ip6tables', IPTABLES_TOOLS['ip6tables']],
  ['ip6tables-nft', IPTABLES_TOOLS['ip6tables-nft']],
  ['main6', iptablesTool('ip6tables', 6)],
  ['save6', saveTool('save6', 6)],
  ['restore6', restoreTool('restore6', 6)],
  ['ip6tables-save', IPTABLES_TOOLS['ip6tables-save']],
  ['ip6tables-restore', IPTABLES_TOOLS['ip6tables-restore']],
  ['ip6tables-nft-save', IPTABLES_TOOLS['ip6tables-nft-save']],
  ['ip6tables-nft-restore', IPTABLES_TOOLS['ip6tables-nft-restore']],
  ...['iptables-translate', 'ip6tables-translate', 'iptables-restore-translate', 'ip6tables-restore-translate'].map((n) => [n, undefined] as [string, undefined]),
  ...['arptables', 'arptables-nft', 'arptables-restore', 'arptables-nft-restore', 'arptables-save', 'arptables-nft-save'].map((n) => [n, undefined] as [string, undefined]),
  ...['ebtables-translate', 'ebtables', 'ebtables-restore', 'ebtables-save', 'ebtables-nft', 'ebtables-nft-restore', 'ebtables-nft-save'].map((n) => [n, undefined] as [string, undefined]),
  ['xtables-monitor', undefined],
];
const applet = (name: string): ToolRun | undefined => NFT_APPLETS.find(([n]) => n === name)?.[1];

/** `xtables-nft-multi APPLET ARGS...` */
const multiTool: ToolRun = async (ctx, args) => {
  const entry = NFT_APPLETS.find(([n]) => n === args[0]);
  if (entry?.[1]) return entry[1](ctx, args.slice(1));
  if (entry) {
    throw new SimError(`xtables-nft-multi ${entry[0]} is not modelled (the emulator runs its iptables and ip6tables applets and their -save and -restore)`, 1);
  }
  ctx.io.err(`ERROR: No valid subcommand given.\nValid subcommands:\n${NFT_APPLETS.map(([n]) => ` * ${n}\n`).join('')}`);
  return 1;
};

export interface Tool {
  summary: string;
  load: ToolRun;
  /** another name of a listed tool (iptables-nft's binaries): runs, but is left out of --help */
  alias?: true;
}

const nftAlias = (name: string): Tool => ({ summary: `${name.replace('-nft', '')} under iptables-nft's own name`, load: applet(name)!, alias: true });

/** The commands that mirror real tools: their arguments reach them untouched. */
export const TOOLS: Record<string, Tool> = {
  iptables: {
    summary: 'run an iptables 1.8.9 command on the host (same arguments, output, exit status)',
    load: applet('iptables')!,
  },
  'iptables-save': {
    summary: "print the host's rules as iptables-save does ([-t TABLE] [-c])",
    load: applet('iptables-save')!,
  },
  'iptables-restore': {
    summary: 'load rules as iptables-restore does ([--noflush] [--test] [-c] [-T TABLE] [FILE])',
    load: applet('iptables-restore')!,
  },
  ip6tables: {
    summary: 'run an ip6tables 1.8.9 command on the host: its IPv6 rules are kept, listed and saved (the lab traces IPv4 only)',
    load: applet('ip6tables')!,
  },
  'ip6tables-save': {
    summary: "print the host's IPv6 rules as ip6tables-save does ([-t TABLE] [-c])",
    load: applet('ip6tables-save')!,
  },
  'ip6tables-restore': {
    summary: 'load IPv6 rules as ip6tables-restore does ([--noflush] [--test] [-c] [-T TABLE] [FILE])',
    load: applet('ip6tables-restore')!,
  },
  'iptables-nft': nftAlias('iptables-nft'),
  'iptables-nft-save': nftAlias('iptables-nft-save'),
  'iptables-nft-restore': nftAlias('iptables-nft-restore'),
  'ip6tables-nft': nftAlias('ip6tables-nft'),
  'ip6tables-nft-save': nftAlias('ip6tables-nft-save'),
  'ip6tables-nft-restore': nftAlias('ip6tables-nft-restore'),
  'xtables-nft-multi': { summary: 'iptables-nft\'s multi-call binary: xtables-nft-multi APPLET ARGS (iptables, iptables-save, ... and their -nft names)', load: multiTool, alias: true },
  sysctl: {
    summary: 'read or set the kernel parameters the engine models (sysctl -w KEY=VALUE, sysctl KEY, -p [FILE], -n, -a)',
    load: async (ctx, args) => (await sysctlModule()).sysctlCommand(ctx, args),
  },
  conntrack: {
    summary: "list, get, create, update, count, delete or flush the host's connection tracking entries as conntrack-tools does (conntrack -L|-D|-U [-s -d -r -q -p -m -u -w -n -g -j ...] [-o extended|save], -G, -I, -A, -C, -F, -R FILE)",
    load: async (ctx, args) => (await conntrackModule()).conntrackCommand(ctx, args),
  },
  ip: {
    summary: 'the iproute2 commands that change a host: ip address add|del|flush|show, ip route add|del|replace|show|get|flush, ip link set up|down|mtu|show, ip rule add|del|flush|show, ip neigh flush',
    load: async (ctx, args) => (await ipModule()).ipCommand(ctx, args),
  },
  ipset: {
    summary: "create, fill, test, list, save and restore the host's IP sets as ipset 7.17 does (the hash types hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip and hash:ip,port,net of family inet or inet6, bitmap:port, bitmap:ip and list:set); iptables -m set matches them",
    load: async (ctx, args) => (await ipsetModule()).ipsetCommand(ctx, args),
  },
  nfacct: {
    summary: "add, list, get, delete, flush and restore the host's extended accounting objects as nfacct 1.0.2 does; iptables -m nfacct counts into them",
    load: async (ctx, args) => (await nfacctModule()).nfacctCommand(ctx, args),
  },
};

/**
 * `iptables-sim --state S [--host H] TOOL ARGS...` for a tool of TOOLS, without commander's
 * routing (which only passes the arguments through): the process entry and `run` (thousands of
 * lines) come this way. Same context, same command code, same error reporting as main().
 */
export async function runTool(
  tool: string,
  args: string[],
  io: Io,
  o: ToolOptions,
): Promise<number> {
  const t = TOOLS[tool];
  if (!t) {
    const { main } = await import('./main.js');
    return main(['--state', o.statePath, ...(o.host !== undefined ? ['--host', o.host] : []), tool, ...args], io, { session: o.session });
  }
  return runInContext(t.load, args, io, o);
}

/**
 * The global options commander would take, then a tool of TOOLS; undefined for anything else
 * (another command, --help, --version, an option commander refuses: commander handles those).
 */
export function directTool(argv: readonly string[], env: NodeJS.ProcessEnv): DirectTool | undefined {
  return directCommand(argv, env, TOOLS);
}

/**
 * The process entry: argv0 dispatch, the tools directly, everything else through main(). The
 * process exits as soon as the command is done (its output is written synchronously, nothing of
 * it is left running): ending on its own, it would first let V8 collect and tear down the heap,
 * 30-50 ms after the last output for a trace through the kube-proxy bench lab (strace).
 */
export async function cli(): Promise<void> {
  const argv = processArgv();
  const io = processIo();
  const direct = directTool(argv, io.env);
  const trace = direct ? undefined : directTrace(argv, io.env);
  const code = direct ? await runTool(direct.tool, direct.args, io, direct) : trace ? await runTrace(trace, io) : await (await import('./main.js')).main(argv, io);
  process.exit(code);
}
