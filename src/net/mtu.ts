/**
 * Interface MTUs and the TCP MSS that follows from them. The lab has no per-interface MTU: every
 * interface has the kernel's default, 1500 for ethernet and veth devices and 65536 for loopback
 * (what `ip link` shows).
 */
export function deviceMtu(dev: string | undefined): number {
  return dev === 'lo' ? 65536 : 1500;
}

/**
 * The MSS option Linux puts in a SYN or SYN-ACK it sends out of `dev`: the route's advmss,
 * ipv4_default_advmss() = MTU - 40 (IPv4 and TCP headers), at most IPV4_MAX_PMTU - 40 = 65495
 * (so 1460 on ethernet, 65495 on lo), and tcp_connect_init()/tcp_make_synack() send it as it is
 * when no socket option or route metric lowers it, as none does in the lab.
 */
export function advertisedMss(dev: string | undefined): number {
  return Math.min(deviceMtu(dev) - 40, 65535 - 40);
}
