/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig sets isolatedModules: ts-jest only transpiles; `tsc --noEmit` in `npm test` type-checks.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  // jest's default is one worker less than the cores: a single worker on CI's 2 cores, so the suite ran
  // serially (6 min). Two workers: 4 min on this 2-core machine kind, every test passing (the simulations'
  // own threads wait on Atomics most of the time, and each bound on real time in a test is generous).
  maxWorkers: 2,
};
