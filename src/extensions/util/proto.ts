/**
 * xt_check_match()/xt_check_target() with the extension's .proto: the kernel refuses the rule
 * unless it has `-p` of that protocol, not inverted (EINVAL; the reason is the emulator's).
 */
import type { RuleFrame } from '../types.js';

/** a kernelCheck refusing rules without `-p NAME` (protocol number `proto`); `what` names the extension */
export const needsProtocol =
  (proto: number, name: string, what: string) =>
  (_d: unknown, { frame }: { frame: RuleFrame }): string | undefined =>
    frame.proto !== proto || frame.invProto ? `${what} is only valid for protocol ${proto} (add -p ${name})` : undefined;
