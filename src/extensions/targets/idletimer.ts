/**
 * IDLETIMER target, revision 1 (libxt_IDLETIMER.c of iptables 1.8.9, net/netfilter/xt_IDLETIMER.c):
 * each packet through the rule restarts the timer called --label (one timer per label in the
 * network namespace, shared by the rules that name it); when --timeout seconds pass without one,
 * the kernel notifies user space through /sys/class/xt_idletimer/timers/LABEL (--alarm: an alarm
 * timer, which also wakes a suspended system). Packets go on unchanged (XT_CONTINUE): the lab's
 * traces show the restart. The kernel refuses a timeout of 0 or of INT_MAX / 1000 seconds and
 * more, a label that is no sysfs file name (empty, ".", "..", a "/", or the class's own "power",
 * "subsystem" and "uevent"), and a label whose timer exists with the other kind (--alarm or not):
 * every rule of the host's tables that names it counts, whatever table, chain or family (iptables'
 * and ip6tables' rules share the namespace's timers). iptables cuts a label to 27 characters. Any
 * table, any chain. Measured: fixtures/cli/ext-idletimer.case, ext-hmark-idletimer6.case.
 */
import type { Tables } from '../../ruleset/tables.js';
import type { TargetExtension } from '../types.js';

const O_TIMEOUT = 0;
const O_LABEL = 1;
const O_ALARM = 2;
/** MAX_IDLETIMER_LABEL_SIZE: the label's buffer, its NUL included */
const LABEL_SIZE = 28;
/** the longest timeout the kernel takes: INT_MAX / 1000 seconds, exclusive */
const TIMEOUT_LIMIT = Math.floor(0x7fffffff / 1000);
/** files of the sysfs class directory a timer's file would clash with */
const RESERVED = ['power', 'subsystem', 'uevent'];

export interface IdletimerData {
  timeout: number;
  label: string;
  alarm: boolean;
}

/** the kind of timer the host's rules (of both families) already hold under `label` (undefined: none) */
function timerKind(families: (Tables | undefined)[], label: string): boolean | undefined {
  for (const t of families.flatMap((f) => Object.values(f ?? {}))) {
    for (const c of t?.chains ?? []) {
      for (const r of c.rules) {
        const tg = r.target;
        if (tg?.kind === 'ext' && tg.name === 'IDLETIMER' && (tg.data as IdletimerData).label === label) return (tg.data as IdletimerData).alarm;
      }
    }
  }
  return undefined;
}

export const IDLETIMER: TargetExtension<IdletimerData> = {
  kind: 'target',
  name: 'IDLETIMER',
  revision: 1,
  // idletimer_tg_help_v1() of libxt_IDLETIMER.c, byte for byte as iptables 1.8.9 prints it
  help:
    'IDLETIMER target options:\n' +
    ' --timeout time\tTimeout until the notification is sent (in seconds)\n' +
    ' --label string\tUnique rule identifier\n' +
    ' --alarm\tUse alarm instead of default timer\n\n',
  options: [
    { name: 'timeout', id: O_TIMEOUT, type: 'uint32', mandatory: true },
    { name: 'label', id: O_LABEL, type: 'string', mandatory: true, size: LABEL_SIZE },
    { name: 'alarm', id: O_ALARM, type: 'none' },
  ],
  init: () => ({ timeout: 0, label: '', alarm: false }),
  parse({ entry, val, data }) {
    if (entry.id === O_TIMEOUT) data.timeout = val.num!;
    else if (entry.id === O_LABEL) data.label = val.str!;
    else data.alarm = true;
  },
  print: (d) => ` timeout:${d.timeout} label:${d.label}${d.alarm ? ' alarm' : ''}`,
  save: (d) => ` --timeout ${d.timeout} --label ${d.label}${d.alarm ? ' --alarm' : ''}`,
  // idletimer_tg_checkentry_v1(), idletimer_check_sysfs_name()
  kernelCheck(d, { tables, otherTables }) {
    if (d.timeout === 0) return 'IDLETIMER needs a --timeout of at least 1 second';
    if (d.timeout >= TIMEOUT_LIMIT) return `IDLETIMER's --timeout must be under ${TIMEOUT_LIMIT} seconds (INT_MAX milliseconds)`;
    if (d.label === '' || d.label === '.' || d.label === '..' || d.label.includes('/') || RESERVED.includes(d.label)) {
      return `IDLETIMER's --label "${d.label}" cannot name a file in /sys/class/xt_idletimer/timers`;
    }
    const kind = tables && timerKind([tables, otherTables], d.label);
    if (kind !== undefined && kind !== d.alarm) return `the timer "${d.label}" exists ${kind ? 'as an alarm timer (--alarm)' : 'without --alarm'}: a rule cannot name it with the other kind`;
    return undefined;
  },
  // idletimer_tg_target_v1(): the timer restarts; the packet goes on
  apply: (d) => ({ verdict: 'CONTINUE', note: `IDLETIMER: timer "${d.label}" restarted (${d.timeout} s${d.alarm ? ', alarm' : ''})` }),
};
