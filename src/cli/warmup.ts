/**
 * What the build runs once, in one process, before it saves V8's code cache of the bundle
 * (src/tools/build.mjs, bin/iptables-sim): the everyday commands on a scratch lab, so that the
 * code they compile (the grammar, the command semantics, listing, the lab file, the engine) is in
 * the cache and the next start-up skips compiling it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferIo } from './io.js';
import { directTool, runTool } from './dispatch.js';
import { main } from './main.js';

const COMMANDS = [
  ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE'],
  ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT'],
  ['iptables', '-S'],
  ['iptables', '-L', '-n', '-v'],
  ['iptables-save'],
  ['iptables-restore', '--noflush'],
  ['sysctl', 'net.ipv4.ip_forward'],
  ['trace', '--from', 'pc1', '-p', 'tcp', '-d', '203.0.113.10', '--dport', '80'],
];

export async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iptables-sim-warmup-'));
  try {
    for (const argv of COMMANDS) {
      const io = new BufferIo('*filter\n-A FORWARD -j ACCEPT\nCOMMIT\n', { IPTABLES_SIM_STATE: join(dir, 'lab.json') }, dir);
      // the way the process entry runs them: tools without commander, the rest through main()
      const d = directTool(argv, io.env);
      const rc = d ? await runTool(d.tool, d.args, io, d) : await main(argv, io);
      if (rc !== 0) throw new Error(`warm-up: ${argv.join(' ')} failed (${rc}): ${io.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
