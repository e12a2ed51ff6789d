/**
 * The user and group databases libxt_owner consults (getpwnam/getpwuid, getgrnam/getgrgid).
 * Only the static accounts of Debian 12's base-passwd are modelled: they are the same on every
 * Debian host, while accounts added later (uid/gid 100 and up, created by package scripts or
 * the administrator) differ from machine to machine and are not assumed to exist.
 */
const USERS: readonly [string, number][] = [
  ['root', 0],
  ['daemon', 1],
  ['bin', 2],
  ['sys', 3],
  ['sync', 4],
  ['games', 5],
  ['man', 6],
  ['lp', 7],
  ['mail', 8],
  ['news', 9],
  ['uucp', 10],
  ['proxy', 13],
  ['www-data', 33],
  ['backup', 34],
  ['list', 38],
  ['irc', 39],
  ['nobody', 65534],
];

const GROUPS: readonly [string, number][] = [
  ['root', 0],
  ['daemon', 1],
  ['bin', 2],
  ['sys', 3],
  ['adm', 4],
  ['tty', 5],
  ['disk', 6],
  ['lp', 7],
  ['mail', 8],
  ['news', 9],
  ['uucp', 10],
  ['man', 12],
  ['proxy', 13],
  ['kmem', 15],
  ['dialout', 20],
  ['fax', 21],
  ['voice', 22],
  ['cdrom', 24],
  ['floppy', 25],
  ['tape', 26],
  ['sudo', 27],
  ['audio', 29],
  ['dip', 30],
  ['www-data', 33],
  ['backup', 34],
  ['operator', 37],
  ['list', 38],
  ['irc', 39],
  ['src', 40],
  ['shadow', 42],
  ['utmp', 43],
  ['video', 44],
  ['sasl', 45],
  ['plugdev', 46],
  ['staff', 50],
  ['games', 60],
  ['users', 100],
  ['nogroup', 65534],
];

/** getpwnam(name)->pw_uid (case-sensitive, as the files backend compares) */
export const userByName = (name: string): number | undefined => USERS.find(([n]) => n === name)?.[1];
/** getpwuid(uid)->pw_name */
export const userById = (uid: number): string | undefined => USERS.find(([, id]) => id === uid)?.[0];
/** getgrnam(name)->gr_gid */
export const groupByName = (name: string): number | undefined => GROUPS.find(([n]) => n === name)?.[1];
/** getgrgid(gid)->gr_name */
export const groupById = (gid: number): string | undefined => GROUPS.find(([, id]) => id === gid)?.[0];
