/**
 * ip6tables beside iptables: IPv6 addresses as glibc parses and writes them, the two families'
 * rule sets kept apart, and a replay that undoes a failed ip6tables command. The command-level
 * behaviour is checked against real ip6tables 1.8.9 in fixtures/cli/ip6tables*.case; the
 * expectations here are values those recordings showed.
 */
import fc from 'fast-check';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIp6, ip6ParseMultiple, parseIp6 } from '../src/net/ipv6.js';
import { renderProblems, structureProblems } from '../src/state/validate.js';
import { Sandbox } from './helpers/cli.js';

describe('IPv6 addresses (inet_pton / inet_ntop, xtables_ip6parse_multiple)', () => {
  it('writes them as ip6tables -S showed them', () => {
    const seen: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:DB8::2', '2001:db8::2'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      // two runs of two zero words: the first becomes ::
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0:0:1:0:0:0:0', '2001:0:0:1::'],
      // a single zero word is not compressed
      ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
      ['::ffff:192.168.1.1', '::ffff:192.168.1.1'],
      ['::ffff:0:0', '::ffff:0.0.0.0'],
      ['::1.2.3.4', '::1.2.3.4'],
      ['::1', '::1'],
      ['::', '::'],
    ];
    for (const [typed, shown] of seen) expect(formatIp6(parseIp6(typed)!), typed).toBe(shown);
  });

  it('refuses what ip6tables could not find', () => {
    for (const bad of ['2001:db8:::1', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '12345::1', '[2001:db8::1]', 'fe80::1%eth0', '1.2.3.4', '6bone.net', ':1::', '1::2:', '::01.2.3.4']) {
      expect(parseIp6(bad), bad).toBeUndefined();
    }
  });

  it('reads back every address it writes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (w) => {
        const text = formatIp6(w);
        expect(parseIp6(text)).toEqual(w);
        expect(formatIp6(parseIp6(text.toUpperCase())!)).toBe(text);
      }),
    );
  });

  it('masks the address and keeps the prefix, or the mask when it has holes', () => {
    expect(ip6ParseMultiple('3fff:ffff::/16')).toEqual([{ addr: '3fff::', mask: 16 }]);
    expect(ip6ParseMultiple('2001:db8::/ffff:0:ffff::')).toEqual([{ addr: '2001::', mask: 'ffff:0:ffff::' }]);
    expect(ip6ParseMultiple('2001:db8::/ffff:ffff::')).toEqual([{ addr: '2001:db8::', mask: 32 }]);
    expect(ip6ParseMultiple('anything/0')).toEqual([{ addr: '::', mask: 0 }]);
    expect(ip6ParseMultiple('2001:db8::1,2001:db8::2/127')).toEqual([
      { addr: '2001:db8::1', mask: 128 },
      { addr: '2001:db8::2', mask: 127 },
    ]);
    expect(() => ip6ParseMultiple('2001:db8::/129')).toThrow("invalid mask `129' specified");
    expect(() => ip6ParseMultiple('10.0.0.1')).toThrow("host/network `10.0.0.1' not found");
  });
});

describe('two rule sets on one host', () => {
  it('keeps ip6tables rules apart from iptables rules, in the lab file too', async () => {
    const sb = new Sandbox();
    expect((await sb.run(['ip6tables', '-A', 'INPUT', '-s', 'fe80::/10', '-j', 'ACCEPT'])).rc).toBe(0);
    expect((await sb.run(['iptables', '-A', 'INPUT', '-s', '10.0.0.0/8', '-j', 'ACCEPT'])).rc).toBe(0);
    expect((await sb.run(['iptables', '-S', 'INPUT'])).stdout).toBe('-P INPUT ACCEPT\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\n');
    expect((await sb.run(['ip6tables', '-S', 'INPUT'])).stdout).toBe('-P INPUT ACCEPT\n-A INPUT -s fe80::/10 -j ACCEPT\n');
    const lab = sb.lab()!;
    expect(lab.hosts.router!.tables6!.filter!.chains.find((c) => c.name === 'INPUT')!.rules[0]!.src6).toEqual({ addr: 'fe80::', mask: 10 });
    expect(structureProblems(lab as never).list).toEqual([]);
  });

  it('names an IPv6 address or mask in a lab file that inet_ntop would not write', async () => {
    const sb = new Sandbox();
    await sb.run(['ip6tables', '-A', 'INPUT', '-s', 'fe80::/10', '-j', 'ACCEPT']);
    const lab = sb.lab()!;
    const rule = lab.hosts.router!.tables6!.filter!.chains.find((c) => c.name === 'INPUT')!.rules[0]!;
    rule.src6 = { addr: 'FE80:0::', mask: 129 };
    rule.dst6 = { addr: '::', mask: 'ffff::0' };
    expect(structureProblems(lab as never).list).toEqual([
      'hosts.router.tables6.filter.INPUT.rules[0].src6.addr: expected an IPv6 address as inet_ntop() writes it, got "FE80:0::"',
      'hosts.router.tables6.filter.INPUT.rules[0].src6.mask: expected a whole number from 0 to 128, got 129',
      'hosts.router.tables6.filter.INPUT.rules[0].dst6.mask: expected a prefix length or an IPv6 mask, got "ffff::0"',
    ]);
  });
});

describe('what the emulator does not model in ip6tables', () => {
  it('refuses it by name and adds nothing', async () => {
    const sb = new Sandbox();
    const cases: [string[], string][] = [
      [['-A', 'OUTPUT', '-m', 'cgroup', '--path', '/'], "iptables-sim does not model the `cgroup' match of iptables 1.8.9 (yet); the rule was not added"],
      // targets ip6tables has that the emulator does not model
      [['-t', 'mangle', '-A', 'PREROUTING', '-j', 'RATEEST', '--rateest-name', 'r1', '--rateest-interval', '250ms', '--rateest-ewmalog', '0.5s'], "iptables-sim does not model the `RATEEST' target of iptables 1.8.9 (yet); the rule was not added"],
    ];
    for (const [args, message] of cases) {
      const r = await sb.run(['ip6tables', ...args]);
      expect(r.rc).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect((await sb.run(['ip6tables-save'])).stdout).toBe('');
  });
});

describe('what the emulator does not model in iptables', () => {
  it('refuses a target by name (taken as a chain it would read "Chain ... does not exist"), and adds nothing', async () => {
    const sb = new Sandbox();
    for (const target of ['RATEEST']) {
      const r = await sb.run(['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-j', target]);
      expect({ rc: r.rc, stderr: r.stderr.split('\n')[0] }).toEqual({ rc: 2, stderr: `iptables v1.8.9 (nf_tables): iptables-sim does not model the \`${target}' target of iptables 1.8.9 (yet); the rule was not added` });
    }
    // (LED, CLUSTERIP, SECMARK and the ipvs match are modelled as the kernel refuses them, CONNSECMARK as
    // it runs: fixtures/cli/ext-led.case, ext-secmark.case, ...)
    // ip6tables has no CLUSTERIP: there it is a chain name, as in ip6tables 1.8.9 (fixtures/cli/ip6tables.case)
    expect((await sb.run(['ip6tables', '-A', 'INPUT', '-j', 'CLUSTERIP'])).stderr).toContain("Chain 'CLUSTERIP' does not exist");
    expect((await sb.run(['iptables-save'])).stdout).toBe('');
  });
});

describe('a hand-edited lab file', () => {
  it("checks ip6tables rules' extension data as ip6tables makes it", async () => {
    const sb = new Sandbox();
    await sb.run(['ip6tables', '-A', 'INPUT', '-m', 'recent', '--set', '--name', 'ssh6']);
    const lab = sb.lab()!;
    expect(renderProblems(lab).list).toEqual([]);
    const m = lab.hosts.router!.tables6!.filter!.chains.find((c) => c.name === 'INPUT')!.rules[0]!.matches[0]!;
    (m.data as { mask6: unknown }).mask6 = 128;
    expect(renderProblems(lab).list).toEqual(["hosts.router.tables6.filter.INPUT.rules[0]: the recent match's mask6 is 128, expected a string"]);
    await sb.run(['ip6tables', '-t', 'nat', '-A', 'PREROUTING', '-j', 'NETMAP', '--to', '2001:db8::/64']);
    const edited = sb.lab()!;
    const t = edited.hosts.router!.tables6!.nat!.chains.find((c) => c.name === 'PREROUTING')!.rules[0]!.target as { data: { prefix6: unknown } };
    expect(renderProblems(edited).list).toEqual([]);
    t.data.prefix6 = ['2001:db8::', '64'];
    expect(renderProblems(edited).list).toEqual(["hosts.router.tables6.nat.PREROUTING.rules[0]: the NETMAP target's prefix6[1] is \"64\", expected a number"]);
  });
});

describe('run with ip6tables', () => {
  const script = (sb: Sandbox, name: string, text: string): string => {
    writeFileSync(join(sb.dir, name), text);
    return name;
  };

  it('--dry-run checks ip6tables lines with ip6tables words', async () => {
    const sb = new Sandbox();
    const f = script(sb, 'd.sh', 'ip6tables -A INPUT -s ::1 -j ACCEPT\nip6tables -A INPUT -s 1.2.3.4 -j ACCEPT\n');
    const r = await sb.run(['run', '--dry-run', f]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain("d.sh:2: ip6tables v1.8.9 (nf_tables): host/network `1.2.3.4' not found");
    expect(sb.lab()).toBeUndefined();
  });

  it('restores from a rules file the script wrote (kept in the replay, not on disk)', async () => {
    const sb = new Sandbox();
    const f = script(
      sb,
      'w.sh',
      'cat > rules.v4 <<EOF\n*filter\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\nEOF\n' +
        'cat > rules.v6 <<EOF\n*filter\n-A INPUT -s fd00::/8 -j ACCEPT\nCOMMIT\nEOF\n' +
        'iptables-restore --noflush rules.v4\nip6tables-restore -T filter rules.v6\niptables -S INPUT\nip6tables -S INPUT\n',
    );
    const r = await sb.run(['run', f]);
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe('-P INPUT ACCEPT\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\n-P INPUT ACCEPT\n-A INPUT -s fd00::/8 -j ACCEPT\n');
    expect(existsSync(join(sb.dir, 'rules.v4'))).toBe(false);
  });

  it('an ip6tables-restore that fails changes nothing, and the script goes on', async () => {
    const sb = new Sandbox();
    const f = script(
      sb,
      'r.sh',
      'ip6tables -A INPUT -s ::1 -j ACCEPT\n' +
        'cat > /tmp/r6 <<EOF\n*filter\n-A INPUT -s ::2 -j ACCEPT\n-A INPUT -s 10.0.0.1 -j ACCEPT\nCOMMIT\nEOF\n' +
        'ip6tables-restore < /tmp/r6\n' +
        'ip6tables -S INPUT\n',
    );
    const r = await sb.run(['run', '--keep-going', f]);
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain("r.sh:8: ip6tables-restore v1.8.9 (nf_tables): host/network `10.0.0.1' not found\nError occurred at line: 3\n");
    expect(r.stdout).toBe('-P INPUT ACCEPT\n-A INPUT -s ::1/128 -j ACCEPT\n');
  });
});
