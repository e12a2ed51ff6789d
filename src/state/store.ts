/**
 * The lab file: where it lives, reading it, and changing it safely. A change is a
 * read-modify-write under an exclusive lock (so concurrent invocations serialize, like iptables'
 * xtables lock; see ./lock.ts), written to a temporary file, flushed, and renamed over the old one
 * (so a crash at any moment leaves the old or the new lab, never half of one); or, for a big lab
 * still as it was read, appended to it as a record that a new header, its last line, completes (a
 * crash leaves part of a record, which readers pass over: the old lab). A file that cannot be
 * understood is refused with what is wrong and where, and is never overwritten.
 *
 * The file's first line starts with a checksum of itself, and each chain's rules carry their own
 * (./lab-file.ts). A lab that was changed by hand (or by something else) is checked in full before
 * any command uses it: every field, and every rule's extension data run through the extension
 * code that will read it (./validate.ts). A big file that its writer had checked line by line
 * carries a stamp next to it (`<lab>.checked`, see stampPath()).
 */
import { accessSync, closeSync, constants, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, writevSync, type BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SimError } from '../errors.js';
import { builtinLab } from '../net/builtin-lab.js';
import { LAB_FORMAT, LAB_VERSION, type Lab } from '../net/lab.js';
import { acquireLock } from './lock.js';
import { decodeLab, encodeLab, encodeLabFile, LabFileError, type LabSource } from './lab-file.js';
import { describeProblems, renderProblems, structureProblems } from './validate.js';

export { defaultStatePath } from './paths.js';

const FIX = 'move it away or run `iptables-sim lab reset` to start again from the built-in lab';
/** (lab reset does not replace a file that is no lab: replaceLab()) */
const NOT_LAB_FIX = 'move it away or name another file with --state';

const isDirectory = (path: string): SimError => new SimError(`${path} is a directory, not a lab file; give --state a file name`);

function damaged(path: string, what: string): SimError {
  return new SimError(`${path}: the lab file is damaged (${what}); ${FIX}`);
}

/**
 * Checks that parsed JSON is a lab this version understands, down to every field the code reads.
 * `trusted`: the checksums say iptables-sim wrote it, so only the format and version are checked.
 */
export function validateLab(data: unknown, path: string, trusted = false): Lab {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || (data as Lab).format !== LAB_FORMAT) {
    throw new SimError(`${path} is not an iptables-sim lab file; ${NOT_LAB_FIX}`);
  }
  const lab = data as Lab & { checksum?: unknown };
  delete lab.checksum;
  if (typeof lab.version !== 'number' || !Number.isInteger(lab.version) || lab.version < 1) {
    throw damaged(path, `version is ${JSON.stringify(lab.version) ?? 'missing'}, expected a format version number`);
  }
  if (lab.version > LAB_VERSION) {
    throw new SimError(`${path} was written by a newer iptables-sim (lab format ${lab.version}, this one reads ${LAB_VERSION}); upgrade iptables-sim or ${FIX}`);
  }
  if (trusted) return lab;
  let p = structureProblems(lab as unknown as Record<string, unknown>);
  if (!p.list.length) p = renderProblems(lab);
  if (p.list.length) throw damaged(path, describeProblems(p));
  return lab;
}

/** the lab file as it was read: a change may be appended to it only while it is still that file, unchanged */
interface FileOrigin {
  path: string;
  stat: BigIntStats;
}

/** what tells a file on disk from the file as it was (an append or a rename over it changes one of them) */
const STAT_FIELDS = ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const;

const sameStat = (a: BigIntStats, b: BigIntStats): boolean => STAT_FIELDS.every((k) => a[k] === b[k]);

/**
 * The stamp of a big lab file: `<lab>.checked`, written next to it by a command that changed it
 * when every line of the file it wrote was encoded then or had been checked against the header's
 * checksums (lab-file.ts, LabBytes.checked). It holds the file's device, inode, size, mtime and
 * ctime as they were right after the write. A reader that finds them unchanged believes the lines
 * without reading them all again (the check of a kube-proxy lab's 40,000 chains, about 70 ms, that
 * a rule that jumps needs before the jump graph kept in the file is believed). Anything that
 * changes the file changes its ctime, which nothing can set back, so an edit by hand, a copy or a
 * restore from a backup makes the stamp stale, and a stale stamp is only not believed. As git's
 * index does, a file changed in the same tick of the clock as the stamp was written is not
 * believed either (a file system with coarse timestamps could not tell such a change apart).
 */
const stampPath = (path: string): string => `${path}.checked`;

function stampChecked(path: string, checked: boolean): void {
  const stamp = stampPath(path);
  try {
    if (!checked) {
      unlinkSync(stamp);
      return;
    }
    const st = statSync(path, { bigint: true });
    writeFileSync(stamp, JSON.stringify(Object.fromEntries(STAT_FIELDS.map((k) => [k, String(st[k])]))) + '\n');
  } catch {
    /* no stamp (or a stale one): the next command checks the lines itself */
  }
}

/** for tests: whether the stamp next to the lab file at `path` is believed */
export function stampBelieved(path: string): boolean {
  return stampHolds(path, statSync(path, { bigint: true }));
}

/** the lab file `st` is as a stamp says its writer left it, every line checked */
function stampHolds(path: string, st: BigIntStats): boolean {
  try {
    const fd = openSync(stampPath(path), 'r');
    try {
      const own = fstatSync(fd, { bigint: true });
      const buf = Buffer.alloc(512);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const v = JSON.parse(buf.toString('utf8', 0, n)) as Record<string, unknown>;
      return STAT_FIELDS.every((k) => v[k] === String(st[k])) && own.mtimeNs > st.ctimeNs;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Parses the bytes of a lab file; `path` names it in errors. `from`: the file on disk they were
 * read from, and for a big one how to read the bytes not read yet (./lab-file.ts).
 */
export function parseLabText(text: string | Buffer, path: string, from: LabSource = {}): Lab {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  let lab: Lab | undefined;
  let decoded: ReturnType<typeof decodeLab>;
  try {
    // rules changed by hand, found when their chain is first read: the whole lab is checked then
    decoded = decodeLab(
      buf,
      () => {
        if (lab) checkAll(lab, decoded, path);
      },
      from,
    );
  } catch (e) {
    from.need?.(0, buf.length);
    const empty = buf.toString('utf8').trim() === '';
    if (!empty && !namesLabFormat(buf)) throw new SimError(`${path} is not an iptables-sim lab file; ${NOT_LAB_FIX}`);
    const why = empty ? 'the file is empty' : `not valid JSON: ${(e as Error).message}`;
    throw new SimError(`${path} cannot be read as a lab (${why}; truncated or hand-edited?); ${FIX}`);
  }
  try {
    if (!decoded.trusted) decoded.decodeAll();
    lab = validateLab(decoded.data, path, decoded.trusted);
  } catch (e) {
    throw e instanceof LabFileError ? damaged(path, e.message) : e;
  }
  return lab;
}

function checkAll(lab: Lab, decoded: ReturnType<typeof decodeLab>, path: string): void {
  try {
    decoded.decodeAll();
  } catch (e) {
    throw e instanceof LabFileError ? damaged(path, e.message) : e;
  }
  validateLab(lab, path, false);
}

/** The file's text for a lab (./lab-file.ts). */
export function labText(lab: Lab): string {
  return encodeLab(lab).toString('utf8');
}

/** a file this big or bigger is read in parts, as they are needed ... */
let readInPartsFrom = 1 << 20;
/** ... of this many bytes */
const PART = 1 << 16;

/** for tests: files of `bytes` or more are read in parts */
export function setReadInParts(bytes: number): void {
  readInPartsFrom = bytes;
}

/** a lab file read in parts: open while parts are left to read */
interface PartFile {
  fd: number | undefined;
  readonly path: string;
  readonly stat: BigIntStats;
}

/**
 * The files of labs read in parts that are open, oldest first. A process that reads many labs (the
 * shell reads one for each command) keeps the newest few open; an older one is opened again if its
 * lab asks for more of it, and must then still be that file (a change appends to it, a whole write
 * renames another over it).
 */
const openParts: PartFile[] = [];
const MAX_OPEN_PARTS = 8;

function closePart(f: PartFile): void {
  if (f.fd === undefined) return;
  closeSync(f.fd);
  f.fd = undefined;
  const i = openParts.indexOf(f);
  if (i >= 0) openParts.splice(i, 1);
}

function openPart(f: PartFile, fd: number): number {
  f.fd = fd;
  openParts.push(f);
  while (openParts.length > MAX_OPEN_PARTS) closePart(openParts[0]!);
  return fd;
}

function reopenPart(f: PartFile): number {
  const fd = openSync(f.path, 'r');
  const now = fstatSync(fd, { bigint: true });
  if (now.dev !== f.stat.dev || now.ino !== f.stat.ino || now.size < f.stat.size) {
    closeSync(fd);
    throw new SimError(`${f.path} was replaced while iptables-sim was reading it; run the command again`);
  }
  return openPart(f, fd);
}

/** closes the file of a lab read in parts that nobody reads any more */
const unread = new FinalizationRegistry<PartFile>(closePart);

/**
 * A buffer as long as the file, read PART bytes at a time as they are needed (the memory of the
 * parts not read is not touched). The file stays open until all of it is read (or newer ones push
 * it out, see openParts): a writer replaces it by renaming another over it, or appends to it, so
 * the bytes read later are of the same file.
 */
function readInParts(path: string, fd: number, stat: BigIntStats): { buf: Buffer; need: (at: number, end: number) => void } {
  const size = Number(stat.size);
  const buf = Buffer.allocUnsafeSlow(size);
  const done = new Uint8Array(Math.ceil(size / PART));
  let left = done.length;
  const file: PartFile = { fd: undefined, path, stat };
  openPart(file, fd);
  unread.register(buf, file);
  const need = (at: number, end: number): void => {
    if (!left) return;
    const last = Math.ceil(Math.min(end, size) / PART);
    for (let p = Math.floor(Math.max(at, 0) / PART); p < last; p++) {
      if (done[p]) continue;
      let q = p;
      while (q < last && !done[q]) q++;
      const to = Math.min(size, q * PART);
      const from = file.fd ?? reopenPart(file);
      for (let n = p * PART; n < to; ) {
        const got = readSync(from, buf, n, to - n, n);
        if (got <= 0) throw new SimError(`${path} got shorter while it was being read; run the command again`);
        n += got;
      }
      done.fill(1, p, q);
      left -= q - p;
      p = q;
    }
    if (!left) closePart(file);
  };
  return { buf, need };
}

/** Reads the lab; a missing file is the built-in lab. */
export function readLab(path: string): Lab {
  let text: Buffer;
  let stat: BigIntStats;
  let fd: number | undefined;
  let need: ((at: number, end: number) => void) | undefined;
  let checked = false;
  try {
    fd = openSync(path, 'r');
    stat = fstatSync(fd, { bigint: true });
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const size = Number(stat.size);
    if (size >= readInPartsFrom) {
      checked = stampHolds(path, stat);
      ({ buf: text, need } = readInParts(path, fd, stat));
      fd = undefined;
    } else {
      text = Buffer.allocUnsafe(size);
      let n = 0;
      for (let got = 1; n < text.length && got > 0; n += got) got = readSync(fd, text, n, text.length - n, n);
      // shorter than it was a moment ago: what there is (the checks say what is wrong with it)
      if (n < text.length) text = text.subarray(0, n);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return builtinLab();
    if (err.code === 'EISDIR') throw isDirectory(path);
    throw new SimError(`cannot read ${path}: ${err.message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseLabText(text, path, { origin: { path, stat }, need, checked });
}

/** the lab's directory, made if missing; a path that cannot hold one is the user's to fix */
function ensureDir(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new SimError(`cannot use ${path} as the lab file: ${(e as Error).message}`, 4);
  }
}

/** temporary files of writers that died before their rename: `<lab>.<pid>.<random>.tmp` */
function removeLeftovers(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = n.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(n.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    try {
      unlinkSync(join(dir, n));
    } catch {
      /* gone meanwhile */
    }
  }
}

/**
 * Writes atomically: the whole file (replaceFile()), or a record appended to the big file the lab
 * was read from while it is still that file (appendToLab()); then, for a big file, its stamp.
 * Readers never lock: they see the old lab or the new one.
 */
export function writeLabAtomic(path: string, lab: Lab): void {
  // in pieces, most of them the file read: written without joining them first
  const { parts, appendAt, checked } = encodeLabFile(lab, (o) => {
    const origin = o as FileOrigin;
    try {
      // (a file we may not write to is replaced by renaming, as before: the directory decides)
      if (origin.path !== path || !sameStat(origin.stat, statSync(path, { bigint: true }))) return false;
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
  // (counted before the writes, which may cut pieces short)
  let size = appendAt ?? 0;
  for (const b of parts) size += b.length;
  if (appendAt !== undefined) appendToLab(path, parts, appendAt);
  else replaceFile(path, parts);
  if (size >= readInPartsFrom) stampChecked(path, checked);
}

/**
 * The whole file: a temp file in the same directory, fsync, rename, fsync of the directory (the
 * rename itself survives a power cut).
 */
function replaceFile(path: string, parts: Buffer[]): void {
  ensureDir(path);
  const tmp = `${path}.${process.pid}.${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0')}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw new SimError(`cannot write ${path}: ${(e as Error).message}`, 4);
  }
  try {
    writeAll(fd, parts);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw new SimError(`cannot write ${path}: ${(e as Error).message}`, 4);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw new SimError(`cannot write ${path}: ${(e as Error).message}`, 4);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directories cannot be fsynced everywhere; the rename is still atomic */
  }
  removeLeftovers(path);
}

/**
 * Appends a record to the lab file read (./lab-file.ts, version 4): the lines that changed and a
 * header that ends the file. A crash in the middle leaves a file that ends with part of a record,
 * which readers pass over (the last whole record is the lab) and the next change writes away.
 */
function appendToLab(path: string, parts: Buffer[], at: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    throw new SimError(`cannot write ${path}: ${(e as Error).message}`, 4);
  }
  try {
    writeAll(fd, parts, at);
    fdatasyncSync(fd);
  } catch (e) {
    try {
      ftruncateSync(fd, at);
    } catch {
      /* the part written ends with no header: readers pass over it */
    }
    throw new SimError(`cannot write ${path}: ${(e as Error).message}`, 4);
  } finally {
    closeSync(fd);
  }
}

/** writev(2) until every byte is written (it may write less than asked), at `position` if given */
function writeAll(fd: number, parts: Buffer[], position?: number): void {
  let i = 0;
  while (i < parts.length) {
    // IOV_MAX is 1024 on Linux
    const batch = parts.slice(i, i + 1024);
    let n = position === undefined ? writevSync(fd, batch) : writevSync(fd, batch, position);
    if (position !== undefined) position += n;
    for (const b of batch) {
      if (n >= b.length) {
        n -= b.length;
        i++;
        continue;
      }
      // a short write: the rest of this piece, and the pieces after it, on the next round
      parts[i] = b.subarray(n);
      break;
    }
  }
}

export interface LockOptions {
  /** seconds to wait for the lock; undefined = wait as long as its holder is alive */
  waitSeconds?: number;
}

/**
 * Runs `fn` while holding the lab's exclusive lock. The lock is a file next to the lab file
 * (`<lab>.lock`); a holder that dies frees it for the next writer at once.
 */
export async function withLock<T>(path: string, opts: LockOptions, fn: () => T | Promise<T>): Promise<T> {
  ensureDir(path);
  const lock = await acquireLock(`${path}.lock`, { waitSeconds: opts.waitSeconds, what: `the lab ${path}` });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Read-modify-write under the lock; the lab is written back only when `fn` says so. */
export async function updateLab<T>(path: string, fn: (lab: Lab) => { save: boolean; value: T }, opts: LockOptions = {}): Promise<T> {
  ensureDir(path);
  // (all synchronous from here to the release: a heartbeat could not beat)
  const lock = await acquireLock(`${path}.lock`, { waitSeconds: opts.waitSeconds, what: `the lab ${path}`, heartbeat: false });
  try {
    const lab = readLab(path);
    const { save, value } = fn(lab);
    if (save) {
      // a lock broken while we worked (only possible for an owner another host could not check)
      if (!lock.held()) throw new SimError(`lost the lock on ${path} while working; nothing was written, run the command again`, 4);
      writeLabAtomic(path, lab);
    }
    return value;
  } finally {
    lock.release();
  }
}

/** Replaces the lab without reading the old file (which may be broken). */
/**
 * `lab reset` and `lab init`: the lab file replaced, damaged or not, but never a file that is no
 * lab at all (a --state that names someone's rules or notes by mistake): it is refused as every
 * other command refuses it. A lab file says what it is in its first line (LAB_FORMAT), which a
 * damaged one still has unless the damage is there.
 */
export function replaceLab(path: string, lab: Lab, action: string): Promise<void> {
  return withLock(path, {}, () => {
    if (!looksLikeLab(path)) throw new SimError(`${path} is not an iptables-sim lab file; \`lab ${action}' does not overwrite it: ${NOT_LAB_FIX}`);
    writeLabAtomic(path, lab);
  });
}

/** `"format": "iptables-sim-lab"`, with the spaces a reformatted file may have */
const FORMAT_MARK = new RegExp(`"format"\\s*:\\s*${JSON.stringify(LAB_FORMAT)}`);
const MARK_WITHIN = 4096;

/** whether the first bytes of a file name the lab format (a lab file's first line does) */
const namesLabFormat = (head: Buffer): boolean => FORMAT_MARK.test(head.toString('latin1', 0, Math.min(head.length, MARK_WITHIN)));

/** no file, an empty one, or one that names the lab format */
function looksLikeLab(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
  try {
    const buf = Buffer.alloc(MARK_WITHIN);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n === 0 || namesLabFormat(buf.subarray(0, n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw isDirectory(path);
    throw e;
  } finally {
    closeSync(fd);
  }
}

export function labExists(path: string): boolean {
  return existsSync(path);
}
