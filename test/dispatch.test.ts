/**
 * The tools run without commander (src/cli/dispatch.ts directTool/runTool) must behave exactly as
 * through main(): same output, messages, exit status and lab, for every way of giving the global
 * options; anything directTool does not take is left to commander.
 */
import { describe, expect, it } from 'vitest';
import { BufferIo } from '../src/cli/io.js';
import { directTool, runTool } from '../src/cli/dispatch.js';
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
    // an empty --state is the default file, as in main()
    expect(directTool(['--state=', 'iptables'], { IPTABLES_SIM_STATE: '/tmp/z.json' })).toMatchObject({ statePath: '/tmp/z.json' });
  });

  it.each([[[]], [['--help']], [['--version']], [['trace', '-d', '1.2.3.4']], [['--state']], [['--colour', 'iptables']], [['--state', '-x', 'iptables']], [['lab', 'show']], [['iptables-sim']]])(
    '%j is left to commander',
    (argv) => {
      expect(directTool(argv, {})).toBeUndefined();
    },
  );
});
