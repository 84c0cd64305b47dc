/** @type {import('jest').Config} */
module.exports = { ...require('../../jest.preset.js'), displayName: 'proto', rootDir: __dirname };
