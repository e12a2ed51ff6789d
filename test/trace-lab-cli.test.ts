/**
 * The emulator's own commands through the CLI: trace's options and output shapes, --all-paths,
 * and custom labs (lab init --topology, lab show, lab reset).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from './helpers/cli.js';

describe('trace options', () => {
  it.each([
    ['-p icmp -d 1.2.3.4 --dport 80', 'trace: --dport is for tcp and udp packets'],
    ['-p udp -d 1.2.3.4 --dport 80 --tcp-flags SYN', 'trace: --tcp-flags is for tcp packets'],
    ['-p tcp -d 1.2.3.4 --dport 80 --tcp-flags 0x12', "trace: --tcp-flags 0x12: Unknown TCP flag `0x12' (the flags are FIN, SYN, RST, PSH, ACK, URG, ALL and NONE, separated by commas)"],
    ['-p tcp -d 1.2.3.4 --dport 80 --icmp-type echo-reply', 'trace: --icmp-type is for icmp packets'],
    ['-p icmp -d 1.2.3.4 --icmp-type 3/1 --sport 7', 'trace: --sport sets the identifier of an ICMP echo; this ICMP type has none'],
    ['-p 47 -d 1.2.3.4 --sport 7', 'trace: --sport is for tcp and udp packets (and the identifier of an ICMP echo)'],
    ['-p tcp -d 1.2.3.4', 'trace: a tcp or udp packet needs --dport'],
    ['-p tcp --dport 80', 'trace: say where the packet goes with -d ADDRESS'],
    ['-p tcp -d 1.2.3 --dport 80', "trace: -d must be an IPv4 address, got `1.2.3'"],
    ['-p bogus -d 1.2.3.4', "trace: unknown protocol `bogus'"],
    ['-p tcp -d 1.2.3.4 --dport 80 --format yaml', "trace: unknown --format `yaml' (text, json, xtables)"],
    ['-p tcp -d 1.2.3.4 --dport 80 --all-paths', 'trace: --all-paths needs a connection (--from HOST)'],
  ])('trace %s is refused with exit 2 and leaves no lab behind', async (args, message) => {
    const s = new Sandbox();
    const r = await s.sh(`trace ${args}`);
    expect(r).toMatchObject({ rc: 2, stdout: '' });
    expect(r.stderr).toContain(message);
    expect(s.lab()).toBeUndefined();
  });

  it('an ICMP echo carries --sport as its identifier, which conntrack keys on', async () => {
    const s = new Sandbox();
    await s.sh('iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE');
    const r = await s.sh('--json trace --from pc1 -p icmp -d 203.0.113.10 --sport 4242');
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'established', server: { host: 'internet' }, peer: { address: '50.60.70.80', port: 4242 } });
    const ct = await s.sh('conntrack -L');
    expect(ct.stdout).toContain('icmp     1 ');
    expect(ct.stdout).toContain('src=192.168.1.2 dst=203.0.113.10 type=8 code=0 id=4242 src=203.0.113.10 dst=50.60.70.80 type=0 code=0 id=4242');
  });

  it('--json of one packet and of a connection', async () => {
    const s = new Sandbox();
    await s.sh('iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80');
    const one = JSON.parse((await s.sh('--json trace -i eth0 -p tcp -s 50.60.70.1 -d 50.60.70.80 --dport 8080')).stdout);
    expect(one.host).toBe('router');
    expect(one.events.some((e: { kind: string }) => e.kind === 'rule')).toBe(true);
    const conn = JSON.parse((await s.sh('--json trace --from internet -p tcp -d 50.60.70.80 --dport 8080 --sport 40001')).stdout);
    expect(conn).toMatchObject({ verdict: 'established', server: { host: 'pc1', address: '192.168.1.2', port: 80 }, peer: { address: '50.60.70.1', port: 40001 } });
    expect(typeof conn.explanation).toBe('string');
    expect(Array.isArray(conn.events)).toBe(true);
  });

  it('the text trace names each chain it enters (table:CHAIN), and the one it returns to', async () => {
    const s = new Sandbox();
    for (const c of ['iptables -N LOGD', 'iptables -A FORWARD -j LOGD', 'iptables -A LOGD -p tcp -j RETURN']) await s.sh(c);
    const tcp = await s.sh('--no-color trace -i eth1 -p tcp -s 192.168.1.2 -d 203.0.113.10 --dport 80');
    expect(tcp.stdout).toContain(
      ['  filter:FORWARD', '    rule 1: -A FORWARD -j LOGD  => jump to LOGD', '  filter:LOGD', '    rule 1: -A LOGD -p tcp -j RETURN  => RETURN', '  filter:FORWARD', '    policy ACCEPT'].join('\n'),
    );
    const icmp = await s.sh('--no-color trace -i eth1 -p icmp -s 192.168.1.2 -d 203.0.113.10');
    expect(icmp.stdout).toContain(['  filter:LOGD', '    end of LOGD: return to FORWARD', '  filter:FORWARD', '    policy ACCEPT'].join('\n'));
  });

  it('--json gives the errno a refused connection reports, for TCP as for UDP', async () => {
    const s = new Sandbox();
    // nothing listens on tcp/22: the kernel answers the SYN with a reset; REJECT answers one too
    const closed = JSON.parse((await s.sh('--json trace --from internet -p tcp -d 50.60.70.80 --dport 22')).stdout);
    expect(closed).toMatchObject({ verdict: 'refused', errno: 'ECONNREFUSED' });
    await s.sh('iptables -A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset');
    await s.sh('iptables -A INPUT -p udp --dport 80 -j REJECT');
    for (const proto of ['tcp', 'udp']) {
      const r = JSON.parse((await s.sh(`--json trace --from pc1 -p ${proto} -d 192.168.1.1 --dport 80`)).stdout);
      expect(r, proto).toMatchObject({ verdict: 'refused', errno: 'ECONNREFUSED' });
    }
  });
});

describe('ARP between the hosts of a connection', () => {
  it('keeps the neighbour entries a connection learned in the lab file, and later connections use them', async () => {
    const s = new Sandbox();
    await s.sh('--host router sysctl -w net.ipv4.conf.eth1.rp_filter=1');
    await s.sh('--host pc1 ip addr add 10.9.9.9/32 dev eth0');
    await s.sh('--host pc1 ip route add 203.0.113.10 via 192.168.1.1 src 10.9.9.9');
    // a cold cache: the router answers no ARP request from 10.9.9.9 (it fails rp_filter), and pc1
    // reports its SYN lost (fixtures/kernel/351-arp-answers)
    const cold = JSON.parse((await s.sh('--json trace --from pc1 -p tcp -d 203.0.113.10 --dport 80')).stdout);
    expect(cold).toMatchObject({ verdict: 'unreachable', errno: 'EHOSTUNREACH' });
    expect(cold.explanation).toContain("router does not answer pc1's ARP request for 192.168.1.1 from 10.9.9.9 on its eth1: routing refuses the request");
    // pc1 learns the router from a connection of its own address; the router learns pc1
    expect(JSON.parse((await s.sh('--json trace --from pc1 -p tcp -d 192.168.1.1 --dport 80')).stdout).verdict).toBe('established');
    const hosts = s.lab()!.hosts as Record<string, { neighbours?: unknown[] }>;
    expect(hosts.pc1!.neighbours).toEqual([{ dev: 'eth0', addr: '192.168.1.1', host: 'router', iface: 'eth1' }]);
    expect(hosts.router!.neighbours).toEqual([{ dev: 'eth1', addr: '192.168.1.2', host: 'pc1', iface: 'eth0' }]);
    // a warm cache: no ARP, and the SYN meets rp_filter itself (fixtures/kernel/21-rp-filter)
    const warm = JSON.parse((await s.sh('--json trace --from pc1 -p tcp -d 203.0.113.10 --dport 80')).stdout);
    expect(warm.verdict).toBe('timeout');
    expect(warm.explanation).toContain('reverse-path filter (rp_filter=1) on eth1');
  });
});

describe('trace --all-paths', () => {
  it('lists every outcome of random draws with its probability and leaves the lab as it was', async () => {
    const s = new Sandbox();
    const rules = [
      'iptables -t nat -A PREROUTING -p tcp --dport 8081 -m statistic --mode random --probability 0.25 -j DNAT --to-destination 192.168.1.2:80',
      'iptables -t nat -A PREROUTING -p tcp --dport 8081 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 192.168.1.3:80',
      'iptables -t nat -A PREROUTING -p tcp --dport 8081 -j DNAT --to-destination 192.168.1.1:80',
    ];
    for (const r of rules) expect((await s.sh(r)).rc).toBe(0);
    const before = JSON.stringify(s.lab());
    const r = await s.sh('--no-color trace --from internet -p tcp -d 50.60.70.80 --dport 8081 --sport 40000 --all-paths');
    expect(r.rc).toBe(0);
    // 1/4 to pc1; 3/4 x 1/2 to pc2; the rest to the router itself
    expect(r.stdout).toMatch(/ 25% {2}established by pc1 \(192\.168\.1\.2:80\)/);
    expect(r.stdout).toMatch(/ 37\.5% {2}established by pc2 \(192\.168\.1\.3:80\)/);
    expect(r.stdout).toMatch(/ 37\.5% {2}established by router \(192\.168\.1\.1:80\)/);
    expect(JSON.stringify(s.lab())).toBe(before);
  });
});

describe('lab init --topology', () => {
  const GOOD = [
    'name: office',
    'default: fw',
    'hosts:',
    '  isp:',
    '    interfaces: { eth0: 198.51.100.1/24 }',
    '  fw:',
    '    interfaces:',
    '      eth0: 198.51.100.2/24',
    '      eth1: 10.0.0.1/24',
    '    routes: [default via 198.51.100.1]',
    '    sysctls: { net.ipv4.ip_forward: 1 }',
    '    services: [tcp/22]',
    '  pc:',
    '    interfaces: { eth0: 10.0.0.2/24 }',
    '    routes: [default via 10.0.0.1]',
    'segments:',
    '  wan: [isp:eth0, fw:eth0]',
    '  lan: [fw:eth1, pc:eth0]',
    '',
  ].join('\n');

  it('builds the lab the file describes; commands and traces run on it; lab reset brings the built-in lab back', async () => {
    const s = new Sandbox();
    writeFileSync(join(s.dir, 'office.yaml'), GOOD);
    const init = await s.sh('lab init --topology office.yaml');
    expect(init.stderr).toBe('');
    expect(init.rc).toBe(0);
    expect(Object.keys(s.lab()!.hosts).sort()).toEqual(['fw', 'isp', 'pc']);
    const show = await s.sh('--no-color lab show');
    expect(show.stdout).toContain('fw');
    expect(show.stdout).toContain('10.0.0.1/24');
    // the default host is fw: iptables acts there
    expect((await s.sh('iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE')).rc).toBe(0);
    const t = JSON.parse((await s.sh('--json trace --from pc -p tcp -d 198.51.100.2 --dport 22')).stdout);
    expect(t).toMatchObject({ verdict: 'established', server: { host: 'fw' } });
    const reset = await s.sh('lab reset');
    expect(reset.rc).toBe(0);
    expect(Object.keys(s.lab()!.hosts).sort()).toEqual(['internet', 'pc1', 'pc2', 'router']);
  });

  it('reports every problem with where it is, exit 2, and keeps the current lab', async () => {
    const s = new Sandbox();
    await s.sh('iptables -A INPUT -j ACCEPT');
    const before = JSON.stringify(s.lab());
    const bad = GOOD.replace('10.0.0.1/24', '10.0.0.300/24').replace('[tcp/22]', '[tcp/99999]').replace('default via 10.0.0.1]', 'default gw 10.0.0.1]');
    writeFileSync(join(s.dir, 'bad.yaml'), bad);
    const r = await s.sh('lab init --topology bad.yaml');
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('bad.yaml is not a valid lab topology:');
    expect(r.stderr).toContain("`10.0.0.300/24' is not an IPv4 address with a prefix length");
    expect(r.stderr).toContain('a service is written like tcp/80');
    expect(r.stderr).toContain("unknown route keyword `gw'");
    expect(JSON.stringify(s.lab())).toBe(before);
  });

  it('a file that is not YAML, or missing, is an error naming it', async () => {
    const s = new Sandbox();
    writeFileSync(join(s.dir, 'broken.yaml'), 'hosts: [unclosed\n');
    const r = await s.sh('lab init --topology broken.yaml');
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('broken.yaml');
    // where: the line and column, then the line itself with a caret under the place
    writeFileSync(join(s.dir, 'indent.yaml'), 'hosts:\n  a:\n interfaces: [\n');
    const i = await s.sh('lab init --topology indent.yaml');
    expect(i).toMatchObject({ rc: 2, stderr: 'iptables-sim: indent.yaml is not valid YAML: All mapping items must start at the same column at line 2, column 5\n  a:\n    ^\n' });
    const m = await s.sh('lab init --topology missing.yaml');
    expect(m.rc).not.toBe(0);
    expect(m.stderr).toContain('missing.yaml');
    expect(s.lab()).toBeUndefined();
  });
});
