/**
 * A shell wildcard pattern (fnmatch/glob: `*`, `?`, `[set]`, `[!set]`, `\` quoting the next
 * character) as the source of a regular expression; `any` is what `*` and `?` may match one
 * character of (anything for a shell word, no `/` within a path component).
 */
export function wildcardSource(s: string, any: string): string {
  let re = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '*') re += `${any}*`;
    else if (c === '?') re += any;
    else if (c === '[') {
      const close = s.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let set = s.slice(i + 1, close);
        if (set.startsWith('!')) set = '^' + set.slice(1);
        re += '[' + set.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else if (c === '\\' && i + 1 < s.length) re += '\\' + s[++i];
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return re;
}
