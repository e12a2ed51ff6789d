// The kube-proxy-sized lab that the benches of everyday commands (kube-commands.mjs,
// kube-sequence.mjs) run on: ./gen-kube-proxy.mjs's dump, restored into the built-in lab's router
// by the build under test (--cli), in a directory of its own, or in --keep DIR (kept, and the lab
// found there used again next time: give each build a DIR of its own).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeProxyDump } from './gen-kube-proxy.mjs';
import { opt } from './args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `bench`: the script's name, for its messages and its temporary directory */
export function kubeLab(bench) {
  const services = Number(opt('services', '10000'));
  const cli = opt('cli', join(root, 'bin', 'iptables-sim'));
  const keep = opt('keep', undefined);
  if (cli === join(root, 'bin', 'iptables-sim') && !existsSync(join(root, 'dist', 'iptables-sim.cjs'))) {
    console.error(`${bench}: no build; run \`npm run build\` first`);
    process.exit(1);
  }
  const dir = keep ?? mkdtempSync(join(tmpdir(), `iptsim-${bench}-`));
  mkdirSync(dir, { recursive: true });
  const dump = join(dir, `kube-${services}.rules`);
  const lab = join(dir, `kube-${services}.json`);
  const text = kubeProxyDump(services, 3);
  writeFileSync(dump, text);
  if (!existsSync(lab)) execFileSync(cli, ['--state', lab, 'iptables-restore', dump]);
  return {
    services,
    cli,
    dir,
    dump,
    lab,
    /** a service's chain and an endpoint's chain of the dump */
    svc: /^:(KUBE-SVC-\S+)/m.exec(text)[1],
    sep: /^:(KUBE-SEP-\S+)/m.exec(text)[1],
    /** two kube-proxy syncs of the dump's nat table, as iptables-restore --noflush input */
    sync: syncs(text),
    /** the directory removed, unless --keep asked for it */
    done: () => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Two syncs as kube-proxy writes them with iptables-restore --noflush: KUBE-SERVICES declared
 * again (which flushes it) and all its rules written again, with a new service; then the same with
 * the last `drop` services gone: their chains declared (flushed) and deleted, a run of -X lines at the end.
 */
function syncs(text, drop = 20) {
  const lines = text.split('\n');
  const services = lines.filter((l) => l.startsWith('-A KUBE-SERVICES '));
  const add = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-BENCHSYNC - [0:0]', ':KUBE-SEP-BENCHSYNC - [0:0]', ...services,
    '-A KUBE-SERVICES -d 10.9.9.6/32 -p tcp -m comment --comment "bench/sync cluster IP" -m tcp --dport 80 -j KUBE-SVC-BENCHSYNC',
    '-A KUBE-SVC-BENCHSYNC -m comment --comment "bench/sync -> 10.244.250.1:8080" -j KUBE-SEP-BENCHSYNC',
    '-A KUBE-SEP-BENCHSYNC -s 10.244.250.1/32 -m comment --comment "bench/sync" -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-BENCHSYNC -p tcp -m comment --comment "bench/sync" -m tcp -j DNAT --to-destination 10.244.250.1:8080', 'COMMIT', ''];
  // the last services (the benches' own commands use the first service's chains)
  const gone = new Set();
  for (const l of [...services].reverse()) {
    const m = / -j (KUBE-SVC-\S+)/.exec(l);
    if (m && gone.size < drop) gone.add(m[1]);
  }
  const endpoints = new Set();
  for (const l of lines) {
    const m = /^-A (KUBE-SVC-\S+) .*-j (KUBE-SEP-\S+)/.exec(l);
    if (m && gone.has(m[1])) endpoints.add(m[2]);
  }
  const dropped = [...gone, ...endpoints];
  const kept = services.filter((l) => !gone.has(/ -j (\S+)/.exec(l)?.[1]));
  const del = ['*nat', ':KUBE-SERVICES - [0:0]', ...dropped.map((c) => `:${c} - [0:0]`), ...kept, ...dropped.map((c) => `-X ${c}`), 'COMMIT', ''];
  return { add: add.join('\n'), del: del.join('\n'), dropped: dropped.length };
}
