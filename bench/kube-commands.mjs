#!/usr/bin/env node
// Bench: everyday commands typed one by one on a kube-proxy-sized lab (issue 6: "people typing
// commands one by one feel every 50 ms"), next to the real iptables 1.8.9 doing the same in a
// network namespace holding the same rules (root only; skipped with a note otherwise).
//
// The lab is ./gen-kube-proxy.mjs's dump (10,000 services x 3 endpoints by default) restored into
// the built-in lab's router. Each run starts from a fresh copy of that lab (and, for the real
// iptables, a fresh namespace with the dump restored, not timed) and runs the commands below in
// order, timing each from the outside (process start to exit); medians over the runs. The exit
// statuses of the two sides are compared too.
//
// Needs a build (npm run build).
// Usage: node bench/kube-commands.mjs [--services 10000] [--runs 3] [--cli FILE] [--no-real] [--keep DIR]
//   --cli: another build's bin/iptables-sim; --keep: keep the dump and the restored lab in DIR, and
//   use the lab found there next time (give each build a DIR of its own)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeProxyDump } from './gen-kube-proxy.mjs';
import { args, opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = Number(opt('services', '10000'));
const runs = Number(opt('runs', '3'));
const cli = opt('cli', join(root, 'bin', 'iptables-sim'));
const keep = opt('keep', undefined);
if (cli === join(root, 'bin', 'iptables-sim') && !existsSync(join(root, 'dist', 'iptables-sim.cjs'))) {
  console.error('kube-commands: no build; run `npm run build` first');
  process.exit(1);
}
const dir = keep ?? mkdtempSync(join(tmpdir(), 'iptsim-kube-'));
mkdirSync(dir, { recursive: true });
const dump = join(dir, `kube-${services}.rules`);
const lab = join(dir, `kube-${services}.json`);
const text = kubeProxyDump(services, 3);
writeFileSync(dump, text);
if (!existsSync(lab)) execFileSync(cli, ['--state', lab, 'iptables-restore', dump]);

const svc = /^:(KUBE-SVC-\S+)/m.exec(text)[1];
const noflush = `*nat\n:KUBE-SVC-BENCH2 - [0:0]\n-A KUBE-SVC-BENCH2 -j KUBE-MARK-MASQ\n-A KUBE-SERVICES -d 10.9.9.7/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-BENCH2\nCOMMIT\n`;
/** [what is shown, argv after the program, standard input] */
const COMMANDS = [
  ['iptables -t nat -S KUBE-SERVICES', ['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES']],
  ['iptables -t nat -L KUBE-SERVICES -n', ['iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-n']],
  ['iptables -t nat -C KUBE-SERVICES ... -j ACCEPT (no such rule)', ['iptables', '-t', 'nat', '-C', 'KUBE-SERVICES', '-d', '10.96.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'ACCEPT']],
  ['iptables -t nat -A KUBE-SERVICES ... -j KUBE-SVC-...', ['iptables', '-t', 'nat', '-A', 'KUBE-SERVICES', '-d', '10.9.9.9/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  ['iptables -t nat -I KUBE-SERVICES 1 ... -j KUBE-SVC-...', ['iptables', '-t', 'nat', '-I', 'KUBE-SERVICES', '1', '-d', '10.9.9.8/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  ['iptables -t nat -D KUBE-SERVICES ... -j KUBE-SVC-...', ['iptables', '-t', 'nat', '-D', 'KUBE-SERVICES', '-d', '10.9.9.9/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  ['iptables -t nat -N KUBE-SVC-BENCH', ['iptables', '-t', 'nat', '-N', 'KUBE-SVC-BENCH']],
  ['iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE', ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']],
  ['iptables-restore --noflush (a new service: chain, rule, jump)', ['iptables-restore', '--noflush'], noflush],
  ['iptables -t nat -L -n (whole table)', ['iptables', '-t', 'nat', '-L', '-n']],
  ['iptables-save -t nat', ['iptables-save', '-t', 'nat']],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

function timed(cmd, argv, input) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, status: r.status, err: r.stderr.toString() };
}

const real = (() => {
  if (args.includes('--no-real')) return 'not asked for (--no-real)';
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables', 'iptables-restore', 'iptables-save']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool}`;
  }
  return undefined;
})();

const ours = COMMANDS.map(() => []);
const theirs = COMMANDS.map(() => []);
const status = COMMANDS.map(() => ({ ours: new Set(), real: new Set() }));
const ns = `iptsim-kube-${process.pid}`;
try {
  for (let r = 0; r < runs; r++) {
    const state = join(dir, 'run.json');
    copyFileSync(lab, state);
    COMMANDS.forEach(([, argv, input], k) => {
      const o = timed(cli, ['--state', state, ...argv], input);
      ours[k].push(o.ms);
      status[k].ours.add(o.status);
    });
    if (real) continue;
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables-restore', dump]);
    COMMANDS.forEach(([, argv, input], k) => {
      const o = timed('ip', ['netns', 'exec', ns, ...argv], input);
      theirs[k].push(o.ms);
      status[k].real.add(o.status);
    });
  }
} finally {
  if (!real) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

console.log(`${services.toLocaleString('en')} services x 3 endpoints, ${runs} runs, medians${real ? `; real iptables: skipped (${real})` : ''}\n`);
console.log('| command | iptables-sim | real iptables | exit status (sim / real) |');
console.log('| --- | --- | --- | --- |');
COMMANDS.forEach(([what], k) => {
  const st = `${[...status[k].ours].join(',')} / ${real ? '-' : [...status[k].real].join(',')}`;
  console.log(`| \`${what}\` | ${fmt(median(ours[k]))} | ${real ? '-' : fmt(median(theirs[k]))} | ${st} |`);
});
