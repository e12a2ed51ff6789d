/**
 * LOG target (libxt_LOG.c of iptables 1.8.9, net/netfilter/xt_LOG.c): write a kernel log line
 * for the packet and go on with the next rule. iptables-nft keeps it an xt target (only NFLOG is
 * turned into a native nft log expression), so the prefix keeps the 30-byte buffer of
 * struct xt_log_info.
 */
import { paramProblem } from '../../errors.js';
import type { TargetExtension } from '../types.js';
import { saveString } from '../util/save-string.js';

/** XT_LOG_* bits; the option ids are chosen so that 1 << id is the bit (as in the C enum) */
const XT_LOG_TCPSEQ = 0x01;
const XT_LOG_TCPOPT = 0x02;
const XT_LOG_IPOPT = 0x04;
const XT_LOG_UID = 0x08;
const XT_LOG_MACDECODE = 0x20;
const XT_LOG_MASK = 0x2f;

/** LOG_DEFAULT_LEVEL: LOG_WARNING, left out of the saved rule */
const LOG_DEFAULT_LEVEL = 4;

export interface LogData {
  level: number;
  prefix: string;
  logflags: number;
}

/** the first name glibc's prioritynames[] gives each level (priority2name()) */
const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

const FLAG_WORDS: [number, string][] = [
  [XT_LOG_TCPSEQ, 'tcp-sequence'],
  [XT_LOG_TCPOPT, 'tcp-options'],
  [XT_LOG_IPOPT, 'ip-options'],
  [XT_LOG_UID, 'uid'],
  [XT_LOG_MACDECODE, 'macdecode'],
];

export const LOG: TargetExtension<LogData> = {
  kind: 'target',
  name: 'LOG',
  revision: 0,
  // LOG_help() of libxt_LOG.c, byte for byte as iptables 1.8.9 prints it
  help:
    'LOG target options:\n' +
    ' --log-level level\t\tLevel of logging (numeric or see syslog.conf)\n' +
    ' --log-prefix prefix\t\tPrefix log messages with this prefix.\n' +
    ' --log-tcp-sequence\t\tLog TCP sequence numbers.\n' +
    ' --log-tcp-options\t\tLog TCP options.\n' +
    ' --log-ip-options\t\tLog IP options.\n' +
    ' --log-uid\t\t\tLog UID owning the local socket.\n' +
    ' --log-macdecode\t\tDecode MAC addresses and protocol.\n',
  options: [
    { name: 'log-level', id: 6, type: 'sysloglevel' },
    // char prefix[30]: longer prefixes are cut to 29 characters
    { name: 'log-prefix', id: 7, type: 'string', min: 1, size: 30 },
    { name: 'log-tcp-sequence', id: 0, type: 'none' },
    { name: 'log-tcp-options', id: 1, type: 'none' },
    { name: 'log-ip-options', id: 2, type: 'none' },
    { name: 'log-uid', id: 3, type: 'none' },
    { name: 'log-macdecode', id: 5, type: 'none' },
  ],
  init: () => ({ level: LOG_DEFAULT_LEVEL, prefix: '', logflags: 0 }),
  parse({ entry, arg, val, data }) {
    switch (entry.id) {
      case 6:
        data.level = val.syslogLevel!;
        break;
      case 7:
        // the check looks at the whole argument, before it is cut to the buffer
        if (arg!.includes('\n')) throw paramProblem('Newlines not allowed in --log-prefix');
        data.prefix = val.str!;
        break;
      default:
        data.logflags |= 1 << entry.id;
    }
  },
  print(d, { numeric }) {
    let s = ' LOG';
    if (numeric) {
      s += ` flags ${d.logflags} level ${d.level}`;
    } else {
      const name = LEVEL_NAMES[d.level];
      s += name !== undefined ? ` level ${name}` : ` UNKNOWN level ${d.level}`;
      for (const [bit, word] of FLAG_WORDS) if (d.logflags & bit) s += ` ${word}`;
      if (d.logflags & ~XT_LOG_MASK) s += ' unknown-flags';
    }
    if (d.prefix !== '') s += ` prefix "${d.prefix}"`;
    return s;
  },
  save(d) {
    let s = '';
    if (d.prefix !== '') s += ` --log-prefix${saveString(d.prefix)}`;
    if (d.level !== LOG_DEFAULT_LEVEL) s += ` --log-level ${d.level}`;
    if (d.logflags & XT_LOG_TCPSEQ) s += ' --log-tcp-sequence';
    if (d.logflags & XT_LOG_TCPOPT) s += ' --log-tcp-options';
    if (d.logflags & XT_LOG_IPOPT) s += ' --log-ip-options';
    if (d.logflags & XT_LOG_UID) s += ' --log-uid';
    if (d.logflags & XT_LOG_MACDECODE) s += ' --log-macdecode';
    return s;
  },
  // log_tg(): nf_log_packet() with the rule's prefix and level, then XT_CONTINUE
  apply: (d) => ({ verdict: 'CONTINUE', log: { kind: 'LOG', prefix: d.prefix, level: d.level } }),
};
