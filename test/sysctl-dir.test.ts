/**
 * `sysctl DIR`: the directories whose keys the emulator models only in part (fixtures/cli/
 * sysctl-dir.case holds one it models whole, net.bridge, against procps): reading one lists the
 * keys `sysctl -a` lists under it, in that order; a directory none of whose keys is modelled is
 * named as such.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';

describe('sysctl of a directory', () => {
  it('lists the keys -a lists under it, each as a key of its own', async () => {
    const sb = new Sandbox();
    const all = (await sb.sh('sysctl -a')).stdout.split('\n').filter((l) => l.startsWith('net.ipv4.conf.eth1.'));
    expect(all.length).toBeGreaterThan(5);
    const dir = await sb.sh('sysctl net.ipv4.conf.eth1');
    expect(dir).toMatchObject({ rc: 0, stderr: '' });
    expect(dir.stdout).toBe(all.map((l) => `${l}\n`).join(''));
    expect((await sb.sh('sysctl -N net/ipv4/conf/eth1')).stdout).toBe(all.map((l) => `${l.split(' = ')[0]}\n`).join(''));
    expect((await sb.sh('sysctl -r rp_filter net.ipv4.conf.eth1')).stdout).toBe('net.ipv4.conf.eth1.arp_filter = 0\nnet.ipv4.conf.eth1.rp_filter = 0\n');
  });

  it('the IPv6 keys a lab holds no value of yet are listed with their defaults, by -a too, and globs reach them', async () => {
    const sb = new Sandbox();
    const lo = await sb.sh('sysctl net.ipv6.conf.lo');
    expect(lo.stdout).toBe(
      ['accept_ra = 1', 'accept_redirects = 1', 'accept_source_route = 0', 'autoconf = 1', 'disable_ipv6 = 0', 'forwarding = 0', 'proxy_ndp = 0', 'use_tempaddr = -1'].map((l) => `net.ipv6.conf.lo.${l}\n`).join(''),
    );
    expect((await sb.sh('sysctl -a')).stdout).toContain(lo.stdout);
    const p = await sb.sh('sysctl -p -', 'net.ipv6.conf.*.proxy_ndp = 1\n');
    expect(p.stdout.split('\n').filter(Boolean)).toEqual(['all', 'default', 'eth0', 'eth1', 'lo'].map((d) => `net.ipv6.conf.${d}.proxy_ndp = 1`));
    expect((await sb.sh('sysctl -n net.ipv6.conf.eth1.proxy_ndp')).stdout).toBe('1\n');
  });

  it('a write to one fails with EINVAL and changes nothing; the exit status stays 0', async () => {
    const sb = new Sandbox();
    const before = (await sb.sh('sysctl -a')).stdout;
    expect(await sb.sh('sysctl -w net.ipv4.conf.eth1=1')).toMatchObject({ rc: 0, stdout: '', stderr: 'sysctl: setting key "net.ipv4.conf.eth1": Invalid argument\n' });
    expect((await sb.sh('sysctl -a')).stdout).toBe(before);
  });

  it('a directory of keys the emulator does not model is named as such, one Linux lacks is not found', async () => {
    const sb = new Sandbox();
    expect(await sb.sh('sysctl net.core')).toMatchObject({ rc: 1, stdout: '', stderr: 'sysctl: iptables-sim models none of the keys under net.core (they exist on Linux); nothing was read\n' });
    expect(await sb.sh('sysctl net.ipv6.route')).toMatchObject({ rc: 1, stderr: 'sysctl: iptables-sim models none of the keys under net.ipv6.route (they exist on Linux); nothing was read\n' });
    expect(await sb.sh('sysctl net.ipv4.conf.eth9')).toMatchObject({ rc: 1, stderr: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9: No such file or directory\n' });
  });
});
