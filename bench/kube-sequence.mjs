#!/usr/bin/env node
// Bench: a session of commands typed one after the other on ONE kube-proxy-sized lab, each command
// working on what the ones before it left (bench/kube-commands.mjs starts every command from a fresh
// copy instead). What this finds is a command that leaves the lab file in a state the next one pays
// for: a jump graph forgotten and built again from 40,000 chains, a stamp removed, a table decoded
// in full. Each command is timed from the outside (process start to exit) with its peak RSS; the
// ones over --slow seconds are marked.
//
// Needs a build (npm run build). The dump is ./gen-kube-proxy.mjs's, restored into the built-in lab.
// Usage: node bench/kube-sequence.mjs [--services 10000] [--slow 1] [--cli FILE] [--keep DIR]
//   --keep: keep the dump and the restored lab in DIR (and use them next time); the session itself
//   always runs on a copy
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeLab } from './kube-lab.mjs';
import { opt } from './args.mjs';

const slow = Number(opt('slow', '1'));
const { services, cli, dir, lab, svc, sep, sync, done } = kubeLab('kube-sequence');
/** a rule for the jump into a service: the command most often typed between the others */
const jump = (n, to = svc) => ['iptables', '-t', 'nat', '-A', 'KUBE-SERVICES', '-d', `10.9.8.${n}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', to];
const noflush = `*nat\n:KUBE-SVC-SEQ1 - [0:0]\n-A KUBE-SVC-SEQ1 -j ${sep}\n-A KUBE-SERVICES -d 10.9.7.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-SEQ1\nCOMMIT\n`;
/** [argv, standard input]: each kind of command, then a jump to see what it left behind */
const SESSION = [
  [['iptables', '-t', 'nat', '-N', 'KUBE-SVC-SEQ2']],
  [['iptables', '-t', 'nat', '-A', 'KUBE-SVC-SEQ2', '-j', sep]],
  [jump(1)],
  [['iptables', '-t', 'nat', '-I', 'KUBE-SERVICES', '5000', '-d', '10.9.8.2/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  [['iptables', '-t', 'nat', '-D', 'KUBE-SERVICES', '5000']],
  [jump(3)],
  [['iptables', '-t', 'nat', '-R', 'KUBE-SERVICES', '1', '-d', '10.9.8.4/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  [jump(5)],
  [['trace', '--from', 'pc1', '-p', 'tcp', '-d', '10.96.0.10', '--dport', '80']],
  [['iptables', '-t', 'nat', '-Z']],
  [jump(6)],
  [['iptables', '-t', 'nat', '-P', 'PREROUTING', 'ACCEPT']],
  [jump(7)],
  [['iptables-restore', '--noflush'], noflush],
  [jump(8)],
  [['iptables', '-t', 'nat', '-F', 'KUBE-SVC-SEQ2']],
  [['iptables', '-t', 'nat', '-X', 'KUBE-SVC-SEQ2']],
  [jump(9)],
  [['iptables', '-t', 'nat', '-E', 'KUBE-SVC-SEQ1', 'KUBE-SVC-SEQ3']],
  [jump(10)],
  [['iptables', '-t', 'nat', '-C', 'KUBE-SERVICES', '-d', '10.9.8.10/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', svc]],
  [['iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-n']],
  [['sysctl', '-w', 'net.ipv4.ip_forward=1']],
  [jump(11)],
  [['run', '-'], 'iptables -t nat -N KUBE-SVC-SEQ4\niptables -t nat -A KUBE-SVC-SEQ4 -j RETURN\n'],
  [jump(12)],
  // kube-proxy's syncs (KUBE-SERVICES written again with a new service; then without 20 services)
  [['iptables-restore', '--noflush'], sync.add],
  [jump(13, 'KUBE-SVC-BENCHSYNC')],
  [['trace', '--from', 'pc1', '-p', 'tcp', '-d', '10.9.9.6', '--dport', '80']],
  [['iptables-restore', '--noflush'], sync.del],
  [jump(14, 'KUBE-SVC-BENCHSYNC')],
];

const state = join(dir, 'session.json');
copyFileSync(lab, state);
console.log(`${services.toLocaleString('en')} services x 3 endpoints, one lab, commands in this order\n`);
console.log('| command | time | peak RSS | exit status |');
console.log('| --- | --- | --- | --- |');
let over = 0;
try {
  for (const [argv, input] of SESSION) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cli, '--state', state, ...argv], { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    const [secs, kb] = r.stderr.toString().trim().split('\n').pop().split(' ').map(Number);
    const mark = secs > slow ? ' **slow**' : '';
    if (mark) over++;
    console.log(`| \`${argv.join(' ').replace(/ -p tcp -m tcp --dport 80/, ' ...')}\` | ${secs.toFixed(2)} s${mark} | ${Math.round(kb / 1024)} MB | ${r.status} |`);
  }
} finally {
  rmSync(state, { force: true });
  rmSync(`${state}.checked`, { force: true });
  done();
}
console.log(`\n${over} command(s) over ${slow} s`);
