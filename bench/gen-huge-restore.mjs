// Writes the 1,000,000-line iptables-restore input of bench/README.md ("Huge restore") to stdout:
//   node bench/gen-huge-restore.mjs > /tmp/huge.rules
const out = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
for (let i = 0; i < 999995; i++) {
  out.push(`-A INPUT -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 -p tcp -m tcp --dport ${1 + (i % 65535)} -j ACCEPT`);
}
out.push('COMMIT');
process.stdout.write(out.join('\n') + '\n');
