import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/cli.js';
import { context, matches, packet, ruleFrom, type FakeContext } from '../helpers/ext.js';

type P = NonNullable<Parameters<typeof packet>[0]>;

/** one rule, packets at given times on one host */
function run(spec: string, steps: [number, P][], ctx: FakeContext = context()): boolean[] {
  const rule = ruleFrom(spec);
  return steps.map(([t, p]) => {
    ctx.clock = t;
    return matches(rule, packet(p), ctx);
  });
}

const A: P = { src: '10.0.0.1', sport: 1000, dport: 80 };
const A2: P = { src: '10.0.0.1', sport: 1001, dport: 80 };
const B: P = { src: '10.0.0.2', sport: 1000, dport: 80 };
const B24: P = { src: '10.0.1.2', sport: 1000, dport: 80 };

describe('hashlimit match', () => {
  const cases: [string, [number, P][], boolean[]][] = [
    // one bucket for everything without a mode: burst 2, then one per second (a long expiry
    // keeps the idle entry from being collected, which would refill it)
    ['-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-name t1 --hashlimit-htable-expire 10000', [[0, A], [0, B], [0, A], [1, B], [1, A]], [true, true, false, true, false]],
    // per source address
    ['-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name t2', [[0, A], [0, A], [0, A], [0, B], [0, B], [0, B]], [true, true, false, true, true, false]],
    // per source port as well
    ['-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-mode srcip,srcport --hashlimit-name t3', [[0, A], [0, A2], [0, A]], [true, true, false]],
    // a /16 source mask puts 10.0.0.x and 10.0.1.x in one bucket
    ['-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-srcmask 16 --hashlimit-name t4', [[0, A], [0, B24]], [true, false]],
    ['-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name t5', [[0, A], [0, B24]], [true, true]],
    // --hashlimit-above matches what is over the rate
    ['-m hashlimit --hashlimit-above 1/sec --hashlimit-burst 2 --hashlimit-name t6 --hashlimit-htable-expire 10000', [[0, A], [0, A], [0, A], [1, A], [1, A]], [false, false, true, false, true]],
    ['-m hashlimit ! --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-name t7', [[0, A], [0, A]], [false, true]],
    // refill counts whole jiffies (HZ=250): 4/sec needs 62.5 of them, so 63 (252 ms)
    ['-m hashlimit --hashlimit-upto 4/sec --hashlimit-burst 1 --hashlimit-name t8', [[0, A], [0.2, A], [0.25, A], [0.252, A], [0.3, A]], [true, false, false, true, false]],
    // with the default expiry (1 s for a rate per second) an idle entry is collected and comes back full
    ['-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-name t8b', [[0, A], [0, A], [0, A], [1, A], [1, A], [1, A]], [true, true, false, true, true, false]],
    // bytes: 1kb/s, no burst: one 1000-byte packet, then a second's worth of bytes
    ['-m hashlimit --hashlimit-upto 1kb/s --hashlimit-name t9', [[0, { ...A, len: 1000 }], [0, { ...A, len: 1000 }], [1, { ...A, len: 1000 }]], [true, false, true]],
    // bytes with a burst: each refill of the bucket uses up one of the burst's multiples
    ['-m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 3kb --hashlimit-name t10', [[0, { ...A, len: 1000 }], [0, { ...A, len: 1000 }], [0, { ...A, len: 1000 }], [0, { ...A, len: 1000 }], [0, { ...A, len: 1000 }]], [true, true, true, true, false]],
    // rate-match: up to rate + burst packets per interval are "under the rate"
    ['-m hashlimit --hashlimit-upto 2/sec --hashlimit-burst 1 --hashlimit-rate-match --hashlimit-name t11', [[0, A], [0, A], [0, A], [0, A]], [true, true, true, false]],
  ];
  it.each(cases)('%s', (spec, steps, want) => {
    expect(run(spec, steps)).toEqual(want);
  });

  it('forgets idle entries after --hashlimit-htable-expire at the next garbage collection', () => {
    const spec = '-m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name gc --hashlimit-htable-expire 2000 --hashlimit-htable-gcinterval 1000';
    // the bucket is empty for an hour, unless the entry was collected
    expect(run(spec, [[0, A], [1, A], [2.5, A]])).toEqual([true, false, false]);
    expect(run(spec, [[0, A], [3.5, A]])).toEqual([true, true]);
  });

  it('shares one table between rules of the same name', () => {
    const ctx = context();
    const one = '-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-name shared';
    expect(run(one, [[0, A]], ctx)).toEqual([true]);
    expect(run(one.replace('1/min', '10/sec'), [[0, A]], ctx)).toEqual([false]);
    expect(run('-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-name other', [[0, A]], ctx)).toEqual([true]);
  });
});

describe('hashlimit: a byte rate too small for its burst', () => {
  // measured with iptables 1.8.9: libxt_hashlimit divides by zero, the process dies of SIGFPE
  // ("Floating point exception", exit status 136); iptables-restore keeps the tables it committed
  const rule = '-A INPUT -m hashlimit --hashlimit-upto 1b/s --hashlimit-burst 1mb --hashlimit-name x -j ACCEPT';

  it('iptables dies with exit status 136 and changes nothing', async () => {
    const sb = new Sandbox();
    const r = await sb.sh(`iptables ${rule}`);
    expect(r).toEqual({ rc: 136, stdout: '', stderr: "iptables-sim: iptables 1.8.9 dies on this rule (Floating point exception: libxt_hashlimit's burst check divides by zero)\n" });
    expect((await sb.sh('iptables -S INPUT')).stdout).toBe('-P INPUT ACCEPT\n');
  });

  it('iptables-restore dies on that line, the tables committed before it stay', async () => {
    const sb = new Sandbox();
    writeFileSync(join(sb.dir, 'r.rules'), `*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n${rule}\nCOMMIT\n`);
    const r = await sb.sh('iptables-restore r.rules');
    expect(r.rc).toBe(136);
    expect(r.stderr).toMatch(/^iptables-sim: iptables-restore: line 5: iptables 1\.8\.9 dies on this rule/);
    expect((await sb.sh('iptables -S INPUT')).stdout).toBe('-P INPUT ACCEPT\n-A INPUT -j ACCEPT\n');
  });
});
