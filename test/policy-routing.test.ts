/**
 * Policy routing (`ip rule`, routes in other tables) is stored and shown, not traced: a routing
 * decision on a host whose rules are not the kernel's three defaults, or that would fall through
 * to table default, stops the trace with exit status 3 instead of silently using the main table.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    // routes of table 100 and 200 do not leak into the FIB a trace uses (packet ids count on)
    const noIds = (t: string): string => t.replace(/"id": \d+/g, '"id": N');
    expect({ ...after, stdout: noIds(after.stdout) }).toEqual({ ...before, stdout: noIds(before.stdout) });
  });

  it('a rule on the router stops a trace the router routes, with exit status 3', async () => {
    const sb = new Sandbox();
    expect(await sb.sh('ip rule add fwmark 1 table 100')).toEqual({ rc: 0, stdout: '', stderr: '' });
    const r = await sb.sh(TRACE);
    expect(r.rc).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('cannot trace the routing decision of router for 203.0.113.10');
    expect(r.stderr).toContain('policy routing');
    // a packet pc1 sends to pc2 never asks the router
    expect((await sb.sh('--json trace --from pc1 -p tcp -d 192.168.1.3 --dport 80')).rc).toBe(0);
    // deleting the rule gives the defaults back, and the trace runs again
    expect((await sb.sh('ip rule del fwmark 1 table 100')).rc).toBe(0);
    expect((await sb.sh(TRACE)).rc).toBe(0);
  });

  it('a host that would fall through to table default stops the trace', async () => {
    const sb = new Sandbox();
    expect((await sb.sh('ip route del default')).rc).toBe(0);
    expect((await sb.sh('ip route add default via 50.60.70.1 table default')).rc).toBe(0);
    const r = await sb.sh(TRACE);
    expect(r.rc).toBe(3);
    expect(r.stderr).toContain('table default (253)');
  });

  it('ip route get refuses on such a host', async () => {
    const sb = new Sandbox();
    await sb.sh('ip rule add from 10.0.0.0/24 lookup 200 priority 100');
    const r = await sb.sh('ip route get 8.8.8.8');
    expect(r.rc).toBe(2);
    expect(r.stderr).toMatch(/^iptables-sim: ip route get on this host \(its policy routing rules/);
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
    expect(show).toContain("  4 policy routing rules, not the kernel's defaults");
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
    bad.hosts.router.routes.push({ dst: '10.3.0.0/16', dev: 'eth1', table: 8 });
    const problems = structureProblems(bad).list.join('\n');
    expect(problems).toContain('hosts.router.rules[1].fwmark');
    expect(problems).toContain('table 8 is not in fibTables');
    const old = JSON.parse(JSON.stringify(lab));
    delete old.hosts.router.rules;
    delete old.hosts.router.fibTables;
    old.hosts.router.routes = old.hosts.router.routes.filter((r: { table?: unknown }) => typeof r.table !== 'number');
    expect(structureProblems(old).list).toEqual([]);
  });
});
