#!/usr/bin/env node
// The `skein` command. `npm ci` builds dist/ (the root `prepare` script); `npm run build` rebuilds it.
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', '..', '..', 'dist', 'apps', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`skein: ${main} is missing; run \`npm run build\` in the repository first\n`);
  process.exit(1);
}
require(main);
