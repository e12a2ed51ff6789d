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
