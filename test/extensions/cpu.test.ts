/**
 * cpu match: which CPU handles a packet (xt_cpu's cpu_mt: smp_processor_id() == cpu, xor invert)
 * is not modelled, so a traced packet that reaches a cpu rule stops the trace with exit 3.
 */
import { describe, expect, it } from 'vitest';
import { SimError } from '../../src/errors.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

describe('cpu match', () => {
  it.each(['--cpu 0', '! --cpu 1'])('-m cpu %s stops the trace with exit 3', (spec) => {
    let err: unknown;
    try {
      matches(ruleFrom(`-m cpu ${spec}`), packet({ proto: 6 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).status).toBe(3);
    expect((err as Error).message).toMatch(/^cannot trace through a cpu match \(--cpu \d\): which CPU handles a packet is not modelled$/);
  });
});
