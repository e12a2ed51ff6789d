/**
 * Interface MTUs and the TCP MSS that follows from them: an interface's own (`ip link set DEV mtu
 * N`), else the kernel's default, 1500 for ethernet and veth devices and 65536 for loopback (what
 * `ip link` shows).
 */
import type { Host } from './lab.js';

export function deviceMtu(host: Host | undefined, dev: string | undefined): number {
  const own = host?.interfaces.find((i) => i.name === dev)?.mtu;
  return own ?? (dev === 'lo' ? 65536 : 1500);
}

/** ip_metrics_convert(): the largest route mtu and advmss metrics the kernel keeps */
export const MAX_ROUTE_MTU = 65535 - 15;
export const MAX_ROUTE_ADVMSS = 65535 - 40;

/** what a route holds that decides its MTU (FibRoute has these fields) */
export interface RouteMetrics {
  gateway?: number;
  mtu?: number;
  mtuLock?: boolean;
  advmss?: number;
}

/**
 * ipv4_mtu(), ip_dst_mtu_maybe_forward(): a route's MTU (dst_mtu()): its mtu metric, else its
 * device's, which `mtu lock` without a value lowers to 576 for a route through a gateway; at most
 * IP_MAX_MTU (measured: fixtures/kernel/438-route-mtu). No path MTU is ever learned in the lab.
 */
export function routeMtu(r: RouteMetrics, devMtu: number): number {
  let mtu = r.mtu || devMtu;
  if (!r.mtu && r.mtuLock && r.gateway !== undefined && mtu > 576) mtu = 576;
  return Math.min(mtu, 0xffff);
}

/**
 * The MSS option Linux puts in a SYN or SYN-ACK it sends by a route of MTU `mtu` (routeMtu(),
 * dst_metric_advmss()): the route's advmss metric, else ipv4_default_advmss(): that MTU - 40
 * (IPv4 and TCP headers), at least ip_rt_min_advmss (256) and at most IPV4_MAX_PMTU - 40 = 65495
 * (so 1460 on ethernet, 65495 on lo); tcp_connect_init()/tcp_make_synack() send it as it is when no socket option
 * lowers it, as none does in the lab (measured: fixtures/kernel/412-mtu-clamp, 438-route-mtu).
 */
export function routeAdvmss(r: RouteMetrics, mtu: number): number {
  return r.advmss || advertisedMss(mtu);
}

/** ipv4_default_advmss() of an MTU */
export function advertisedMss(mtu: number): number {
  return Math.min(Math.max(mtu - 40, 256), 65535 - 40);
}
