/**
 * The `ip` command (iproute2 6.1) on the lab's router: messages and statuses as measured in a
 * network namespace (see the comments), output in iproute2's layout for the lab's ports (which
 * print as the kernel lab's veth ports without their `@ifN` / `link-netns` decoration), and the
 * kernel's side effects on routes.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox, splitShell } from './helpers/cli.js';

async function ip(sb: Sandbox, line: string) {
  return sb.run(splitShell(line));
}

describe('ip address', () => {
  it('shows addresses as iproute2 does', async () => {
    const sb = new Sandbox();
    const r = await ip(sb, 'ip addr show dev eth1');
    expect(r).toEqual({
      rc: 0,
      stdout:
        '3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n' +
        '    link/ether 02:00:c0:a8:01:01 brd ff:ff:ff:ff:ff:ff\n' +
        '    inet 192.168.1.1/24 scope global eth1\n' +
        '       valid_lft forever preferred_lft forever\n',
      stderr: '',
    });
    const lo = await ip(sb, 'ip -4 addr show lo');
    expect(lo.stdout).toBe('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n');
    const o = await ip(sb, 'ip -o -4 addr show');
    expect(o.stdout.split('\n')[2]).toBe('3: eth1    inet 192.168.1.1/24 scope global eth1\\       valid_lft forever preferred_lft forever');
  });

  it('adds primaries before secondaries, with broadcast + as the kernel computes it', async () => {
    const sb = new Sandbox();
    for (const l of ['ip addr add 192.168.1.20/24 broadcast + dev eth1', 'ip addr add 10.9.9.9/32 broadcast + dev eth1', 'ip addr add 10.0.0.1/8 brd 10.0.0.255 dev eth1']) {
      expect(await ip(sb, l)).toEqual({ rc: 0, stdout: '', stderr: '' });
    }
    const r = await ip(sb, 'ip -4 addr show dev eth1');
    expect(r.stdout).toBe(
      '3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n' +
        '    inet 192.168.1.1/24 scope global eth1\n       valid_lft forever preferred_lft forever\n' +
        '    inet 10.9.9.9/32 scope global eth1\n       valid_lft forever preferred_lft forever\n' +
        '    inet 10.0.0.1/8 brd 10.0.0.255 scope global eth1\n       valid_lft forever preferred_lft forever\n' +
        '    inet 192.168.1.20/24 brd 192.168.1.255 scope global secondary eth1\n       valid_lft forever preferred_lft forever\n',
    );
  });

  it('fails as iproute2 fails (messages and statuses measured)', async () => {
    const sb = new Sandbox();
    expect(await ip(sb, 'ip addr add 192.168.1.1/24 dev eth1')).toEqual({ rc: 2, stdout: '', stderr: 'Error: ipv4: Address already assigned.\n' });
    expect(await ip(sb, 'ip addr add 10.0.0.1/24 dev nonexist')).toEqual({ rc: 1, stdout: '', stderr: 'Cannot find device "nonexist"\n' });
    expect(await ip(sb, 'ip addr add foo dev eth0')).toEqual({ rc: 1, stdout: '', stderr: 'Error: any valid prefix is expected rather than "foo".\n' });
    expect(await ip(sb, 'ip addr del 10.0.0.9/24 dev eth0')).toEqual({ rc: 2, stdout: '', stderr: 'Error: ipv4: Address not found.\n' });
    expect(await ip(sb, 'ip addr add 10.0.0.1/24')).toEqual({ rc: 1, stdout: '', stderr: 'Not enough information: "dev" argument is required.\n' });
    expect(await ip(sb, 'ip addr flush')).toEqual({ rc: 1, stdout: '', stderr: 'Flush requires arguments.\n' });
    expect(await ip(sb, 'ip addr show dev eth9')).toEqual({ rc: 1, stdout: '', stderr: 'Device "eth9" does not exist.\n' });
    expect(await ip(sb, 'ip foo')).toEqual({ rc: 1, stdout: '', stderr: 'Object "foo" is unknown, try "ip help".\n' });
    expect(await ip(sb, 'ip addr foo')).toEqual({ rc: 255, stdout: '', stderr: 'Command "foo" is unknown, try "ip address help".\n' });
    expect(await ip(sb, 'ip link set eth9 up')).toEqual({ rc: 1, stdout: '', stderr: 'Cannot find device "eth9"\n' });
  });

  it('deletes by wildcard with the old-scripts warning, and a primary takes its secondaries along', async () => {
    const sb = new Sandbox();
    await ip(sb, 'ip addr add 192.168.1.20/24 dev eth1');
    await ip(sb, 'ip addr add 172.16.0.1/24 dev eth1');
    const r = await ip(sb, 'ip addr del 192.168.1.1 dev eth1');
    expect(r.rc).toBe(0);
    expect(r.stderr).toBe(
      'Warning: Executing wildcard deletion to stay compatible with old scripts.\n' +
        '         Explicitly specify the prefix length (192.168.1.1/32) to avoid this warning.\n' +
        '         This special behaviour is likely to disappear in further releases,\n' +
        '         fix your scripts!\n',
    );
    expect(sb.lab()!.hosts.router!.interfaces[2]!.addrs).toEqual(['172.16.0.1/24']);
  });

  it('flush removes addresses of a scope', async () => {
    const sb = new Sandbox();
    await ip(sb, 'ip addr add 10.1.1.1/24 dev eth1');
    expect((await ip(sb, 'ip addr flush dev eth1 scope global')).rc).toBe(0);
    expect(sb.lab()!.hosts.router!.interfaces[2]!.addrs).toEqual([]);
    expect((await ip(sb, 'ip addr flush dev lo scope global')).rc).toBe(0);
    expect(sb.lab()!.hosts.router!.interfaces[0]!.addrs).toEqual(['127.0.0.1/8']);
  });
});

describe('ip route', () => {
  it('lists kernel and static routes in the FIB\'s order with iproute2\'s trailing space', async () => {
    const sb = new Sandbox();
    await ip(sb, 'ip addr add 10.0.0.1/8 dev eth1');
    await ip(sb, 'ip addr add 10.0.0.2/16 dev eth1');
    await ip(sb, 'ip route add 10.42.0.0/16 via 192.168.1.9 metric 10 proto static');
    await ip(sb, 'ip route add 10.42.0.0/16 via 192.168.1.8 metric 20');
    await ip(sb, 'ip route add 10.3.0.0/16 dev eth1 src 192.168.1.1 metric 5');
    await ip(sb, 'ip route add blackhole 10.4.0.0/16');
    const r = await ip(sb, 'ip route');
    expect(r.stdout).toBe(
      [
        'default via 50.60.70.1 dev eth0 ',
        '10.0.0.0/16 dev eth1 proto kernel scope link src 10.0.0.2 ',
        '10.0.0.0/8 dev eth1 proto kernel scope link src 10.0.0.1 ',
        '10.3.0.0/16 dev eth1 scope link src 192.168.1.1 metric 5 ',
        'blackhole 10.4.0.0/16 ',
        '10.42.0.0/16 via 192.168.1.9 dev eth1 proto static metric 10 ',
        '10.42.0.0/16 via 192.168.1.8 dev eth1 metric 20 ',
        '50.60.70.0/24 dev eth0 proto kernel scope link src 50.60.70.80 ',
        '192.168.1.0/24 dev eth1 proto kernel scope link src 192.168.1.1 ',
      ].join('\n') + '\n',
    );
    expect((await ip(sb, 'ip route list proto kernel')).stdout).toBe(
      '10.0.0.0/16 dev eth1 scope link src 10.0.0.2 \n10.0.0.0/8 dev eth1 scope link src 10.0.0.1 \n50.60.70.0/24 dev eth0 scope link src 50.60.70.80 \n192.168.1.0/24 dev eth1 scope link src 192.168.1.1 \n',
    );
    // the lowest metric goes first when no metric is given
    await ip(sb, 'ip route del 10.42.0.0/16');
    expect((await ip(sb, 'ip route show 10.42.0.0/16')).stdout).toBe('10.42.0.0/16 via 192.168.1.8 dev eth1 metric 20 \n');
  });

  it('shows the local table and answers route get', async () => {
    const sb = new Sandbox();
    expect((await ip(sb, 'ip route show table local')).stdout).toBe(
      [
        'local 50.60.70.80 dev eth0 proto kernel scope host src 50.60.70.80 ',
        'broadcast 50.60.70.255 dev eth0 proto kernel scope link src 50.60.70.80 ',
        'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 ',
        'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 ',
        'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 ',
        'local 192.168.1.1 dev eth1 proto kernel scope host src 192.168.1.1 ',
        'broadcast 192.168.1.255 dev eth1 proto kernel scope link src 192.168.1.1 ',
      ].join('\n') + '\n',
    );
    expect((await ip(sb, 'ip route get 8.8.8.8')).stdout).toBe('8.8.8.8 via 50.60.70.1 dev eth0 src 50.60.70.80 uid 0 \n    cache \n');
    expect((await ip(sb, 'ip route get 192.168.1.5')).stdout).toBe('192.168.1.5 dev eth1 src 192.168.1.1 uid 0 \n    cache \n');
    expect((await ip(sb, 'ip route get 192.168.1.1')).stdout).toBe('local 192.168.1.1 dev lo src 192.168.1.1 uid 0 \n    cache <local> \n');
  });

  it('fails as iproute2 fails', async () => {
    const sb = new Sandbox();
    const cases: [string, number, string][] = [
      ['ip route add 10.2.0.0/16 via 172.16.0.1', 2, 'Error: Nexthop has invalid gateway.\n'],
      ['ip route add default via 50.60.70.2', 2, 'RTNETLINK answers: File exists\n'],
      ['ip route del 10.9.0.0/16', 2, 'RTNETLINK answers: No such process\n'],
      ['ip route add 10.1.2.3/16 dev eth1', 2, 'Error: Invalid prefix for given prefix length.\n'],
      ['ip route add foo dev eth1', 1, 'Error: any valid prefix is expected rather than "foo".\n'],
      ['ip route add 10.0.0.0/33 dev eth1', 1, 'Error: any valid prefix is expected rather than "10.0.0.0/33".\n'],
      ['ip route add 10.22.0.0/16', 2, 'RTNETLINK answers: No such device\n'],
      ['ip route add 10.40.0.0/16 via foo', 1, 'Error: inet address is expected rather than "foo".\n'],
      ['ip route add 10.41.0.0/16 dev eth1 src 1.2.3.4', 2, 'Error: Invalid prefsrc address.\n'],
      ['ip route foo', 255, 'Command "foo" is unknown, try "ip route help".\n'],
    ];
    for (const [l, rc, err] of cases) expect(await ip(sb, l), l).toEqual({ rc, stdout: '', stderr: err });
    await ip(sb, 'ip route replace default via 50.60.70.2');
    expect((await ip(sb, 'ip route show default')).stdout).toBe('default via 50.60.70.2 dev eth0 \n');
  });

  it('drops routes as the kernel does: a source address deleted, the last address gone, the link down', async () => {
    const sb = new Sandbox();
    await ip(sb, 'ip addr add 172.16.0.1/24 dev eth1');
    await ip(sb, 'ip addr add 172.16.0.2/24 dev eth1');
    await ip(sb, 'ip route add 10.30.0.0/16 via 172.16.0.9');
    await ip(sb, 'ip route add 10.31.0.0/16 dev eth1 src 172.16.0.2');
    await ip(sb, 'ip addr del 172.16.0.2/24 dev eth1');
    expect(sb.lab()!.hosts.router!.routes.map((r) => r.dst)).toEqual(['default', '10.30.0.0/16']);
    await ip(sb, 'ip addr del 50.60.70.80/24 dev eth0');
    expect(sb.lab()!.hosts.router!.routes.map((r) => r.dst)).toEqual(['10.30.0.0/16']);
    await ip(sb, 'ip link set dev eth1 down');
    expect(sb.lab()!.hosts.router!.routes).toEqual([]);
    expect((await ip(sb, 'ip link show eth1')).stdout).toBe(
      '3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000\n    link/ether 02:00:c0:a8:01:01 brd ff:ff:ff:ff:ff:ff\n',
    );
    expect((await ip(sb, 'ip route add 10.20.0.0/16 dev eth1')).stderr).toBe('Error: Device for nexthop is not up.\n');
  });
});

describe('ip link', () => {
  it('adds and deletes dummy interfaces, whose per-device sysctls start from conf/default', async () => {
    const sb = new Sandbox();
    expect((await ip(sb, 'ip link add eth2 type dummy')).rc).toBe(0);
    expect((await ip(sb, 'ip link add eth2 type dummy')).stderr).toBe('RTNETLINK answers: File exists\n');
    await ip(sb, 'ip link set eth2 up');
    const lab = sb.lab()!.hosts.router!;
    expect(lab.sysctls['net.ipv4.conf.eth2.forwarding']).toBe('1');
    expect((await ip(sb, 'ip link show dev eth2')).stdout).toMatch(/^4: eth2: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n {4}link\/ether 02:00(:[0-9a-f]{2}){4} brd ff:ff:ff:ff:ff:ff\n$/);
    expect((await ip(sb, 'ip link del eth2')).rc).toBe(0);
    expect(sb.lab()!.hosts.router!.sysctls['net.ipv4.conf.eth2.forwarding']).toBeUndefined();
    expect((await ip(sb, 'ip link del eth9')).stderr).toBe('Cannot find device "eth9"\n');
  });

  it('refuses what it does not model, clearly', async () => {
    const sb = new Sandbox();
    for (const l of ['ip rule add from 1.2.3.4 table 100 realms 3', 'ip route append 10.0.0.0/8 dev eth1', 'ip -6 route', 'ip link set eth1 address 02:00:00:00:00:09', 'ip link add br0 type bridge', 'ip neigh show']) {
      const r = await ip(sb, l);
      expect(r.rc, l).toBe(2);
      expect(r.stderr, l).toMatch(/^iptables-sim: .* is not modelled \(ip supports: /);
    }
  });
});
