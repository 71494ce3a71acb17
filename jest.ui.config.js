/**
 * The browser UI's tests (`npm run test:ui`, run by CI after `npm test`): its API through real
 * HTTP on 127.0.0.1 (token, Host, CSRF, confinement, actions against the CLI's results) and
 * end-to-end runs in Debian's headless chromium driven by playwright-core. Kept out of `npm test`'s
 * five minutes.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/ui/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
