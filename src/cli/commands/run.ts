/**
 * `run FILE [ARGS...]` (FILE `-`: standard input): replays a script into the lab.
 *
 * In-process (the default): the script is read by the shell grammar of src/script, every line
 * runs through the CLI's own entry point, and the lab is loaded once, under its lock, and written
 * once at the end, atomically. A line that fails stops the replay (as `set -e` would): the lab
 * keeps what the lines before it did, as a machine keeps the rules a script got through before
 * dying; the failing line itself changed nothing; iptables-restore's tables committed before its
 * error stay. A crash or a kill before the end leaves the lab file as it was.
 *
 * --shell: the real bash runs the script, with the emulated tools reached first (shims.ts); each
 * emulated command is handed back to this process, which holds the lab in memory under its lock
 * as the in-process replay does and writes it once at the end. When it can, bash runs in a network namespace of
 * its own (root: unshare --net; otherwise an unprivileged user namespace), so nothing a script
 * does outside the emulated tools can reach this machine's firewall, routes or sysctls; that
 * namespace gets stand-ins for the host's interfaces so /proc/sys/net/ipv4/conf/DEV exists.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SimError } from '../../errors.js';
import { Replay, scopeOf } from '../../script/interpreter.js';
import { MemorySession } from '../../script/session.js';
import { EMULATED } from '../../script/tools.js';
import { runTool } from '../dispatch.js';
import { readLab, withLock, writeLabAtomic } from '../../state/store.js';
import type { CliContext } from '../context.js';
import { strerror, type Io } from '../io.js';
import { writeShims, type ShimOptions } from './shims.js';
import { findHost, noHostMessage } from '../../net/lab.js';

export interface RunOptions {
  shell?: boolean;
  keepGoing?: boolean;
  dryRun?: boolean;
  host?: string;
}

async function readScript(ctx: CliContext, file: string): Promise<string> {
  if (file === '-') return ctx.io.readStdin();
  try {
    return readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (e) {
    throw new SimError(`${file}: ${strerror(e)}`, 127);
  }
}

export async function runCommand(ctx: CliContext, file: string, args: string[], opts: RunOptions): Promise<number> {
  const host = opts.host ?? ctx.host;
  const src = await readScript(ctx, file);
  const name = file === '-' ? '-' : file;
  if (opts.shell) {
    if (opts.dryRun || opts.keepGoing) throw new SimError('--dry-run and --keep-going apply to the in-process replay, not to --shell (bash decides what a failure does)', 2);
    return runShell(ctx, src, name, args, host);
  }
  if (opts.dryRun) {
    const session = new MemorySession(readLab(ctx.statePath));
    const replay = new Replay({ io: ctx.io, statePath: ctx.statePath, host, session, dryRun: true, args });
    return replay.runScript(src, name);
  }
  return withLock(ctx.statePath, {}, async () => {
    const session = new MemorySession(readLab(ctx.statePath));
    const replay = new Replay({ io: ctx.io, statePath: ctx.statePath, host, session, keepGoing: opts.keepGoing, args });
    const status = await replay.runScript(src, name);
    if (session.dirty && !replay.aborted) writeLabAtomic(ctx.statePath, session.lab);
    return status;
  });
}

/** how bash can be given a network namespace of its own here, if at all */
function isolation(): string[] | undefined {
  const probe = (argv: string[]): boolean => spawnSync(argv[0]!, [...argv.slice(1), 'true'], { stdio: 'ignore' }).status === 0;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && probe(['unshare', '--net', '--'])) return ['unshare', '--net', '--'];
  if (!root && probe(['unshare', '--user', '--map-root-user', '--net', '--'])) return ['unshare', '--user', '--map-root-user', '--net', '--'];
  return undefined;
}

export interface ShellRunOptions extends ShimOptions {
  /** run bash without a network namespace of its own even when one is available */
  noIsolation?: boolean;
}

export interface ShellResult {
  status: number;
  /** commands that failed where `set -e` would have stopped: bash's $LINENO and status */
  failures: { line: number; status: number }[];
}

/**
 * The replaying process's end of the FIFO: each request names files holding a command's
 * arguments (tool, working directory, host, arguments; NUL-separated) and standard input; the
 * command runs in-process on the session's lab, its output and status go to files next to the
 * request, and a byte on the FIFO of the shell that asked (one per $BASHPID, so pipeline stages
 * in subshells never share one) wakes it. This side never waits for bash.
 */
function serve(dir: string, ctx: CliContext, session: MemorySession): { close(): Promise<void> } {
  const req = join(dir, 'req');
  if (spawnSync('mkfifo', [req]).status !== 0) throw new SimError(`cannot create the request FIFO ${req} (mkfifo)`, 1);
  // O_RDWR: the FIFO never reports end-of-file while bash's writers come and go
  const fd = openSync(req, constants.O_RDWR | constants.O_NONBLOCK);
  let chain = Promise.resolve();
  let buf = '';
  const stream = new Socket({ fd, readable: true, writable: false });
  /** the status goes to a file (complete before it appears), then a wake-up on the caller's FIFO */
  const answer = (f: string, status: number): void => {
    writeFileSync(`${f}.st.tmp`, `${status}\n`);
    renameSync(`${f}.st.tmp`, `${f}.st`);
    const m = /\/q(\d+)\.\d+$/.exec(f);
    if (!m) return;
    try {
      const w = openSync(join(dir, `r${m[1]}`), constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(w, '\n');
      } finally {
        closeSync(w);
      }
    } catch {
      // ENXIO: the caller is not waiting on its FIFO yet; it finds the status file before it does
    }
  };
  const handle = async (f: string): Promise<void> => {
    let out = '';
    let err = '';
    let status = 126;
    try {
      const [tool, cwd, host, ...args] = readFileSync(`${f}.args`, 'utf8').split('\0').slice(0, -1);
      let stdin = '';
      try {
        stdin = readFileSync(`${f}.in`, 'latin1');
      } catch {
        /* no standard input for this command */
      }
      const io: Io = {
        out: (t) => (out += t),
        err: (t) => (err += t),
        readStdin: async () => stdin,
        env: ctx.io.env,
        cwd: cwd || ctx.io.cwd,
        isTTY: false,
        now: () => ctx.io.now(),
      };
      // (an alias such as iptables-nft-save has its tool's scope)
      session.prepare(host || undefined, scopeOf(EMULATED[tool!] ?? tool!, args));
      status = await runTool(tool!, args, io, { statePath: ctx.statePath, host: host || undefined, session });
    } catch (e) {
      err += `iptables-sim: ${(e as Error).message}\n`;
    }
    writeFileSync(`${f}.out`, out);
    writeFileSync(`${f}.err`, err);
    answer(f, status);
  };
  stream.on('data', (chunk: string | Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const f = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (f) chain = chain.then(() => handle(f));
    }
  });
  return {
    close: async () => {
      await chain;
      stream.destroy();
    },
  };
}

/** `run --shell`: prints bash's output as it comes, then the lines whose command failed */
export async function runShell(ctx: CliContext, src: string, name: string, args: string[], host: string | undefined, so: ShellRunOptions = {}): Promise<number> {
  const r = await runShellScript(ctx, src, name, args, host, so);
  if (r.failures.length) {
    ctx.io.err(`${name}: commands failed where set -e would have stopped: ${r.failures.map((f) => `line ${f.line} (status ${f.status})`).join(', ')}\n`);
  }
  return r.status;
}

export async function runShellScript(ctx: CliContext, src: string, name: string, args: string[], host: string | undefined, so: ShellRunOptions = {}): Promise<ShellResult> {
  const { io } = ctx;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const iso = so.noIsolation ? undefined : isolation();
  if (root && !iso && !so.noIsolation) {
    throw new SimError("run --shell as root needs a network namespace of its own (unshare --net) so the script cannot reach this machine's real firewall; unshare failed here", 1);
  }
  return withLock(ctx.statePath, {}, async () => {
    const session = new MemorySession(readLab(ctx.statePath));
    const lab = session.lab;
    const hostName = host ?? lab.defaultHost;
    if (!findHost(lab, hostName)) throw new SimError(noHostMessage(lab, hostName), 2);
    const dir = mkdtempSync(join(tmpdir(), 'iptables-sim-shell-'));
    const server = serve(dir, ctx, session);
    try {
      const shims = join(dir, 'shims');
      writeShims(shims, so);
      let scriptPath = name;
      if (name === '-') {
        scriptPath = join(dir, 'stdin.sh');
        writeFileSync(scriptPath, src);
      }
      const failuresFile = join(dir, 'failures');
      const env: NodeJS.ProcessEnv = {
        ...io.env,
        PATH: `${shims}:${io.env.PATH ?? '/usr/bin:/bin'}`,
        BASH_ENV: join(shims, 'env.bash'),
        IPTABLES_SIM_STATE: resolve(io.cwd, ctx.statePath),
        IPTABLES_SIM_HOST: hostName,
        IPTABLES_SIM_SERVER: dir,
        IPTABLES_SIM_FAILURES: failuresFile,
      };
      let argv: string[];
      if (iso) {
        // stand-ins for the host's interfaces, so the namespace's /proc/sys/net/ipv4/conf/DEV exist
        const devs = lab.hosts[hostName]!.interfaces.map((i) => i.name).filter((n) => n !== 'lo');
        const real = 'PATH=/usr/sbin:/sbin:/usr/bin:/bin';
        const prologue = [`${real} ip link set lo up 2>/dev/null`, ...devs.map((d, k) => `${real} ip link add ${shq(d)} type veth peer name iptsim${k} 2>/dev/null`), 'exec bash "$@"'].join('; ');
        argv = [...iso, '/bin/sh', '-c', prologue, 'sh', scriptPath, ...args];
      } else argv = ['bash', scriptPath, ...args];
      const status = await new Promise<number>((res, rej) => {
        const child = spawn(argv[0]!, argv.slice(1), { cwd: io.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (d: Buffer) => io.out(d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => io.err(d.toString('utf8')));
        child.on('error', (e) => rej(new SimError(`cannot start bash: ${e.message}`, 127)));
        child.on('close', (code, signal) => res(code ?? (signal ? 128 + 15 : 1)));
      });
      await server.close();
      if (session.dirty) writeLabAtomic(ctx.statePath, session.lab);
      let failures: ShellResult['failures'] = [];
      try {
        failures = readFileSync(failuresFile, 'utf8')
          .split('\n')
          .filter((l) => l)
          .map((l) => {
            const [line, st] = l.split(' ');
            return { line: Number(line), status: Number(st) };
          });
      } catch {
        /* nothing failed */
      }
      return { status, failures };
    } finally {
      await server.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function shq(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
