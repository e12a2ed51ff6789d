import { describe, expect, it } from 'vitest';
import { applyTarget, context, packet, ruleFrom } from '../helpers/ext.js';

const mangle = (t: string): string => `-t mangle -A PREROUTING -j ${t}`;

describe('MARK target', () => {
  const cases: [string, number, number][] = [
    ['MARK --set-mark 1', 0xffff0000, 0x1],
    ['MARK --set-mark 0x10/0xf0', 0x0000ffff, 0x0000ff1f],
    ['MARK --set-mark 0/0xf0', 0x000000ff, 0x0000000f],
    ['MARK --set-xmark 0x10/0xf0', 0x000000ff, 0x0000001f],
    ['MARK --set-xmark 0x10/0', 0x00000011, 0x00000001],
    ['MARK --and-mark 0xff00', 0x1234, 0x1200],
    ['MARK --or-mark 0x4', 0x1, 0x5],
    ['MARK --xor-mark 0x5', 0x4, 0x1],
    ['MARK --xor-mark 0xffffffff', 0x0, 0xffffffff],
  ];
  it.each(cases)('%s: 0x%s -> 0x%s', (t, before, after) => {
    const pkt = packet({ mark: before });
    expect(applyTarget(ruleFrom(mangle(t)), pkt).verdict).toBe('CONTINUE');
    expect(pkt.mark).toBe(after);
  });
});

describe('CONNMARK target', () => {
  const cases: [string, { mark: number; ct: number }, { mark: number; ct: number }][] = [
    ['CONNMARK --set-mark 5', { mark: 0, ct: 0xf0 }, { mark: 0, ct: 5 }],
    ['CONNMARK --set-mark 0x10/0xf0', { mark: 0, ct: 0xff }, { mark: 0, ct: 0x1f }],
    ['CONNMARK --set-xmark 0x10/0xf0', { mark: 0, ct: 0xff }, { mark: 0, ct: 0x1f }],
    ['CONNMARK --and-mark 0x0f', { mark: 0, ct: 0xff }, { mark: 0, ct: 0x0f }],
    ['CONNMARK --or-mark 0x100', { mark: 0, ct: 0xff }, { mark: 0, ct: 0x1ff }],
    ['CONNMARK --xor-mark 0x1', { mark: 0, ct: 0xff }, { mark: 0, ct: 0xfe }],
    // save: ctmark = (ctmark & ~ctmask) ^ (mark & nfmask)
    ['CONNMARK --save-mark', { mark: 0x1234, ct: 0xffff }, { mark: 0x1234, ct: 0x1234 }],
    ['CONNMARK --save-mark --mask 0xff', { mark: 0x1234, ct: 0xff00 }, { mark: 0x1234, ct: 0xff34 }],
    ['CONNMARK --save-mark --nfmask 0xf0 --ctmask 0xff', { mark: 0x1234, ct: 0xff00 }, { mark: 0x1234, ct: 0xff30 }],
    ['CONNMARK --save-mark --mask 0xff00 --right-shift-mark 8', { mark: 0x1234, ct: 0 }, { mark: 0x1234, ct: 0x12 }],
    // restore: mark = (mark & ~nfmask) ^ (ctmark & ctmask)
    ['CONNMARK --restore-mark', { mark: 0x1, ct: 0x42 }, { mark: 0x42, ct: 0x42 }],
    ['CONNMARK --restore-mark --mask 0xf', { mark: 0x1230, ct: 0x45 }, { mark: 0x1235, ct: 0x45 }],
    ['CONNMARK --restore-mark --left-shift-mark 8', { mark: 0, ct: 0x42 }, { mark: 0x4200, ct: 0x42 }],
    // set: the shift applies to the new ctmark
    ['CONNMARK --set-xmark 0x3/0xffffffff --left-shift-mark 4', { mark: 0, ct: 0 }, { mark: 0, ct: 0x30 }],
  ];
  it.each(cases)('%s: %j -> %j', (t, before, after) => {
    const pkt = packet({ mark: before.mark });
    const ctx = context({ ctMarkValue: before.ct });
    expect(applyTarget(ruleFrom(mangle(t)), pkt, ctx).verdict).toBe('CONTINUE');
    expect({ mark: pkt.mark, ct: ctx.ctMarkValue }).toEqual(after);
  });

  it('does nothing to a packet without a connection', () => {
    const pkt = packet({ mark: 7 });
    const ctx = context();
    for (const t of ['CONNMARK --restore-mark', 'CONNMARK --save-mark', 'CONNMARK --set-mark 1']) {
      applyTarget(ruleFrom(mangle(t)), pkt, ctx);
      expect(pkt.mark).toBe(7);
      expect(ctx.ctMarkValue).toBeUndefined();
    }
  });
});

describe('TOS, DSCP and CLASSIFY targets', () => {
  const tos: [string, number, number][] = [
    // symbolic names keep the precedence bits (mask 0x3f)
    ['TOS --set-tos Minimize-Delay', 0xe3, 0xd0],
    ['TOS --set-tos 0x10', 0xe3, 0x10],
    ['TOS --set-tos 0x10/0x3f', 0xe3, 0xd0],
    ['TOS --and-tos 0x0f', 0xe3, 0x03],
    ['TOS --or-tos 0x10', 0x03, 0x13],
    ['TOS --xor-tos 0x01', 0x03, 0x02],
    // DSCP keeps the ECN bits
    ['DSCP --set-dscp 0x2e', 0x03, 0xbb],
    ['DSCP --set-dscp-class AF41', 0x01, 0x89],
    ['DSCP --set-dscp 0', 0xff, 0x03],
  ];
  it.each(tos)('%s: tos 0x%s -> 0x%s', (t, before, after) => {
    const pkt = packet({ tos: before });
    expect(applyTarget(ruleFrom(mangle(t)), pkt).verdict).toBe('CONTINUE');
    expect(pkt.tos).toBe(after);
  });

  const classes: [string, number][] = [
    ['1:2', 0x00010002],
    ['ffff:ffff', 0xffffffff],
    ['10000:1', 0x00000001],
    ['-1:2', 0xffff0002],
    ['0x:1', 0x00000001],
  ];
  it.each(classes)('CLASSIFY --set-class %s -> priority 0x%s', (cls, prio) => {
    const pkt = packet({ priority: 0x99 });
    expect(applyTarget(ruleFrom(`-t mangle -A POSTROUTING -j CLASSIFY --set-class ${cls}`), pkt).verdict).toBe('CONTINUE');
    expect(pkt.priority).toBe(prio);
  });
});
