/**
 * LED, CLUSTERIP, ipvs and SECMARK: extensions iptables 1.8.9 parses but the kernel the lab models
 * refuses (no module; for SECMARK no SELinux policy). What the recorded fixtures
 * (fixtures/cli/ext-led.case, ext-clusterip.case, ext-ipvs.case, ext-secmark.case) cannot show:
 * the kernel refuses every such rule, so the data, print and save never reach a listing; they
 * follow the C code (libxt_LED.c, libipt_CLUSTERIP.c, libxt_ipvs.c, libxt_SECMARK.c).
 */
import { describe, expect, it } from 'vitest';
import { parseIptables } from '../../src/cli/commands/iptables.js';
import { findMatch, findTarget } from '../../src/extensions/registry.js';
import { execute, KernelRefusal } from '../../src/ruleset/execute.js';
import { splitShell } from '../helpers/cli.js';

const ctx = (numeric: boolean) => ({ numeric, frame: { proto: 0, invProto: false, table: 'filter' } });

function targetData(spec: string): any {
  const t = parseIptables(splitShell(spec), () => {}).rules[0]?.target;
  return t?.kind === 'ext' ? t.data : undefined;
}

function matchData(spec: string, family: 4 | 6 = 4): any {
  return parseIptables(splitShell(spec), () => {}, false, undefined, undefined, family).rules[0]?.matches[0]?.data;
}

describe('LED target', () => {
  const led = findTarget('LED')!;
  it('prints and saves as LED_print/LED_save do: the id quoted and escaped, the delay as %d', () => {
    const d = targetData(String.raw`-A INPUT -j LED --led-trigger-id 'a"b\c' --led-delay INFINITE --led-always-blink`);
    expect(d).toEqual({ id: 'a"b\\c', delay: -1, alwaysBlink: true });
    expect(led.print(d, ctx(false))).toBe(String.raw` led-trigger-id:"a\"b\\c" led-delay:inf led-always-blink`);
    expect(led.save(d, ctx(true))).toBe(String.raw` --led-trigger-id "a\"b\\c" --led-delay inf --led-always-blink`);
    // a delay past INT_MAX is stored, printed negative, and not saved (the save tests delay > 0)
    const big = targetData('-A INPUT -j LED --led-trigger-id x --led-delay 3000000000');
    expect(led.print(big, ctx(false))).toBe(' led-trigger-id:"x" led-delay:-1294967296ms');
    expect(led.save(big, ctx(true))).toBe(' --led-trigger-id "x"');
    expect(led.save(targetData('-A INPUT -j LED --led-trigger-id x --led-delay 0x10'), ctx(true))).toBe(' --led-trigger-id "x" --led-delay 16');
  });
});

describe('CLUSTERIP target', () => {
  const cip = findTarget('CLUSTERIP')!;
  it('prints every field of a new cluster IP, and nothing for a rule of an existing one', () => {
    const d = targetData('-A INPUT -d 192.168.1.1 -j CLUSTERIP --new --hashmode sourceip-sourceport --clustermac 01:00:5e:00:00:2a --total-nodes 2 --local-node 1 --hash-init 7');
    expect(cip.print(d, ctx(false))).toBe(' CLUSTERIP hashmode=sourceip-sourceport clustermac=01:00:5E:00:00:2A total_nodes=2 local_node=1 hash_init=7');
    expect(cip.save(d, ctx(true))).toBe(' --new --hashmode sourceip-sourceport --clustermac 01:00:5E:00:00:2A --total-nodes 2 --local-node 1 --hash-init 7');
    const bare = targetData('-A INPUT -j CLUSTERIP');
    expect(cip.print(bare, ctx(false))).toBe(' CLUSTERIP');
    expect(cip.save(bare, ctx(true))).toBe('');
  });
});

describe('ipvs match', () => {
  const ipvs = findMatch('ipvs')!;
  it('prints --ipvs alone, or each option with its negation (--vdir as the direction)', () => {
    const all = matchData('-A INPUT -m ipvs ! --vproto 6 ! --vaddr 10.0.0.0/8 ! --vport 80 --vdir reply ! --vmethod gate ! --vportctl 21');
    expect(ipvs.print(all, ctx(false))).toBe(' ! proto 6 ! vaddr 10.0.0.0/8 ! vport 80 vdir REPLY ! vmethod GATE ! vportctl 21');
    // (the C dump writes the protocol as "proto" for -S too: " --proto")
    expect(ipvs.save(all, ctx(true))).toBe(' ! --proto 6 ! --vaddr 10.0.0.0/8 ! --vport 80 --vdir REPLY ! --vmethod GATE ! --vportctl 21');
    expect(ipvs.print(matchData('-A INPUT -m ipvs ! --ipvs'), ctx(false))).toBe(' ! ipvs');
    expect(ipvs.save(matchData('-A INPUT -m ipvs --ipvs --vdir ORIGINAL'), ctx(true))).toBe(' --vdir ORIGINAL');
    expect(ipvs.print(matchData('-A INPUT -m ipvs --vaddr 0.0.0.0/0'), ctx(false))).toBe(' vaddr anywhere');
    expect(ipvs.print(matchData('-A INPUT -m ipvs --vaddr 2001:db8::1/64', 6), ctx(true))).toBe(' vaddr 2001:db8::1/64');
  });
});

describe('SECMARK target', () => {
  it('prints and saves the context as SECMARK_print/SECMARK_save do', () => {
    const d = targetData('-t mangle -A INPUT -j SECMARK --selctx system_u:object_r:http_packet_t:s0');
    expect(findTarget('SECMARK')!.print(d, ctx(false))).toBe(' SECMARK selctx system_u:object_r:http_packet_t:s0');
    expect(findTarget('SECMARK')!.save(d, ctx(true))).toBe(' --selctx system_u:object_r:http_packet_t:s0');
  });
});

describe('the kernel', () => {
  it('refuses each of them with ENOENT and says why', () => {
    for (const spec of ['-A INPUT -j LED --led-trigger-id x', '-A INPUT -j CLUSTERIP', '-A INPUT -m ipvs --ipvs', '-t mangle -A INPUT -j SECMARK --selctx x']) {
      let err: unknown;
      try {
        execute({}, parseIptables(splitShell(spec), () => {}));
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(KernelRefusal);
      expect(String((err as KernelRefusal).message), spec).toContain('No such file or directory');
    }
  });
});
