/**
 * xtables_save_string(): a value written bare when it is only [_-0-9a-zA-Z], else in double
 * quotes with \ before ", \ and '. Leading space included.
 */
export function saveString(value: string): string {
  if (value.length > 0 && /^[_\-0-9a-zA-Z]+$/.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}
