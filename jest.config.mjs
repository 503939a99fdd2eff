// ESM + SWC, as verified in ../shared/STACK.md §6. Jest must run with --experimental-vm-modules
// (NestJS 12 is ESM-only and PGlite does dynamic imports), which `npm test` sets.
export default {
  testEnvironment: 'node',
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
