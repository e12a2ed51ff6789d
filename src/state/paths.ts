/**
 * Where the lab file lives. Kept apart from the store so the CLI can name the file without
 * loading what reads and checks it.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IPTABLES_SIM_STATE) return resolve(env.IPTABLES_SIM_STATE);
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'iptables-sim', 'lab.json');
}
