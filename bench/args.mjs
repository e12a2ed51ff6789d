// The bench scripts' command line: `opt('runs', '3')` is the word after `--runs`, or the default.
export const args = process.argv.slice(2);

export function opt(name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}
