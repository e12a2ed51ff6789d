/**
 * Temporary directories for a test file, removed when the file's tests are done (a suite run
 * makes thousands of labs; left behind, they slow every later readdir of the temp directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// (a fuzzing file removes thousands of directories: on a loaded machine that can take longer than
// vitest's 10-second hook timeout, which is no failure of the code under test)
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}, 300_000);

/** a fresh directory under the system's temp directory, named `PREFIX<random>` */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
