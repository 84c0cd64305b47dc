#!/usr/bin/env node
// Runs Skein as four separate services (scheduler, executor, log-collector, api) for development,
// on PostgreSQL (DATABASE_URL) and NATS (NATS_URL), with their output prefixed by service name.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/skein NATS_URL=nats://127.0.0.1:4222 npm run dev:services
//
// Without DATABASE_URL it starts an embedded PostgreSQL under .skein/dev-postgres; without NATS_URL it
// starts nats-server (from PATH or /usr/sbin) on port 4222 with its store under .skein/dev-nats.
// Ctrl-C stops every service (SIGTERM, so each drains), then what this script started.
//
// The services share a fresh internal gRPC token (SKEIN_INTERNAL_TOKEN, unless set). The api registers
// an admin API token kept in .skein/dev-admin-token (mode 0600, made once): the CLI reads it with
// `SKEIN_TOKEN=$(cat .skein/dev-admin-token) skein ...`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const children = [];
const cleanups = [];

function start(name, file, env) {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'apps', name, 'main.js')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}]`.padEnd(16);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  child.on('exit', (code, signal) => process.stdout.write(`${prefix}exited (${signal ?? code})\n`));
  children.push(child);
  return child;
}

async function main() {
  mkdirSync(path.join(root, '.skein'), { recursive: true });
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    // The store's embedded PostgreSQL, loaded from the bundled CLI (it exports the store's helpers).
    require('tsx/cjs');
    const store = require(path.join(root, 'libs', 'store', 'src', 'embedded-postgres.ts'));
    const pg = await store.startEmbeddedPostgres({ dataDir: path.join(root, '.skein', 'dev-postgres'), persistent: true, port: 5433 });
    databaseUrl = await store.ensureDatabase(pg.url, 'skein');
    cleanups.push(() => pg.stop());
    console.log(`embedded PostgreSQL on ${pg.url.replace(/:[^:@/]+@/, ':***@')}`);
  }
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const binary = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'nats-server'))].find((p) => existsSync(p));
    if (!binary) throw new Error('nats-server not found: install it (Debian: apt-get install nats-server) or set NATS_URL');
    const storeDir = path.join(root, '.skein', 'dev-nats');
    const nats = spawn(binary, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', storeDir], { stdio: 'ignore' });
    cleanups.push(() => new Promise((resolve) => { nats.once('exit', resolve); nats.kill('SIGTERM'); }));
    natsUrl = 'nats://127.0.0.1:4222';
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(`nats-server on ${natsUrl}`);
  }
  const internalToken = process.env.SKEIN_INTERNAL_TOKEN ?? randomBytes(32).toString('hex');
  const adminTokenFile = path.join(root, '.skein', 'dev-admin-token');
  if (!existsSync(adminTokenFile)) writeFileSync(adminTokenFile, `skn_${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const adminToken = readFileSync(adminTokenFile, 'utf8').trim();
  const env = { DATABASE_URL: databaseUrl, NATS_URL: natsUrl, SKEIN_INTERNAL_TOKEN: internalToken };
  start('scheduler', 'main.js', env);
  start('log-collector', 'main.js', env);
  start('executor', 'main.js', env);
  start('api', 'main.js', { ...env, SKEIN_ADMIN_TOKEN: adminToken });
  console.log('services starting: gRPC API on localhost:7070, REST on http://localhost:8080 (Ctrl-C stops them)');
  console.log(`admin API token in ${adminTokenFile}: export SKEIN_TOKEN=$(cat ${adminTokenFile})`);
}

let stopping = false;
async function stop() {
  if (stopping) process.exit(1);
  stopping = true;
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((resolve) => { c.once('exit', resolve); c.kill('SIGTERM'); }))));
  for (const cleanup of cleanups.reverse()) await cleanup();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
main().catch(async (err) => {
  console.error(`dev:services: ${err.message}`);
  await stop();
});
