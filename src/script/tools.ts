/**
 * What a command name means to the replay: a tool the emulator answers for (run through the same
 * code as `iptables-sim TOOL`), a module or logging tool accepted without effect (and noted), or
 * something refused with the reason. Names are looked up by their last path component, so
 * `/sbin/iptables`, `/usr/local/sbin/iptables` and `$IPT` all reach the emulated iptables.
 */

/**
 * A table keyed by command names, without a prototype: a script's `toString` or `constructor` is a
 * command name like any other, not a member of Object.prototype.
 */
function byName(entries: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, entries);
}

/** tools the emulator implements, by the names they are installed under (iptables-nft's aliases included) */
export const EMULATED = byName({
  iptables: 'iptables',
  'iptables-nft': 'iptables',
  'iptables-save': 'iptables-save',
  'iptables-nft-save': 'iptables-save',
  'iptables-restore': 'iptables-restore',
  'iptables-nft-restore': 'iptables-restore',
  ip6tables: 'ip6tables',
  'ip6tables-nft': 'ip6tables',
  'ip6tables-save': 'ip6tables-save',
  'ip6tables-nft-save': 'ip6tables-save',
  'ip6tables-restore': 'ip6tables-restore',
  'ip6tables-nft-restore': 'ip6tables-restore',
  sysctl: 'sysctl',
  ip: 'ip',
  conntrack: 'conntrack',
  ipset: 'ipset',
  nfacct: 'nfacct',
});

/** accepted, with no effect on the lab; listed at the end of the replay */
export const NOTED = byName({
  modprobe: 'kernel modules are not modelled (every match and target is available)',
  insmod: 'kernel modules are not modelled',
  rmmod: 'kernel modules are not modelled',
  depmod: 'kernel modules are not modelled',
  logger: 'syslog is not modelled',
  sleep: 'the replay does not wait',
  sync: 'nothing to flush',
});

/** refused, with what to do instead */
export const REFUSED = byName({
  'iptables-legacy': 'iptables-sim emulates iptables-nft (1.8.9, nf_tables); use iptables',
  'iptables-legacy-save': 'iptables-sim emulates iptables-nft (1.8.9, nf_tables); use iptables-save',
  'iptables-legacy-restore': 'iptables-sim emulates iptables-nft (1.8.9, nf_tables); use iptables-restore',
  'ip6tables-legacy': 'iptables-sim emulates ip6tables-nft (1.8.9, nf_tables); use ip6tables',
  'ip6tables-legacy-save': 'iptables-sim emulates ip6tables-nft (1.8.9, nf_tables); use ip6tables-save',
  'ip6tables-legacy-restore': 'iptables-sim emulates ip6tables-nft (1.8.9, nf_tables); use ip6tables-restore',
  nft: 'the nft tool is not modelled; iptables-sim emulates the iptables commands',
  ebtables: 'bridge filtering (ebtables) is not modelled',
  arptables: 'ARP filtering (arptables) is not modelled',
  tc: 'traffic control (tc) is not modelled',
  ifconfig: 'ifconfig is not modelled; use ip addr / ip link',
  route: 'route is not modelled; use ip route',
  brctl: 'bridges are not modelled',
  vconfig: 'VLAN devices are not modelled',
  ifenslave: 'bonding is not modelled',
  'iptables-sim': 'run does not start iptables-sim inside a replay; put the command in the script itself',
});

/** where the emulated machine has its tools (merged /usr: /sbin and /bin are the /usr ones) */
export const TOOL_DIRS = ['/sbin', '/usr/sbin', '/usr/local/sbin', '/bin', '/usr/bin', '/usr/local/bin'];

export function baseName(cmd: string): string {
  const i = cmd.lastIndexOf('/');
  return i < 0 ? cmd : cmd.slice(i + 1);
}

/** the installed path of a tool of the emulated machine */
export function toolPath(name: string): string {
  return name === 'ip' ? '/usr/bin/ip' : `/usr/sbin/${name}`;
}
