#!/usr/bin/env node
// Bench: `trace --batch` through a kube-proxy-shaped rule set (issue 6, figure 4: at least
// 100,000 packets per second). The dump comes from ./gen-kube-proxy.mjs (10,000 services x 3
// endpoints by default, restored into the built-in lab's router); the packet file is generated
// here, the same every time: service IPs from the internet and from the LAN (DNAT, MASQUERADE),
// service IPs on other ports and protocols, traffic to the internet and to the LAN that no
// service rule takes, traffic for the router itself, packets sent by the router's own processes,
// and ICMP echoes.
//
// Timed from the outside (process start to exit), standard output into a file (read back and
// checked after the clock stops), median of several runs: the whole batch, and a one-packet batch
// on the same lab (start-up, reading and checking the lab file). The rate of
// classification is (packets - 1) / (whole - one-packet); the end-to-end rate is packets / whole.
// The output is checked: one JSON line per packet, no errors.
//
// Service IPs are drawn uniformly by default: every packet is likely to reach rules no packet
// has touched for a while, the hardest case for the memory caches. --zipf S draws them with
// Zipf's law of exponent S instead (a few popular services get most of the traffic, as in a real
// cluster).
//
// Needs a build (npm run build).
// Usage: node bench/trace-batch.mjs [--services 10000] [--endpoints 3] [--packets 200000] [--runs 3]
//        [--zipf S] [--cli FILE (default bin/iptables-sim)] [--keep DIR (keep the dump, lab and packet file there)]
//        [--state LAB (a lab that already holds the dump of --services services, as bench/run.mjs passes)]
// The last line is the figure: the rate of classification.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeProxyDump } from './gen-kube-proxy.mjs';
import { xorshift32 } from './xorshift.mjs';
import { opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = Number(opt('services', '10000'));
const endpoints = Number(opt('endpoints', '3'));
const packets = Number(opt('packets', '200000'));
const runs = Number(opt('runs', '3'));
const cli = opt('cli', join(root, 'bin', 'iptables-sim'));
const keep = opt('keep', undefined);
const zipf = opt('zipf', undefined) === undefined ? undefined : Number(opt('zipf'));
if (cli === join(root, 'bin', 'iptables-sim') && !existsSync(join(root, 'dist', 'iptables-sim.cjs'))) {
  console.error('trace-batch: no build; run `npm run build` first');
  process.exit(1);
}

/** xorshift32: the same packet file every time */
const rnd = xorshift32();
const int = (n) => Math.floor(rnd() * n);
/** cumulative Zipf weights of the services, when --zipf is given */
const cumulative = zipf === undefined ? undefined : (() => {
  const c = new Float64Array(services);
  let sum = 0;
  for (let i = 0; i < services; i++) c[i] = sum += 1 / Math.pow(i + 1, zipf);
  return c.map((x) => x / sum);
})();
const service = () => {
  if (!cumulative) return int(services);
  const r = rnd();
  let lo = 0;
  let hi = services - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
const svcIp = () => {
  const i = service();
  return `10.96.${(i >> 8) & 255}.${i & 255}`;
};
const publicIp = () => `${[198, 203, 93, 151][int(4)]}.${int(256)}.${int(256)}.${1 + int(254)}`;
const lanIp = () => `192.168.1.${2 + int(250)}`;
const sport = () => 1024 + int(64000);

function packetLine() {
  const r = rnd();
  if (r < 0.5) return `-i eth0 -p tcp -s ${publicIp()} --sport ${sport()} -d ${svcIp()} --dport 80`;
  if (r < 0.6) return `-i eth1 -p tcp -s ${lanIp()} --sport ${sport()} -d ${svcIp()} --dport 80`;
  if (r < 0.65) return `-i eth0 -p tcp -s ${publicIp()} --sport ${sport()} -d ${svcIp()} --dport 443`;
  if (r < 0.7) return `-i eth0 -p udp -s ${publicIp()} --sport ${sport()} -d ${svcIp()} --dport 80`;
  if (r < 0.78) return `-i eth1 -p tcp -s ${lanIp()} --sport ${sport()} -d ${publicIp()} --dport ${[443, 80, 22][int(3)]}`;
  if (r < 0.85) return `-i eth0 -p tcp -s ${publicIp()} --sport ${sport()} -d 192.168.1.${2 + int(2)} --dport 80`;
  if (r < 0.89) return `-i eth1 -p tcp -s ${lanIp()} --sport ${sport()} -d 192.168.1.1 --dport ${[22, 80][int(2)]}`;
  if (r < 0.92) return `-i eth0 -p udp -s ${publicIp()} --sport ${sport()} -d 50.60.70.80 --dport 80`;
  if (r < 0.95) return `-p tcp --sport ${sport()} -d ${svcIp()} --dport 80`;
  if (r < 0.97) return `-p udp --sport ${sport()} -d ${publicIp()} --dport 53`;
  return `-i eth0 -p icmp -s ${publicIp()} -d 50.60.70.80`;
}

const dir = keep ?? mkdtempSync(join(tmpdir(), 'iptsim-batch-'));
mkdirSync(dir, { recursive: true });
const dump = join(dir, `kube-${services}x${endpoints}.v4`);
const lab = opt('state', join(dir, `lab-${services}x${endpoints}.json`));
const file = join(dir, `packets-${packets}${zipf === undefined ? '' : `-zipf${zipf}`}.txt`);
const one = join(dir, 'packets-1.txt');

/**
 * Runs the CLI, its standard output into a file (as `trace --batch FILE > results` would): the time
 * is the command's alone. (Taken through a pipe into this process, the output of 200,000 packets
 * is 82 MB that spawnSync() gathers and decodes before it returns, which on this machine added
 * 0.5-1 s to the command's time; the output is read back from the file after the clock stops.)
 */
const sim = (argv) => {
  const outFile = join(dir, 'out.jsonl');
  const fd = openSync(outFile, 'w');
  let r;
  let secs;
  try {
    const t0 = process.hrtime.bigint();
    r = spawnSync(process.execPath, [cli, '--state', lab, ...argv], { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
    secs = Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    closeSync(fd);
  }
  if (r.status !== 0) throw new Error(`iptables-sim ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { secs, stdout: () => readFileSync(outFile, 'utf8') };
};

if (!existsSync(lab)) {
  writeFileSync(dump, kubeProxyDump(services, endpoints));
  const t = sim(['iptables-restore', dump]);
  console.log(`restored ${services} services x ${endpoints} endpoints in ${t.secs.toFixed(1)} s`);
}
const lines = [];
for (let i = 0; i < packets; i++) lines.push(packetLine());
writeFileSync(file, lines.join('\n') + '\n');
writeFileSync(one, lines[0] + '\n');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = [];
const whole = [];
let out = '';
for (let i = 0; i < runs; i++) {
  base.push(sim(['trace', '--batch', one]).secs);
  const r = sim(['trace', '--batch', file]);
  whole.push(r.secs);
  out = r.stdout();
}

// the output must be one result per packet, and no errors
const results = out.split('\n').filter((l) => l !== '');
if (results.length !== packets) throw new Error(`expected ${packets} result lines, got ${results.length}`);
const outcomes = {};
for (const l of results) {
  const o = JSON.parse(l);
  if (o.error) throw new Error(`line ${o.line}: ${o.error}`);
  const key = o.outcome === 'transmit' ? `transmit ${o.out}${o.rules.some((d) => d.target === 'DNAT') ? ' (DNAT)' : ''}` : o.outcome;
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? cpus()[0]?.model ?? '?';
const tb = median(base);
const tw = median(whole);
console.log(`machine: ${cpus().length} CPUs (${cpu}), node ${process.version}`);
console.log(`rule set: ${services} services x ${endpoints} endpoints; ${packets} packets (service IPs ${zipf === undefined ? 'uniform' : `Zipf ${zipf}`}); ${runs} runs, medians`);
console.log(`outcomes: ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`one-packet batch (start-up, lab load): ${tb.toFixed(2)} s`);
console.log(`whole batch: ${tw.toFixed(2)} s  -> end to end ${Math.round(packets / tw).toLocaleString('en')} pkt/s`);
console.log(`classification: ${Math.round((packets - 1) / (tw - tb)).toLocaleString('en')} pkt/s`);
if (!keep) rmSync(dir, { recursive: true, force: true });
