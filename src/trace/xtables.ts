/**
 * The kernel's own trace format, as `xtables-monitor --trace` prints nf_tables trace events for
 * packets a -j TRACE rule selected: a PACKET line when a base chain first reports the packet,
 * then one TRACE line per rule that matched and per policy applied.
 * MAC addresses are not modelled and are left out.
 */
import type { PacketSummary, TraceEvent } from '../engine/events.js';

const NFPROTO_IPV4 = 2;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function packetLine(p: PacketSummary): string {
  let s = `PACKET: ${NFPROTO_IPV4} ${hex8(p.id)} `;
  if (p.in) s += `IN=${p.in} `;
  if (p.out) s += `OUT=${p.out} `;
  if (p.in === 'lo') s += 'LOOPBACK ';
  s += `SRC=${p.src} DST=${p.dst} LEN=${p.len} TOS=0x0 TTL=${p.ttl} ID=0 DF `;
  if (p.proto === 6 || p.proto === 17) s += `SPORT=${p.sport} DPORT=${p.dport} `;
  if (p.proto === 6) for (const f of p.flags ?? []) s += `${f} `;
  if (p.mark) s += `MARK=0x${p.mark.toString(16)} `;
  return s;
}

/** print_verdict(): NFT_RETURN has no name there and comes out as its number */
function verdictText(v: string): string {
  return v === 'RETURN' ? '0xfffffffb' : v;
}

const REJECT = /(?:^| )-j REJECT(?: |$)/;

export function renderXtables(events: TraceEvent[]): string {
  let out = '';
  let id = 0;
  // A REJECT sends its answer while its rule is being evaluated: the answer's way out of the host
  // (OUTPUT, POSTROUTING) is reported before the rule's own verdict (measured:
  // fixtures/kernel/313-broadcast-reject). The verdict's lines wait until the answer leaves.
  let held: { text: string; host: string; id: number } | undefined;
  for (const e of events) {
    if (held && (e.kind === 'link' || e.host !== held.host || (e.kind === 'hook' && e.pkt.id === held.id))) {
      out += held.text;
      held = undefined;
    }
    if (e.kind === 'hook') id = e.pkt.id;
    if (!e.nftrace) continue;
    // implicit returns from user chains are not reported by the kernel (measured on 6.x)
    if (e.kind !== 'rule' && e.kind !== 'policy') continue;
    let text = e.dump ? packetLine(e.dump) + '\n' : '';
    const head = ` TRACE: ${NFPROTO_IPV4} ${hex8(id)} ${e.table}:${e.chain}`;
    if (e.kind === 'rule') text += `${head}:rule:0x${e.handle.toString(16)}:${verdictText(e.verdict)}  -4 -t ${e.table} ${e.text}\n`;
    else text += `${head}:policy:${e.policy} \n`;
    if (e.kind === 'rule' && e.verdict === 'DROP' && REJECT.test(e.text)) held = { text, host: e.host, id };
    else out += text;
  }
  return out + (held?.text ?? '');
}
