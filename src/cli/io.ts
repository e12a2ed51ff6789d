import { fstatSync, writeSync } from 'node:fs';

/** strerror() of a failed file operation, as the C tools print it */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EISDIR') return 'Is a directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'ENOTDIR') return 'Not a directory';
  return (e as Error).message;
}

/**
 * Where a command's output goes and where its input comes from. The real process streams in
 * production; buffers in tests, so the whole CLI runs in-process against a temporary lab.
 */
export interface Io {
  out(text: string): void;
  /** bytes for standard output, written before it returns (`out` of their UTF-8 text when absent) */
  outBytes?(bytes: Uint8Array): void;
  err(text: string): void;
  /** all of standard input */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal (colour allowed unless NO_COLOR / --no-color) */
  isTTY: boolean;
  /** the time iptables-save stamps its output with */
  now(): Date;
  /**
   * a file the replaying script wrote (`run` keeps them in memory, not on disk), by path as the
   * command was given it; undefined: read the file system
   */
  scriptFile?(path: string): string | undefined;
}

/**
 * Writes all of `text` to fd 1 or 2 before returning. Going through process.stdout would create
 * its stream first (a socket or terminal stream: more start-up time than a small command takes),
 * and a command's output is complete before it exits anyway. A reader that went away (EPIPE, as
 * in `iptables-save | head`) gets nothing more.
 */
const closed = new Set<number>();
function writeAll(fd: number, text: string | Uint8Array): void {
  if (!text.length || closed.has(fd)) return;
  let buf = typeof text === 'string' ? Buffer.from(text) : text;
  while (buf.length) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // a non-blocking pipe that is full: wait a little for the reader
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      if (code === 'EPIPE') {
        closed.add(fd);
        return;
      }
      throw e;
    }
  }
}

/** a terminal on fd 1, found without creating process.stdout (see writeAll) */
function stdoutIsTerminal(): boolean {
  try {
    // pipes, files and sockets are never terminals; /dev/null is a character device too
    if (!fstatSync(1).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return !!process.stdout.isTTY;
}

export function processIo(): Io {
  let tty: boolean | undefined;
  return {
    out: (t) => writeAll(1, t),
    outBytes: (b) => writeAll(1, b),
    err: (t) => writeAll(2, t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    get isTTY() {
      return (tty ??= stdoutIsTerminal());
    },
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
