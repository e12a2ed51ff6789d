/**
 * Where a command's output goes and where its input comes from. The real process streams in
 * production; buffers in tests, so the whole CLI runs in-process against a temporary lab.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** all of standard input */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal (colour allowed unless NO_COLOR / --no-color) */
  isTTY: boolean;
  /** the time iptables-save stamps its output with */
  now(): Date;
}

export function processIo(): Io {
  return {
    // a write of nothing is still a write(2): restore and run produce many
    out: (t) => void (t && process.stdout.write(t)),
    err: (t) => void (t && process.stderr.write(t)),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    isTTY: !!process.stdout.isTTY,
    now: () => new Date(),
  };
}

/** An Io that records everything, for tests and for `run`. */
export class BufferIo implements Io {
  stdout = '';
  stderr = '';
  constructor(
    private readonly input = '',
    readonly env: NodeJS.ProcessEnv = {},
    readonly cwd = process.cwd(),
  ) {}
  isTTY = false;
  out(t: string): void {
    this.stdout += t;
  }
  err(t: string): void {
    this.stderr += t;
  }
  async readStdin(): Promise<string> {
    return this.input;
  }
  now(): Date {
    return new Date();
  }
}
