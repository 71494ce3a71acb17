/** Tests are TypeScript run through ts-jest as ES modules (transpile only; `npm run build` type-checks). */
// The tests spawn node thousands of times (the real CLI, harness processes); with
// NODE_EXTRA_CA_CERTS set each one parses a certificate bundle first (~37 ms here). Nothing under
// test opens a TLS connection, so the workers and everything they spawn run without it.
delete process.env.NODE_EXTRA_CA_CERTS;

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // test/property and the chain index's oracle run in test:seeded (jest.seeded.config.js), the
  // remote tests in test:remote (jest.remote.config.js), for time.
  testPathIgnorePatterns: ['/node_modules/', '/test/faults/', '/test/faults-quick/', '/test/large/', '/test/seeded/', '/test/property/', '/test/integration/chainindex.test.ts', '/test/ui/', '/test/remote/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
