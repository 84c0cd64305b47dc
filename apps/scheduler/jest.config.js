/** @type {import('jest').Config} */
module.exports = { ...require('../../jest.preset.js'), displayName: 'scheduler', rootDir: __dirname };
