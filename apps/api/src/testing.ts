/**
 * `@skein/api/testing`: test doubles of the api's ports, for the tests of the api's clients (the CLI).
 * Production code may not import this module (eslint: no-restricted-imports).
 */
export { createTestScheduler, type TestScheduler, type TestSchedulerOptions } from './test-scheduler';
