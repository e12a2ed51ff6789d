/**
 * `iptables-sim conntrack`: the options conntrack-tools has that the emulator does not model are
 * named as such, not called invalid; options conntrack-tools does not have get getopt's message.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';

describe('conntrack options', () => {
  it.each([
    ['-D', 'conntrack: -D is not modelled by iptables-sim (it offers -L [-p PROTO], -F and -V)\n'],
    ['--src 1.2.3.4 -L', 'conntrack: --src is not modelled by iptables-sim (it offers -L [-p PROTO], -F and -V)\n'],
    ['-Q', "conntrack: invalid option -- 'Q'\n"],
    ['--bogus', "conntrack: unrecognized option '--bogus'\n"],
  ])('conntrack %s', async (args, message) => {
    const r = await new Sandbox().sh(`conntrack ${args}`);
    expect(r).toEqual({ rc: 2, stdout: '', stderr: message });
  });

  it('lists and flushes', async () => {
    const sb = new Sandbox();
    await sb.sh('iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE');
    await sb.sh('trace --from pc1 -p tcp -d 203.0.113.10 --dport 80 --brief');
    expect((await sb.sh('conntrack -L -p tcp')).stdout).toMatch(/^tcp +6 \d+ TIME_WAIT src=192\.168\.1\.2 dst=203\.0\.113\.10 .* src=203\.0\.113\.10 dst=50\.60\.70\.80 /);
    expect((await sb.sh('conntrack -F')).rc).toBe(0);
    expect((await sb.sh('conntrack -L')).stderr).toBe('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n');
  });
});
