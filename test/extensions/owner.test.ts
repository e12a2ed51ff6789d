import { describe, expect, it } from 'vitest';
import { matches, packet, ruleFrom } from '../helpers/ext.js';

const root = { uid: 0, gid: 0 };
const www = { uid: 33, gid: 33, supplementaryGids: [4, 100] };

describe('owner match', () => {
  const cases: [string, Parameters<typeof packet>[0], boolean][] = [
    ['-A OUTPUT -m owner --uid-owner root', { owner: root }, true],
    ['-A OUTPUT -m owner --uid-owner root', { owner: www }, false],
    ['-A OUTPUT -m owner --uid-owner 30-40', { owner: www }, true],
    ['-A OUTPUT -m owner --uid-owner 34:40', { owner: www }, false],
    ['-A OUTPUT -m owner ! --uid-owner 0', { owner: www }, true],
    ['-A OUTPUT -m owner ! --uid-owner 0', { owner: root }, false],
    ['-A OUTPUT -m owner --gid-owner www-data', { owner: www }, true],
    ['-A OUTPUT -m owner --gid-owner adm', { owner: www }, false],
    ['-A OUTPUT -m owner --gid-owner adm --suppl-groups', { owner: www }, true],
    ['-A OUTPUT -m owner --gid-owner 50-99 --suppl-groups', { owner: www }, false],
    ['-A OUTPUT -m owner ! --gid-owner adm --suppl-groups', { owner: www }, false],
    ['-A OUTPUT -m owner --uid-owner 33 ! --gid-owner 0', { owner: www }, true],
    ['-A OUTPUT -m owner --uid-owner 33 ! --gid-owner 33', { owner: www }, false],
    ['-A OUTPUT -m owner --socket-exists', { owner: root }, true],
    ['-A OUTPUT -m owner ! --socket-exists', { owner: root }, false],
    // no local socket (forwarded, kernel replies): only all-inverted tests match
    ['-A OUTPUT -m owner --socket-exists', {}, false],
    ['-A OUTPUT -m owner ! --socket-exists', {}, true],
    ['-A OUTPUT -m owner --uid-owner 0', {}, false],
    ['-A OUTPUT -m owner ! --uid-owner 0', {}, true],
    ['-A OUTPUT -m owner ! --uid-owner 0 ! --gid-owner 0', {}, true],
    ['-A OUTPUT -m owner ! --uid-owner 0 --gid-owner 0', {}, false],
    ['-A OUTPUT -m owner ! --gid-owner 0 --suppl-groups', {}, false],
  ];
  it.each(cases)('%s on %j -> %s', (spec, p, want) => {
    expect(matches(ruleFrom(spec), packet(p))).toBe(want);
  });
});
