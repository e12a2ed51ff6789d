/**
 * `iptables-sim run`: scripts replayed in-process against a temporary lab. Every line must give
 * what the same command gives on its own (same stdout, stderr and status), failures stop the
 * replay at their line with the tool's message, and the lab keeps exactly what the lines before
 * the failure did.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLab } from '../src/state/store.js';
import { normStamp, Sandbox, splitShell } from './helpers/cli.js';

function script(sb: Sandbox, name: string, text: string): string {
  writeFileSync(join(sb.dir, name), text);
  return name;
}

async function save(sb: Sandbox, host?: string): Promise<string> {
  const r = await sb.run([...(host ? ['--host', host] : []), 'iptables-save']);
  return normStamp(r.stdout);
}

describe('run: replaying a script', () => {
  it('understands the pieces firewall scripts are made of', async () => {
    const sb = new Sandbox();
    const f = script(
      sb,
      'fw.sh',
      [
        '#!/bin/sh',
        '# a typical hand-written firewall',
        'set -e',
        'IPT=/sbin/iptables',
        'LAN="192.168.1.0/24"',
        'WAN=${1:-eth0}',
        'export LAN',
        '$IPT -F',
        '$IPT -P FORWARD DROP',
        '/usr/local/sbin/iptables -A FORWARD -i eth1 -s $LAN -o $WAN \\',
        '   -m comment --comment "lan out" -j ACCEPT',
        'iptables -t nat -A POSTROUTING -s ${LAN} -o "$WAN" -j MASQUERADE',
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        'sysctl -q -w net.ipv4.conf.all.rp_filter=1',
        'modprobe nf_conntrack_ftp',
        'iptables -N BLOCK 2>/dev/null || iptables -F BLOCK',
        'iptables-restore --noflush <<EOF',
        '*filter',
        '-A BLOCK -s 10.0.0.0/8 -j DROP',
        'COMMIT',
        'EOF',
        "echo '*mangle' ':PREROUTING ACCEPT [0:0]' '-A PREROUTING -j MARK --set-mark 1' COMMIT | tr ' ' '\\n' >/dev/null || true",
        'printf "%s\\n" "*raw" "-A PREROUTING -p udp --dport 53 -j CT --notrack" "COMMIT" | iptables-restore --noflush',
        'ip addr add 10.9.9.1/24 dev eth1',
        'echo "done: $LAN via $WAN"',
      ].join('\n') + '\n',
    );
    const r = await sb.run(['run', f, 'eth0']);
    expect(r.stdout).toBe('done: 192.168.1.0/24 via eth0\n');
    expect(r.rc).toBe(0);
    expect(r.stderr).toContain('fw.sh: note: `modprobe\' accepted without effect');
    // `tr' is not modelled, but it sits before || true: handled, as under set -e
    expect(r.stderr).toContain('tr: command not modelled by run');
    const s = await save(sb);
    expect(s).toContain('-A FORWARD -s 192.168.1.0/24 -i eth1 -o eth0 -m comment --comment "lan out" -j ACCEPT');
    expect(s).toContain('-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE');
    expect(s).toContain('-A BLOCK -s 10.0.0.0/8 -j DROP');
    expect(s).toContain('-A PREROUTING -p udp -m udp --dport 53 -j CT --notrack');
    expect(s).toContain(':FORWARD DROP [0:0]');
    const lab = sb.lab()!;
    expect(lab.hosts.router!.sysctls['net.ipv4.conf.all.rp_filter']).toBe('1');
    expect(lab.hosts.router!.interfaces.find((i) => i.name === 'eth1')!.addrs).toEqual(['192.168.1.1/24', '10.9.9.1/24']);
  });

  it('stops at the first failing line with FILE:LINE: and the tool\'s message; the lab keeps what came before', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'bad.sh', 'iptables -N A\niptables -A A -j ACCEPT\n\niptables -A INPUT -p tcp --dport 22 -j ACCPT\niptables -N NEVER\n');
    const r = await sb.run(['run', f]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toBe("bad.sh:4: iptables v1.8.9 (nf_tables): Chain 'ACCPT' does not exist\nTry `iptables -h' or 'iptables --help' for more information.\n");
    const s = await save(sb);
    expect(s).toContain('-A A -j ACCEPT');
    expect(s).not.toContain('NEVER');
    expect(s).not.toContain('dport 22');
  });

  it('--keep-going reports every failure and applies the rest; the status is the first failure\'s', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'k.sh', 'iptables -X NOPE\niptables -N A\niptables -A INPUT -s 1.2.3.4/40 -j DROP\niptables -N B\n');
    const r = await sb.run(['run', '--keep-going', f]);
    expect(r.rc).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => /^k\.sh:\d+:/.test(l));
    expect(lines.map((l) => l.split(':')[1])).toEqual(['1', '3']);
    expect(r.stderr).toContain('k.sh:1: iptables: No chain/target/match by that name.');
    const s = await save(sb);
    expect(s).toContain(':A - [0:0]');
    expect(s).toContain(':B - [0:0]');
  });

  it('--dry-run parses and checks iptables lines, changes nothing', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'd.sh', 'X=eth9\niptables -A INPUT -i $X -j ACCEPT\niptables -A INPUT --dport 22 -j ACCEPT\nip route add 10.0.0.0/8 via 1.2.3.4\n');
    const r = await sb.run(['run', '--dry-run', f]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('d.sh:3: iptables v1.8.9 (nf_tables): unknown option "--dport"');
    expect(sb.lab()).toBeUndefined();
    const ok = script(sb, 'ok.sh', 'iptables -A INPUT -j ACCEPT\n');
    const r2 = await sb.run(['run', '-n', ok]);
    expect(r2.rc).toBe(0);
    expect(r2.stderr).toBe('ok.sh: 1 commands parsed; nothing was run (--dry-run)\n');
    expect(sb.lab()).toBeUndefined();
  });

  it('stops at a construct it does not model and leaves the lab as it was', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'loop.sh', 'iptables -N FIRST\necho before\nfor p in 22 80; do\n  iptables -A INPUT -p tcp --dport $p -j ACCEPT\ndone\n');
    const r = await sb.run(['run', f]);
    expect(r.rc).toBe(2);
    // bash reads as it runs: what came before the construct printed its output
    expect(r.stdout).toBe('before\n');
    expect(r.stderr).toBe(
      'loop.sh:3: run does not model loops (`for ... do ... done\'); replay this script with the real bash instead: iptables-sim run --shell FILE\n' +
        'loop.sh: the replay stopped there; the lab was left as it was before the script\n',
    );
    expect(sb.lab()).toBeUndefined();
  });

  it('switches hosts with --host and with a directive comment', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'h.sh', 'iptables -N ON_PC1\n# iptables-sim: host pc2\niptables -N ON_PC2\n# iptables-sim: host nowhere\niptables -N NEVER\n');
    const r = await sb.run(['run', '--host', 'pc1', f]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toBe("h.sh:4: no host `nowhere' in the lab (hosts: internet, router, pc1, pc2)\n");
    expect(await save(sb, 'pc1')).toContain(':ON_PC1 - [0:0]');
    expect(await save(sb, 'pc2')).toContain(':ON_PC2 - [0:0]');
    expect(await save(sb, 'router')).toBe('');
  });

  it('runs iptables-nft\'s binaries under their own names, as they print them', async () => {
    // each line as the command alone gives it (fixtures/cli/nft-names.case holds those against the real ones)
    for (const line of ['/usr/sbin/iptables-nft-save -V', 'ip6tables-nft-restore -V', 'iptables-nft -X nochain']) {
      const sb = new Sandbox();
      const r = await sb.run(['run', script(sb, 'n.sh', `${line}\n`)]);
      const a = await new Sandbox().run(splitShell(line.replace('/usr/sbin/', '')));
      expect(r.stdout, line).toBe(a.stdout);
      expect(r.stderr, line).toBe(a.stderr ? `n.sh:1: ${a.stderr}` : '');
      expect(r.rc, line).toBe(a.rc);
    }
    const sb = new Sandbox();
    const r = await sb.run(['run', script(sb, 'r.sh', 'iptables-nft-restore <<EOF\n*filter\n-A INPUT -j nochain\nCOMMIT\nEOF\n')]);
    expect(r.stderr).toContain('r.sh:1: iptables-nft-restore v1.8.9 (nf_tables): Chain \'nochain\' does not exist\n');
  });

  it('keeps iptables-restore\'s COMMIT semantics: tables committed before the error stay', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'r.sh', 'iptables-restore <<EOF\n*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*filter\n-A INPUT -j NOPE\nCOMMIT\nEOF\niptables -N AFTER\n');
    const r = await sb.run(['run', f]);
    const alone = new Sandbox();
    const a = await alone.run(['iptables-restore'], '*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*filter\n-A INPUT -j NOPE\nCOMMIT\n');
    expect(r.rc).toBe(a.rc);
    // bash names the line of the command itself (the lookahead after its first word is `<<')
    expect(r.stderr).toBe(`r.sh:1: ${a.stderr}`);
    expect(await save(sb)).toBe(await save(alone));
    expect(await save(sb)).toContain('MASQUERADE');
  });

  it('/proc/sys: modelled and inert keys are sysctls, unknown paths fail as bash says, unmodelled Linux keys are noted', async () => {
    const sb = new Sandbox();
    const f = script(
      sb,
      'p.sh',
      'echo 0 > /proc/sys/net/ipv4/ip_forward\necho 30 > /proc/sys/net/ipv4/tcp_fin_timeout\ncat /proc/sys/net/ipv4/ip_forward\necho 1 > /proc/sys/net/ipv4/conf/eth7/rp_filter\necho 0 > /proc/sys/net/ipv4/tcp_syncookies\ncat /proc/sys/net/ipv4/tcp_syncookies\necho 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all\n',
    );
    const r = await sb.run(['run', f, '--keep-going']);
    expect(r.stdout).toBe('0\n0\n');
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain('p.sh:4: /proc/sys/net/ipv4/conf/eth7/rp_filter: No such file or directory\n');
    expect(r.stderr).toContain('net.ipv4.tcp_fin_timeout is a Linux parameter iptables-sim does not model');
    expect(sb.lab()!.hosts.router!.sysctls['net.ipv4.ip_forward']).toBe('0');
    // a modelled one is written (the host then ignores pings: fixtures/kernel/138-icmp-echo-ignore)
    expect(sb.lab()!.hosts.router!.sysctls['net.ipv4.icmp_echo_ignore_all']).toBe('1');
    // an inert parameter is kept (src/net/sysctl.ts)
    expect(sb.lab()!.hosts.router!.sysctls['net.ipv4.tcp_syncookies']).toBe('0');
    const bad = script(sb, 'v.sh', 'echo abc > /proc/sys/net/ipv4/ip_forward\n');
    const r2 = await sb.run(['run', bad]);
    expect(r2.rc).toBe(1);
    expect(r2.stderr).toBe('v.sh:1: echo: write error: Invalid argument\n');
  });

  it('head and tail cut output as coreutils does (outputs measured with bash and coreutils 9.1)', async () => {
    const sb = new Sandbox();
    const lines = "printf 'a\\nb\\nc\\nd\\n'";
    const f = script(
      sb,
      'ht.sh',
      [`${lines} | head -n 2`, `${lines} | head -3`, "printf 'a\\nb\\nc\\nd' | tail -n 2", `${lines} | tail -1`, `${lines} | tail -n +3`, `${lines} | head -n0`, `${lines} | head -n x`].join('\n') + '\n',
    );
    const r = await sb.run(['run', '--keep-going', f]);
    expect(r.stdout).toBe('a\nb\na\nb\nc\nc\nd' + 'd\n' + 'c\nd\n');
    expect(r.stderr).toBe('ht.sh:7: head: invalid number of lines: \u2018x\u2019\n');
    expect(r.rc).toBe(1);
  });

  it('wc gives one count of standard input as coreutils prints it for a pipe (outputs measured with coreutils 9.1)', async () => {
    const sb = new Sandbox();
    const f = script(
      sb,
      'wc.sh',
      ["printf 'a b\\nc\\n' | wc -l", "printf 'a b\\nc' | wc -l", "printf 'a b\\nc\\n' | wc -w", "printf 'a \u00e9\\n' | wc -c", "printf 'a \u00e9\\n' | wc -m", "printf '' | wc -l", 'echo x | wc -l -', 'iptables -S | wc -l', 'echo x | wc -lw'].join('\n') + '\n',
    );
    const r = await sb.run(['run', '--keep-going', f]);
    expect(r.stdout).toBe('2\n1\n3\n5\n4\n0\n1 -\n3\n');
    expect(r.stderr).toBe('wc.sh:9: wc: -lw: only one count of standard input is modelled by run\n');
  });

  it('keeps files the script writes in memory and never on disk', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'w.sh', 'iptables -N X\niptables-save > saved.rules\niptables -X X\niptables-restore < saved.rules\niptables -X X\niptables-restore -T filter saved.rules\n');
    const r = await sb.run(['run', f]);
    expect(r.rc).toBe(0);
    expect(existsSync(join(sb.dir, 'saved.rules'))).toBe(false);
    expect(r.stderr).toContain(`files the script wrote were kept in memory for the replay, not written to disk: ${join(sb.dir, 'saved.rules')}`);
    expect(await save(sb)).toContain(':X - [0:0]');
  });

  it('exit, source, set -u, readonly and unknown commands', async () => {
    const sb = new Sandbox();
    script(sb, 'vars.sh', 'CHAIN=FROM_SOURCE\n');
    const f = script(sb, 'e.sh', '. ./vars.sh\niptables -N $CHAIN\nexit 3\niptables -N NEVER\n');
    const r = await sb.run(['run', f]);
    expect(r.rc).toBe(3);
    expect(await save(sb)).toContain(':FROM_SOURCE - [0:0]');
    expect(await save(sb)).not.toContain('NEVER');
    const u = script(sb, 'u.sh', 'set -u\niptables -A INPUT -s $UNSET_NET -j DROP\n');
    const ru = await sb.run(['run', u]);
    expect([ru.rc, ru.stderr]).toEqual([1, 'u.sh:2: UNSET_NET: unbound variable\n']);
    const c = script(sb, 'c.sh', "awk '{print $1}' /etc/hosts\n");
    const rc = await sb.run(['run', c]);
    expect(rc.rc).toBe(127);
    expect(rc.stderr).toMatch(/^c\.sh:1: awk: command not modelled by run/);
    // names of Object.prototype's members are commands and hosts like any other name
    const proto = script(sb, 'p.sh', 'toString\nconstructor x\n__proto__\n');
    const rp = await sb.run(['run', '--keep-going', proto]);
    expect(rp.rc).toBe(127);
    expect(rp.stderr.split('\n').filter((l) => l.includes('command not modelled by run')).map((l) => l.slice(0, l.indexOf(' by run')))).toEqual([
      'p.sh:1: toString: command not modelled',
      'p.sh:2: constructor: command not modelled',
      'p.sh:3: __proto__: command not modelled',
    ]);
    const ph = script(sb, 'ph.sh', '# iptables-sim: host constructor\niptables -S\n');
    expect((await sb.run(['run', ph])).stderr).toMatch(/^ph\.sh:1: no host `constructor' in the lab \(hosts: /);
    const hostOpt = await sb.run(['--host', 'toString', 'iptables', '-S']);
    expect([hostOpt.rc, hostOpt.stderr]).toEqual([2, "iptables-sim: no host `toString' in the lab (hosts: internet, router, pc1, pc2)\n"]);
    const ro = script(sb, 'ro.sh', 'readonly A=1\nA=2\n');
    const rr = await sb.run(['run', ro]);
    expect([rr.rc, rr.stderr]).toEqual([1, 'ro.sh:2: A: readonly variable\n']);
  });

  it('takes the options of its #! line (-u, -x)', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '-'], '#!/bin/sh -ux\nIPT=iptables\n$IPT -N "$CHAIN"\n');
    expect(r.rc).toBe(1);
    expect(r.stderr).toBe("+ IPT=iptables\n-:3: CHAIN: unbound variable\n");
  });

  it('reads the script from standard input with -', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '-'], 'iptables -N FROM_STDIN\niptables -S FROM_STDIN\n');
    expect([r.rc, r.stdout]).toEqual([0, '-N FROM_STDIN\n']);
  });

  it('grep reads what the tools print, as scripts test iptables output', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '-'], "iptables -N WEB\niptables -S | grep -q -- '-N WEB' && echo have-web\niptables -S | grep -c -e '^-P' -e '^-N'\niptables -S | grep -qw WE || iptables -N WE\niptables -S | grep -E '^-N (WEB|WE)$'\n");
    expect([r.rc, r.stdout, r.stderr]).toEqual([0, 'have-web\n4\n-N WE\n-N WEB\n', '']);
  });

  it('runs commands that finish at once and tools that are awaited in order, in lists and pipelines alike', async () => {
    // builtins return their status at once, the emulated tools through a promise: either may come
    // first or last in an AND-OR list or a pipeline, and the output, statuses and failure keep the order
    const sb = new Sandbox();
    const r = await sb.run(
      ['run', '-'],
      [
        'echo a; iptables -N X && echo b || echo c',
        'iptables -N X 2>/dev/null && echo d || echo e',
        'iptables -S X | grep -c X; echo f',
        'false || iptables -A X -j ACCEPT && iptables -S X | wc -l',
        'set -o pipefail',
        'iptables -S NOPE 2>/dev/null | cat || echo g',
        "echo h | iptables -S X | grep -- '-A X' && echo i",
        '! iptables -S X >/dev/null && echo j || echo k',
        'iptables -S X > x.txt; cat x.txt | iptables -S X 2>&1 | grep -c . ; echo 0 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward',
        'X=1 iptables -S X >/dev/null && echo "x=$X"',
        'iptables -S NOPE2',
        'echo never',
      ].join('\n') + '\n',
    );
    expect(r.stdout).toBe('a\nb\ne\n1\nf\n2\ng\n-A X -j ACCEPT\ni\nk\n2\n0\nx=\n');
    expect(r.stderr.split('\n')[0]).toBe("-:11: iptables v1.8.9 (nf_tables): chain `NOPE2' in table `filter' is incompatible, use 'nft' tool.");
    expect(r.rc).toBe(1);
  });

  it('keeps a carriage return in words, as bash does with a CRLF script', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '-'], 'echo x\r\n');
    expect(r.stdout).toBe('x\r\n');
  });

  it('test and [ work on strings, numbers and the emulated tools', async () => {
    const sb = new Sandbox();
    const r = await sb.run(['run', '-'], '[ -x /sbin/iptables ] && echo tools\n[ "a" = "b" ] || echo differ\ntest 3 -gt 2 && echo gt\n[ -f /proc/sys/net/ipv4/ip_forward ] && echo proc\n[ 1 -eq x ] || true\n');
    expect(r.stdout).toBe('tools\ndiffer\ngt\nproc\n');
    expect(r.stderr).toBe('[: x: integer expression expected\n');
  });
});

describe('run gives every line what the command gives on its own', () => {
  const lines = [
    'iptables -N WEB',
    'iptables -A INPUT -p tcp --dport 80 -j WEB',
    'iptables -A WEB -s 10.0.0.0/8 -j ACCEPT',
    'iptables -A INPUT -j SNAT --to-source 1.2.3.4',
    'iptables -I INPUT 9 -j DROP',
    'iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT',
    'iptables -D INPUT -j ACCEPT',
    'iptables -X WEB',
    'iptables -E WEB WWW',
    'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80',
    'iptables -t nat -A OUTPUT -j MASQUERADE',
    'iptables -L -n -v --line-numbers',
    'iptables -S',
    'iptables -P FORWARD REJECT',
    'iptables -Z',
    'iptables-save -t nat',
    'sysctl net.ipv4.ip_forward',
    'sysctl -w net.ipv4.conf.eth1.rp_filter=2',
    'sysctl -w net.ipv4.conf.eth1.rp_filter=9',
    'ip addr add 172.16.0.1/24 dev eth1',
    'ip addr add 172.16.0.1/24 dev eth1',
    'ip route add 10.8.0.0/16 via 172.16.0.254',
    'ip route',
    'ip -4 addr show dev eth1',
    'ip link set eth9 up',
    'iptables -A WWW -j LOG --log-prefix "w w "',
    'iptables -F WWW',
    'iptables -X WWW',
  ];

  it('stdout, stderr, status and the lab', async () => {
    const replayed = new Sandbox();
    const f = script(replayed, 'all.sh', lines.join('\n') + '\n');
    const r = await replayed.run(['run', '--keep-going', f]);
    const alone = new Sandbox();
    let out = '';
    let err = '';
    let firstFailure = 0;
    for (const [i, l] of lines.entries()) {
      const a = await alone.run(splitShell(l));
      out += a.stdout;
      if (a.rc !== 0) {
        firstFailure ||= a.rc;
        err += `all.sh:${i + 1}: ${a.stderr}`;
      } else err += a.stderr;
    }
    expect(normStamp(r.stdout)).toBe(normStamp(out));
    expect(r.stderr).toBe(err);
    expect(r.rc).toBe(firstFailure);
    const strip = (l: unknown) => ({ ...(l as object), checksum: undefined });
    expect(strip(replayed.lab())).toEqual(strip(alone.lab()));
  });

  it('writes the lab once, whole: the file after a replay reads back', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'x.sh', 'iptables -N A\niptables -A A -j DROP\nfalse\niptables -N B\n');
    const r = await sb.run(['run', f]);
    expect([r.rc, r.stderr]).toEqual([1, 'x.sh:3: false: exit status 1\n']);
    expect(() => readLab(sb.state)).not.toThrow();
    expect(await save(sb)).toContain('-A A -j DROP');
  });
});
