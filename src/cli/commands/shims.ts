/**
 * Drop-in shims: small executables named iptables, iptables-save, iptables-restore, their ip6tables
 * twins (and iptables-nft's names of all six), sysctl, ip, conntrack, ipset and nfacct that run the emulator (through the launcher's argv0 dispatch) on the lab named by
 * $IPTABLES_SIM_STATE and the host named by $IPTABLES_SIM_HOST, plus `env.bash`, a bash start-up
 * file (BASH_ENV) that makes a script reach them however it names them:
 *  - functions named after the tools and after their usual absolute paths (/sbin/iptables,
 *    /usr/local/sbin/iptables, ...: bash outside POSIX mode allows `/` in function names), so a
 *    script that puts /sbin first on PATH or calls `$IPTABLES` still reaches the emulator;
 *  - `which` that answers for those paths (generated firewall scripts check their tools with it);
 *  - modprobe, depmod, insmod, rmmod and logger accepted without effect, as `run` does;
 *  - a DEBUG trap that turns `echo V > /proc/sys/KEY` (any command whose output is redirected
 *    into /proc/sys) into a sysctl write on the lab and skips the real write, and answers
 *    `cat /proc/sys/KEY` from the lab. It is armed lazily
 *    (extdebug set from inside the trap: set in a start-up file, bash would try to load bashdb).
 * Under `run --shell` ($IPTABLES_SIM_SERVER set) the functions and shims do not start a process
 * per command: they hand the command to the replaying process through a FIFO (arguments, working
 * directory, host and, for iptables-restore and ip6tables-restore (and sysctl -p -), standard
 * input in files; the status back on a FIFO
 * of the calling shell), which runs it in-process on the lab it holds; `run --shell` also records
 * the lines whose command failed where `set -e` would have stopped ($IPTABLES_SIM_FAILURES).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { SimError } from '../../errors.js';
import { EMULATED, NOTED, REFUSED, TOOL_DIRS } from '../../script/tools.js';
import type { CliContext } from '../context.js';

/** the shims written as files: every name a tool the emulator runs is installed under (iptables-nft's too, which print their own names) */
export const SHIM_TOOLS = Object.keys(EMULATED);

/** the package's launcher (bin/iptables-sim), found from this module's location in src/ or dist/ */
export function defaultLauncher(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'bin', 'iptables-sim');
    if (existsSync(cand) && existsSync(join(dir, 'package.json'))) return cand;
    dir = dirname(dir);
  }
  throw new SimError('cannot find the iptables-sim launcher (bin/iptables-sim) next to this installation');
}

function shq(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

export interface ShimOptions {
  /** the executable the shims start (default: the package's bin/iptables-sim) */
  launcher?: string;
  /** the node binary (default: the one running now) */
  node?: string;
}

function envBash(dir: string): string {
  const lines: string[] = [
    '# iptables-sim: makes bash scripts reach the emulated tools (written by `iptables-sim shims`).',
    '# Use: export PATH=DIR:$PATH BASH_ENV=DIR/env.bash IPTABLES_SIM_STATE=LAB.json [IPTABLES_SIM_HOST=HOST]',
    `__iptsim_dir=${shq(dir)}`,
  ];
  const names = Object.keys(EMULATED);
  lines.push(
    '__iptsim_n=0',
    '# one emulated command: through the replaying process when there is one, else the shim',
    '__iptsim_call() {',
    '  local tool=$1; shift',
    '  if [ -z "${IPTABLES_SIM_SERVER:-}" ]; then "$__iptsim_dir/$tool" "$@"; return; fi',
    '  local f="$IPTABLES_SIM_SERVER/q$BASHPID.$((++__iptsim_n))" r="$IPTABLES_SIM_SERVER/r$BASHPID" st o e',
    '  [ -p "$r" ] || mkfifo "$r" || return 126',
    String.raw`  printf '%s\0' "$tool" "$PWD" "${'$'}{IPTABLES_SIM_HOST-}" "$@" > "$f.args" || return 126`,
    '  case "$tool" in *-restore) [ -t 0 ] || cat > "$f.in" ;; sysctl) case " $* " in *" - "*) cat > "$f.in" ;; esac ;; esac',
    String.raw`  printf '%s\n' "$f" > "$IPTABLES_SIM_SERVER/req" || return 126`,
    '  # the status arrives in a file; the FIFO only wakes us (opened read-write, so opening never',
    '  # blocks, and a wake-up that came too early costs at most one timeout, never a hang)',
    '  until [ -e "$f.st" ]; do IFS= read -r -t 0.2 _ <> "$r" || :; done',
    '  IFS= read -r st < "$f.st" || :',
    `  IFS= read -r -d '' o < "$f.out" || :; IFS= read -r -d '' e < "$f.err" || :`,
    `  printf '%s' "$o"; printf '%s' "$e" >&2`,
    '  return "${st:-126}"',
    '}',
  );
  for (const tool of names) {
    lines.push(`${tool}() { __iptsim_call ${tool} "$@"; }`);
    for (const d of TOOL_DIRS) lines.push(`${d}/${tool}() { __iptsim_call ${tool} "$@"; }`);
  }
  for (const n of ['modprobe', 'insmod', 'rmmod', 'depmod', 'logger']) {
    const why = NOTED[n]!;
    lines.push(`${n}() { : "accepted without effect: ${why}"; }`);
    for (const d of TOOL_DIRS) lines.push(`${d}/${n}() { ${n} "$@"; }`);
  }
  for (const [n, why] of Object.entries(REFUSED)) {
    if (n === 'iptables-sim' || n === 'route' || n === 'ifconfig' || n === 'tc' || n === 'brctl' || n === 'vconfig' || n === 'ifenslave') continue;
    lines.push(`${n}() { echo ${shq(`${n}: ${why}`)} >&2; return 1; }`);
    for (const d of TOOL_DIRS) lines.push(`${d}/${n}() { ${n} "$@"; }`);
  }
  // under run --shell the replaying process holds the lab's lock until bash ends: a nested
  // iptables-sim would wait for it forever
  lines.push(`if [ -n "\${IPTABLES_SIM_SERVER:-}" ]; then iptables-sim() { echo 'iptables-sim: not available inside run --shell (the replay holds the lab); use the emulated tools themselves' >&2; return 1; }; fi`);
  const known = [...names, 'modprobe', 'insmod', 'rmmod', 'depmod', 'logger'];
  lines.push(
    `__iptsim_tool() { case "\${1##*/}" in ${known.join('|')}) case "$1" in */*) case "\${1%/*}" in ${TOOL_DIRS.join('|')}) return 0;; esac; return 1;; esac; return 0;; esac; return 1; }`,
    'which() {',
    '  local a rc=0 opts=()',
    '  for a in "$@"; do',
    '    case "$a" in',
    '      -*) opts+=("$a") ;;',
    '      *) if ! __iptsim_tool "$a"; then command which "${opts[@]}" "$a" || rc=1; elif [[ $a == */* ]]; then echo "$a"; elif [ -e "$__iptsim_dir/$a" ]; then echo "$__iptsim_dir/$a"; else echo "/usr/sbin/$a"; fi ;;',
    '    esac',
    '  done',
    '  return $rc',
    '}',
    '# (returns 0 when it handled the command: `! __iptsim_proc` then makes the DEBUG trap fail,',
    '# which skips the command under extdebug; a trap made to fail by `!` does not stop `set -e`)',
    '__iptsim_proc() {',
    '  local c=$BASH_COMMAND',
    '  case "$c" in *"/proc/sys/"*) ;; *) return 1 ;; esac',
    '  shopt -q extdebug || shopt -s extdebug',
    '  # cat /proc/sys/KEY...: the values of the lab, read through the emulated sysctl',
    `  local catre='^cat( +/proc/sys/[^[:space:]"'"'"';&|<>()\`$]+)+$'`,
    '  if [[ $c =~ $catre ]]; then',
    '    local p k v out=""',
    '    for p in ${c#cat}; do',
    '      k=${p#/proc/sys/}; k=${k//\\//.}',
    '      v=$(__iptsim_call sysctl -n "$k" 2>/dev/null) || return 1',
    '      out+="$v"$\'\\n\'',
    '    done',
    `    printf '%s' "$out"; return 0`,
    '  fi',
    `  local re='^(.*[^[:space:]])[[:space:]]+(1?>>?)[[:space:]]*(/proc/sys/[^[:space:]"'"'"';&|<>()\`$]+)([[:space:]]+2>[[:space:]]*[^[:space:]]+)?$'`,
    '  [[ $c =~ $re ]] || return 1',
    '  local cmd=${BASH_REMATCH[1]} path=${BASH_REMATCH[3]} line=${BASH_LINENO[0]}',
    '  local value key err',
    '  value=$(eval "$cmd")',
    '  key=${path#/proc/sys/}; key=${key//\\//.}',
    '  err=$(__iptsim_call sysctl -q -w "$key=$value" 2>&1 >/dev/null)',
    '  case "$?:$err" in',
    '    # written to the lab, or a Linux parameter the lab does not model: the real write is skipped',
    '    0:*|*"does not model"*) return 0 ;;',
    "    # refused: the command runs for real, in bash's own network namespace, and fails as the kernel makes it",
    '    *) return 1 ;;',
    '  esac',
    '}',
    'set -T',
    "trap '! __iptsim_proc' DEBUG",
    '# run --shell: the lines of commands that failed where set -e would have stopped',
    `__iptsim_env=${shq(join(dir, 'env.bash'))}`,
    String.raw`if [ -n "${'$'}{IPTABLES_SIM_FAILURES:-}" ]; then set -E; trap '__iptsim_st=$?; if [ "${'$'}{BASH_SOURCE[0]}" != "$__iptsim_env" ]; then printf "%s %s\n" "$LINENO" "$__iptsim_st" >> "$IPTABLES_SIM_FAILURES"; fi' ERR; fi`,
  );
  return lines.join('\n') + '\n';
}

/** Writes the shims into `dir` (created if needed); returns the names written. */
export function writeShims(dir: string, o: ShimOptions = {}): string[] {
  const launcher = resolve(o.launcher ?? defaultLauncher());
  const node = o.node ?? process.execPath;
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const tool of SHIM_TOOLS) {
    const p = join(dir, tool);
    // the launcher dispatches on IPTABLES_SIM_ARGV0; node by absolute path survives a script's own PATH
    writeFileSync(
      p,
      `#!/bin/sh\n# iptables-sim shim: the emulated ${tool} on $IPTABLES_SIM_STATE, host $IPTABLES_SIM_HOST\n` +
        `if [ -n "$IPTABLES_SIM_SERVER" ]; then exec bash -c '. "$1"; shift; __iptsim_call ${tool} "$@"' ${tool} ${shq(join(resolve(dir), 'env.bash'))} "$@"; fi\n` +
        `IPTABLES_SIM_ARGV0=${tool} exec ${shq(node)} ${shq(launcher)} "$@"\n`,
    );
    chmodSync(p, 0o755);
    written.push(tool);
  }
  writeFileSync(join(dir, 'env.bash'), envBash(resolve(dir)));
  written.push('env.bash');
  return written;
}

export async function shimsCommand(ctx: CliContext, dir: string | undefined): Promise<number> {
  const { io } = ctx;
  if (!dir) throw new SimError('usage: iptables-sim shims DIR', 2);
  const abs = resolve(io.cwd, dir);
  const names = writeShims(abs);
  io.out(`wrote ${names.join(', ')} to ${abs}\n`);
  io.out(
    `Use them from a shell (the tools then act on the lab, never on this machine):\n` +
      `  export PATH=${abs}:$PATH IPTABLES_SIM_STATE=${ctx.statePath}\n` +
      `  export BASH_ENV=${abs}/env.bash   # bash scripts: absolute tool paths, which, /proc/sys writes\n` +
      `  export IPTABLES_SIM_HOST=pc1      # optional: another host of the lab\n`,
  );
  return 0;
}
