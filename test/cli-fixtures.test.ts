/**
 * Golden fixtures of the real iptables 1.8.9 (nf_tables) binaries (fixtures/cli/*.json, recorded
 * by fixtures/record/record-cli.py): every command runs through the emulator in the same order
 * on a fresh lab per block, and stdout, stderr, exit status and the set of chains nf_tables held
 * afterwards must be identical.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBuiltin, type TableName } from '../src/ruleset/tables.js';
import { normStamp, Sandbox, splitShell } from './helpers/cli.js';

interface Step {
  cmd: string;
  rc: number;
  stdout: string;
  stderr: string;
  stdin?: string;
  nft: Record<string, string[]>;
  /** ip6tables' chains (nf_tables family ip6), recorded only when there are some */
  nft6?: Record<string, string[]>;
}

const dir = join(__dirname, '..', 'fixtures', 'cli');
const TOOLS = new Set(['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'sysctl', 'ip', 'ipset', 'nfacct']);

function nftChains(sb: Sandbox, family: 'ip' | 'ip6' = 'ip'): Record<string, string[]> {
  const lab = sb.lab();
  const out: Record<string, string[]> = {};
  if (!lab) return out;
  const host = lab.hosts[lab.defaultHost]!;
  const tables = (family === 'ip6' ? host.tables6 : host.tables) ?? {};
  for (const [name, t] of Object.entries(tables)) {
    const chains = t!.chains.filter((c) => !isBuiltin(name as TableName, c.name) || c.created).map((c) => c.name);
    if (chains.length) out[name] = chains.sort();
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The recorder's devices are veth pairs (its machine has no dummy module): `ip addr` and `ip link`
 * listings name each with its peer (eth1@p1) and number it after the peers made before it, where
 * the lab's devices have no peers and are numbered lo, eth0, eth1. Their header lines are compared
 * without the number and the peer.
 */
function linkHeads(cmd: string, out: string): string {
  return /^ip (?:-\S+ )*(?:a|ad|addr|address|l|li|link)\b/.test(cmd) ? out.replace(/^\d+: ([^:@\s]+)(?:@[^:\s]+)?:/gm, 'N: $1:') : out;
}

export function describeMismatch(step: Step, got: { rc: number; stdout: string; stderr: string }, nft?: Record<string, string[]>, nft6?: Record<string, string[]>): string | undefined {
  const parts: string[] = [];
  if (got.rc !== step.rc) parts.push(`exit status ${got.rc}, want ${step.rc}`);
  if (linkHeads(step.cmd, normStamp(got.stdout)) !== linkHeads(step.cmd, step.stdout)) parts.push(`stdout:\n--- got\n${normStamp(got.stdout)}--- want\n${step.stdout}`);
  // where iptables relays an opaque kernel refusal, the emulator adds a line saying what is wrong
  const opaque = / failed \([A-Za-z ]+\): rule in chain /.test(step.stderr) && got.stderr.startsWith(step.stderr) && /^iptables-sim: .+\n$/.test(got.stderr.slice(step.stderr.length));
  if (got.stderr !== step.stderr && !opaque) parts.push(`stderr:\n--- got\n${got.stderr}--- want\n${step.stderr}`);
  if (nft && JSON.stringify(nft) !== JSON.stringify(step.nft)) parts.push(`nf_tables chains ${JSON.stringify(nft)}, want ${JSON.stringify(step.nft)}`);
  if (nft6 && JSON.stringify(nft6) !== JSON.stringify(step.nft6 ?? {})) parts.push(`nf_tables ip6 chains ${JSON.stringify(nft6)}, want ${JSON.stringify(step.nft6 ?? {})}`);
  return parts.length ? `$ ${step.cmd}\n${parts.join('\n')}` : undefined;
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { blocks: Step[][] };
  describe(`fixtures/cli/${file}`, () => {
    fixture.blocks.forEach((block, b) => {
      it(`block ${b + 1}: ${block[0]!.cmd}`, async () => {
        const sb = new Sandbox();
        const problems: string[] = [];
        for (const step of block) {
          const argv = splitShell(step.cmd);
          if (!TOOLS.has(argv[0]!)) continue;
          const got = await sb.run(argv, step.stdin ?? '');
          const p = describeMismatch(step, got, nftChains(sb), nftChains(sb, 'ip6'));
          if (p) problems.push(p);
        }
        expect(problems.join('\n\n')).toBe('');
      });
    });
  });
}
