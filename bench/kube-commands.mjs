#!/usr/bin/env node
// Bench: everyday commands typed one by one on a kube-proxy-sized lab (issue 6: "people typing
// commands one by one feel every 50 ms"), next to the real iptables 1.8.9 doing the same in a
// network namespace holding the same rules (root only; skipped with a note otherwise).
//
// The lab is ./gen-kube-proxy.mjs's dump (10,000 services x 3 endpoints by default) restored into
// the built-in lab's router. Each run starts from a fresh copy of that lab (and, for the real
// iptables, a fresh namespace with the dump restored, not timed) and runs the commands below in
// order, timing each from the outside (process start to exit); medians over the runs. The exit
// statuses and the standard output of the two sides are compared too (iptables-save's time stamps
// aside): the listings of 40,000 chains and 110,000 rules as the real iptables prints them.
//
// Needs a build (npm run build).
// Usage: node bench/kube-commands.mjs [--services 10000] [--runs 3] [--cli FILE] [--no-real] [--keep DIR]
//   --cli: another build's bin/iptables-sim; --keep: keep the dump and the restored lab in DIR, and
//   use the lab found there next time (give each build a DIR of its own)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeLab } from './kube-lab.mjs';
import { args, opt } from './args.mjs';

const runs = Number(opt('runs', '3'));
const { services, cli, dir, dump, lab, svc, done } = kubeLab('kube-commands');
const noflush = `*nat\n:KUBE-SVC-BENCH2 - [0:0]\n-A KUBE-SVC-BENCH2 -j KUBE-MARK-MASQ\n-A KUBE-SERVICES -d 10.9.9.7/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-BENCH2\nCOMMIT\n`;

/**
 * Two syncs as kube-proxy writes them with iptables-restore --noflush: KUBE-SERVICES declared
 * again (which flushes it) and all its rules written again, with a new service; then the same with
 * `drop` services gone: their chains declared (flushed) and deleted, a run of -X lines at the end.
 */
function syncs(text, drop = 20) {
  const lines = text.split('\n');
  const services = lines.filter((l) => l.startsWith('-A KUBE-SERVICES '));
  const add = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-BENCHSYNC - [0:0]', ':KUBE-SEP-BENCHSYNC - [0:0]', ...services,
    '-A KUBE-SERVICES -d 10.9.9.6/32 -p tcp -m comment --comment "bench/sync cluster IP" -m tcp --dport 80 -j KUBE-SVC-BENCHSYNC',
    '-A KUBE-SVC-BENCHSYNC -m comment --comment "bench/sync -> 10.244.250.1:8080" -j KUBE-SEP-BENCHSYNC',
    '-A KUBE-SEP-BENCHSYNC -s 10.244.250.1/32 -m comment --comment "bench/sync" -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-BENCHSYNC -p tcp -m comment --comment "bench/sync" -m tcp -j DNAT --to-destination 10.244.250.1:8080', 'COMMIT', ''];
  const gone = new Set();
  for (const l of services) {
    const m = / -j (KUBE-SVC-\S+)/.exec(l);
    if (m && gone.size < drop) gone.add(m[1]);
  }
  const endpoints = new Set();
  for (const l of lines) {
    const m = /^-A (KUBE-SVC-\S+) .*-j (KUBE-SEP-\S+)/.exec(l);
    if (m && gone.has(m[1])) endpoints.add(m[2]);
  }
  const dropped = [...gone, ...endpoints];
  const kept = services.filter((l) => !gone.has(/ -j (\S+)/.exec(l)?.[1]));
  const del = ['*nat', ':KUBE-SERVICES - [0:0]', ...dropped.map((c) => `:${c} - [0:0]`), ...kept, ...dropped.map((c) => `-X ${c}`), 'COMMIT', ''];
  return { add: add.join('\n'), del: del.join('\n'), dropped: dropped.length };
}
const sync = syncs(readFileSync(dump, 'latin1'));

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
  ['iptables -t nat -L -n -v --line-numbers (whole table)', ['iptables', '-t', 'nat', '-L', '-n', '-v', '--line-numbers']],
  ['iptables -t nat -S (whole table)', ['iptables', '-t', 'nat', '-S']],
  ['iptables-save -t nat', ['iptables-save', '-t', 'nat']],
  ['iptables-restore --noflush: a kube-proxy sync (KUBE-SERVICES written again, a new service)', ['iptables-restore', '--noflush'], sync.add],
  [`iptables-restore --noflush: a sync dropping 20 services (${sync.dropped} chains flushed, -X of each)`, ['iptables-restore', '--noflush'], sync.del],
  ['iptables-save -t nat (after the syncs)', ['iptables-save', '-t', 'nat']],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** the output as compared: iptables-save's time stamps taken out */
const outputOf = (b) => createHash('sha1').update(b.toString('latin1').replace(/^# (Generated by .*?|Completed) on .*$/gm, '# $1')).digest('hex');

function timed(cmd, argv, input) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, status: r.status, out: outputOf(r.stdout), err: r.stderr.toString() };
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
/** each run's output of each command, both sides */
const outputs = COMMANDS.map(() => ({ ours: [], real: [] }));
const ns = `iptsim-kube-${process.pid}`;
try {
  for (let r = 0; r < runs; r++) {
    const state = join(dir, 'run.json');
    copyFileSync(lab, state);
    COMMANDS.forEach(([, argv, input], k) => {
      const o = timed(cli, ['--state', state, ...argv], input);
      ours[k].push(o.ms);
      status[k].ours.add(o.status);
      outputs[k].ours.push(o.out);
    });
    if (real) continue;
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables-restore', dump]);
    COMMANDS.forEach(([, argv, input], k) => {
      const o = timed('ip', ['netns', 'exec', ns, ...argv], input);
      theirs[k].push(o.ms);
      status[k].real.add(o.status);
      outputs[k].real.push(o.out);
    });
  }
} finally {
  if (!real) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  done();
}

console.log(`${services.toLocaleString('en')} services x 3 endpoints, ${runs} runs, medians${real ? `; real iptables: skipped (${real})` : ''}\n`);
console.log('| command | iptables-sim | real iptables | exit status (sim / real) | output |');
console.log('| --- | --- | --- | --- | --- |');
COMMANDS.forEach(([what], k) => {
  const st = `${[...status[k].ours].join(',')} / ${real ? '-' : [...status[k].real].join(',')}`;
  const same = real ? '-' : outputs[k].ours.every((o, r) => o === outputs[k].real[r]) ? 'same' : 'DIFFERS';
  console.log(`| \`${what}\` | ${fmt(median(ours[k]))} | ${real ? '-' : fmt(median(theirs[k]))} | ${st} | ${same} |`);
});
