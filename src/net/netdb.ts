/**
 * The libc name databases iptables consults (getservbyname/getservbyport, getprotobyname/
 * getprotobynumber, getnetbyname, /etc/hosts), answered from the recording machine's files
 * (see netdb-data.ts). No DNS: the recording namespaces had no reachable resolver either.
 */
import { HOSTS, NETWORKS, PROTOCOLS, SERVICES } from './netdb-data.js';

let byServiceName: Map<string, number> | undefined;
let byServicePort: Map<string, string> | undefined;

function serviceMaps(): [Map<string, number>, Map<string, string>] {
  if (!byServiceName || !byServicePort) {
    byServiceName = new Map();
    byServicePort = new Map();
    for (const [name, port, proto, ...aliases] of SERVICES) {
      for (const n of [name, ...aliases]) {
        const k = `${n}/${proto}`;
        if (!byServiceName.has(k)) byServiceName.set(k, port);
        if (!byServiceName.has(`${n}/*`)) byServiceName.set(`${n}/*`, port);
      }
      const pk = `${port}/${proto}`;
      if (!byServicePort.has(pk)) byServicePort.set(pk, name);
    }
  }
  return [byServiceName, byServicePort];
}

/** getservbyname(name, proto); proto undefined = any protocol (getaddrinfo's service lookup). */
export function serviceToPort(name: string, proto?: string): number | undefined {
  return serviceMaps()[0].get(`${name}/${proto ?? '*'}`);
}

/** getservbyport(htons(port), proto)->s_name */
export function portToService(port: number, proto: string): string | undefined {
  return serviceMaps()[1].get(`${port}/${proto}`);
}

/** getprotobyname(): names and aliases, case-sensitive as in glibc's files backend. */
export function protocolByName(name: string): number | undefined {
  for (const [n, num, ...aliases] of PROTOCOLS) if (n === name || aliases.includes(name)) return num;
  return undefined;
}

export function protocolByNumber(num: number): string | undefined {
  for (const [n, p] of PROTOCOLS) if (p === num) return n;
  return undefined;
}

/** getnetbyname() -> dotted network number */
export function networkByName(name: string): string | undefined {
  for (const [n, addr] of NETWORKS) if (n === name) return addr;
  return undefined;
}

/** getnetbyaddr(): the /etc/networks name of a dotted network number */
export function networkByAddr(dotted: string): string | undefined {
  for (const [n, addr] of NETWORKS) if (addr === dotted) return n;
  return undefined;
}

/** /etc/hosts, forward (getaddrinfo AF_INET) */
export function hostToAddrs(name: string): string[] {
  return HOSTS.filter(([, n]) => n === name).map(([a]) => a);
}

/** /etc/hosts, reverse (getnameinfo falls back to the number when nothing matches) */
export function addrToHost(dotted: string): string | undefined {
  for (const [a, n] of HOSTS) if (a === dotted) return n;
  return undefined;
}
