import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { splitShell, type Sandbox } from './cli.js';

/**
 * Reading kernel trace fixtures (fixtures/kernel/*.json, recorded by
 * fixtures/record/record-trace.py) and lining them up with the emulator's `--format xtables`
 * output: PACKET lines reduced to the fields the emulator models (interfaces, addresses, ports,
 * TTL, TCP flags, mark; not MACs, lengths, IP ids), TRACE lines without the packet id.
 */
export interface KernelStep {
  host?: string;
  cmd?: string;
  rc?: number;
  /** what a `@HOST CMD <<END` command was given on its standard input */
  stdin?: string;
  /** what a `@HOST` command printed */
  stdout?: string;
  stderr?: string;
  trace?: string;
  probe?: { client: string; dst: string; port: number; proto: string; sport: number };
  /** a UDP datagram the client put on its link as a raw frame, with any source (record-trace.py's `frame`) */
  frame?: { client: string; src: string; dst: string; port: number; proto: 'udp'; sport: number; len?: number };
  result?: string;
  traces?: Record<string, string[]>;
  conntrack?: Record<string, string[]>;
}

export interface KernelScenario {
  scenario: string;
  kernel: string;
  iptables: string;
  steps: KernelStep[];
}

/** the router's interface on each client's link */
const ROUTER_SIDE: Record<string, string> = { pc1: 'eth1', pc2: 'eth1', internet: 'eth0' };

/** the one-packet trace on the router that replays a recorded frame (record-trace.py's `frame`) */
export function frameTraceArgs(f: NonNullable<KernelStep['frame']>): string[] {
  return ['--host', 'router', 'trace', '-i', ROUTER_SIDE[f.client]!, '-p', f.proto, '-s', f.src, '-d', f.dst, '--sport', String(f.sport), '--dport', String(f.port), ...(f.len ? ['--len', String(f.len)] : [])];
}

const KERNEL_DIR = join(__dirname, '..', '..', 'fixtures', 'kernel');

/** every recorded scenario (fixtures/kernel/*.json), in file name order */
export function kernelScenarios(): { file: string; sc: KernelScenario }[] {
  return readdirSync(KERNEL_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, sc: JSON.parse(readFileSync(join(KERNEL_DIR, file), 'utf8')) as KernelScenario }));
}

/** runs a recorded `@HOST COMMAND` step on its host; it must end as it did on the real host */
export async function replayCommand(sb: Sandbox, step: KernelStep): Promise<void> {
  if (!step.cmd || !step.host) return;
  const r = await sb.run(['--host', step.host, ...splitShell(step.cmd)], step.stdin);
  expect(r.rc, `@${step.host} ${step.cmd}: ${r.stderr}`).toBe(step.rc);
}

export interface Segment {
  id: string;
  packet: string;
  traces: string[];
}

/** the `trace --from` arguments that replay a recorded probe (an ICMP probe's sport is its echo id) */
export function probeTraceArgs(p: NonNullable<KernelStep['probe']>): string[] {
  const args = ['trace', '--from', p.client, '-p', p.proto, '-d', p.dst, ...(p.proto === 'icmp' ? [] : ['--dport', String(p.port)])];
  if (p.sport) args.push('--sport', String(p.sport));
  return args;
}

const KEEP = new Set(['IN', 'OUT', 'SRC', 'DST', 'TTL', 'SPORT', 'DPORT', 'MARK']);
const FLAGS = new Set(['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'LOOPBACK']);

/** "PACKET: 2 0123abcd IN=eth0 MACSRC=... SRC=... ... SYN" -> "IN=eth0 SRC=... SYN" */
export function normalizePacket(line: string): { id: string; text: string } {
  const words = line.trim().split(/\s+/);
  const id = words[2] ?? '';
  const kept = words.slice(3).filter((w) => {
    const eq = w.indexOf('=');
    return eq > 0 ? KEEP.has(w.slice(0, eq)) : FLAGS.has(w);
  });
  return { id, text: kept.join(' ') };
}

export function segments(lines: string[]): Segment[] {
  const out: Segment[] = [];
  for (const l of lines) {
    if (l.startsWith('PACKET:')) {
      const p = normalizePacket(l);
      out.push({ id: p.id, packet: p.text, traces: [] });
    } else if (l.trim().startsWith('TRACE:') && out.length) {
      // " TRACE: 2 0123abcd raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw ..." -> without the id
      out[out.length - 1]!.traces.push(l.trim().split(/\s+/).slice(3).join(' '));
    }
  }
  return out;
}

/**
 * The segments of the first packet of a probe: the run sharing the id of its first segment. A
 * packet the host sends while that one is in a chain (a REJECT's answer, traced in raw OUTPUT)
 * is reported by the kernel before the verdict that sent it: such locally sent segments (no IN=)
 * between two of the packet's own are left out, not taken for its end.
 */
export function firstPacket(segs: Segment[], select: (packet: string) => boolean): Segment[] {
  const start = segs.findIndex((s) => select(s.packet));
  if (start < 0) return [];
  const id = segs[start]!.id;
  const run: Segment[] = [];
  for (let i = start; i < segs.length; i++) {
    if (segs[i]!.id !== id) {
      let j = i;
      while (j < segs.length && segs[j]!.id !== id && segs[j]!.packet.startsWith('OUT=')) j++;
      if (j === i || j >= segs.length || segs[j]!.id !== id) break;
      i = j;
    }
    run.push(segs[i]!);
  }
  return run;
}

export function render(segs: Segment[]): string {
  return segs.map((s) => [s.packet, ...s.traces.map((t) => `  ${t}`)].join('\n')).join('\n');
}

const TCP_STATES = /^(NONE|SYN_SENT|SYN_RECV|ESTABLISHED|FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE|SYN_SENT2)$/;

/**
 * A `conntrack -L` line without what the runners do not compare (see test/kernel-conntrack.test.ts):
 * "tcp      6 119 TIME_WAIT src=... [ASSURED] mark=0 use=1" -> "tcp 6 src=... [ASSURED] mark=0"
 */
export function entryKey(line: string): string {
  const w = line.trim().split(/\s+/);
  // protocol name and number, then the seconds left, then (tcp, sctp, dccp) the state
  const rest = w.slice(3).filter((x, i) => !(i === 0 && TCP_STATES.test(x)));
  return [w[0], w[1], ...rest.filter((x) => !x.startsWith('use='))].join(' ');
}
