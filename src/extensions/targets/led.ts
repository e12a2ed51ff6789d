/**
 * LED target (libxt_LED.c of iptables 1.8.9, both families). iptables ships the extension, but the
 * kernel the lab models (Linux 6.18 as measured) has no xt_LED module: iptables warns when it
 * loads the target, parses and checks the options as usual, and the kernel refuses every rule
 * using it with ENOENT (measured, fixtures/cli/ext-led.case). print/save are kept as the C code
 * writes them although no rule can carry LED.
 */
import { paramProblem } from '../../errors.js';
import { parseUint } from '../../util/strtoul.js';
import type { TargetExtension } from '../types.js';

const O_TRIGGER_ID = 0;
const O_DELAY = 1;
const O_ALWAYS_BLINK = 2;

/** sizeof(struct xt_led_info.id) - sizeof("netfilter-"): the longest trigger id */
const ID_MAX = 27 - 11;

/** struct xt_led_info */
export interface LedData {
  /** the trigger id as given (the kernel's name is "netfilter-" + id) */
  id: string;
  /** milliseconds the LED stays on; -1: for ever ("inf") */
  delay: number;
  alwaysBlink: boolean;
}

/** the id between double quotes, `"` and `\` escaped, as LED_print() and LED_save() write it */
const quotedId = (id: string): string => `"${id.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** printf("%d") of the __u32 delay */
const asInt = (v: number): number => v | 0;

export const LED: TargetExtension<LedData> = {
  kind: 'target',
  name: 'LED',
  revision: 0,
  missingKernelModule: 'the kernel the lab models has no xt_LED module (Linux 6.18 here: measured)',
  // LED_help() of libxt_LED.c
  help:
    'LED target options:\n' +
    '--led-trigger-id name           suffix for led trigger name\n' +
    '--led-delay ms                  leave the LED on for this number of\n' +
    '                                milliseconds after triggering.\n' +
    '--led-always-blink              blink on arriving packets, even if\n' +
    '                                the LED is already on.\n',
  options: [
    { name: 'led-trigger-id', id: O_TRIGGER_ID, type: 'string', mandatory: true, max: ID_MAX },
    { name: 'led-delay', id: O_DELAY, type: 'string' },
    { name: 'led-always-blink', id: O_ALWAYS_BLINK, type: 'none' },
  ],
  init: () => ({ id: '', delay: 0, alwaysBlink: false }),
  parse({ entry, arg, data }) {
    switch (entry.id) {
      case O_TRIGGER_ID:
        data.id = arg!;
        break;
      case O_DELAY: {
        if (arg!.slice(0, 3).toLowerCase() === 'inf') {
          data.delay = -1;
          break;
        }
        const v = parseUint(arg!, 0, 0xffffffff);
        if (v === undefined) throw paramProblem('Delay value must be within range 0..4294967295');
        data.delay = v;
        break;
      }
      case O_ALWAYS_BLINK:
        data.alwaysBlink = true;
        break;
    }
  },
  print(d) {
    let s = ` led-trigger-id:${quotedId(d.id)}`;
    s += d.delay === -1 ? ' led-delay:inf' : ` led-delay:${asInt(d.delay)}ms`;
    return s + (d.alwaysBlink ? ' led-always-blink' : '');
  },
  save(d) {
    let s = ` --led-trigger-id ${quotedId(d.id)}`;
    const delay = asInt(d.delay);
    if (delay > 0) s += ` --led-delay ${delay}`;
    else if (delay === -1) s += ' --led-delay inf';
    return s + (d.alwaysBlink ? ' --led-always-blink' : '');
  },
};
