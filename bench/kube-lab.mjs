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
    /** the directory removed, unless --keep asked for it */
    done: () => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}
