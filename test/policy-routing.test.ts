/**
 * Policy routing (`ip rule`, routes in other tables) in traces and `ip route get`. What the
 * kernel does with rules is held to recordings in fixtures/kernel/145-147 (kernel-lab,
 * kernel-conntrack and kernel-trace replay them) and fixtures/cli/ip-route-get-rules; these tests
 * pin the pieces a trace's text and a batch show.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fibLookup, type FibRoute, type Flow } from '../src/net/routing.js';
import type { PolicyRule } from '../src/net/lab.js';
import { parseDotted } from '../src/net/ipv4.js';
import { structureProblems } from '../src/state/validate.js';
import { Sandbox } from './helpers/cli.js';

const TRACE = '--json trace --from pc1 -p tcp -d 203.0.113.10 --dport 80';

describe('policy routing in traces', () => {
  it('a lab with the default rules and extra tables traces as before', async () => {
    const plain = new Sandbox();
    const before = await plain.sh(TRACE);
    expect(before.rc).toBe(0);
    const sb = new Sandbox();
    for (const l of ['ip route add local 0.0.0.0/0 dev lo table 100', 'ip route add default via 192.168.1.2 table 200', 'ip rule show']) expect((await sb.sh(l)).rc, l).toBe(0);
    const after = await sb.sh(TRACE);
    // routes of table 100 and 200 are not looked up: no rule selects them (packet ids count on)
    const noIds = (t: string): string => t.replace(/"id": \d+/g, '"id": N');
    expect({ ...after, stdout: noIds(after.stdout) }).toEqual({ ...before, stdout: noIds(before.stdout) });
  });

  it('a mark set in mangle PREROUTING picks the table of its rule, and the trace says which route', async () => {
    const sb = new Sandbox();
    for (const l of ['iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE', 'iptables -t mangle -A PREROUTING -s 192.168.1.2 -j MARK --set-mark 1', 'ip rule add fwmark 1 lookup 100', 'ip route add default via 192.168.1.3 dev eth1 table 100']) expect((await sb.sh(l)).rc, l).toBe(0);
    const r = await sb.sh('trace --from pc1 -p tcp -d 203.0.113.10 --dport 80');
    expect(r.rc).toBe(0);
    expect(r.stdout).toContain('route forward: 203.0.113.10 via route "default via 192.168.1.3 dev eth1 table 100" (ip rule 32765: from all fwmark 0x1 lookup 100)');
    // pc1 has the kernel's rules: its route names none
    expect(r.stdout).toContain('route output: 203.0.113.10 via route "default via 192.168.1.1 dev eth0", source 192.168.1.2\n');
    expect(r.stdout).toMatch(/verdict: timeout/);
    // pc2's packets carry no mark: main's default route
    expect((await sb.sh('trace --from pc2 -p tcp -d 203.0.113.10 --dport 80')).stdout).toMatch(/verdict: established/);
    // a batch asks the same rules
    writeFileSync(join(sb.dir, 'p.txt'), '-i eth1 -s 192.168.1.2 -d 203.0.113.10 --dport 80\n-i eth1 -s 192.168.1.3 -d 203.0.113.10 --dport 80\n');
    const b = await sb.sh('trace --batch p.txt');
    expect(b.rc).toBe(0);
    expect(b.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { out: string }).out)).toEqual(['eth1', 'eth0']);
  });

  it("a rule's prohibit action answers as a prohibit route does", async () => {
    const sb = new Sandbox();
    expect((await sb.sh('ip rule add from 192.168.1.3 to 203.0.113.10 prohibit pref 100')).rc).toBe(0);
    const r = await sb.sh('trace --from pc2 -p tcp -d 203.0.113.10 --dport 80');
    expect(r.stdout).toContain('the route to 203.0.113.10 is prohibit (ip rule 100): communication administratively prohibited');
    expect(r.stdout).toMatch(/verdict: unreachable/);
  });

  it('a host whose main and local tables have no route falls through to table default', async () => {
    const sb = new Sandbox();
    expect((await sb.sh('iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE')).rc).toBe(0);
    expect((await sb.sh('ip route del default')).rc).toBe(0);
    expect((await sb.sh(TRACE)).stdout).toMatch(/"verdict": "unreachable"/);
    expect((await sb.sh('ip route add default via 50.60.70.1 table default')).rc).toBe(0);
    const r = await sb.sh('trace --from pc1 -p tcp -d 203.0.113.10 --dport 80');
    expect(r.stdout).toContain('via route "default via 50.60.70.1 dev eth0 table default"');
    expect(r.stdout).toMatch(/verdict: established/);
  });
});

describe('fibLookup()', () => {
  const ip = (s: string): number => parseDotted(s)!;
  const route = (table: FibRoute['table'], dst: string, plen: number, dev: string): FibRoute => ({ table, type: 'unicast', addr: ip(dst), plen, dev, scope: 'link', proto: 'static' });
  const fib = [route('main', '0.0.0.0', 0, 'eth0'), route(100, '0.0.0.0', 0, 'eth1'), route(200, '10.0.0.0', 8, 'eth2')];
  const flow = { dst: ip('8.8.8.8'), src: 0, iif: 'lo', mark: 0, tos: 0 };
  const main: PolicyRule = { pref: 32766, table: 254 };
  const via = (rules: PolicyRule[], f: Partial<Flow> = {}): string | undefined => fibLookup(fib, rules, { ...flow, ...f })?.dev;

  it('matches the mark under its mask, and `not` inverts the whole selector', () => {
    const rules: PolicyRule[] = [{ pref: 1, table: 100, fwmark: 0x10, fwmask: 0xf0 }, main];
    expect(via(rules, { mark: 0x1f })).toBe('eth1');
    expect(via(rules, { mark: 0x20 })).toBe('eth0');
    expect(via([{ pref: 1, table: 100, fwmark: 0x10, fwmask: 0xf0, not: true }, main], { mark: 0x20 })).toBe('eth1');
  });

  it('compares from and to under their prefix (host bits count for nothing), and iif lo is what the host sends', () => {
    expect(via([{ pref: 1, table: 100, from: '192.168.1.77/24' }, main], { src: ip('192.168.1.2') })).toBe('eth1');
    // an unbound socket has no source yet: a rule `from` a prefix does not select it
    expect(via([{ pref: 1, table: 100, from: '192.168.1.0/24' }, main])).toBe('eth0');
    expect(via([{ pref: 1, table: 100, iif: 'lo' }, main])).toBe('eth1');
    expect(via([{ pref: 1, table: 100, iif: 'lo' }, main], { iif: 'eth1' })).toBe('eth0');
  });

  it("passes over a route suppress_prefixlength suppresses (wg-quick's rules)", () => {
    const rules: PolicyRule[] = [{ pref: 1, table: 254, suppress: 0 }, { pref: 2, table: 100, fwmark: 0xca6c, fwmask: 0xffffffff, not: true }, main];
    // main's default route (/0) does not count for the first rule: table 100's does
    expect(via(rules)).toBe('eth1');
    expect(via(rules, { mark: 0xca6c })).toBe('eth0');
  });

  it('follows goto to the first rule of its priority (none: passed over), nop passes, ports and uids select', () => {
    const rules: PolicyRule[] = [{ pref: 1, table: 0, action: 'goto', goto: 3, from: '10.0.0.1' }, { pref: 2, table: 100 }, { pref: 3, table: 0, action: 'nop' }, { pref: 4, table: 100, ipproto: 6, dport: [80, 80] }, main];
    expect(via(rules)).toBe('eth1');
    expect(via(rules, { src: ip('10.0.0.1') })).toBe('eth0');
    expect(via(rules, { src: ip('10.0.0.1'), proto: 6, dport: 80 })).toBe('eth1');
    expect(via(rules, { src: ip('10.0.0.1'), proto: 17, dport: 80 })).toBe('eth0');
    expect(via([{ pref: 1, table: 0, action: 'goto', goto: 9 }, main])).toBe('eth0');
    expect(via([{ pref: 1, table: 100, uid: [1000, 2000] }, main], { uid: 1500 })).toBe('eth1');
    expect(via([{ pref: 1, table: 100, uid: [1000, 2000] }, main])).toBe('eth0');
  });

  it('passes a flow on when the table has no route for it, and stops at a rule action', () => {
    expect(via([{ pref: 1, table: 200 }, main])).toBe('eth0');
    expect(fibLookup(fib, [{ pref: 1, table: 0, action: 'blackhole' }, main], flow)).toMatchObject({ type: 'blackhole', rule: { pref: 1 } });
    expect(fibLookup(fib, [{ pref: 1, table: 300 }], flow)).toBeUndefined();
  });
});

describe('policy routing in scripts and lab files', () => {
  it('iptables-sim run replays a transparent-proxy script to the end', async () => {
    const sb = new Sandbox();
    const text = [
      '#!/bin/sh',
      'set -e',
      'ip rule add fwmark 1 table 100',
      'ip route add local 0.0.0.0/0 dev lo table 100',
      'ip route add default via 50.60.70.1 table 200',
      'ip rule add from 192.168.1.0/24 lookup 200 priority 100',
      'iptables -t mangle -A PREROUTING -p tcp --dport 80 -j MARK --set-mark 1',
      'ip route flush table 200',
      'ip rule del priority 100',
      'iptables -A FORWARD -j ACCEPT',
      '',
    ].join('\n');
    writeFileSync(join(sb.dir, 'tp.sh'), text);
    const r = await sb.sh('run tp.sh');
    expect(r).toMatchObject({ rc: 0, stderr: '' });
    expect((await sb.sh('iptables -S FORWARD')).stdout).toBe('-P FORWARD ACCEPT\n-A FORWARD -j ACCEPT\n');
    expect((await sb.sh('ip rule show')).stdout).toBe('0:\tfrom all lookup local\n32765:\tfrom all fwmark 0x1 lookup 100\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
    expect((await sb.sh('ip route show table 100')).stdout).toBe('local default dev lo scope host \n');
    const show = (await sb.sh('lab show')).stdout;
    expect(show).toContain('  route local default dev lo table 100\n');
    expect(show).toContain("  4 policy routing rules, not the kernel's defaults (`ip rule show` lists them)\n");
  });

  it('lab files keep and check rules and tables; older files have the defaults', async () => {
    const sb = new Sandbox();
    await sb.sh('ip rule add not from 10.0.0.0/8 fwmark 0x10/0xff iif eth1 table 7 pref 9');
    await sb.sh('ip route add blackhole 10.2.0.0/16 table 7');
    const lab = sb.lab()!;
    const router = lab.hosts.router!;
    expect(router.rules![1]).toEqual({ pref: 9, table: 7, not: true, from: '10.0.0.0/8', fwmark: 16, fwmask: 255, iif: 'eth1' });
    expect(router.fibTables).toEqual([7]);
    expect(structureProblems(lab as never).list).toEqual([]);
    const bad = JSON.parse(JSON.stringify(lab));
    bad.hosts.router.rules[1].fwmark = -1;
    bad.hosts.router.rules[1].dport = [90, 80];
    bad.hosts.router.routes.push({ dst: '10.3.0.0/16', dev: 'eth1', table: 8 });
    const problems = structureProblems(bad).list.join('\n');
    expect(problems).toContain('hosts.router.rules[1].fwmark');
    expect(problems).toContain('hosts.router.rules[1].dport: should be [first, last]');
    expect(problems).toContain('table 8 is not in fibTables');
    const old = JSON.parse(JSON.stringify(lab));
    delete old.hosts.router.rules;
    delete old.hosts.router.fibTables;
    old.hosts.router.routes = old.hosts.router.routes.filter((r: { table?: unknown }) => typeof r.table !== 'number');
    expect(structureProblems(old).list).toEqual([]);
  });
});
