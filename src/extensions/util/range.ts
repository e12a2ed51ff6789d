/**
 * An inclusive "min[:max]" uint16 range with '!', as the length and tcpmss matches store it
 * (struct xt_length_info, struct xt_tcpmss_match_info).
 */
import type { OptionEntry, OptValue } from '../types.js';
import { rangeOf } from '../xtoptions.js';

export interface InvRange {
  min: number;
  max: number;
  invert?: boolean;
}

/** the option: mandatory, invertible, "value[:value]" of uint16 */
export const invRangeOption = (name: string): OptionEntry => ({ name, id: 0, type: 'uint16rc', mandatory: true, invert: true });

export const initInvRange = (): InvRange => ({ min: 0, max: 0 });

/** the x6 parse: the range (one value is min = max) and '!' */
export function parseInvRange(data: InvRange, val: OptValue, invert: boolean): void {
  [data.min, data.max] = rangeOf(val);
  if (invert) data.invert = true;
}

/** "min" when both ends are equal, else "min:max", as print() and save() write it */
export const rangeText = (d: InvRange): string => (d.min === d.max ? `${d.min}` : `${d.min}:${d.max}`);

/** save(): "[ !] --OPTION range" */
export const saveInvRange = (d: InvRange, option: string): string => `${d.invert ? ' !' : ''} --${option} ${rangeText(d)}`;

/** (min <= v <= max) XOR invert: a reversed range never holds */
export const inInvRange = (d: InvRange, v: number): boolean => (v >= d.min && v <= d.max) !== !!d.invert;
