/**
 * Off-machine copies (`npm run test:remote`, run by CI after `npm test`): push, fetch, clone and
 * the smart-HTTP transport against a real `git http-backend` each test starts on 127.0.0.1, native
 * git reading what arrived. Kept out of `npm test`'s five minutes.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/remote/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
