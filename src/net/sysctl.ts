/**
 * The kernel parameters the engine models, per host, with the Linux defaults of a fresh network
 * namespace. Keys are stored flat ("net.ipv4.conf.eth0.rp_filter").
 */
export const CONF_KEYS = ['forwarding', 'rp_filter', 'route_localnet', 'accept_local'] as const;
export type ConfKey = (typeof CONF_KEYS)[number];

/** allowed values per key (the kernel's extra1/extra2 bounds) */
export const CONF_RANGE: Record<ConfKey, [number, number]> = {
  forwarding: [0, 1],
  rp_filter: [0, 2],
  route_localnet: [0, 1],
  accept_local: [0, 1],
};

/**
 * The host-wide parameters besides ip_forward, with their defaults: a lab saved before one was
 * modelled reads it as the default. `range`: proc_dointvec_minmax's bounds.
 */
export const GLOBAL_SYSCTLS: Record<string, { value: string; range?: [number, number] }> = {
  'net.ipv4.ip_local_port_range': { value: '32768\t60999' },
  'net.ipv4.ip_default_ttl': { value: '64', range: [1, 255] },
};

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
  }
  return s;
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
