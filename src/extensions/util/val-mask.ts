/**
 * xtables_parse_val_mask() (what XTTYPE_MARKMASK32 runs in libxtables 1.8.9, and realm and devgroup
 * with a name map): "value[/mask]", both base-0 uint32, mask all ones when absent, with the C
 * messages.
 *
 * The framework's 'markmask32' type (xtoptions.ts parseMarkMask) still answers with the messages
 * of the old xtables_parse_mark_mask() of iptables < 1.8 ("Bad mark value"), so the matches here
 * declare the option as 'string' (same generic checks: once, invert, argument required) and parse
 * the value with this function.
 */
import { paramProblem } from '../../errors.js';
import { xtStrtoul } from '../../util/strtoul.js';

export function parseValMask(ext: string, opt: string, arg: string, names?: ReadonlyMap<number, string>): { value: number; mask: number } {
  const badVal = () => paramProblem(`${ext}: bad integer value for option "--${opt}", or out of range.\n`);
  const garbage = () => paramProblem(`${ext}: trailing garbage after value for option "--${opt}".\n`);
  // with a name map, what is no number (or a number followed by anything but a mask) is a name
  const byName = () => {
    const hit = [...names!].find(([, name]) => name === arg);
    if (!hit) throw paramProblem(`${ext}: could not map name ${arg} to an integer value for option "--${opt}".\n`);
    return { value: hit[0], mask: 0xffffffff };
  };
  const v = xtStrtoul(arg, 0, 0xffffffff, true);
  if (!v.ok) {
    if (names) return byName();
    throw badVal();
  }
  if (v.end === arg.length) return { value: Number(v.value), mask: 0xffffffff };
  if (arg[v.end] !== '/') {
    if (names) return byName();
    throw garbage();
  }
  const rest = arg.slice(v.end + 1);
  const m = xtStrtoul(rest, 0, 0xffffffff, true);
  if (!m.ok) throw badVal();
  if (m.end !== rest.length) throw garbage();
  return { value: Number(v.value), mask: Number(m.value) };
}

/**
 * xtables_print_mark_mask() / xtables_print_val_mask(): " 0xV/0xM", or " 0xV" (or its name, with
 * a name map) when the mask is all ones
 */
export function printValMask(value: number, mask: number, names?: ReadonlyMap<number, string>): string {
  if (mask >>> 0 !== 0xffffffff) return ` 0x${(value >>> 0).toString(16)}/0x${(mask >>> 0).toString(16)}`;
  const name = names?.get(value >>> 0);
  return name ? ` ${name}` : ` 0x${(value >>> 0).toString(16)}`;
}
