// Preloaded by bench/run.mjs (node --require): writes the process's peak resident set size in KB
// to $IPTABLES_SIM_RSS_FILE when it exits.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  if (process.env.IPTABLES_SIM_RSS_FILE) writeFileSync(process.env.IPTABLES_SIM_RSS_FILE, String(process.resourceUsage().maxRSS));
});
