/**
 * The seeded multi-round harnesses (`npm run test:seeded`, run by CI after `npm test`): the stat
 * helper threads and the native helper against lstat, change after change; random
 * edits, ignore-file changes, rollbacks and gc, round after round, with native git as the oracle
 * for the stat cache, the listing cache and the watcher's snapshots and statuses; gc's deltas on
 * 100 versions of a file against native git gc; the fixed-seed property tests (test/property) and
 * the chain index against native git. Work kept out of `npm test`'s five minutes.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/seeded/**/*.test.ts', '<rootDir>/test/property/**/*.test.ts', '<rootDir>/test/integration/chainindex.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
