// `npm test` runs every project's tests in one jest process (one embedded PostgreSQL for the run).
const path = require('node:path');
const preset = require('./jest.preset.js');

/** @type {import('jest').Config} */
module.exports = {
  ...preset,
  rootDir: __dirname,
  testMatch: ['<rootDir>/{apps,libs,tools}/*/src/**/*.test.ts'],
  maxWorkers: 2,
  reporters: ['default', path.join(__dirname, 'tools/test/summary-reporter.js')],
};
