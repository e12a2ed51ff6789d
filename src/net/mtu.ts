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

/**
 * The MSS option Linux puts in a SYN or SYN-ACK it sends out of a device of MTU `mtu`: the route's advmss,
 * ipv4_default_advmss() = MTU - 40 (IPv4 and TCP headers), at most IPV4_MAX_PMTU - 40 = 65495
 * (so 1460 on ethernet, 65495 on lo), and tcp_connect_init()/tcp_make_synack() send it as it is
 * when no socket option or route metric lowers it, as none does in the lab.
 */
export function advertisedMss(mtu: number): number {
  return Math.min(mtu - 40, 65535 - 40);
}
