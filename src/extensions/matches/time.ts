/**
 * time match (libxt_time, xt_time): daytime window, weekdays, monthdays and a date range,
 * evaluated on the lab clock (UTC seconds since the epoch).
 */
import { otherProblem, paramProblem } from '../../errors.js';
import { strtoumax } from '../../util/strtoul.js';
import type { MatchExtension, OptionEntry } from '../types.js';

const XT_TIME_LOCAL_TZ = 1;
const XT_TIME_CONTIGUOUS = 2;
const XT_TIME_ALL_MONTHDAYS = 0xfffffffe;
const XT_TIME_ALL_WEEKDAYS = 0xfe;
const XT_TIME_MIN_DAYTIME = 0;
const XT_TIME_MAX_DAYTIME = 24 * 60 * 60 - 1;
const INT_MAX = 0x7fffffff;

export interface TimeData {
  dateStart: number;
  dateStop: number;
  daytimeStart: number;
  daytimeStop: number;
  monthdays: number;
  weekdays: number;
  flags: number;
}

const O_DATE_START = 0;
const O_DATE_STOP = 1;
const O_TIME_START = 2;
const O_TIME_STOP = 3;
const O_TIME_CONTIGUOUS = 4;
const O_MONTHDAYS = 5;
const O_WEEKDAYS = 6;
const O_LOCAL_TZ = 7;
const O_UTC = 8;
const O_KERNEL_TZ = 9;

const opts: OptionEntry[] = [
  { name: 'datestart', id: O_DATE_START, type: 'string' },
  { name: 'datestop', id: O_DATE_STOP, type: 'string' },
  { name: 'timestart', id: O_TIME_START, type: 'string' },
  { name: 'timestop', id: O_TIME_STOP, type: 'string' },
  { name: 'contiguous', id: O_TIME_CONTIGUOUS, type: 'none' },
  { name: 'weekdays', id: O_WEEKDAYS, type: 'string', invert: true },
  { name: 'monthdays', id: O_MONTHDAYS, type: 'string', invert: true },
  { name: 'localtz', id: O_LOCAL_TZ, type: 'none', excl: [O_UTC] },
  { name: 'utc', id: O_UTC, type: 'none', excl: [O_LOCAL_TZ, O_KERNEL_TZ] },
  { name: 'kerneltz', id: O_KERNEL_TZ, type: 'none', excl: [O_UTC] },
];

const WEEK_DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** strtoul(s, &e, base) stored in an unsigned int: the value and the rest of the string */
function strtoui(s: string, base: number): { v: number; rest: string } {
  const r = strtoumax(s, base);
  return { v: Number(r.value & 0xffffffffn), rest: s.slice(r.end) };
}

/** time_parse_date(): YYYY[-MM[-DD[Thh[:mm[:ss]]]]], normalised by mktime() in UTC */
function parseDate(os: string, warn?: (t: string) => void): number {
  const bad = () => paramProblem(`Invalid date "${os}" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`);
  const f = [0, 1, 1, 0, 0, 0];
  // each field: its separator and upper bound (the year's bounds are checked apart)
  const seps = ['-', '-', 'T', ':', ':', ''];
  const maxes = [2038, 12, 31, 23, 59, 59];
  let s = os;
  for (let i = 0; i < 6; i++) {
    const { v, rest } = strtoui(s, 10);
    const sepOk = rest === '' || (seps[i] !== '' && rest[0] === seps[i]);
    if (!sepOk || v > maxes[i]! || (i === 0 && v < 1970)) throw bad();
    f[i] = v;
    if (rest === '') break;
    s = rest.slice(1);
  }
  const ret = Date.UTC(f[0]!, f[1]! - 1, f[2]!, f[3]!, f[4]!, f[5]!) / 1000;
  if (ret >= 0) return ret >>> 0;
  // perror("mktime") reports the errno glibc's time zone lookup left behind
  warn?.('mktime: No such file or directory\n');
  throw otherProblem('mktime returned an error');
}

/** time_parse_minutes(): hh:mm[:ss]; the message quotes the part being parsed */
function parseMinutes(os: string): number {
  let s = os;
  const bad = () => paramProblem(`invalid time "${s}" specified, should be hh:mm[:ss] format and within the boundaries`);
  const h = strtoui(s, 10);
  if (h.rest[0] !== ':' || h.v > 23) throw bad();
  s = h.rest.slice(1);
  const m = strtoui(s, 10);
  if ((m.rest !== '' && m.rest[0] !== ':') || m.v > 59) throw bad();
  let sec = 0;
  if (m.rest !== '') {
    s = m.rest.slice(1);
    const x = strtoui(s, 10);
    if (x.rest !== '' || x.v > 59) throw bad();
    sec = x.v;
  }
  return 3600 * h.v + 60 * m.v + sec;
}

/** my_strseg(): comma-separated pieces, each cut to buflen-1 characters; an empty tail ends it */
function segments(arg: string, buflen: number): string[] {
  const out: string[] = [];
  let rest: string | undefined = arg;
  while (rest !== undefined && rest !== '') {
    const comma = rest.indexOf(',');
    const piece = comma < 0 ? rest : rest.slice(0, comma);
    out.push(piece.slice(0, buflen - 1));
    rest = comma < 0 ? undefined : rest.slice(comma + 1);
  }
  return out;
}

/** 1 << i of an int on x86 (the shift count taken modulo 32), as an unsigned value */
const bit = (i: number): number => (1 << (i & 31)) >>> 0;

function parseMonthdays(arg: string): number {
  let ret = 0;
  for (const day of segments(arg, 3)) {
    const { v, rest } = strtoui(day, 0);
    if ((rest !== '' && rest[0] !== ',') || v > 31) throw paramProblem(`${day} is not a valid day for --monthdays`);
    ret = (ret | bit(v)) >>> 0;
  }
  return ret;
}

function parseWeekdays(arg: string): number {
  let ret = 0;
  for (const day of segments(arg, 4)) {
    const { v, rest } = strtoui(day, 0);
    if (rest === '') {
      if (v === 0) throw paramProblem('No, the week does NOT begin with Sunday.');
      ret = (ret | bit(v)) >>> 0;
      continue;
    }
    let valid = false;
    for (let i = 1; i < WEEK_DAYS.length; i++) {
      // strncmp(day, name, 2)
      if (day.length >= 2 && day.slice(0, 2) === WEEK_DAYS[i]!.slice(0, 2)) {
        ret = (ret | bit(i)) >>> 0;
        valid = true;
      }
    }
    if (!valid) throw paramProblem(`${day} is not a valid day specifier`);
  }
  return ret;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function hms(t: number): string {
  return `${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}`;
}

/** time_print_date(): nothing for 0 (LONG_MAX cannot occur in a u32) */
function printDate(date: number, command?: string): string {
  if (date === 0) return '';
  const d = new Date(date * 1000);
  const day = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return command !== undefined ? ` ${command} ${day}T${time}` : ` ${day} ${time}`;
}

function printMonthdays(mask: number, human: boolean): string {
  const days: string[] = [];
  for (let i = 1; i <= 31; i++) {
    if (!(mask & bit(i))) continue;
    let s = String(i);
    if (human) s += ['th', 'st', 'nd', 'rd'][i % 10] ?? 'th';
    days.push(s);
  }
  return ` ${days.join(',')}`;
}

function printWeekdays(mask: number): string {
  const days: string[] = [];
  for (let i = 1; i <= 7; i++) if (mask & (1 << i)) days.push(WEEK_DAYS[i]!);
  return ` ${days.join(',')}`;
}

const isDefaultDaytime = (d: TimeData): boolean => d.daytimeStart === XT_TIME_MIN_DAYTIME && d.daytimeStop === XT_TIME_MAX_DAYTIME;

export const time: MatchExtension<TimeData> = {
  kind: 'match',
  name: 'time',
  // time_help() of libxt_time.c, byte for byte as iptables 1.8.9 prints it
  help:
    'time match options:\n' +
    '    --datestart time     Start and stop time, to be given in ISO 8601\n' +
    '    --datestop time      (YYYY[-MM[-DD[Thh[:mm[:ss]]]]])\n' +
    '    --timestart time     Start and stop daytime (hh:mm[:ss])\n' +
    '    --timestop time      (between 00:00:00 and 23:59:59)\n' +
    '[!] --monthdays value    List of days on which to match, separated by comma\n' +
    '                         (Possible days: 1 to 31; defaults to all)\n' +
    '[!] --weekdays value     List of weekdays on which to match, sep. by comma\n' +
    '                         (Possible days: Mon,Tue,Wed,Thu,Fri,Sat,Sun or 1 to 7\n' +
    '                         Defaults to all weekdays.)\n' +
    '    --kerneltz           Work with the kernel timezone instead of UTC\n',
  options: opts,
  // time_init(): every day, all day, no date bounds
  init: () => ({
    dateStart: 0,
    dateStop: INT_MAX,
    daytimeStart: XT_TIME_MIN_DAYTIME,
    daytimeStop: XT_TIME_MAX_DAYTIME,
    monthdays: XT_TIME_ALL_MONTHDAYS,
    weekdays: XT_TIME_ALL_WEEKDAYS,
    flags: 0,
  }),
  parse({ entry, arg, invert, data, warn }) {
    switch (entry.id) {
      case O_DATE_START:
        data.dateStart = parseDate(arg!, warn);
        break;
      case O_DATE_STOP:
        data.dateStop = parseDate(arg!, warn);
        break;
      case O_TIME_START:
        data.daytimeStart = parseMinutes(arg!);
        break;
      case O_TIME_STOP:
        data.daytimeStop = parseMinutes(arg!);
        break;
      case O_TIME_CONTIGUOUS:
        data.flags |= XT_TIME_CONTIGUOUS;
        break;
      case O_LOCAL_TZ:
        warn?.(
          'WARNING: --localtz is being replaced by --kerneltz, since "local" is ambiguous. Note the kernel timezone has caveats - see manpage for details.\n',
        );
        data.flags |= XT_TIME_LOCAL_TZ;
        break;
      case O_KERNEL_TZ:
        data.flags |= XT_TIME_LOCAL_TZ;
        break;
      case O_MONTHDAYS:
        data.monthdays = parseMonthdays(arg!);
        if (invert) data.monthdays = (data.monthdays ^ XT_TIME_ALL_MONTHDAYS) >>> 0;
        break;
      case O_WEEKDAYS:
        // the result lands in a __u8 before the inversion
        data.weekdays = parseWeekdays(arg!) & 0xff;
        if (invert) data.weekdays ^= XT_TIME_ALL_WEEKDAYS;
        break;
    }
  },
  finalCheck({ data, xflags }) {
    if (xflags & (1 << O_TIME_CONTIGUOUS) && data.daytimeStart < data.daytimeStop) {
      throw paramProblem('time: --contiguous only makes sense when stoptime is smaller than starttime');
    }
  },
  print(d) {
    let s = ' TIME';
    if (!isDefaultDaytime(d)) s += ` from ${hms(d.daytimeStart)} to ${hms(d.daytimeStop)}`;
    if (d.weekdays !== XT_TIME_ALL_WEEKDAYS) s += ` on${printWeekdays(d.weekdays)}`;
    if (d.monthdays !== XT_TIME_ALL_MONTHDAYS) s += ` on${printMonthdays(d.monthdays, true)}`;
    if (d.dateStart !== 0) s += ` starting from${printDate(d.dateStart)}`;
    if (d.dateStop !== INT_MAX) s += ` until date${printDate(d.dateStop)}`;
    if (!(d.flags & XT_TIME_LOCAL_TZ)) s += ' UTC';
    if (d.flags & XT_TIME_CONTIGUOUS) s += ' contiguous';
    return s;
  },
  save(d) {
    let s = '';
    if (!isDefaultDaytime(d)) s += ` --timestart ${hms(d.daytimeStart)} --timestop ${hms(d.daytimeStop)}`;
    if (d.monthdays !== XT_TIME_ALL_MONTHDAYS) s += ` --monthdays${printMonthdays(d.monthdays, false)}`;
    if (d.weekdays !== XT_TIME_ALL_WEEKDAYS) s += ` --weekdays${printWeekdays(d.weekdays)}`;
    // time_print_date() skips only 0 and LONG_MAX, so the default INT_MAX stop date is written
    s += printDate(d.dateStart, '--datestart');
    s += printDate(d.dateStop, '--datestop');
    if (d.flags & XT_TIME_LOCAL_TZ) s += ' --kerneltz';
    if (d.flags & XT_TIME_CONTIGUOUS) s += ' --contiguous';
    return s;
  },
  /**
   * time_mt() on the lab clock. --kerneltz shifts by the kernel's sys_tz, which is UTC (0
   * minutes west) on the lab hosts, as on a host whose clock nobody set a kernel zone for.
   */
  match(d, _pkt, ctx) {
    let stamp = Math.floor(ctx.now());
    if (stamp < d.dateStart || stamp > d.dateStop) return false;
    const day = 86400;
    const packetTime = ((stamp % day) + day) % day;
    if (d.daytimeStart < d.daytimeStop) {
      if (packetTime < d.daytimeStart || packetTime > d.daytimeStop) return false;
    } else {
      if (packetTime < d.daytimeStart && packetTime > d.daytimeStop) return false;
      // --contiguous: the early-morning part belongs to the previous day's window
      if (d.flags & XT_TIME_CONTIGUOUS && packetTime <= d.daytimeStop) stamp -= day;
    }
    const dse = Math.floor(stamp / day);
    // 1970-01-01 was a Thursday; Monday is 1, Sunday 7
    const weekday = ((4 + dse - 1) % 7) + 1;
    if (!(d.weekdays & (1 << weekday))) return false;
    if (d.monthdays !== XT_TIME_ALL_MONTHDAYS) {
      const monthday = new Date(stamp * 1000).getUTCDate();
      if (!(d.monthdays & bit(monthday))) return false;
    }
    return true;
  },
};
