/**
 * `demo`: the seed post ("Iptables for Routing") told on a scratch lab that is thrown away
 * afterwards: each step's commands exactly as typed, then what the kernel would do with them.
 * The user's own lab is never touched. Where the post's prose and the kernel disagree, the demo
 * shows the kernel (router access via 50.60.70.80:8080 works).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../io.js';
import { main } from '../main.js';
import { makeColors } from '../../trace/text.js';
import type { CliContext } from '../context.js';

interface Step {
  title: string;
  say: string;
  commands?: string[][];
  traces?: string[][];
}

const STEPS: Step[] = [
  {
    title: 'The home network',
    say: 'A router joins the internet (eth0 50.60.70.80) and a LAN with pc1 and pc2 (eth1 192.168.1.1). Every host serves tcp/80 and udp/80.',
    commands: [['lab', 'show']],
  },
  {
    title: 'No NAT yet',
    say: 'pc1 can reach the internet host, but the answer cannot come back: nobody out there routes 192.168.1.0/24.',
    traces: [['--from', 'pc1', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80']],
  },
  {
    title: 'SNAT',
    say: 'The router rewrites the source of LAN packets leaving eth0; conntrack undoes it on the answers.',
    commands: [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-s', '192.168.1.0/24', '-j', 'SNAT', '--to-source', '50.60.70.80']],
    traces: [['--from', 'pc1', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80']],
  },
  {
    title: 'MASQUERADE',
    say: "The same without naming the address: MASQUERADE takes eth0's own address, handy when DHCP changes it.",
    commands: [
      ['iptables', '-t', 'nat', '-F', 'POSTROUTING'],
      ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.168.1.0/24', '-o', 'eth0', '-j', 'MASQUERADE'],
      ['iptables', '-t', 'nat', '-S', 'POSTROUTING'],
    ],
    traces: [['--from', 'pc2', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80']],
  },
  {
    title: 'Port forwarding with DNAT',
    say: "The internet reaches pc1's service through the router's port 8080.",
    commands: [['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '192.168.1.2:80']],
    traces: [['--from', 'internet', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080']],
  },
  {
    title: 'Router access',
    say: "A process on the router does not pass PREROUTING: without a rule in OUTPUT it gets the router's own (closed) port 8080.",
    traces: [['--from', 'router', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '8080']],
  },
  {
    title: 'DNAT in OUTPUT',
    say: 'With the rule in OUTPUT the router reaches pc1. The post says 50.60.70.80:8080 still fails; the kernel disagrees: Linux sends it with source 50.60.70.80 out of eth1, and pc1 answers through its default gateway. 127.0.0.1 does time out.',
    commands: [['iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '192.168.1.2:80']],
    traces: [
      ['--from', 'router', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '8080'],
      ['--from', 'router', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080'],
      ['--from', 'router', '-p', 'tcp', '-d', '127.0.0.1', '--dport', '8080'],
    ],
  },
  {
    title: 'MASQUERADE for local sources, and route_localnet',
    say: 'Rewriting local sources on eth1 makes pc1 always see 192.168.1.1. 127.0.0.1 still fails until eth1 may carry 127/8 sources.',
    commands: [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-m', 'addrtype', '--src-type', 'LOCAL', '-o', 'eth1', '-j', 'MASQUERADE']],
    traces: [
      ['--from', 'router', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080'],
      ['--from', 'router', '-p', 'tcp', '-d', '127.0.0.1', '--dport', '8080'],
    ],
  },
  {
    title: '',
    say: '',
    commands: [['sysctl', '-w', 'net.ipv4.conf.eth1.route_localnet=1']],
    traces: [['--from', 'router', '-p', 'tcp', '-d', '127.0.0.1', '--dport', '8080']],
  },
  {
    title: 'Hairpin NAT',
    say: 'pc2 asks the public address; the DNAT sends it to pc1, whose answer goes straight back to pc2 on the LAN: pc2 does not recognise it.',
    traces: [['--from', 'pc2', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080']],
  },
  {
    title: '',
    say: "The post's fix: masquerade LAN traffic that goes back out of eth1, so pc1 answers the router.",
    commands: [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.168.1.0/24', '-o', 'eth1', '-p', 'tcp', '--dport', '80', '-j', 'MASQUERADE']],
    traces: [
      ['--from', 'pc2', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080'],
      ['--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8080'],
    ],
  },
  {
    title: 'Load balancing',
    say: 'Two DNAT rules share port 8081: the first takes half the connections at random, the second the rest.',
    commands: [
      ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8081', '-m', 'statistic', '--mode', 'random', '--probability', '0.5', '-j', 'DNAT', '--to-destination', '192.168.1.2:80'],
      ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8081', '-j', 'DNAT', '--to-destination', '192.168.1.3:80'],
    ],
    traces: [['--from', 'internet', '-p', 'tcp', '-d', '50.60.70.80', '--dport', '8081', '--all-paths']],
  },
];

/** An Io that writes to the user's terminal but runs on the scratch lab. */
function scratchIo(outer: Io, state: string): Io {
  return {
    out: (t) => outer.out(t),
    err: (t) => outer.err(t),
    readStdin: async () => '',
    env: { ...outer.env, IPTABLES_SIM_STATE: state },
    cwd: outer.cwd,
    isTTY: outer.isTTY,
    now: () => outer.now(),
  };
}

export async function demoCommand(ctx: CliContext): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'iptables-sim-demo-'));
  const state = join(dir, 'lab.json');
  const io = scratchIo(ctx.io, state);
  const c = makeColors(ctx.color);
  const color = ctx.color ? [] : ['--no-color'];
  try {
    ctx.io.out(c.bold("iptables-sim demo: the seed post's home network, on a scratch lab (yours is not touched)\n"));
    for (const step of STEPS) {
      if (step.title) ctx.io.out(`\n${c.bold.underline(step.title)}\n`);
      if (step.say) ctx.io.out(`${step.say}\n`);
      for (const cmd of step.commands ?? []) {
        ctx.io.out(c.cyan(`\n$ iptables-sim ${cmd.join(' ')}\n`));
        const rc = await main([...color, ...cmd], io);
        if (rc !== 0) return rc;
      }
      for (const t of step.traces ?? []) {
        ctx.io.out(c.cyan(`\n$ iptables-sim trace ${t.join(' ')} --brief\n`));
        const rc = await main([...color, 'trace', ...t, '--brief'], io);
        if (rc !== 0) return rc;
      }
    }
    ctx.io.out(`\nEvery step above is what the Linux kernel does with these rules (measured in network namespaces).\nTry your own: iptables-sim iptables ..., then iptables-sim trace --from HOST -p tcp -d ADDRESS --dport PORT.\n`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
