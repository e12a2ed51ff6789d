/**
 * DNPT and SNPT targets (libip6t_DNPT.c, libip6t_SNPT.c, ip6t_NPT): IPv6-to-IPv6 network prefix
 * translation (RFC 6296) of the destination before routing or the source after it, checksum
 * neutral. ip6tables only, mangle table; the lab keeps such rules but runs no IPv6 packets (no
 * apply()). Measured: fixtures/cli/ip6tables-npt.case.
 */
import { prefixOf6 } from '../../net/ipv6.js';
import type { TargetExtension } from '../types.js';

const O_SRC_PFX = 1;
const O_DST_PFX = 2;

export interface NptData {
  /** the prefixes as given (inet_ntop() text) and their lengths; "::" and 0 when not given */
  src: [string, number];
  dst: [string, number];
}

/** " --src-pfx A/N": nothing for ::/0 (DNPT_save()) */
const pfxSave = (option: string, [addr, len]: [string, number]): string => (addr === '::' && len === 0 ? '' : ` --${option} ${addr}/${len}`);

function nptTarget(name: 'DNPT' | 'SNPT', hooks: string[]): TargetExtension<NptData> {
  return {
    kind: 'target',
    name,
    family: 6,
    v6Addresses: true,
    help: `${name} target options:\n --src-pfx prefix/length\n --dst-pfx prefix/length\n\n`,
    options: [
      { name: 'src-pfx', id: O_SRC_PFX, type: 'hostmask', mandatory: true },
      { name: 'dst-pfx', id: O_DST_PFX, type: 'hostmask', mandatory: true },
    ],
    init: () => ({ src: ['::', 0], dst: ['::', 0] }),
    parse({ entry, val, data }) {
      // the length is a u8: a mask with holes (hlen -1) is 255
      const pfx: [string, number] = [val.haddr6!, val.hlen! & 0xff];
      if (entry.id === O_SRC_PFX) data.src = pfx;
      else data.dst = pfx;
    },
    print: (d) => ` ${name} src-pfx ${d.src[0]}/${d.src[1]} dst-pfx ${d.dst[0]}/${d.dst[1]}`,
    save: (d) => pfxSave('src-pfx', d.src) + pfxSave('dst-pfx', d.dst),
    tables: ['mangle'],
    hooks,
    // ip6t_npt_checkentry(): prefixes of at most 64 bits with no host bits set
    kernelCheck(d) {
      for (const [addr, len] of [d.src, d.dst]) {
        if (len > 64) return `${name}: a prefix of ${len} bits (at most 64)`;
        if (prefixOf6(addr, len) !== addr) return `${name}: ${addr}/${len} has bits set past its prefix`;
      }
      return undefined;
    },
  };
}

// DNPT rewrites the destination (PREROUTING, OUTPUT), SNPT the source (INPUT, POSTROUTING)
export const DNPT = nptTarget('DNPT', ['PREROUTING', 'OUTPUT']);
export const SNPT = nptTarget('SNPT', ['INPUT', 'POSTROUTING']);
