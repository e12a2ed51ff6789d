/**
 * cpu match (libxt_cpu.c, xt_cpu): the CPU that handles the packet. The lab does not model CPUs,
 * so a trace that reaches one stops with a message. Measured: fixtures/cli/ext-more.case.
 */
import { SimError } from '../../errors.js';
import type { MatchExtension } from '../types.js';

export interface CpuData {
  cpu: number;
  invert: boolean;
}

export const cpu: MatchExtension<CpuData> = {
  kind: 'match',
  name: 'cpu',
  // cpu_help() of libxt_cpu.c
  help: 'cpu match options:\n[!] --cpu number   Match CPU number\n',
  options: [{ name: 'cpu', id: 0, type: 'uint32', invert: true, mandatory: true }],
  init: () => ({ cpu: 0, invert: false }),
  parse({ val, invert, data }) {
    data.cpu = val.num!;
    if (invert) data.invert = true;
  },
  print: (d) => ` cpu ${d.invert ? '! ' : ''}${d.cpu}`,
  save: (d) => `${d.invert ? ' !' : ''} --cpu ${d.cpu}`,
  match(d) {
    throw new SimError(`cannot trace through a cpu match (--cpu ${d.cpu}): which CPU handles a packet is not modelled`, 3);
  },
};
