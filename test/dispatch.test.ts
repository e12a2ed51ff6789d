/**
 * The tools run without commander (src/cli/dispatch.ts directTool/runTool), and plain traces
 * (src/cli/trace-direct.ts directTrace/runTrace), must behave exactly as through main(): same
 * output, messages, exit status and lab, for every way of giving the global options; anything
 * they do not take is left to commander.
 */
import { describe, expect, it } from 'vitest';
import { BufferIo } from '../src/cli/io.js';
import { directTool, runTool } from '../src/cli/dispatch.js';
import { directTrace, runTrace } from '../src/cli/trace-direct.js';
import { Sandbox } from './helpers/cli.js';

const CASES: string[][] = [
  ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'],
  ['iptables', '-S'],
  ['iptables', '-A', 'INPUT', '--bogus'],
  ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-j', 'SNAT', '--to-source', '1.2.3.4'],
  ['--host', 'pc1', 'iptables', '-A', 'OUTPUT', '-j', 'DROP'],
  ['--host=pc2', 'iptables-save'],
  ['--host', 'nohost', 'iptables', '-S'],
  ['--json', '--no-color', 'sysctl', 'net.ipv4.ip_forward'],
  ['sysctl', '-w', 'net.ipv4.ip_forward=0'],
  ['conntrack', '-L'],
  ['ip', 'route', 'show'],
  ['iptables-restore', '--test'],
];

describe('tools without commander', () => {
  it.each(CASES.map((c) => [c.join(' '), c] as const))('%s: same result as through main()', async (_n, argv) => {
    const viaMain = new Sandbox();
    const direct = new Sandbox();
    const a = await viaMain.run(argv, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n');
    const d = directTool(['--state', direct.state, ...argv], {});
    expect(d).toBeDefined();
    const io = new BufferIo('*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', {}, direct.dir);
    const rc = await runTool(d!.tool, d!.args, io, d!);
    expect({ rc, stdout: io.stdout, stderr: io.stderr }).toEqual(a);
    expect(direct.lab()).toEqual(viaMain.lab());
  });

  it('reads the global options as commander does', () => {
    expect(directTool(['--state', 'x.json', '--host', 'pc1', '--json', 'iptables', '-S', '--host', 'y'], {})).toMatchObject({
      tool: 'iptables',
      args: ['-S', '--host', 'y'],
      statePath: 'x.json',
      host: 'pc1',
      json: true,
      color: true,
    });
    expect(directTool(['--state=a', '--state=b', 'sysctl', '-a'], {})).toMatchObject({ statePath: 'b', args: ['-a'] });
    // an empty --state is left to main(), which refuses it
    expect(directTool(['--state=', 'iptables'], { IPTABLES_SIM_STATE: '/tmp/z.json' })).toBeUndefined();
    expect(directTool(['--state', '', 'iptables'], {})).toBeUndefined();
  });

  it('an empty --state is refused (a script whose $LAB is unset would otherwise act on the default lab)', async () => {
    const sb = new Sandbox();
    for (const argv of [['--state', '', 'iptables', '-A', 'INPUT', '-j', 'DROP'], ['--state=', 'trace', '-p', 'tcp', '-d', '1.2.3.4', '--dport', '80'], ['lab', 'reset', '--state', '']]) {
      const io = new BufferIo('', { IPTABLES_SIM_STATE: sb.state }, sb.dir);
      const { main } = await import('../src/cli/main.js');
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.stderr).toBe('iptables-sim: --state needs a file name\n');
    }
    expect(sb.lab()).toBeUndefined();
  });

  it('a usage error of the command line is a parameter problem: exit 2, a message and where to look', async () => {
    const sb = new Sandbox();
    for (const [argv, message] of [
      [['trace', '--bogus'], "iptables-sim: unknown option '--bogus'"],
      [['traec'], "iptables-sim: unknown command 'traec'\n(Did you mean trace?)"],
      [['check'], "iptables-sim: missing required argument 'file'"],
    ] as const) {
      const r = await sb.run([...argv]);
      expect(r, argv.join(' ')).toMatchObject({ rc: 2, stdout: '' });
      expect(r.stderr).toBe(`${message}\n(iptables-sim --help lists the commands, iptables-sim COMMAND --help the options of one)\n`);
    }
    expect((await sb.run(['trace', '--help'])).rc).toBe(0);
    expect((await sb.run(['--version'])).rc).toBe(0);
  });

  it("the global options after one of the emulator's own commands mean what they mean before it", async () => {
    const sb = new Sandbox();
    const before = await sb.run(['--json', '--host', 'pc1', 'trace', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '80']);
    const after = await sb.run(['trace', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '80', '--json', '--host', 'pc1']);
    expect(JSON.parse(after.stdout).host).toBe('pc1');
    expect({ ...after, stdout: JSON.parse(after.stdout).outcome }).toEqual({ ...before, stdout: JSON.parse(before.stdout).outcome });
    const other = new Sandbox();
    expect((await sb.run(['lab', 'show', '--json', '--state', other.state])).rc).toBe(0);
    expect(JSON.parse((await sb.run(['lab', 'show', '--json', '--state', other.state])).stdout).format).toBe('iptables-sim-lab');
    // (the real tools' own options stay theirs: -m state --state)
    expect((await sb.run(['iptables', '-A', 'INPUT', '-m', 'state', '--state', 'NEW', '-j', 'ACCEPT'])).rc).toBe(0);
    expect((await sb.run(['iptables', '-S', 'INPUT'])).stdout).toContain('-m state --state NEW');
  });

  it.each([[[]], [['--help']], [['--version']], [['trace', '-d', '1.2.3.4']], [['--state']], [['--colour', 'iptables']], [['--state', '-x', 'iptables']], [['lab', 'show']], [['iptables-sim']]])(
    '%j is left to commander',
    (argv) => {
      expect(directTool(argv, {})).toBeUndefined();
    },
  );
});

const TRACES: string[][] = [
  ['trace', '-i', 'eth0', '-p', 'tcp', '-s', '50.60.70.1', '-d', '50.60.70.80', '--dport', '22'],
  ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.1', '--dport', '80', '--brief'],
  ['--json', 'trace', '--from', 'pc1', '--protocol', 'udp', '--destination', '50.60.70.1', '--dport', '53', '--sport', '5353'],
  ['--no-color', 'trace', '--from', 'pc2', '-p', 'icmp', '-d', '192.168.1.1', '--icmp-type', 'echo-request', '--format', 'xtables'],
  ['--host', 'pc1', 'trace', '-p', 'tcp', '-d', '192.168.1.1', '--dport', '22', '--tcp-flags', 'SYN', '--mark', '3', '--len', '80', '--ttl', '9'],
  ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.1', '--dport', '80', '--all-paths', '--seed', '7'],
  ['trace', '--in-interface', 'eth1', '-s', '192.168.1.2', '-d', '8.8.8.8', '-p', 'udp', '--dport', '53'],
  ['trace', '-d', 'nowhere', '--dport', '80'],
  ['trace', '--from', 'nohost', '-d', '1.2.3.4', '--dport', '80'],
  ['trace', '-p', 'bogus', '-d', '1.2.3.4'],
];

describe('trace without commander', () => {
  it.each(TRACES.map((c) => [c.join(' '), c] as const))('%s: same result as through main()', async (_n, argv) => {
    const viaMain = new Sandbox();
    const direct = new Sandbox();
    for (const sb of [viaMain, direct]) expect((await sb.sh('iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE')).rc).toBe(0);
    const a = await viaMain.run(argv);
    const d = directTrace(['--state', direct.state, ...argv], {});
    expect(d).toBeDefined();
    const io = new BufferIo('', {}, direct.dir);
    const rc = await runTrace(d!, io);
    // packet ids count on from one trace to the next in one process
    const ids = (s: string): string => s.replace(/"id": \d+/g, '"id": 0');
    expect({ rc, stdout: ids(io.stdout), stderr: io.stderr }).toEqual({ ...a, stdout: ids(a.stdout) });
    expect(direct.lab()).toEqual(viaMain.lab());
  });

  it('hands commander the options object commander would make', () => {
    expect(directTrace(['--state', 's', 'trace', '-d', '1.2.3.4', '--brief', '-i', 'eth0'], {})).toEqual({
      options: { protocol: 'tcp', destination: '1.2.3.4', brief: true, inInterface: 'eth0' },
      statePath: 's',
      host: undefined,
      json: false,
      color: true,
    });
  });

  it.each([
    [['trace', '-d', '1.2.3.4', '-d', '5.6.7.8']],
    [['trace', '--dport=80']],
    [['trace', '--dport', '-1']],
    [['trace', '-d']],
    [['trace', '--help']],
    [['trace', '-h']],
    [['trace', '--diagram', 'x.svg', '-d', '1.2.3.4']],
    [['trace', '--no-diagram', '--from', 'pc1', '-d', '1.2.3.4']],
    [['trace', '--batch', '-']],
    [['trace', '--hooks', 'router']],
    [['trace', 'extra']],
    [['trace', '-pd', 'tcp']],
    [['trace', '--', '-d', '1.2.3.4']],
    [['lab', 'show']],
    [['--state', '-x', 'trace']],
  ])('%j is left to commander', (argv) => {
    expect(directTrace(argv, {})).toBeUndefined();
  });
});

describe('tools the emulator does not run', () => {
  it('refuses them by name with the reason run gives in a script, not as an unknown command', async () => {
    const sb = new Sandbox();
    const legacy = await sb.run(['iptables-legacy', '-S']);
    expect(legacy).toMatchObject({ rc: 1, stdout: '', stderr: 'iptables-sim: iptables-legacy: iptables-sim emulates iptables-nft (1.8.9, nf_tables); use iptables\n' });
    const nft = await sb.run(['nft', 'list', 'ruleset']);
    expect(nft.rc).toBe(1);
    expect(nft.stderr).toBe('iptables-sim: nft: the nft tool is not modelled; iptables-sim emulates the iptables commands\n');
    // (hidden: --help lists the tools it runs)
    expect((await sb.run(['--help'])).stdout).not.toContain('iptables-legacy');
  });
});
