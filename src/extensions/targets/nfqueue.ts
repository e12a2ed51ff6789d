/**
 * NFQUEUE target, revision 3 (libxt_NFQUEUE.c of iptables 1.8.9, net/netfilter/xt_NFQUEUE.c):
 * hand the packet to a userspace queue. Nothing listens on a queue in the lab, so the packet is
 * dropped (nf_queue() finds no instance: -ESRCH) unless --queue-bypass lets it continue as if
 * accepted (NF_VERDICT_FLAG_QUEUE_BYPASS).
 */
import { paramProblem } from '../../errors.js';
import type { PacketView, TargetContext, TargetResult } from '../../engine/ext-api.js';
import type { TargetExtension } from '../types.js';
import { jhash3, rawBe32, reciprocalScale } from '../../net/jhash.js';

const O_QUEUE_NUM = 0;
const O_QUEUE_BALANCE = 1;
const O_QUEUE_BYPASS = 2;
const O_QUEUE_CPU_FANOUT = 3;

export interface NfqueueData {
  queuenum: number;
  queuesTotal: number;
  bypass: boolean;
  cpuFanout: boolean;
}

/**
 * nfqueue_hash() for IPv4: hash_v4() puts the smaller address first so both directions of a flow
 * reach the same queue, then reciprocal_scale() picks one of the queues. jhash_initval is drawn at
 * random once per boot; the lab draws it once per host from its seeded generator.
 */
function balancedQueue(d: NfqueueData, pkt: PacketView, ctx: TargetContext): number {
  const seed = ctx.shared('nfqueue-jhash-initval', () => ({ v: Math.floor(ctx.random() * 0x100000000) >>> 0 })).v;
  const s = rawBe32(pkt.src);
  const t = rawBe32(pkt.dst);
  const h = s < t ? jhash3(s, t, pkt.proto, seed) : jhash3(t, s, pkt.proto, seed);
  return d.queuenum + reciprocalScale(h, d.queuesTotal);
}

export const NFQUEUE: TargetExtension<NfqueueData> = {
  kind: 'target',
  name: 'NFQUEUE',
  revision: 3,
  // NFQUEUE_help_v3() of libxt_NFQUEUE.c, byte for byte as iptables 1.8.9 prints it
  help:
    'NFQUEUE target options\n' +
    '  --queue-num value            Send packet to QUEUE number <value>.\n' +
    '                               Valid queue numbers are 0-65535\n' +
    '  --queue-balance first:last   Balance flows between queues <value> to <value>.\n' +
    '  --queue-bypass               Bypass Queueing if no queue instance exists.\n' +
    '  --queue-cpu-fanout\tUse current CPU (no hashing)\n',
  options: [
    { name: 'queue-num', id: O_QUEUE_NUM, type: 'uint16', excl: [O_QUEUE_BALANCE] },
    // the range parser takes its bound from the type (0-65535), not from .max
    { name: 'queue-balance', id: O_QUEUE_BALANCE, type: 'uint16rc', max: 0xffff - 1, excl: [O_QUEUE_NUM] },
    { name: 'queue-bypass', id: O_QUEUE_BYPASS, type: 'none' },
    { name: 'queue-cpu-fanout', id: O_QUEUE_CPU_FANOUT, type: 'none', also: [O_QUEUE_BALANCE] },
  ],
  // NFQUEUE_init_v1(): one queue
  init: () => ({ queuenum: 0, queuesTotal: 1, bypass: false, cpuFanout: false }),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case O_QUEUE_NUM:
        data.queuenum = val.num!;
        break;
      case O_QUEUE_BALANCE: {
        const r = val.range!;
        if (r.length !== 2) throw paramProblem(`Bad range "${arg}"`);
        if (r[0]! >= r[1]!) throw paramProblem(`${r[0]} should be less than ${r[1]}`);
        data.queuenum = r[0]!;
        // queues_total is a __u16: the whole range 0:65535 wraps to 0 (refused by the kernel)
        data.queuesTotal = (r[1]! - r[0]! + 1) & 0xffff;
        break;
      }
      case O_QUEUE_BYPASS:
        data.bypass = true;
        break;
      case O_QUEUE_CPU_FANOUT:
        data.cpuFanout = true;
        break;
    }
  },
  print(d) {
    let s = d.queuesTotal > 1 ? ` NFQUEUE balance ${d.queuenum}:${d.queuenum + d.queuesTotal - 1}` : ` NFQUEUE num ${d.queuenum}`;
    if (d.bypass) s += ' bypass';
    if (d.cpuFanout) s += ' cpu-fanout';
    return s;
  },
  save(d) {
    let s = d.queuesTotal > 1 ? ` --queue-balance ${d.queuenum}:${d.queuenum + d.queuesTotal - 1}` : ` --queue-num ${d.queuenum}`;
    if (d.bypass) s += ' --queue-bypass';
    if (d.cpuFanout) s += ' --queue-cpu-fanout';
    return s;
  },
  // nfqueue_tg_check()
  kernelCheck: (d) => (d.queuesTotal === 0 ? 'NFQUEUE: the queue range covers 65536 queues, which does not fit queues_total (0)' : undefined),
  /**
   * nfqueue_tg_v3(): with cpu-fanout the queue is the number of the CPU handling the packet
   * (modulo the count); the lab runs every packet on CPU 0, the first queue of the range.
   */
  apply(d, pkt, ctx): TargetResult {
    let queue = d.queuenum;
    if (d.queuesTotal > 1) queue = d.cpuFanout ? d.queuenum : balancedQueue(d, pkt, ctx);
    if (d.bypass) return { verdict: 'ACCEPT', queue, note: `NFQUEUE: no program listens on queue ${queue}; --queue-bypass accepts the packet` };
    return { verdict: 'QUEUE', queue, note: `NFQUEUE: no program listens on queue ${queue}; the packet is dropped` };
  },
};
