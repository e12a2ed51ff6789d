/**
 * `check` (expectation files) and `demo` (the seed post's story). The verdicts the demo must show
 * are the kernel's: each is the result of a probe recorded in fixtures/kernel (scenario named).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from './helpers/cli.js';
import { parseChecks } from '../src/cli/commands/check.js';

const DNAT = 'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80';
const SNAT = 'iptables -t nat -A POSTROUTING -o eth0 -s 192.168.1.0/24 -j SNAT --to-source 50.60.70.80';

async function lab(...commands: string[]): Promise<Sandbox> {
  const s = new Sandbox();
  for (const c of commands) expect((await s.sh(c)).rc).toBe(0);
  return s;
}

describe('check: parsing expectations', () => {
  it('reads hosts, protocols, endpoints, sport, by and seen-from; skips comments and blank lines', () => {
    const e = parseChecks(
      [
        '# the seed network',
        '',
        'from internet tcp 50.60.70.80:8080 => established by pc1 seen-from 50.60.70.1',
        'from pc1 udp 50.60.70.1:80 sport 40001 => established seen-from 50.60.70.80:40001  # SNAT keeps the port',
        'from pc1 icmp 203.0.113.10 => timeout',
      ].join('\n'),
      'f',
    );
    expect(e).toHaveLength(3);
    expect(e[0]).toMatchObject({ line: 3, from: 'internet', proto: 'tcp', dport: 8080, verdict: 'established', by: 'pc1', seenFrom: { address: '50.60.70.1' } });
    expect(e[1]).toMatchObject({ line: 4, proto: 'udp', sport: 40001, seenFrom: { address: '50.60.70.80', port: 40001 } });
    expect(e[2]).toMatchObject({ line: 5, proto: 'icmp', dport: undefined, verdict: 'timeout' });
  });

  it.each([
    ['from pc1 tcp 1.2.3.4:80', "f:1: expected `from HOST PROTO DST[:PORT] => VERDICT ...'"],
    ['to pc1 tcp 1.2.3.4:80 => established', "f:1: a check starts with `from HOST PROTO DST[:PORT]'"],
    ['from pc1 gre 1.2.3.4 => timeout', "f:1: protocol `gre' is not tcp, udp or icmp"],
    ['from pc1 tcp 1.2.3.4 => timeout', 'f:1: a tcp check needs DST:PORT'],
    ['from pc1 tcp 1.2.3.400:80 => timeout', "f:1: `1.2.3.400:80' is not ADDRESS or ADDRESS:PORT"],
    ['from pc1 tcp 1.2.3.4:0 => timeout', "f:1: `1.2.3.4:0' is not ADDRESS or ADDRESS:PORT"],
    ['from pc1 tcp 1.2.3.4:80 dport 9 => timeout', "f:1: after the destination only `sport N' may follow"],
    ['from pc1 tcp 1.2.3.4:80 => works', "f:1: verdict `works' is not established, refused, unreachable or timeout"],
    ['from pc1 tcp 1.2.3.4:80 => established by', "f:1: `by' needs a value"],
    ['from pc1 tcp 1.2.3.4:80 => established via pc2', "f:1: unknown word `via' (by HOST, seen-from ADDRESS[:PORT])"],
    ['from pc1 tcp 1.2.3.4:80 => refused by pc2', 'f:1: by/seen-from only go with established'],
  ])('%s is refused', (line, message) => {
    expect(() => parseChecks(line, 'f')).toThrow(message);
  });

  it('every bad line is said at once, in file order', () => {
    const text = ['from pc1 tcp 1.2.3.4:80 => established', 'from pc1 tcp 1.2.3.4:80 => establised', '# fine', 'frm pc1 tcp 1.2.3.4:80 => timeout'].join('\n');
    expect(() => parseChecks(text, 't.check')).toThrow(
      "t.check:2: verdict `establised' is not established, refused, unreachable or timeout\nt.check:4: a check starts with `from HOST PROTO DST[:PORT]'",
    );
  });
});

describe('check: running expectations', () => {
  const FILE = [
    'from internet tcp 50.60.70.80:8080 => established by pc1 seen-from 50.60.70.1',
    'from pc1 tcp 203.0.113.10:80 => established seen-from 50.60.70.80',
    'from pc2 tcp 50.60.70.80:8080 => established by pc1',
  ].join('\n');

  it('passes and fails line by line, exit 1 when any fails, with the trace of the failure', async () => {
    const s = await lab(DNAT, SNAT);
    writeFileSync(join(s.dir, 'fw.checks'), FILE);
    const r = await s.run(['--no-color', 'check', 'fw.checks']);
    expect(r.rc).toBe(1);
    expect(r.stdout).toContain('PASS fw.checks:1  from internet tcp 50.60.70.80:8080');
    expect(r.stdout).toContain('PASS fw.checks:2  ');
    // hairpin without the MASQUERADE fix: pc1 answers pc2 directly (kernel scenario 04-seed-dnat)
    expect(r.stdout).toMatch(/FAIL fw\.checks:3 {2}from pc2 tcp 50\.60\.70\.80:8080 => established by pc1\n {5}got: timeout\n/);
    expect(r.stdout).toContain('nat:PREROUTING');
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('2 passed, 1 failed');
  });

  it('exit 0 once the lab does what the file says, and the lab itself is not changed', async () => {
    const s = await lab(DNAT, SNAT, 'iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o eth1 -p tcp --dport 80 -j MASQUERADE');
    const before = JSON.stringify(s.lab());
    const r = await s.run(['--no-color', 'check', '-'], FILE);
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    expect(r.stdout).toContain('3 passed, 0 failed');
    expect(JSON.stringify(s.lab())).toBe(before);
  });

  it('TAP and JUnit XML', async () => {
    const s = await lab(DNAT, SNAT);
    const tap = await s.run(['check', '--format', 'tap', '-'], FILE);
    expect(tap.rc).toBe(1);
    const lines = tap.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'TAP version 13',
      '1..3',
      'ok 1 - from internet tcp 50.60.70.80:8080 => established by pc1 seen-from 50.60.70.1',
      'ok 2 - from pc1 tcp 203.0.113.10:80 => established seen-from 50.60.70.80',
      'not ok 3 - from pc2 tcp 50.60.70.80:8080 => established by pc1',
    ]);
    expect(lines[5]).toBe('  ---');
    expect(tap.stdout).toContain('  got: "timeout"');
    expect(tap.stdout.trimEnd().endsWith('  ...')).toBe(true);

    const junit = await s.run(['check', '--format', 'junit', '-'], FILE);
    expect(junit.rc).toBe(1);
    expect(junit.stdout).toContain('<testsuite name="-" tests="3" failures="1">');
    expect(junit.stdout.match(/<testcase /g)).toHaveLength(3);
    expect(junit.stdout).toContain('<failure message="got timeout">');
    expect(junit.stdout).toContain('name="line 1: from internet tcp 50.60.70.80:8080 =&gt; established by pc1 seen-from 50.60.70.1"/>');
  });

  it('usage errors exit 2: unknown format, unreadable file, unknown host', async () => {
    const s = new Sandbox();
    expect(await s.run(['check', '--format', 'xml', '-'], FILE)).toMatchObject({ rc: 2, stderr: expect.stringContaining("unknown --format `xml'") });
    expect(await s.run(['check', 'nope.checks'])).toMatchObject({ rc: 2, stderr: expect.stringContaining('cannot read nope.checks') });
    expect(await s.run(['check', '-'], 'from pc9 tcp 1.2.3.4:80 => timeout')).toMatchObject({ rc: 2, stderr: expect.stringContaining("-:1: no host `pc9' in the lab") });
  });
});

describe('demo', () => {
  it("tells the seed post's story with the kernel's verdicts, on a scratch lab", async () => {
    const s = new Sandbox();
    const r = await s.run(['--no-color', 'demo']);
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    const verdicts = r.stdout.split('\n').filter((l) => l.startsWith('verdict: ')).map((l) => l.slice(9));
    expect(verdicts).toEqual([
      'timeout', // 01-no-rules: pc1 -> internet, no NAT
      'established', // 02-seed-snat
      'established', // 03-seed-masquerade
      'established', // 04-seed-dnat: internet -> 50.60.70.80:8080
      'refused', // 04-seed-dnat: router -> 192.168.1.1:8080 without OUTPUT DNAT
      'established', // 05-output-dnat: router -> 192.168.1.1:8080
      'established', // 05-output-dnat: router -> 50.60.70.80:8080 (the post says it fails)
      'timeout', // 05-output-dnat: router -> 127.0.0.1:8080
      'established', // 06-addrtype-masquerade
      'timeout', // 06-addrtype-masquerade: 127.0.0.1 needs route_localnet
      'established', // 07-route-localnet
      'timeout', // 04-seed-dnat: pc2 -> 50.60.70.80:8080 without the hairpin fix
      'established', // 08-hairpin: pc2
      'established', // 08-hairpin: pc1
    ]);
    expect(r.stdout).toMatch(/ 50% {2}established by pc1 \(192\.168\.1\.2:80\)/);
    expect(r.stdout).toMatch(/ 50% {2}established by pc2 \(192\.168\.1\.3:80\)/);
    expect(s.lab()).toBeUndefined();
  });
});
