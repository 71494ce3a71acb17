/** The large-data tests (`npm run test:large`, run by CI after `npm test`): a 2 GiB file's round trip. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/large/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 10 * 60 * 1000,
};
