import { describe, expect, it } from 'vitest';
import type { ConntrackView } from '../../src/engine/ext-api.js';
import { matches, packet, ruleFrom } from '../helpers/ext.js';
import { ctView, tuple } from './ct-helpers.js';

// an FTP data connection expected by a control connection with the ftp helper
const ftpData = ctView({
  state: 'RELATED',
  status: ['EXPECTED'],
  helper: 'ftp',
  orig: tuple('10.0.0.2', '10.0.0.1', 6, 20, 50000),
  replyTuple: tuple('10.0.0.1', '10.0.0.2', 6, 50000, 20),
});
// the control connection itself: it has the helper but no master
const ftpControl = ctView({ helper: 'ftp', orig: tuple('10.0.0.1', '10.0.0.2', 6, 40000, 21) });
const plain = ctView();

const rows: [string, ConntrackView | undefined, boolean][] = [
  ['-m helper --helper ftp', ftpData, true],
  ['-m helper --helper sip', ftpData, false],
  ['-m helper ! --helper sip', ftpData, true],
  ['-m helper ! --helper ftp', ftpData, false],
  // strncmp over the helper's name length: a longer rule name starting with it matches
  ['-m helper --helper ftp-21', ftpData, true],
  ['-m helper --helper ft', ftpData, false],
  ['-m helper --helper FTP', ftpData, false],
  // an empty name matches any helper
  ['-m helper --helper ""', ftpData, true],
  ['-m helper ! --helper ""', ftpData, false],
  // no master (or no helper, or no ct): the result is the inversion flag
  ['-m helper --helper ftp', ftpControl, false],
  ['-m helper ! --helper ftp', ftpControl, true],
  ['-m helper --helper ftp', plain, false],
  ['-m helper ! --helper ftp', plain, true],
  ['-m helper --helper ""', undefined, false],
  ['-m helper ! --helper ftp', undefined, true],
  ['-m helper ! --helper ftp', { ...ftpData, state: 'INVALID' }, true],
];

describe('helper match', () => {
  it.each(rows)('%s on %j -> %s', (spec, ct, want) => {
    expect(matches(ruleFrom(spec), packet({ ct }))).toBe(want);
  });
});
