#!/usr/bin/env node
// Opt-in: drives `iptables-sim shell` in a real terminal (tmux) the way a person would: typing,
// Tab completion, the caret under an error, `host pc1`, history with the Up arrow, Ctrl-D.
// Not part of `npm test` (CI has no tmux); run it by hand: node test/shell-terminal.mjs
// Without tmux it says so and exits 0. It bundles the CLI into a temporary directory of its own
// and works on a throw-away lab; the only tmux session it touches is the one it creates.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status !== 0) {
  console.log('shell-terminal: skipped (tmux is not installed)');
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'iptsim-tmux-'));
const { build } = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
await build({
  absWorkingDir: root,
  entryPoints: { 'iptables-sim': 'src/cli/entry.ts' },
  outdir: join(work, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { 'process.env.IPTABLES_SIM_BUNDLED': '"1"' },
  logLevel: 'warning',
});
const launcher = join(work, 'iptables-sim');
writeFileSync(launcher, `#!/usr/bin/env node\nimport(${JSON.stringify(join(work, 'dist', 'iptables-sim.js'))});\n`, { mode: 0o755 });

const session = `iptsim-shell-${process.pid}`;
const state = join(work, 'lab.json');
const tmux = (...args) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);
const keys = (...k) => tmux('send-keys', '-t', session, ...k);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    await sleep(100);
  }
}
const lastLine = (s) => s.trimEnd().split('\n').pop() ?? '';

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok' : 'FAIL'} - ${what}`);
  if (!ok) {
    failures++;
    if (detail) console.log(detail.replace(/^/gm, '    '));
  }
}

try {
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', `env IPTABLES_SIM_STATE=${state} ${process.execPath} ${launcher} shell`);
  await waitFor((s) => lastLine(s) === 'router#', 'the prompt');

  keys('iptables -A INP', 'Tab');
  let s = await waitFor((x) => lastLine(x).startsWith('router# iptables -A INPUT'), 'Tab to complete INPUT');
  check(lastLine(s) === 'router# iptables -A INPUT', 'Tab completes a chain name', s);
  keys(' -p tcp --dpo', 'Tab');
  s = await waitFor((x) => lastLine(x).includes('--dport'), 'Tab to complete --dport');
  check(lastLine(s) === 'router# iptables -A INPUT -p tcp --dport', 'Tab completes an option of the match -p loaded', s);
  keys(' 22 -j ACC', 'Tab');
  s = await waitFor((x) => lastLine(x).endsWith('-j ACCEPT'), 'Tab to complete ACCEPT');
  check(true, 'Tab completes a target');
  keys('Enter');
  await waitFor((x) => lastLine(x) === 'router#', 'the command to run');

  keys('iptables -S INPUT', 'Enter');
  s = await waitFor((x) => x.includes('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'), 'the rule listed');
  check(true, 'the completed command added its rule');

  keys('iptables -A INPUT -j NOPE', 'Enter');
  s = await waitFor((x) => x.includes("Chain 'NOPE' does not exist"), 'the error');
  const lines = s.split('\n');
  const at = lines.findIndex((l) => l === 'iptables -A INPUT -j NOPE');
  check(at >= 0 && lines[at + 1] === '                     ^^^^', 'a caret under the offending token', s);

  keys('host pc1', 'Enter');
  s = await waitFor((x) => lastLine(x) === 'pc1#', 'the pc1 prompt');
  check(true, '`host pc1` switches the prompt');

  keys('Up', 'Up');
  s = await waitFor((x) => lastLine(x).startsWith('pc1# iptables'), 'history');
  check(lastLine(s) === 'pc1# iptables -A INPUT -j NOPE', 'Up walks back through history', s);
  keys('C-u', 'C-d');
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    await sleep(100);
    gone = spawnSync('tmux', ['has-session', '-t', session], { stdio: 'ignore' }).status !== 0;
  }
  check(gone, 'Ctrl-D leaves the shell (its tmux session ends with it)');
  const hist = `${state}.history`;
  check(existsSync(hist) && readFileSync(hist, 'utf8').includes('host pc1'), 'history is kept next to the lab file');
} catch (e) {
  failures++;
  console.log(`FAIL - ${e.message}`);
} finally {
  spawnSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `shell-terminal: ${failures} failed` : 'shell-terminal: all passed');
process.exit(failures ? 1 : 0);
