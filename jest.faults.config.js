/** The full fault-injection run (`npm run test:faults`): long, so kept out of `npm test`. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 3 * 60 * 60 * 1000,
  // Scenarios spawn their own parallel trials (FAULT_JOBS); one file at a time keeps timings honest.
  maxWorkers: 1,
};
