/**
 * TEE (libxt_TEE.c, xt_TEE): its options, listing and the kernel's refusals are held to
 * fixtures/cli/ext-tee.case; here what no fixture shows: the copy it sends is not modelled, so a
 * trace that reaches a TEE rule stops with exit status 3 and names it.
 */
import { describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/cli.js';

describe('TEE target', () => {
  it('stops a trace that reaches it (the copy is not modelled), and one that passes it by goes on', async () => {
    const sb = new Sandbox();
    expect((await sb.run(['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '-j', 'TEE', '--gateway', '192.168.1.3'])).rc).toBe(0);
    const r = await sb.run(['trace', '--from', 'pc1', '-p', 'udp', '-d', '50.60.70.1', '--dport', '80']);
    expect(r.rc).toBe(3);
    expect(r.stderr).toContain('cannot trace through rule 1 of mangle PREROUTING: the TEE target is accepted by iptables-sim but its effect on packets is not modelled');
    // (without NAT the answer cannot come back: the trace ends with its own verdict, not at TEE)
    const tcp = await sb.run(['--json', 'trace', '--from', 'pc1', '-p', 'tcp', '-d', '50.60.70.1', '--dport', '80']);
    expect(tcp.rc).not.toBe(3);
    expect(JSON.parse(tcp.stdout).verdict).toBe('timeout');
  });
});
