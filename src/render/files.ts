/**
 * Where a picture goes: `--diagram FILE` names an .svg or .html file (the extension picks the
 * format); it is written whole, relative to the working directory.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SimError } from '../errors.js';

export type PictureFormat = 'svg' | 'html';

export interface PictureRequest {
  file: string;
  format: PictureFormat;
}

/** Checks the file name and its folder before anything runs, so a bad name changes nothing. */
export function pictureRequest(command: string, file: string | undefined, cwd: string): PictureRequest | undefined {
  if (file === undefined) return undefined;
  const m = /\.(svg|html?)$/i.exec(file);
  if (!m) throw new SimError(`${command}: --diagram writes an .svg or .html file; \`${file}' is neither`, 2);
  const dir = dirname(resolve(cwd, file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new SimError(`${command}: cannot write ${file}: no such directory ${dir}`, 1);
  return { file, format: m[1]!.toLowerCase() === 'svg' ? 'svg' : 'html' };
}

export function writePicture(cwd: string, req: PictureRequest, content: string): void {
  const path = resolve(cwd, req.file);
  try {
    writeFileSync(path, content);
  } catch (e) {
    throw new SimError(`cannot write ${req.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, 1);
  }
}
