// ESM + SWC, as verified in ../shared/STACK.md §6. Jest must run with --experimental-vm-modules
// (NestJS 12 is ESM-only and PGlite does dynamic imports), which `npm test` sets.
import { availableParallelism } from 'node:os';

export default {
  testEnvironment: 'node',
  // Jest's default is one worker per CPU but one, so a single worker on the 2-CPU machines we
  // run on. The suites spend much of their time waiting (twine and pip, Chromium, the server
  // database, timers), so two workers there cut the embedded run from 746 s to 487 s.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testMatch: [
    '<rootDir>/test/**/*.e2e-spec.ts',
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/plugins/**/*.spec.ts',
  ],
  globalSetup: '<rootDir>/test/global-setup.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  testTimeout: 60_000,
};
