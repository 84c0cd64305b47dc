#!/usr/bin/env node
// Builds Skein's runnable entry points with esbuild: our own code is bundled (the @skein/* path
// aliases resolve through tsconfig.base.json), every npm package stays external and is loaded from
// node_modules at run time. Type-checking is `npm run typecheck`, not this.
//
//   node tools/build.mjs --all                       every app, service and tool entry point
//   node tools/build.mjs --project apps/api --entry src/main.ts
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };

const allEntries = [
  ['apps/cli', 'src/main.ts'],
  ['apps/api', 'src/main.ts'],
  ['apps/scheduler', 'src/main.ts'],
  ['apps/executor', 'src/main.ts'],
  ['apps/log-collector', 'src/main.ts'],
  ['tools/bench', 'src/main.ts'],
];

let entries;
if (flag('--all')) entries = allEntries;
else if (option('--project')) entries = [[option('--project'), option('--entry') ?? 'src/index.ts']];
else { console.error('usage: build.mjs --all | --project DIR [--entry FILE]'); process.exit(2); }

const started = Date.now();
for (const [project, entry] of entries) {
  const entryPath = path.join(root, project, entry);
  if (!existsSync(entryPath)) continue;
  await build({
    entryPoints: [entryPath],
    outfile: path.join(root, 'dist', project, path.basename(entry).replace(/\.ts$/, '.js')),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    sourcemap: true,
    logLevel: 'warning',
  });
}
if (!flag('--quiet')) console.log(`built ${entries.length} entry point(s) in ${Date.now() - started} ms`);
