/**
 * Custom labs from a readable file (YAML, JSON being a subset): hosts with interfaces and
 * addresses, routes, sysctls and listening services, joined by segments. Everything is checked
 * and every problem is reported with where it is, before anything replaces the current lab.
 *
 *   name: office
 *   default: fw
 *   hosts:
 *     fw:
 *       interfaces:
 *         eth0: 50.60.70.80/24
 *         eth1: [192.168.1.1/24, 192.168.1.254/24]
 *       routes: [default via 50.60.70.1]
 *       sysctls: { net.ipv4.ip_forward: 1 }
 *       services: [tcp/22, udp/53]
 *   segments:
 *     wan: [isp:eth0, fw:eth0]
 *     lan: [fw:eth1, pc:eth0]
 */
import { SimError } from '../errors.js';
import { parseDotted } from './ipv4.js';
import { LAB_FORMAT, LAB_VERSION, type Host, type Interface, type Lab, type Route, type Service } from './lab.js';
import { ALL_CONF_KEYS, defaultSysctls, GLOBAL_SYSCTLS } from './sysctl.js';

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/;
const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

class Problems {
  readonly list: string[] = [];
  add(where: string, what: string): void {
    this.list.push(`${where}: ${what}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPrefix(p: Problems, where: string, s: unknown): string | undefined {
  if (typeof s !== 'string') {
    p.add(where, `expected an address like 192.168.1.1/24, got ${JSON.stringify(s)}`);
    return undefined;
  }
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(s.trim());
  if (!m || parseDotted(m[1]!) === undefined || (m[2] !== undefined && Number(m[2]) > 32)) {
    p.add(where, `\`${s}' is not an IPv4 address with a prefix length (a.b.c.d/len)`);
    return undefined;
  }
  return m[2] === undefined ? `${m[1]}/32` : `${m[1]}/${Number(m[2])}`;
}

/** "default via 50.60.70.1", "10.0.0.0/8 via 192.168.1.254 dev eth1", "172.16.0.0/12 dev eth2 src 10.1.1.1" */
function parseRoute(p: Problems, where: string, r: unknown, ifaces: string[]): Route | undefined {
  if (typeof r !== 'string') {
    p.add(where, `a route is written like "default via 50.60.70.1" or "10.0.0.0/8 dev eth1", got ${JSON.stringify(r)}`);
    return undefined;
  }
  const words = r.trim().split(/\s+/);
  const dst = words.shift()!;
  const route: Partial<Route> = { dst: dst === 'default' ? 'default' : checkPrefix(p, where, dst) };
  while (words.length) {
    const k = words.shift()!;
    const v = words.shift();
    if (v === undefined) {
      p.add(where, `\`${k}' needs a value in route "${r}"`);
      return undefined;
    }
    if (k === 'via') {
      if (parseDotted(v) === undefined) p.add(where, `gateway \`${v}' is not an IPv4 address`);
      route.via = v;
    } else if (k === 'dev') {
      if (!ifaces.includes(v)) p.add(where, `route "${r}" uses interface ${v}, which the host does not have`);
      route.dev = v;
    } else if (k === 'src') {
      if (parseDotted(v) === undefined) p.add(where, `source \`${v}' is not an IPv4 address`);
      route.src = v;
    } else {
      p.add(where, `unknown route keyword \`${k}' (use via, dev, src)`);
      return undefined;
    }
  }
  if (!route.dst) return undefined;
  if (!route.dev && !route.via) {
    p.add(where, `route "${r}" needs a gateway (via) or an interface (dev)`);
    return undefined;
  }
  return route as Route;
}

function parseService(p: Problems, where: string, s: unknown): Service | undefined {
  const m = typeof s === 'string' ? /^(tcp|udp)\/(\d+)(?:@(\d+\.\d+\.\d+\.\d+))?$/.exec(s.trim()) : null;
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    p.add(where, `a service is written like tcp/80, udp/53 or tcp/8080@127.0.0.1, got ${JSON.stringify(s)}`);
    return undefined;
  }
  return { proto: m[1] as 'tcp' | 'udp', port: Number(m[2]), addr: m[3] ?? '0.0.0.0' };
}

function mac(hostIndex: number, ifIndex: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `02:00:00:00:${h(hostIndex + 1)}:${h(ifIndex + 1)}`;
}

/** Builds a lab from parsed YAML/JSON, or throws one SimError listing every problem found. */
export function labFromTopology(doc: unknown, file: string): Lab {
  const p = new Problems();
  if (!isObject(doc)) throw new SimError(`${file}: a topology is a mapping with \`hosts' and \`segments'`, 2);
  for (const k of Object.keys(doc)) if (!['name', 'default', 'hosts', 'segments'].includes(k)) p.add(file, `unknown key \`${k}' (name, default, hosts, segments)`);
  const hostsIn = doc.hosts;
  if (!isObject(hostsIn) || !Object.keys(hostsIn).length) throw new SimError(`${file}: \`hosts' must map host names to their settings`, 2);
  const hosts: Record<string, Host> = {};
  Object.entries(hostsIn).forEach(([name, h], hi) => {
    const where = `${file}: hosts.${name}`;
    if (!NAME.test(name)) p.add(where, 'a host name starts with a letter and has letters, digits, _ . - (at most 31)');
    if (!isObject(h)) {
      p.add(where, 'expected a mapping with interfaces, routes, sysctls, services');
      return;
    }
    for (const k of Object.keys(h)) if (!['interfaces', 'routes', 'sysctls', 'services'].includes(k)) p.add(where, `unknown key \`${k}'`);
    const interfaces: Interface[] = [{ name: 'lo', addrs: ['127.0.0.1/8'], mac: '00:00:00:00:00:00', up: true }];
    const ifs = h.interfaces ?? {};
    if (!isObject(ifs)) p.add(`${where}.interfaces`, 'expected a mapping of interface name to address(es)');
    else {
      Object.entries(ifs).forEach(([ifname, addrs], ii) => {
        const w = `${where}.interfaces.${ifname}`;
        if (!IFNAME.test(ifname)) p.add(w, 'interface names have at most 15 characters of letters, digits, _ . : -');
        const list = addrs === null || addrs === undefined ? [] : Array.isArray(addrs) ? addrs : [addrs];
        const ok = list.map((a) => checkPrefix(p, w, a)).filter((a): a is string => a !== undefined);
        if (ifname === 'lo') interfaces[0]!.addrs.push(...ok.filter((a) => a !== '127.0.0.1/8'));
        else interfaces.push({ name: ifname, addrs: ok, mac: mac(hi, ii), up: true });
      });
    }
    const names = interfaces.map((i) => i.name);
    const routesIn = h.routes ?? [];
    const routes: Route[] = [];
    if (!Array.isArray(routesIn)) p.add(`${where}.routes`, 'expected a list of routes');
    else for (const r of routesIn) {
      const route = parseRoute(p, `${where}.routes`, r, names);
      if (route) routes.push(route);
    }
    // a route via a gateway needs to know its device: the interface whose subnet holds the gateway
    for (const r of routes) {
      if (r.dev || !r.via) continue;
      const gw = parseDotted(r.via)!;
      const dev = interfaces.find((i) => i.name !== 'lo' && i.addrs.some((a) => sameSubnet(a, gw)));
      if (dev) r.dev = dev.name;
      else p.add(`${where}.routes`, `gateway ${r.via} is not on any of ${name}'s subnets`);
    }
    const sysctls = defaultSysctls(names, false);
    const sIn = h.sysctls ?? {};
    if (!isObject(sIn)) p.add(`${where}.sysctls`, 'expected a mapping of key to value');
    else {
      for (const [k, v] of Object.entries(sIn)) {
        const key = k.replace(/\//g, '.');
        if (!(key in sysctls)) {
          p.add(`${where}.sysctls`, `${k} is not a parameter iptables-sim models (${['net.ipv4.ip_forward', ...Object.keys(GLOBAL_SYSCTLS), ...ALL_CONF_KEYS.map((c) => `net.ipv4.conf.<dev>.${c}`)].join(', ')})`);
          continue;
        }
        if (typeof v !== 'number' && !(typeof v === 'string' && /^-?\d+$/.test(v.trim()))) {
          p.add(`${where}.sysctls`, `${k} takes an integer, got ${JSON.stringify(v)}`);
          continue;
        }
        const val = String(Number(v));
        const range = GLOBAL_SYSCTLS[key]?.range;
        if (range && (Number(v) < range[0] || Number(v) > range[1])) {
          p.add(`${where}.sysctls`, `${k} takes ${range[0]} to ${range[1]}, got ${val}`);
          continue;
        }
        if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') {
          for (const d of ['all', 'default', ...names]) sysctls[`net.ipv4.conf.${d}.forwarding`] = val;
          sysctls['net.ipv4.ip_forward'] = val;
        } else sysctls[key] = val;
      }
    }
    const servIn = h.services ?? ['tcp/80', 'udp/80'];
    const services: Service[] = [];
    if (!Array.isArray(servIn)) p.add(`${where}.services`, 'expected a list like [tcp/80, udp/53]');
    else for (const s of servIn) {
      const svc = parseService(p, `${where}.services`, s);
      if (svc) services.push(svc);
    }
    hosts[name] = { interfaces, routes, sysctls, services, tables: {}, conntrack: [], extState: {} };
  });
  const segIn = doc.segments ?? {};
  const segments: Lab['segments'] = [];
  const used = new Map<string, string>();
  if (!isObject(segIn)) p.add(`${file}: segments`, 'expected a mapping of segment name to a list of host:interface');
  else {
    for (const [seg, members] of Object.entries(segIn)) {
      const where = `${file}: segments.${seg}`;
      if (!Array.isArray(members) || members.length < 2) {
        p.add(where, 'a segment joins at least two host:interface endpoints');
        continue;
      }
      for (const m of members) {
        const [h, i] = typeof m === 'string' ? m.split(':') : [];
        if (!h || !i || !hosts[h]) {
          p.add(where, `\`${String(m)}' is not host:interface of a host in the lab`);
          continue;
        }
        if (!hosts[h].interfaces.some((x) => x.name === i) || i === 'lo') p.add(where, `${h} has no interface ${i}`);
        if (used.has(m)) p.add(where, `${m} is already on segment ${used.get(m)}`);
        used.set(m, seg);
      }
      segments.push({ name: seg, members: members.map(String) });
    }
  }
  const def = doc.default ?? Object.keys(hosts)[0];
  if (typeof def !== 'string' || !hosts[def]) p.add(`${file}: default`, `\`${String(def)}' is not one of the hosts`);
  if (p.list.length) {
    throw new SimError(`${file} is not a valid lab topology:\n  ${p.list.join('\n  ')}`, 2);
  }
  return {
    format: LAB_FORMAT,
    version: LAB_VERSION,
    name: typeof doc.name === 'string' ? doc.name : file.replace(/^.*\//, ''),
    defaultHost: def as string,
    rng: { seed: 1, state: 1 },
    hosts,
    segments,
  };
}

function sameSubnet(prefix: string, a: number): boolean {
  const [addr, len] = prefix.split('/');
  const bits = Number(len);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((parseDotted(addr!)! & mask) >>> 0) === ((a & mask) >>> 0);
}
