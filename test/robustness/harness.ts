/**
 * Running the CLI as separate processes for the robustness tests: a private build of the bundle
 * (so the tests never race `npm run build` of the work tree), the real launcher next to it, and a
 * long-lived child that runs one command line at a time for the fuzz tests, so that an input
 * that never finishes is caught by a deadline and reported instead of hanging the suite.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';

import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const ROOT = resolve(__dirname, '..', '..');

export interface Built {
  dir: string;
  /** the launcher, bin/iptables-sim of the checkout, next to its private dist/ */
  bin: string;
  entry: string;
}

/** Bundles the CLI as `npm run build` does, into a temporary directory. */
export function buildCli(): Built {
  const dir = tempDir('iptsim-build-');
  execFileSync(process.execPath, [join(ROOT, 'src', 'tools', 'build.mjs')], {
    env: { ...process.env, IPTABLES_SIM_OUTDIR: join(dir, 'dist') },
    stdio: 'pipe',
  });
  // the build puts a copy of the launcher (bin/) next to a private dist/
  const bin = join(dir, 'bin', 'iptables-sim');
  return { dir, bin, entry: join(dir, 'dist', 'iptables-sim.cjs') };
}

export interface Outcome {
  rc: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const CHILD = `
const { main } = await import(process.argv[2]);
process.on('message', async (m) => {
  let out = '', err = '';
  const io = {
    out: (t) => { out += t; }, err: (t) => { err += t; },
    readStdin: async () => m.stdin ?? '',
    env: { IPTABLES_SIM_STATE: m.state }, cwd: m.cwd, isTTY: false, now: () => new Date(0),
  };
  const t0 = performance.now();
  let rc;
  try { rc = await main(m.argv, io); } catch (e) { rc = -1; err += 'HARNESS: main() threw: ' + (e && e.stack || e); }
  process.send({ id: m.id, rc, stdout: out, stderr: err, ms: performance.now() - t0 });
});
process.send({ ready: true });
`;

/**
 * One child process that runs command lines through the bundle's main(); each gets `deadlineMs`,
 * after which the child is killed, restarted, and the input reported as a hang.
 */
export class CliRunner {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private seq = 0;
  private pending = new Map<number, { resolve: (o: Outcome) => void; reject: (e: Error) => void }>();
  private readonly script: string;

  constructor(
    private readonly built: Built,
    private readonly deadlineMs = 10000,
  ) {
    this.script = join(built.dir, 'fuzz-child.mjs');
    if (!existsSync(this.script)) writeFileSync(this.script, CHILD);
  }

  private start(): Promise<void> {
    const child = fork(this.script, [pathToFileURL(this.built.entry).href], {
      env: { ...process.env, IPTABLES_SIM_NO_AUTORUN: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    this.child = child;
    this.ready = new Promise((res, rej) => {
      child.on('message', (m: { ready?: boolean; id?: number } & Outcome) => {
        if (m.ready) return res();
        const p = this.pending.get(m.id!);
        this.pending.delete(m.id!);
        p?.resolve({ rc: m.rc, stdout: m.stdout, stderr: m.stderr, ms: m.ms });
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const e = new Error(`the CLI process died (exit ${code}, signal ${signal}): ${stderr.slice(-2000)}`);
        rej(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
    });
    return this.ready;
  }

  async run(argv: string[], opts: { stdin?: string; state: string; cwd: string }): Promise<Outcome> {
    if (!this.child) await this.start();
    await this.ready;
    const id = ++this.seq;
    const child = this.child!;
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        child.kill('SIGKILL');
        reject(new Error(`no answer within ${this.deadlineMs} ms (a hang?): ${JSON.stringify(argv).slice(0, 500)}`));
      }, this.deadlineMs);
      this.pending.set(id, {
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ id, argv, stdin: opts.stdin, state: opts.state, cwd: opts.cwd });
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

/** What every input must give: a result with an exit status, never the catch-all or a stack. */
export function problemsOf(o: Outcome, allowed: readonly number[]): string[] {
  const p: string[] = [];
  if (o.rc === 70 || /internal error/.test(o.stderr)) p.push('internal error (exit 70)');
  if (o.rc === -1) p.push('main() threw');
  if (!allowed.includes(o.rc)) p.push(`exit status ${o.rc} (allowed: ${allowed.join(', ')})`);
  if (/\n\s+at .+:\d+:\d+\)?\n/.test(o.stderr)) p.push('a stack trace on stderr');
  if (o.rc !== 0 && o.stderr.trim() === '') p.push('failed without saying why');
  return p;
}

export function fileBytes(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

export function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}
