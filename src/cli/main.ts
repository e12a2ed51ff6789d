/**
 * The iptables-sim command line (commander): global options, then a command. Commands that mirror
 * real tools (./dispatch.ts: iptables, iptables-save, iptables-restore, sysctl, conntrack, ip)
 * take their arguments untouched. Each command module is loaded only when used. Every error
 * becomes a message and an exit status in one place, tool-run.ts's reportError().
 */
import { Command, Option } from 'commander';
import { defaultStatePath } from '../state/paths.js';
import type { CliContext, LabSession } from './context.js';
import { TOOLS, VERSION } from './dispatch.js';
import { reportError } from './tool-run.js';
import { processIo, type Io } from './io.js';
import { SimError } from '../errors.js';
import { REFUSED } from '../script/tools.js';

function buildProgram(io: Io, run: (p: Promise<number>) => void, session?: LabSession): Command {
  const program = new Command('iptables-sim');
  let ctx: CliContext | undefined;
  const context = (): CliContext => {
    if (ctx) return ctx;
    const o = program.opts<{ state?: string; host?: string; json?: boolean; color?: boolean }>();
    if (o.state === '') throw new SimError('--state needs a file name', 2);
    ctx = {
      io,
      statePath: o.state ?? defaultStatePath(io.env),
      host: o.host ?? (io.env.IPTABLES_SIM_HOST || undefined),
      session,
      json: !!o.json,
      color: o.color !== false && !io.env.NO_COLOR && io.isTTY,
    };
    return ctx;
  };
  program
    .description('Emulates Linux iptables/netfilter on a lab of hosts: type real iptables commands, trace packets.')
    .version(VERSION, '--version', 'print the iptables-sim version')
    .addOption(new Option('--state <file>', 'the lab file (default: $IPTABLES_SIM_STATE, else ~/.local/state/iptables-sim/lab.json)'))
    .addOption(new Option('--host <name>', "the lab host the command acts on (default: the lab's default host)"))
    .option('--json', 'machine-readable output where the command supports it')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .enablePositionalOptions()
    .showHelpAfterError('(iptables-sim --help lists the commands, iptables-sim COMMAND --help the options of one)')
    // (commander's "error: ..." as every other message of the program begins)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(s.replace(/^error: /, 'iptables-sim: ')) })
    .exitOverride();

  const passthrough = (name: string, summary: string, load: (args: string[]) => Promise<number>, hidden = false) =>
    program
      .command(name, { hidden })
      .description(summary)
      .argument('[args...]')
      .helpOption(false)
      .allowUnknownOption()
      .passThroughOptions()
      .action((args: string[]) => run(load(args)));

  for (const [name, t] of Object.entries(TOOLS)) passthrough(name, t.summary, (args) => t.load(context(), args), t.alias);
  const picture: { diagramFile?: string; textDiagram?: boolean } = {};
  program
    .command('trace')
    .description('push a packet through a host (-i IFACE -p PROTO -s SRC --sport N -d DST --dport N; without -i: sent by a local process), or a whole connection through the lab (--from HOST -p PROTO -d DST --dport N)')
    .option('-i, --in-interface <iface>', 'the packet arrives on this interface (else a local process sends it)')
    .option('-p, --protocol <proto>', 'tcp, udp, icmp or a number', 'tcp')
    .option('-s, --source <addr>', 'source address (from a local process: chosen by routing when left out)')
    .option('-d, --destination <addr>', 'destination address')
    .option('--sport <port>', 'source port (default 40000; for an ICMP echo: its identifier)')
    .option('--dport <port>', 'destination port')
    .option('--tcp-flags <flags>', 'TCP flags, e.g. SYN or ACK,PSH (default SYN)')
    .option('--icmp-type <type>', 'echo-request (default), echo-reply, or TYPE/CODE')
    .option('--mark <mark>', 'packet mark')
    .option('--len <bytes>', 'IP length')
    .option('--ttl <ttl>', 'time to live')
    .option('--format <format>', 'text, json or xtables (the lines xtables-monitor --trace prints)')
    .option('--seed <n>', "reseed the lab's random generator first")
    .option('--from <host>', 'a whole connection from a process of HOST through the lab (with -p -d --dport [--sport])')
    .option('--all-paths', 'with --from: every outcome where rules draw at random (statistic), with its probability; the lab is not changed')
    .option('--brief', 'text format: only where the packets went and what changed them')
    .option('--diagram <file>', "also draw it into FILE.svg (a connection: its sequence diagram; one packet: its path through the host's hooks) or FILE.html (pictures and text)")
    .option('--no-diagram', "no text diagram under a connection's events")
    .option('--hooks <host>', "with --diagram: draw HOST's netfilter hooks with the paths the connection's packets took there")
    .option('--batch <file>', "many packets through the host, one per line of FILE (- for standard input) in this command's packet options; out, one JSON line per packet: line, outcome, explanation, addresses and ports after NAT, the rules that decided (or line and error; exit 1 if any line fails). Each packet is the first of its own connection, classified against the lab as it is, which the batch does not change; statistic draws come from the lab's seeded generator, started afresh for each line from its seed and line number (--seed)")
    // --diagram FILE and --no-diagram share commander's key; each keeps its own meaning here
    .on('option:diagram', (file: string) => (picture.diagramFile = file))
    .on('option:no-diagram', () => (picture.textDiagram = false))
    .action((opts) => run(import('./commands/trace.js').then((m) => m.traceCommand(context(), { ...opts, ...picture }))));
  program
    .command('check')
    .description('firewall tests: one expectation per line, e.g. `from pc2 tcp 50.60.70.80:8080 => established by pc1 seen-from 192.168.1.1`; exit 1 on any failure')
    .argument('<file>', 'the expectations (- for standard input)')
    .option('--format <format>', 'text (default), tap or junit')
    .action((file: string, opts: { format?: string }) => run(import('./commands/check.js').then((m) => m.checkCommand(context(), file, opts))));
  program
    .command('demo')
    .description("the seed post's story on a scratch lab (never yours): SNAT, MASQUERADE, DNAT, router access, load balancing, hairpin NAT")
    .action(() => run(import('./commands/demo.js').then((m) => m.demoCommand(context()))));
  program
    .command('lab')
    .description('the lab: `lab show` (hosts, interfaces, routes, services, sysctls), `lab reset` (back to the built-in lab), `lab init --topology FILE` (a lab from a YAML file)')
    .argument('[action]', 'show | reset | init')
    .option('--topology <file>', 'with init: the YAML file describing hosts, interfaces, routes, sysctls, services and segments')
    .option('--diagram <file>', 'with show: also draw the lab into FILE.svg or FILE.html')
    .action((action: string | undefined, opts: { topology?: string; diagram?: string }) => run(import('./commands/lab.js').then((m) => m.labCommand(context(), action, opts))));
  registerScriptCommands(program, context, run);
  acceptGlobalsAfter(program);
  return program;
}

const GLOBALS = ['state', 'host', 'json', 'color'] as const;

/**
 * The global options typed after one of the emulator's own commands (`trace ... --json`) mean what
 * they mean before it; the commands that mirror real tools take theirs untouched (`-m state
 * --state NEW`), so they are global only in front.
 */
function acceptGlobalsAfter(program: Command): void {
  const own = program.commands.filter((c) => !(c as unknown as { _passThroughOptions: boolean })._passThroughOptions);
  for (const c of own) {
    const has = (flag: string): boolean => c.options.some((o) => o.long === flag);
    if (!has('--state')) c.addOption(new Option('--state <file>').hideHelp());
    if (!has('--host')) c.addOption(new Option('--host <name>').hideHelp());
    if (!has('--json')) c.addOption(new Option('--json').hideHelp());
    if (!has('--no-color')) c.addOption(new Option('--no-color').hideHelp());
  }
  program.hook('preAction', (_program, action) => {
    for (const key of GLOBALS) if (action.getOptionValueSource(key) === 'cli') program.setOptionValue(key, action.getOptionValue(key));
  });
}

/** run, shell and shims (issue 5: replaying scripts and typing commands) */
function registerScriptCommands(program: Command, context: () => CliContext, run: (p: Promise<number>) => void): void {
  program
    .command('run')
    .description('replay a shell script of iptables, iptables-restore, sysctl and ip commands into the lab (FILE, or - for standard input)')
    .argument('<file>', 'the script')
    .argument('[args...]', 'its positional parameters ($1, $2, ...)')
    .option('--shell', 'run it with the real bash, the emulated tools first (one process per command)')
    .option('-k, --keep-going', 'report every failing line instead of stopping at the first')
    .option('-n, --dry-run', 'parse the script and its iptables lines; change nothing')
    .option('--host <name>', 'the lab host the script acts on (a `# iptables-sim: host NAME` line switches it)')
    .action((file: string, args: string[], opts: { shell?: boolean; keepGoing?: boolean; dryRun?: boolean; host?: string }) =>
      run(import('./commands/run.js').then((m) => m.runCommand(context(), file, args, opts))),
    );
  program
    .command('shell')
    .description('an interactive prompt on a host of the lab (router# ): the lines `run` takes, with history, completion, `host NAME` and `trace`')
    .action(() => run(import('./commands/shell.js').then((m) => m.shellCommand(context()))));
  program
    .command('shims')
    .description('write iptables, iptables-save, iptables-restore, sysctl, ip and conntrack shims (and env.bash) into DIR, to put the emulator first on PATH')
    .argument('<dir>')
    .action((dir: string) => run(import('./commands/shims.js').then((m) => m.shimsCommand(context(), dir))));
  // tools people type that the emulator does not run (iptables-legacy, nft, ebtables, ...): refused
  // with the reason `run` gives for them in a script, rather than as an unknown command
  for (const [name, why] of Object.entries(REFUSED)) {
    if (name === 'iptables-sim') continue;
    program
      .command(name, { hidden: true })
      .argument('[args...]')
      .helpOption(false)
      .allowUnknownOption()
      .passThroughOptions()
      .action(() => run(Promise.reject(new SimError(`${name}: ${why}`, 1))));
  }
}

/** Runs the CLI on `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], io: Io = processIo(), opts: { session?: LabSession } = {}): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram(io, (p) => (pending = p), opts.session);
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (!pending) {
      program.outputHelp();
      return 1;
    }
    return await pending;
  } catch (e) {
    return reportError(e, io);
  }
}
