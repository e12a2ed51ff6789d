/**
 * What the build runs once, in one process, before it saves V8's code cache of a bundle
 * (src/tools/build.mjs, bin/iptables-sim): the everyday commands on a scratch lab, so that the
 * code they compile (the grammar, the command semantics, listing, the lab file, the engine) is in
 * the cache and the next start-up skips compiling it. Run by every bundle: all of it in the full
 * one (./entry.ts), the iptables tools' commands in the iptables bundle (./entry-iptables.ts), the
 * trace in the trace bundle (./entry-trace.ts), each running them its own way. Imports no command
 * itself, so that the small bundles hold no more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferIo } from './io.js';

const COMMANDS = [
  ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE'],
  ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT'],
  ['iptables', '-S'],
  ['iptables', '-L', '-n', '-v'],
  ['iptables-save'],
  ['iptables-restore', '--noflush'],
  ['sysctl', 'net.ipv4.ip_forward'],
  ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80'],
  ['run', '-'],
];

/** what `run -` reads in the warm-up: a firewall script's usual words and extensions */
const SCRIPT = [
  'IPT=/sbin/iptables',
  'WAN=${WAN:-eth0}',
  '$IPT -N TCP_IN',
  '$IPT -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  '$IPT -A INPUT -p tcp --syn -m state --state NEW -j TCP_IN',
  '$IPT -A TCP_IN -s 10.0.0.0/8 -d 192.168.1.2 -p tcp --dport 22 -j ACCEPT',
  '$IPT -A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT',
  '$IPT -A INPUT -p icmp --icmp-type echo-request -m limit --limit 1/s -j ACCEPT',
  'iptables -A INPUT -m comment --comment "log it" -j LOG --log-prefix "drop: "',
  'iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited',
  '$IPT -t nat -A PREROUTING -i $WAN -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
  '$IPT -t nat -A POSTROUTING -s 192.168.1.0/24 -o "$WAN" -j SNAT --to-source 50.60.70.80',
  '$IPT -t mangle -A PREROUTING -m statistic --mode random --probability 0.5 -j MARK --set-mark 1',
  'echo 1 > /proc/sys/net/ipv4/ip_forward',
  'sysctl -w net.ipv4.conf.all.rp_filter=1',
  '',
].join('\n');

/** runs the warm-up's commands that `take` takes (by default all) through `run` */
export async function warmUp(run: (argv: string[], io: BufferIo) => Promise<number>, take: (argv: string[]) => boolean = () => true): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iptables-sim-warmup-'));
  try {
    for (const argv of COMMANDS) {
      if (!take(argv)) continue;
      const io = new BufferIo(argv[0] === 'run' ? SCRIPT : '*filter\n-A FORWARD -j ACCEPT\nCOMMIT\n', { IPTABLES_SIM_STATE: join(dir, 'lab.json') }, dir);
      const rc = await run(argv, io);
      if (rc !== 0) throw new Error(`warm-up: ${argv.join(' ')} failed (${rc}): ${io.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
