/**
 * `iptables-sim shims DIR` and `run --shell`: the shims and the bash start-up file, and a script
 * run by the real bash whose tools, however it names them, reach the emulated ones.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';

describe('shims', () => {
  it('writes the tools and a bash start-up file that bash accepts', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['shims', 'bin']);
    expect(r.rc).toBe(0);
    for (const t of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'sysctl', 'ip', 'conntrack']) {
      const p = join(sb.dir, 'bin', t);
      expect(statSync(p).mode & 0o111, t).not.toBe(0);
      expect(readFileSync(p, 'utf8')).toContain(`IPTABLES_SIM_ARGV0=${t} exec `);
    }
    const env = join(sb.dir, 'bin', 'env.bash');
    expect(spawnSync('bash', ['-n', env]).status).toBe(0);
    expect(r.stdout).toContain(`export PATH=${join(sb.dir, 'bin')}:$PATH IPTABLES_SIM_STATE=${sb.state}`);
    // the tools answer at the paths generated scripts keep them under
    const w = spawnSync('bash', ['-c', `. ${env}; which /usr/local/sbin/iptables /sbin/modprobe iptables; type -t /sbin/iptables`], { encoding: 'utf8' });
    expect(w.stdout).toBe(`/usr/local/sbin/iptables\n/sbin/modprobe\n${join(sb.dir, 'bin', 'iptables')}\nfunction\n`);
  });
});

describe('run --shell', () => {
  it('runs bash with the emulated tools, /proc/sys on the lab, and reports failing lines', async () => {
    const sb = new Sandbox();
    writeFileSync(
      join(sb.dir, 'fw.sh'),
      [
        '#!/bin/bash',
        'IPT=/usr/local/sbin/iptables',
        'PATH="/sbin:/usr/sbin:/bin:/usr/bin:$PATH"',
        'which $IPT >/dev/null || exit 9',
        'open() { $IPT -A INPUT -p tcp --dport "$1" -j ACCEPT; }',
        'for p in 22 80; do open $p; done',
        'echo 0 > /proc/sys/net/ipv4/ip_forward',
        'echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"',
        'iptables -N X',
        'iptables -N X',
        'ip -4 addr show dev eth1 | grep -c inet',
        'iptables-save | iptables-restore --test && echo restorable',
        'echo "host=$IPTABLES_SIM_HOST"',
      ].join('\n') + '\n',
    );
    const r = await sb.run(['run', '--shell', '--host', 'router', 'fw.sh']);
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe('forward=0\n1\nrestorable\nhost=router\n');
    expect(r.stderr).toBe('iptables: Chain already exists.\nfw.sh: commands failed where set -e would have stopped: line 10 (status 1)\n');
    const s = await sb.run(['iptables', '-S', 'INPUT']);
    expect(s.stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n');
    expect(sb.lab()!.hosts.router!.sysctls['net.ipv4.ip_forward']).toBe('0');
  });

  it('takes the script from standard input and acts on the host given', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['--host', 'pc2', 'run', '--shell', '-'], 'iptables -N ON_PC2; exit 4\n');
    expect(r.rc).toBe(4);
    expect((await sb.run(['--host', 'pc2', 'iptables', '-S', 'ON_PC2'])).stdout).toBe('-N ON_PC2\n');
    expect(existsSync(join(sb.dir, 'stdin.sh'))).toBe(false);
  });

  it('refuses options that only the in-process replay has', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '--shell', '--keep-going', '-'], 'true\n');
    expect(r.rc).toBe(2);
    expect(r.stderr).toMatch(/--dry-run and --keep-going apply to the in-process replay/);
  });
});
