/** Tables through the lab file, for tests of what a table read back from it keeps. */
import { builtinLab } from '../../src/net/builtin-lab.js';
import type { Tables } from '../../src/ruleset/tables.js';
import { encodeLab } from '../../src/state/lab-file.js';
import { parseLabText } from '../../src/state/store.js';

/** `tables` as the router's of the built-in lab, written to a lab file and read back */
export function throughFile(tables: Tables): Tables {
  const lab = builtinLab();
  lab.hosts.router!.tables = tables;
  return parseLabText(encodeLab(lab), 'lab.json').hosts.router!.tables;
}
