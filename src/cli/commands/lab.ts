/**
 * `lab show | lab reset`: the lab's hosts, interfaces, addresses, routes, services and sysctls;
 * or back to the built-in lab.
 */
import { SimError } from '../../errors.js';
import { builtinLab } from '../../net/builtin-lab.js';
import type { Lab } from '../../net/lab.js';
import { defaultSysctls } from '../../net/sysctl.js';
import { replaceLab } from '../../state/store.js';
import { readOnly, type CliContext } from '../context.js';

export function describeLab(lab: Lab): string {
  let out = `lab: ${lab.name} (default host: ${lab.defaultHost})\n`;
  for (const seg of lab.segments) out += `segment ${seg.name}: ${seg.members.join(' -- ')}\n`;
  for (const [name, h] of Object.entries(lab.hosts)) {
    out += `\n${name}${name === lab.defaultHost ? ' (default)' : ''}\n`;
    for (const i of h.interfaces) out += `  ${i.name.padEnd(6)} ${i.addrs.join(', ') || '-'}${i.up ? '' : ' (down)'}\n`;
    for (const r of h.routes) {
      out += `  route ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}${r.src ? ` src ${r.src}` : ''}\n`;
    }
    if (h.services.length) out += `  listening: ${h.services.map((s) => `${s.proto}/${s.port}${s.addr !== '0.0.0.0' ? `@${s.addr}` : ''}`).join(' ')}\n`;
    const defaults = defaultSysctls(
      h.interfaces.map((i) => i.name),
      false,
    );
    const changed = Object.entries(h.sysctls).filter(([k, v]) => defaults[k] !== v);
    for (const [k, v] of changed) out += `  sysctl ${k} = ${v}\n`;
    const tables = Object.keys(h.tables);
    if (tables.length) out += `  netfilter tables: ${tables.join(', ')}\n`;
    if (h.conntrack.length) out += `  conntrack entries: ${h.conntrack.length}\n`;
  }
  return out;
}

export async function labCommand(ctx: CliContext, action: string | undefined): Promise<number> {
  const { io } = ctx;
  switch (action) {
    case undefined:
    case 'show':
      return readOnly(ctx, (lab) => {
        io.out(ctx.json ? JSON.stringify(lab, null, 1) + '\n' : describeLab(lab));
        return 0;
      });
    case 'reset':
      await replaceLab(ctx.statePath, builtinLab());
      io.out(`lab reset to the built-in lab (${ctx.statePath})\n`);
      return 0;
    default:
      throw new SimError(`unknown lab action \`${action}'; use: lab show | lab reset | lab init --topology FILE`, 2);
  }
}
