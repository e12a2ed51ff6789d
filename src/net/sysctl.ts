/**
 * The kernel parameters the engine models, per host, with the Linux defaults of a fresh network
 * namespace. Keys are stored flat ("net.ipv4.conf.eth0.rp_filter").
 */
import type { Host } from './lab.js';

export const CONF_KEYS = ['forwarding', 'rp_filter', 'route_localnet', 'accept_local'] as const;
export type ConfKey = (typeof CONF_KEYS)[number];
// (per-interface values are proc_dointvec: any int is written, rp_filter=5 included; measured in
// fixtures/cli/sysctl.case)

/*
 * Inert parameters: firewall scripts set them next to their rules, so a host keeps them (a write is
 * checked as the kernel checks it, a read gives the value back), but nothing the lab simulates
 * depends on them: SYN cookies only answer a full SYN queue, TCP timestamps, SACK and ECN are
 * options inside the endpoints' TCP, ip_dynaddr rewrites sockets of dial-up links, the lab sends
 * and receives no ICMP redirects, source-routed packets or broadcast pings, has no bridges, and
 * logs no martians. Defaults and accepted values measured in a fresh network namespace (Linux
 * 6.18; fixtures/cli/sysctl.case). Some per-interface ones live here for their defaults and
 * writes but are read by the engine: src_valid_mark (srcValidMark()) and the ARP parameters
 * (arpConf()).
 */

/** per-interface inert parameters (proc_dointvec: any int), defaults for `all` and for `default` and each device */
export const INERT_CONF: Record<string, { all: string; dev: string }> = {
  accept_redirects: { all: '0', dev: '1' },
  // (kept with these, but not inert: srcValidMark() below)
  src_valid_mark: { all: '0', dev: '0' },
  secure_redirects: { all: '1', dev: '1' },
  send_redirects: { all: '1', dev: '1' },
  accept_source_route: { all: '0', dev: '1' },
  log_martians: { all: '0', dev: '0' },
  // (kept with these, but not inert: arpConf() below)
  proxy_arp: { all: '0', dev: '0' },
  arp_filter: { all: '0', dev: '0' },
  arp_ignore: { all: '0', dev: '0' },
  arp_announce: { all: '0', dev: '0' },
  bootp_relay: { all: '0', dev: '0' },
};

/**
 * IPv6 per-interface parameters (net.ipv6.conf.*) dual-stack scripts set: the lab routes no IPv6,
 * so all are inert. Defaults of `all`, `default` and a device (`lo` where it differs), measured in
 * a fresh network namespace (Linux 6.18; fixtures/cli/sysctl.case). Any int is written; `default`
 * reaches no existing device (new ones start from it), and a write to `all` of forwarding or
 * disable_ipv6 is copied to `default` and every device (addrconf_fixup_forwarding,
 * addrconf_disable_ipv6).
 */
export const CONF6: Record<string, { all: string; dev: string; lo?: string }> = {
  forwarding: { all: '0', dev: '0' },
  disable_ipv6: { all: '0', dev: '0' },
  accept_ra: { all: '1', dev: '1' },
  accept_redirects: { all: '1', dev: '1' },
  autoconf: { all: '1', dev: '1' },
  accept_source_route: { all: '0', dev: '0' },
  use_tempaddr: { all: '0', dev: '0', lo: '-1' },
  proxy_ndp: { all: '0', dev: '0' },
};

/** the IPv6 keys whose write to `all` reaches `default` and every device */
export const ALL_SPREADS6: ReadonlySet<string> = new Set(['forwarding', 'disable_ipv6']);

/**
 * conntrack's timeouts (seconds), which the entries the host's conntrack makes or refreshes count
 * down from: proc_dointvec_jiffies, so any int whose jiffies fit an int (HZ 250 here: +-8589934;
 * measured, fixtures/cli/sysctl-conntrack.case, fixtures/kernel/137-conntrack-timeouts)
 */
const CONNTRACK_TIMEOUTS: Record<string, number> = {
  tcp_timeout_syn_sent: 120,
  tcp_timeout_syn_recv: 60,
  tcp_timeout_established: 432000,
  tcp_timeout_fin_wait: 120,
  tcp_timeout_close_wait: 60,
  tcp_timeout_last_ack: 30,
  tcp_timeout_time_wait: 120,
  tcp_timeout_close: 10,
  udp_timeout: 30,
  udp_timeout_stream: 120,
  icmp_timeout: 30,
  generic_timeout: 600,
};
const JIFFIES_MAX_SECONDS = 8589934;
const CONNTRACK_TIMEOUT_SYSCTLS = Object.fromEntries(
  Object.entries(CONNTRACK_TIMEOUTS).map(([k, v]) => [`net.netfilter.nf_conntrack_${k}`, { value: String(v), range: [-JIFFIES_MAX_SECONDS, JIFFIES_MAX_SECONDS] as [number, number] }]),
);

/**
 * br_netfilter's keys (the kernel the lab models has it loaded): brnf_sysctl_call_tables() stores
 * any nonzero int as 1. Inert: the lab's hosts have no bridge (measured, fixtures/cli/sysctl-bridge.case).
 */
const BRIDGE_NF_SYSCTLS = Object.fromEntries(
  [
    ['call-arptables', '1'],
    ['call-ip6tables', '1'],
    ['call-iptables', '1'],
    ['filter-pppoe-tagged', '0'],
    ['filter-vlan-tagged', '0'],
    ['pass-vlan-input-dev', '0'],
  ].map(([k, v]) => [`net.bridge.bridge-nf-${k}`, { value: v!, inert: true as const, nonzeroIsOne: true as const }]),
);

/** a conntrack timeout of the host (`tcp_timeout_established`, `udp_timeout`, ...), seconds */
export function conntrackTimeout(sysctls: Record<string, string>, name: string): number {
  return Number(sysctls[`net.netfilter.nf_conntrack_${name}`] ?? CONNTRACK_TIMEOUTS[name]);
}

/**
 * The host-wide parameters besides ip_forward, with their defaults: a lab saved before one was
 * modelled reads it as the default. `range`: the bounds proc_dointvec_minmax or
 * proc_dou8vec_minmax enforce; `inert`: stored, never acted on (above).
 */
export const GLOBAL_SYSCTLS: Record<string, { value: string; range?: [number, number]; inert?: true; nonzeroIsOne?: true }> = {
  'net.ipv4.ip_local_port_range': { value: '32768\t60999' },
  'net.ipv4.ip_default_ttl': { value: '64', range: [1, 255] },
  'net.ipv4.tcp_syncookies': { value: '1', range: [0, 255], inert: true },
  'net.ipv4.tcp_timestamps': { value: '1', range: [0, 255], inert: true },
  'net.ipv4.tcp_sack': { value: '1', range: [0, 255], inert: true },
  'net.ipv4.tcp_ecn': { value: '2', range: [0, 2], inert: true },
  'net.ipv4.ip_dynaddr': { value: '0', range: [0, 255], inert: true },
  'net.ipv4.icmp_echo_ignore_all': { value: '0', range: [0, 1] },
  'net.ipv4.icmp_echo_ignore_broadcasts': { value: '1', range: [0, 1], inert: true },
  'net.ipv4.icmp_ignore_bogus_error_responses': { value: '1', range: [0, 1], inert: true },
  ...CONNTRACK_TIMEOUT_SYSCTLS,
  ...BRIDGE_NF_SYSCTLS,
};

/**
 * Per-interface keys whose write to `default` also reaches every device that was never written
 * itself (devinet_conf_proc -> devinet_copy_dflt_conf, the devconf state bits). forwarding and
 * route_localnet have handlers of their own and do not (measured: fixtures/cli/sysctl.case).
 */
export const FOLLOWS_DEFAULT: ReadonlySet<string> = new Set(['rp_filter', 'accept_local', ...Object.keys(INERT_CONF)]);

/**
 * rtm_to_ifaddr() calls ipv4_devconf_setall(): once an address was added to a device through
 * netlink (`ip addr add`), all its parameters count as written and no longer follow `default`
 * (measured: fixtures/cli/sysctl.case, fixtures/scripts/sysctl-load.sh). A lab's configured
 * addresses came that way; lo's 127.0.0.1/8 is the kernel's own. `ip addr add` leaves a marker,
 * which outlives the address (the state bits are never cleared).
 */
export function followsDefault(host: Host, dev: string): boolean {
  if (host.sysctlsSet?.includes(addressedMarker(dev))) return false;
  const iface = host.interfaces.find((i) => i.name === dev);
  return !iface?.addrs.some((a) => !(dev === 'lo' && a === '127.0.0.1/8'));
}

const addressedMarker = (dev: string): string => `net.ipv4.conf.${dev}.*`;

export function markAddressed(host: Host, dev: string): void {
  const m = addressedMarker(dev);
  if (!host.sysctlsSet?.includes(m)) (host.sysctlsSet ??= []).push(m);
}

/** the per-interface keys a host has for each of `all`, `default` and its devices */
export const ALL_CONF_KEYS: readonly string[] = [...CONF_KEYS, ...Object.keys(INERT_CONF)];

/**
 * The value a modelled key has when the host does not hold it (a lab saved before the key was
 * modelled): its default. Undefined for anything else.
 */
export function modelledDefault(key: string, devices: readonly string[]): string | undefined {
  const g = GLOBAL_SYSCTLS[key];
  if (g) return g.value;
  const m6 = /^net\.ipv6\.conf\.([^.]+)\.([^.]+)$/.exec(key);
  const c6 = m6 ? CONF6[m6[2]!] : undefined;
  if (m6 && c6) {
    if (m6[1] === 'all') return c6.all;
    if (m6[1] === 'lo' && c6.lo !== undefined && devices.includes('lo')) return c6.lo;
    return m6[1] === 'default' || devices.includes(m6[1]!) ? c6.dev : undefined;
  }
  const m = /^net\.ipv4\.conf\.([^.]+)\.([^.]+)$/.exec(key);
  const inert = m ? INERT_CONF[m[2]!] : undefined;
  if (!m || !inert) return undefined;
  if (m[1] === 'all') return inert.all;
  return m[1] === 'default' || devices.includes(m[1]!) ? inert.dev : undefined;
}

/** the value of `key` on the host: the one it holds, else its modelled default; undefined: not modelled */
export function modelledValue(host: Host, key: string): string | undefined {
  return host.sysctls[key] ?? modelledDefault(key, host.interfaces.map((i) => i.name));
}

/**
 * Every key the host models: those it holds and those it would give its default for
 * (modelledDefault(): a lab saved before they were modelled, the IPv6 ones), sorted as
 * `sysctl -a` lists them
 */
export function modelledKeys(host: Host): string[] {
  const keys = new Set(Object.keys(host.sysctls));
  for (const k of Object.keys(GLOBAL_SYSCTLS)) keys.add(k);
  for (const dev of ['all', 'default', ...host.interfaces.map((i) => i.name)]) {
    for (const k of Object.keys(INERT_CONF)) keys.add(`net.ipv4.conf.${dev}.${k}`);
    for (const k of Object.keys(CONF6)) keys.add(`net.ipv6.conf.${dev}.${k}`);
  }
  return [...keys].sort();
}

/** the TTL a host's own packets start with */
export function defaultTtl(sysctls: Record<string, string>): number {
  return Number(sysctls['net.ipv4.ip_default_ttl'] ?? GLOBAL_SYSCTLS['net.ipv4.ip_default_ttl']!.value);
}

export function defaultSysctls(ifaces: string[], forward: boolean): Record<string, string> {
  const f = forward ? '1' : '0';
  const s: Record<string, string> = { 'net.ipv4.ip_forward': f };
  for (const [k, d] of Object.entries(GLOBAL_SYSCTLS)) s[k] = d.value;
  for (const dev of ['all', 'default', ...ifaces]) {
    for (const k of CONF_KEYS) s[`net.ipv4.conf.${dev}.${k}`] = k === 'forwarding' ? f : '0';
    for (const [k, d] of Object.entries(INERT_CONF)) s[`net.ipv4.conf.${dev}.${k}`] = dev === 'all' ? d.all : d.dev;
  }
  return s;
}

/** IN_DEV_SRC_VMARK(): the source validation's route lookup back (rp_filter, or the full check) uses the packet's mark */
export function srcValidMark(sysctls: Record<string, string>, dev: string): boolean {
  const v = (d: string) => Number(sysctls[`net.ipv4.conf.${d}.src_valid_mark`] ?? '0');
  return v('all') !== 0 || v(dev) !== 0; // IN_DEV_ORCONF
}

/** how a device takes part in ARP (IN_DEV_ARP_IGNORE, IN_DEV_ARP_ANNOUNCE, IN_DEV_ARPFILTER, IN_DEV_PROXY_ARP) */
export interface ArpConf {
  ignore: number;
  announce: number;
  filter: boolean;
  proxy: boolean;
}

export function arpConf(sysctls: Record<string, string>, dev: string): ArpConf {
  const v = (d: string, k: string) => Number(sysctls[`net.ipv4.conf.${d}.${k}`] ?? '0');
  return {
    ignore: Math.max(v('all', 'arp_ignore'), v(dev, 'arp_ignore')), // IN_DEV_MAXCONF
    announce: Math.max(v('all', 'arp_announce'), v(dev, 'arp_announce')),
    filter: v('all', 'arp_filter') !== 0 || v(dev, 'arp_filter') !== 0, // IN_DEV_ORCONF
    proxy: v('all', 'proxy_arp') !== 0 || v(dev, 'proxy_arp') !== 0,
  };
}

/** The value the kernel acts on for one interface (IN_DEV_* macros). */
export function effectiveConf(sysctls: Record<string, string>, dev: string, key: ConfKey): number {
  const v = (d: string) => Number(sysctls[`net.ipv4.conf.${d}.${key}`] ?? '0');
  switch (key) {
    case 'rp_filter':
      return Math.max(v('all'), v(dev)); // IN_DEV_MAXCONF
    case 'route_localnet':
    case 'accept_local':
      return v('all') || v(dev) ? 1 : 0; // IN_DEV_ORCONF
    case 'forwarding':
      return v(dev); // IN_DEV_FORWARD
  }
}
