/**
 * The browser end-to-end tests (`npm run test:e2e`): a real headless Chromium (Debian's `chromium`)
 * driven by playwright-core against `klpsim serve` run from dist/. Kept out of the default `npm test`,
 * which must not need a browser: these files are named *.e2e.ts, which jest.config.js does not match.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 180000,
};
