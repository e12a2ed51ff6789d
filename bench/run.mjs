#!/usr/bin/env node
// The figures of issue 6, measured side by side in one run (npm run bench; needs `npm run build`):
//
//   1. start-up: two everyday commands on the built-in lab against `node -e 0`
//   2. bulk: iptables-restore + iptables-save of a kube-proxy-shaped dump, against the real
//      iptables 1.8.9 in a network namespace (root only; skipped with a note otherwise)
//   3. trace at scale: one `trace --from` connection into a service IP of that lab
//   4. batch: `trace --batch` packets per second through that lab (bench/trace-batch.mjs)
//   5. memory: peak RSS of loading and tracing that lab
//
//   node bench/run.mjs [--services N] [--runs R] [--trace-runs 5] [--trace-row 12] [--only startup,bulk,trace,memory,batch]
//
// Medians of R runs (default 15 for quick commands, 3 for the bulk ones), commands interleaved so
// that a busy machine slows all of them alike. Prints a Markdown table for bench/README.md.

import { spawnSync, execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeProxyDump } from './gen-kube-proxy.mjs';
import { opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'iptables-sim');
const rssHook = join(root, 'bench', 'report-rss.cjs');
const SERVICES = Number(opt('services', 10000));
const RUNS = Number(opt('runs', 15));
const ONLY = new Set(opt('only', 'startup,bulk,trace,memory,batch').split(','));
const dir = mkdtempSync(join(tmpdir(), 'iptsim-bench-'));
const rows = [];

if (!existsSync(join(root, 'dist', 'iptables-sim.cjs'))) {
  console.error('bench: build first (npm run build)');
  process.exit(2);
}

/** wall time of one run in ms; throws when the command fails */
function time(cmd, argv, { env = {}, input, stdout = 'ignore' } = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env: { ...process.env, ...env }, input, stdio: [input === undefined ? 'ignore' : 'pipe', stdout, 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/**
 * A copy of a lab file, on disk as iptables-sim leaves the files it writes (it fsyncs them): the
 * trace's fdatasync() after its append would otherwise write the whole copy's 33 MB of dirty pages
 * (50-100 ms of the trace's time on the 2 × AMD EPYC machine), which no lab file written by
 * iptables-sim itself has.
 */
function copyLab(from, to) {
  copyFileSync(from, to);
  const fd = openSync(to, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** runs each entry `runs` times, interleaved; `before` runs untimed before each timed run */
function interleave(entries, runs) {
  const times = entries.map(() => []);
  for (let i = 0; i < runs; i++) {
    entries.forEach((e, k) => {
      e.before?.();
      times[k].push(e.run());
    });
  }
  return times.map(median);
}

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {}
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.versions.node}${kernel ? `, Linux ${kernel}` : ''}`;
}

const node0 = () => time(process.execPath, ['-e', '0']).ms;

// 1. start-up ---------------------------------------------------------------------------------
if (ONLY.has('startup')) {
  const fresh = join(dir, 'fresh.json');
  const state = join(dir, 'startup.json');
  execFileSync(bin, ['--state', fresh, 'lab', 'reset'], { stdio: 'ignore' });
  const reset = () => copyFileSync(fresh, state);
  const [n, masq, list] = interleave(
    [
      { run: node0 },
      { before: reset, run: () => time(bin, ['--state', state, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']).ms },
      { before: reset, run: () => time(bin, ['--state', state, 'iptables', '-S']).ms },
    ],
    RUNS,
  );
  rows.push(['start-up', '`node -e 0`', fmt(n), '', '']);
  rows.push(['start-up', '`iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE`', fmt(masq), `${(masq / n).toFixed(2)}× node -e 0`, '≤ 1.5×']);
  rows.push(['start-up', '`iptables -S`', fmt(list), `${(list / n).toFixed(2)}× node -e 0`, '≤ 1.5×']);
}

// the kube-proxy lab, for everything after start-up
const dump = join(dir, 'kube.v4');
const kubeState = join(dir, 'kube.json');
const needKube = ['bulk', 'trace', 'memory', 'batch'].some((s) => ONLY.has(s));
if (needKube) writeFileSync(dump, kubeProxyDump(SERVICES, 3));
const rulesIn = needKube ? readFileSync(dump, 'utf8').split('\n').filter((l) => l.startsWith('-A ')).length : 0;
const what = `${SERVICES.toLocaleString('en')} services × 3 endpoints, ${rulesIn.toLocaleString('en')} rules`;

// 2. bulk ------------------------------------------------------------------------------------
const realAvailable = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables-restore', 'iptables-save']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool}`;
  }
  return undefined;
})();
if (needKube) {
  // build the lab once (also what trace, memory and batch use)
  rmSync(kubeState, { force: true });
  time(bin, ['--state', kubeState, 'iptables-restore', dump]);
}
if (ONLY.has('bulk')) {
  const state = join(dir, 'bulk.json');
  const ours = () => {
    rmSync(state, { force: true });
    const a = time(bin, ['--state', state, 'iptables-restore', dump]).ms;
    const b = time(bin, ['--state', state, 'iptables-save'], { stdout: 'pipe' });
    return { ms: a + b.ms, save: b.stdout.toString() };
  };
  const ns = `iptsim-bench-${process.pid}`;
  const real = () => {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const a = time('ip', ['netns', 'exec', ns, 'iptables-restore', dump]).ms;
      const b = time('ip', ['netns', 'exec', ns, 'iptables-save'], { stdout: 'pipe' });
      return { ms: a + b.ms, save: b.stdout.toString() };
    } finally {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
  };
  const runs = Number(opt('bulk-runs', 3));
  const ourMs = [];
  const realMs = [];
  let same;
  for (let i = 0; i < runs; i++) {
    const o = ours();
    ourMs.push(o.ms);
    if (!realAvailable) {
      const r = real();
      realMs.push(r.ms);
      const body = (s) => s.replace(/^#.*\n/gm, '');
      same ??= body(o.save) === body(r.save);
    }
  }
  const o = median(ourMs);
  rows.push(['bulk', `iptables-restore + iptables-save, ${what}`, fmt(o), realAvailable ? `real iptables: skipped (${realAvailable})` : `real iptables ${fmt(median(realMs))}: iptables-sim runs at ${(median(realMs) / o).toFixed(2)}× its speed${same ? ', same save output' : ', SAVE OUTPUT DIFFERS'}`, '≥ 5× its speed']);
}

// 3. trace at scale -------------------------------------------------------------------------
const svc = `10.96.${((SERVICES - 1) >> 8) & 255}.${(SERVICES - 1) & 255}`;
const traceArgv = (state) => ['--state', state, 'trace', '--from', 'pc1', '-p', 'tcp', '-d', svc, '--dport', '80', '--brief'];
if (ONLY.has('trace')) {
  const state = join(dir, 'trace.json');
  const runs = Number(opt('trace-runs', 5));
  const [n, t] = interleave(
    [{ run: node0 }, { before: () => copyLab(kubeState, state), run: () => time(bin, traceArgv(state)).ms }],
    runs,
  );
  rows.push(['trace', `\`trace --from pc1 -p tcp -d ${svc} --dport 80\` (last service), ${what}`, fmt(t), `${(t / n).toFixed(2)}× node -e 0 (${fmt(n)})`, '≤ 3×']);
  // the same trace again and again on one lab: each appends a record to the lab file (a header
  // that patches the one before, src/state/lab-file.ts), which the copy above sees only once; the
  // file is written whole again only when its records would double it
  const row = join(dir, 'trace-row.json');
  copyLab(kubeState, row);
  const inRow = Number(opt('trace-row', 12));
  const ns = [];
  const ts = [];
  for (let i = 0; i < inRow; i++) {
    ns.push(node0());
    ts.push(time(bin, traceArgv(row)).ms);
  }
  const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
  const n0 = median(ns);
  rows.push(['trace', `the same, ${inRow} times in a row on one lab: median / mean / slowest`, `${fmt(median(ts))} / ${fmt(mean)} / ${fmt(Math.max(...ts))}`, `${(median(ts) / n0).toFixed(2)}× / ${(mean / n0).toFixed(2)}× / ${(Math.max(...ts) / n0).toFixed(2)}× node -e 0 (${fmt(n0)})`, '≤ 3×']);
}

// 5. memory ---------------------------------------------------------------------------------
if (ONLY.has('memory')) {
  const state = join(dir, 'mem.json');
  copyLab(kubeState, state);
  const out = join(dir, 'rss');
  time(process.execPath, ['--require', rssHook, bin, ...traceArgv(state)], { env: { IPTABLES_SIM_RSS_FILE: out } });
  const kb = Number(readFileSync(out, 'utf8'));
  rows.push(['memory', `peak RSS of that trace (load, trace, write back)`, `${(kb / 1024).toFixed(0)} MB`, '', '< 300 MB']);
  // and the most any of several in a row takes (each reads the records of the ones before)
  let most = 0;
  for (let i = 0; i < 8; i++) {
    time(process.execPath, ['--require', rssHook, bin, ...traceArgv(state)], { env: { IPTABLES_SIM_RSS_FILE: out } });
    most = Math.max(most, Number(readFileSync(out, 'utf8')));
  }
  rows.push(['memory', `the most of 8 more such traces in a row on that lab`, `${(most / 1024).toFixed(0)} MB`, '', '< 300 MB']);
}

// 4. batch ----------------------------------------------------------------------------------
if (ONLY.has('batch')) {
  const script = join(root, 'bench', 'trace-batch.mjs');
  if (existsSync(script)) {
    const r = spawnSync(process.execPath, [script, '--state', kubeState, '--services', String(SERVICES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = r.stdout.toString().trim().split('\n').pop() ?? '';
    rows.push(['batch', `\`trace --batch\` through ${what}`, line, '', '≥ 100,000 packets/s']);
  } else {
    rows.push(['batch', '`trace --batch`', 'not measured (bench/trace-batch.mjs missing)', '', '≥ 100,000 packets/s']);
  }
}

rmSync(dir, { recursive: true, force: true });
console.log(`Machine: ${machine()}\n`);
console.log('| figure | what | iptables-sim | compared | target |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
