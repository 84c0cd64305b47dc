// Shared jest settings for every project. TypeScript is compiled by swc (no type-check here:
// `npm run typecheck` does that once for the whole workspace).
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias}$`] = path.join(__dirname, target);
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper,
  globalSetup: path.join(__dirname, 'tools/test/jest-global-setup.ts'),
  globalTeardown: path.join(__dirname, 'tools/test/jest-global-teardown.ts'),
  testTimeout: 30000,
  // A test that leaks a handle keeps jest alive; we fail loudly instead of forcing an exit.
  detectOpenHandles: false,
};
