#!/usr/bin/env node
// A kube-proxy-shaped iptables-restore dump (iptables mode, as kube-proxy 1.2x writes it):
// KUBE-SERVICES with one rule per service port, KUBE-SVC-* chains that mark traffic from outside
// the cluster CIDR for masquerading and spread connections over endpoints with statistic random
// probabilities, KUBE-SEP-* chains with the hairpin mark and the DNAT, KUBE-MARK-MASQ and
// KUBE-POSTROUTING with MARK and MASQUERADE --random-fully, comments on every rule, and the
// filter table's KUBE-FORWARD / KUBE-SERVICES chains. Deterministic: same arguments, same file.
//
//   node bench/gen-kube-proxy.mjs [SERVICES=10000] [ENDPOINTS=3] > dump.v4
//
// Service i has cluster IP 10.96.(i>>8).(i&255), port 80 (tcp), endpoints 10.244.x.y:8080.

import { createHash } from 'node:crypto';

export function kubeProxyDump(services = 10000, endpoints = 3) {
  const hash = (s) => createHash('sha256').update(s).digest('base64').replace(/[^A-Z0-9]/gi, '').toUpperCase().slice(0, 16).padEnd(16, 'X');
  const svcChains = [];
  const sepChains = [];
  const services_ = [];
  const svcRules = [];
  const sepRules = [];
  let ep = 0;
  for (let i = 0; i < services; i++) {
    const name = `ns${i % 50}/svc${i}:http`;
    const ip = `10.96.${(i >> 8) & 255}.${i & 255}`;
    const svc = `KUBE-SVC-${hash(`svc${i}`)}`;
    svcChains.push(svc);
    services_.push(`-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j ${svc}`);
    svcRules.push(`-A ${svc} ! -s 10.244.0.0/16 -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    for (let e = 0; e < endpoints; e++, ep++) {
      const epIp = `10.244.${(ep >> 8) & 255}.${(ep & 255) || 1}`;
      const sep = `KUBE-SEP-${hash(`sep${i}/${e}`)}`;
      sepChains.push(sep);
      const left = endpoints - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      svcRules.push(`-A ${svc} -m comment --comment "${name} -> ${epIp}:8080"${stat} -j ${sep}`);
      sepRules.push(`-A ${sep} -s ${epIp}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      sepRules.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${epIp}:8080`);
    }
  }
  const out = [];
  out.push('*filter');
  out.push(':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]');
  out.push(':KUBE-FORWARD - [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-FIREWALL - [0:0]');
  out.push('-A INPUT -j KUBE-FIREWALL');
  out.push('-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD');
  out.push('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  out.push('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  out.push('-A OUTPUT -j KUBE-FIREWALL');
  out.push('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  out.push('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  out.push('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
  out.push('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  out.push('COMMIT');
  out.push('*nat');
  out.push(':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]');
  out.push(':KUBE-MARK-MASQ - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-SERVICES - [0:0]');
  for (const c of svcChains) out.push(`:${c} - [0:0]`);
  for (const c of sepChains) out.push(`:${c} - [0:0]`);
  out.push('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  out.push('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  out.push('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
  out.push('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
  out.push('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
  out.push('-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0');
  out.push('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  out.push(...services_);
  out.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  out.push(...svcRules, ...sepRules);
  out.push('COMMIT');
  return out.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [services = '10000', endpoints = '3'] = process.argv.slice(2);
  process.stdout.write(kubeProxyDump(Number(services), Number(endpoints)));
}
