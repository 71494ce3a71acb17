/**
 * The quick fault subset (`npm run test:faults-quick`, run by CI after `npm test`): fixed-seed
 * crash, full-disk, hostile, awkward, safety and concurrency trials, a minute of work kept out
 * of `npm test`'s five minutes. The full suite is `npm run test:faults`.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/faults-quick/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
