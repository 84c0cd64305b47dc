/** @type {import('jest').Config} */
module.exports = { ...require('../../jest.preset.js'), displayName: 'log-collector', rootDir: __dirname };
