/**
 * The interactive shell's line handling and tab completion, without a terminal: what a line does,
 * where the caret goes, when a line continues, and what Tab offers at each point.
 */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShellSession, caretFor } from '../src/cli/commands/shell.js';
import { BufferIo } from '../src/cli/io.js';
import { builtinLab } from '../src/net/builtin-lab.js';
import { complete, currentWords } from '../src/script/complete.js';
import { tempDir } from './helpers/tmp.js';

function session(): { s: ShellSession; io: BufferIo } {
  const dir = tempDir('iptsim-shell-');
  const io = new BufferIo('', { HOME: dir }, dir);
  const s = new ShellSession({ io, statePath: join(dir, 'lab.json'), json: false, color: false });
  return { s, io };
}

describe('shell: lines', () => {
  it('runs the lines run takes, on the lab file', async () => {
    const { s, io } = session();
    expect(s.prompt()).toBe('router# ');
    expect(await s.line('IPT=iptables; $IPT -N WEB && $IPT -A INPUT -p tcp --dport 80 -j WEB')).toEqual({ more: false, exit: false, status: 0 });
    await s.line('iptables -S INPUT');
    expect(io.stdout).toBe('-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j WEB\n');
  });

  it('switches hosts with `host` and names the host in the prompt', async () => {
    const { s, io } = session();
    await s.line('host');
    expect(io.stdout).toBe('  internet\n* router (default)\n  pc1\n  pc2\n');
    expect((await s.line('host pc1')).status).toBe(0);
    expect(s.prompt()).toBe('pc1# ');
    await s.line('iptables -N ONLY_ON_PC1');
    io.stdout = '';
    await s.line('iptables -S ONLY_ON_PC1');
    expect(io.stdout).toBe('-N ONLY_ON_PC1\n');
    expect((await s.line('host nowhere')).status).toBe(1);
    expect(io.stderr).toContain("host: no host `nowhere' in the lab");
    expect(s.prompt()).toBe('pc1# ');
  });

  it('puts a caret under the token an error names', async () => {
    const { s, io } = session();
    const r = await s.line('iptables -A INPUT -p tcp --dprt 22 -j ACCEPT');
    expect(r.status).toBe(2);
    expect(io.stderr.split('\n').slice(0, 3)).toEqual([
      'iptables -A INPUT -p tcp --dprt 22 -j ACCEPT',
      '                         ^^^^^^',
      'iptables v1.8.9 (nf_tables): unknown option "--dprt"',
    ]);
    io.stderr = '';
    await s.line('iptables -A INPUT -j NOPE');
    expect(io.stderr.split('\n').slice(0, 2)).toEqual(['iptables -A INPUT -j NOPE', '                     ^^^^']);
  });

  it('puts a caret under constructs it does not model and under syntax errors', async () => {
    const { s, io } = session();
    await s.line('iptables -L; for i in 1 2; do echo $i; done');
    expect(io.stderr.split('\n').slice(0, 3)).toEqual([
      'iptables -L; for i in 1 2; do echo $i; done',
      '             ^^^',
      "run does not model loops (`for ... do ... done'); replay this script with the real bash instead: iptables-sim run --shell FILE",
    ]);
    expect(io.stdout).toBe('');
  });

  it('continues a line with an open quote, a trailing && or a backslash', async () => {
    const { s, io } = session();
    expect(await s.line('iptables -A INPUT -m comment --comment "two')).toMatchObject({ more: true });
    expect(s.prompt()).toBe('> ');
    expect(await s.line('lines" -j ACCEPT &&')).toMatchObject({ more: true });
    expect(await s.line('iptables -S INPUT \\')).toMatchObject({ more: true });
    expect(await s.line('')).toMatchObject({ more: false, status: 0 });
    expect(io.stdout).toBe('-P INPUT ACCEPT\n-A INPUT -m comment --comment "two\nlines" -j ACCEPT\n');
    expect(s.prompt()).toBe('router# ');
  });

  it('traces inline and leaves with exit', async () => {
    const { s, io } = session();
    await s.line('trace --from pc1 -p tcp -d 203.0.113.10 --dport 80 --brief');
    expect(io.stdout).toMatch(/timeout/);
    expect(await s.line('exit 3')).toEqual({ more: false, exit: true, status: 3 });
  });

  it('finds the caret token among the expanded words', () => {
    const { s } = session();
    void s;
    const word = (text: string, col: number) => ({ text, word: { t: 'word' as const, parts: [], raw: text, line: 1, endLine: 1, col, start: col, end: col + text.length } });
    expect(caretFor({ file: '', line: 1, status: 2, message: "Bad argument `x'", fields: [word('iptables', 0), word('x', 9)] })).toEqual({ col: 9, width: 1 });
    expect(caretFor({ file: '', line: 1, status: 1, message: 'no quotes here', fields: [word('a', 0)] })).toBeUndefined();
  });
});

describe('shell: completion', () => {
  const lab = builtinLab();
  const builtins = () => ['INPUT', 'FORWARD', 'OUTPUT'].map((n) => ({ name: n, policy: 'ACCEPT' as const, pkts: 0, bytes: 0, rules: [] }));
  lab.hosts.router!.tables.filter = { chains: [...builtins(), { name: 'WEB', pkts: 0, bytes: 0, rules: [] }] };
  lab.hosts.router!.tables6 = { filter: { chains: [...builtins(), { name: 'V6ONLY', pkts: 0, bytes: 0, rules: [] }] } };
  const data = { hosts: Object.keys(lab.hosts), host: lab.hosts.router };
  const c = (line: string) => complete(line, data)[0];

  it('splits the line the way the shell will', () => {
    expect(currentWords('iptables -A "IN PUT" -j')).toEqual({ words: ['iptables', '-A', 'IN PUT'], current: '-j' });
    expect(currentWords('echo x | iptables-re')).toEqual({ words: [], current: 'iptables-re' });
  });

  it('offers commands first, tools by their installed paths too', () => {
    expect(c('ipt')).toEqual(['iptables', 'iptables-restore', 'iptables-save']);
    expect(c('ho')).toEqual(['host']);
    expect(c('iptables -N X && ip')).toEqual(['ip', 'ip6tables', 'ip6tables-restore', 'ip6tables-save', 'ipset', 'iptables', 'iptables-restore', 'iptables-save']);
  });

  it('offers ip6tables the chains of its own tables and the extensions it loads', () => {
    expect(c('ip6tables -A INPUT -m ic')).toEqual(['icmp6', 'icmpv6']);
    expect(c('iptables -A INPUT -m ic')).toEqual(['icmp']);
    expect(c('ip6tables -A INPUT -p icmpv6 --icmpv')).toEqual(['--icmpv6-type']);
    expect(c('ip6tables -A INPUT -j H')).toEqual(['HL', 'HMARK']);
    expect(c('ip6tables -A ')).toEqual(['FORWARD', 'INPUT', 'OUTPUT', 'V6ONLY']);
  });

  it('offers iptables commands before a command is given, rule options after', () => {
    expect(c('iptables --app')).toEqual(['--append']);
    expect(c('iptables -')).toContain('-A');
    expect(c('iptables -A INPUT --dp')).toEqual([]);
    expect(c('iptables -A INPUT -p tcp --dp')).toEqual(['--dport']);
    expect(c('iptables -A INPUT -m conntrack --ctst')).toEqual(['--ctstate', '--ctstatus']);
    expect(c('iptables -A INPUT -j LOG --log-p')).toEqual(['--log-prefix']);
    expect(c('iptables -A INPUT -')).not.toContain('-A');
  });

  it('offers chains of the table, targets, matches, tables, interfaces and policies', () => {
    expect(c('iptables -A ')).toEqual(['FORWARD', 'INPUT', 'OUTPUT', 'WEB']);
    expect(c('iptables -t nat -A P')).toEqual(['POSTROUTING', 'PREROUTING']);
    expect(c('iptables -A INPUT -j W')).toEqual(['WEB']);
    expect(c('iptables -t nat -A PREROUTING -j DN')).toEqual(['DNAT']);
    expect(c('iptables -A INPUT -m connt')).toEqual(['conntrack']);
    expect(c('iptables -t ma')).toEqual(['mangle']);
    expect(c('iptables -A INPUT -i e')).toEqual(['eth0', 'eth1']);
    expect(c('iptables -P FORWARD ')).toEqual(['ACCEPT', 'DROP']);
  });

  it('offers hosts, ip keywords, sysctl keys and trace options', () => {
    expect(c('host p')).toEqual(['pc1', 'pc2']);
    expect(c('trace --from i')).toEqual(['internet']);
    expect(c('ip ')).toEqual(['address', 'link', 'route']);
    expect(c('ip route ')).toEqual(['add', 'change', 'del', 'flush', 'get', 'replace', 'show']);
    expect(c('ip addr add 10.0.0.1/24 dev e')).toEqual(['eth0', 'eth1']);
    expect(c('sysctl -w net.ipv4.ip_f')).toEqual(['net.ipv4.ip_forward=']);
    expect(c('trace --dp')).toEqual(['--dport']);
  });
});
