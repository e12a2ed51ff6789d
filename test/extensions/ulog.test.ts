/**
 * ULOG (libipt_ULOG.c): what the recorded fixtures (fixtures/cli/ulog.case) cannot show. The
 * kernel refuses every ULOG rule, so its data, print and save never reach a listing; they follow
 * the C code. A prefix with a newline cannot be written on a fixture's shell line.
 */
import { describe, expect, it } from 'vitest';
import { parseIptables } from '../../src/cli/commands/iptables.js';
import { XtablesSession } from '../../src/ruleset/command-parse.js';
import { execute, KernelRefusal } from '../../src/ruleset/execute.js';
import { findTarget } from '../../src/extensions/registry.js';
import type { Tables } from '../../src/ruleset/tables.js';
import { splitShell } from '../helpers/cli.js';

const WARNING = 'Warning: Extension ULOG revision 0 not supported, missing kernel module?\n';

function parse(spec: string, session?: XtablesSession): { data: any; warnings: string[] } {
  const warnings: string[] = [];
  const cmd = parseIptables(splitShell(spec), (t) => warnings.push(t), false, undefined, session);
  const t = cmd.rules[0]?.target;
  return { data: t?.kind === 'ext' ? t.data : undefined, warnings };
}

describe('ULOG target', () => {
  it('parses its options into struct ipt_ulog_info', () => {
    expect(parse('-A INPUT -j ULOG').data).toEqual({ nlGroup: 1, copyRange: '0', qthreshold: 1, prefix: '' });
    const { data } = parse('-A INPUT -j ULOG --ulog-nlgroup 32 --ulog-cprange 18446744073709551615 --ulog-qthreshold 50 --ulog-prefix 0123456789012345678901234567890123456789');
    // nl_group is the bit of the group; the prefix keeps ULOG_PREFIX_LEN - 1 characters
    expect(data).toEqual({ nlGroup: 2 ** 31, copyRange: '18446744073709551615', qthreshold: 50, prefix: '0123456789012345678901234567890' });
  });

  it('refuses a newline in the prefix', () => {
    const argv = ['-A', 'INPUT', '-j', 'ULOG', '--ulog-prefix', 'a\nb'];
    expect(() => parseIptables(argv, () => {})).toThrow('Newlines not allowed in --ulog-prefix');
  });

  it('prints and saves as ULOG_print/ULOG_save do (copy_range cut to unsigned int)', () => {
    const ulog = findTarget('ULOG')!;
    const { data } = parse('-A INPUT -j ULOG --ulog-nlgroup 3 --ulog-cprange 4294967296 --ulog-qthreshold 5 --ulog-prefix "a b"');
    const ctx = { numeric: false, frame: { proto: 0, invProto: false, table: 'filter' } };
    expect(ulog.print(data, ctx)).toBe(' ULOG copy_range 0 nlgroup 3 prefix "a b" queue_threshold 5');
    expect(ulog.save(data, ctx)).toBe(' --ulog-prefix "a b" --ulog-nlgroup 3 --ulog-cprange 0 --ulog-qthreshold 5');
    expect(ulog.save(parse('-A INPUT -j ULOG').data, ctx)).toBe('');
  });

  it('warns at the first load in a process only', () => {
    expect(parse('-A INPUT -j ULOG').warnings).toEqual([WARNING]);
    const session = new XtablesSession();
    expect(parse('-A INPUT -j ULOG', session).warnings).toEqual([WARNING]);
    expect(parse('-A INPUT -j ULOG --ulog-prefix x', session).warnings).toEqual([]);
  });

  it('is refused by the kernel with ENOENT and a reason', () => {
    const tables: Tables = {};
    const cmd = parseIptables(['-A', 'INPUT', '-j', 'ULOG'], () => {});
    let err: unknown;
    try {
      execute(tables, cmd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelRefusal);
    expect((err as KernelRefusal).message).toBe('RULE_APPEND failed (No such file or directory): rule in chain INPUT');
    expect((err as KernelRefusal).why).toMatch(/ipt_ULOG\) was removed in Linux 3\.17/);
    expect(tables.filter).toBeUndefined();
  });
});
