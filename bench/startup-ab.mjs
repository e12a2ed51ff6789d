#!/usr/bin/env node
// Bench: the start-up figure of issue 6 for several builds side by side. Each round runs `node -e
// 0`, then, for every launcher given, `iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE` and
// `iptables -S`, each on a fresh copy of the built-in lab; rounds alternate so that the machine's
// moods fall on every build alike. Prints the medians of wall time, and of CPU time (the process
// and its children, `perf stat -e task-clock`, in a second run of each, so that perf's own start
// is not in the wall time) when perf is there: CPU time moves less with a shared machine's load.
//
// Another build to compare with: `git archive COMMIT | tar -x -C DIR`, a symlink DIR/node_modules to
// this checkout's, `npm run build` in DIR; then give DIR/bin/iptables-sim.
// Usage: node bench/startup-ab.mjs [--runs 40] [--no-perf] [LAUNCHER...] (default bin/iptables-sim)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { args, opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(opt('runs', '40'));
const launchers = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
if (launchers.length === 0) launchers.push(join(root, 'bin', 'iptables-sim'));
const perf = !args.includes('--no-perf') && spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', 'true'], { stdio: 'ignore' }).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'iptsim-startup-'));
const fresh = join(dir, 'fresh.json');
const state = join(dir, 'lab.json');
execFileSync(launchers[0], ['--state', fresh, 'lab', 'reset'], { stdio: 'ignore' });

function check(r, cmd, argv) {
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r;
}

/** wall time of one run, without perf (whose own start would count) */
function wallOf(cmd, argv) {
  const start = process.hrtime.bigint();
  check(spawnSync(cmd, argv, { encoding: 'utf8' }), cmd, argv);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** CPU time of another run, by perf */
function cpuOf(cmd, argv) {
  const r = check(spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', cmd, ...argv], { encoding: 'utf8' }), cmd, argv);
  return Number(/^([\d.]+),msec,task-clock/m.exec(r.stderr)?.[1]);
}

const COMMANDS = {
  '-A ... MASQUERADE': ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE'],
  '-S': ['iptables', '-S'],
};
/** a row's run: its wall time, then (with perf) its CPU time in a second run */
const timed = (before, cmd, argv) => () => {
  before();
  const wall = wallOf(cmd, argv);
  if (!perf) return [wall, NaN];
  before();
  return [wall, cpuOf(cmd, argv)];
};
const rows = [{ name: '`node -e 0`', run: timed(() => {}, process.execPath, ['-e', '0']), times: [] }];
for (const bin of launchers) {
  for (const [what, argv] of Object.entries(COMMANDS)) {
    rows.push({ name: `${what}, ${bin}`, run: timed(() => copyFileSync(fresh, state), bin, ['--state', state, ...argv]), times: [] });
  }
}
try {
  for (let i = 0; i < runs; i++) for (const r of rows) r.times.push(r.run());
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = median(rows[0].times.map((t) => t[0]));
console.log(`${runs} rounds, alternating; medians${perf ? '' : ' (no perf: wall time only)'}`);
console.log(`| command | wall | × node -e 0 |${perf ? ' CPU |' : ''}`);
console.log(`| --- | --- | --- |${perf ? ' --- |' : ''}`);
for (const r of rows) {
  const wall = median(r.times.map((t) => t[0]));
  const cpu = perf ? ` ${median(r.times.map((t) => t[1])).toFixed(1)} ms |` : '';
  console.log(`| ${r.name} | ${wall.toFixed(1)} ms | ${(wall / node).toFixed(2)}× |${cpu}`);
}
