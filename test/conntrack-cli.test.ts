/**
 * `iptables-sim conntrack`: the options conntrack-tools has that the emulator does not model are
 * named as such, not called invalid; options conntrack-tools does not have get getopt's message.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/cli.js';

describe('conntrack options', () => {
  it.each([
    // what conntrack-tools has and the emulator refuses by name (its own messages: test/conntrack-cli-kernel.test.ts)
    ['-E', 'conntrack: -E is not modelled by iptables-sim (it offers -L, -G, -I, -A, -U, -D, -C, -F, -V and -h)\n'],
    ['-L expect', 'conntrack: the expect table is not modelled by iptables-sim (the lab has connections only)\n'],
    ['-L -o xml', 'conntrack: -o xml is not modelled by iptables-sim (it prints the default, extended and save formats)\n'],
    ['-L -z', 'conntrack: -z is not modelled by iptables-sim (its filters: -s -d -r -q -p -f -m -u -w -n -g -j, and -o extended)\n'],
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
