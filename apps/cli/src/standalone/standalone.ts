import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createInProcessBus } from '@skein/bus';
import { Shutdown } from '@skein/config';
import { ensureDatabase, startEmbeddedPostgres } from '@skein/store';
import { startTelemetry } from '@skein/telemetry';
import { ensureAdminTokenFile } from './admin-token-file';
import { applyWorkflowFiles } from './apply-directory';
import { startSkein } from './start-skein';
import { DEFAULT_DATA_DIR } from '../connection';

export interface StandaloneIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface StandaloneOptions {
  /** Where PostgreSQL's data and Skein's log live. */
  readonly dataDir: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Workflow files applied at start (a missing directory is skipped). */
  readonly workflowsDir: string;
  readonly logLevel: string;
  readonly io: StandaloneIo;
  /** Resolves to stop Skein (tests); without it, SIGINT/SIGTERM stop it. */
  readonly until?: Promise<void>;
  /** Told the ports once Skein is serving (tests). */
  readonly onReady?: (ports: { grpcPort: number; httpPort: number }) => void;
}

/**
 * `skein standalone`: embedded PostgreSQL under the data directory, the in-process bus, and all four
 * services in this process. Resolves with the exit code once stopped.
 */
export async function runStandalone(options: StandaloneOptions): Promise<number> {
  const { io } = options;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'skein.log');
  const logger = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.multistream([
    { level: options.logLevel as pino.Level, stream: pino.destination({ dest: logFile, sync: false, mkdir: true }) },
    { level: 'error', stream: process.stderr },
  ]));
  const say = (line: string) => io.stdout.write(`${line}\n`);

  say(`Starting Skein (data in ${dataDir}) ...`);
  const telemetry = await startTelemetry({ serviceName: 'skein-standalone', otlpEndpoint: io.env['OTEL_EXPORTER_OTLP_ENDPOINT'] });
  const bus = createInProcessBus({ logger: logger.child({ service: 'bus' }) });
  const cleanupOnFailure = new Shutdown({ logger }).add('telemetry', () => telemetry.shutdown());
  let skein;
  let postgres;
  try {
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), persistent: true, onLog: (line) => logger.debug({ postgres: line.trim() }) });
    const started = postgres;
    cleanupOnFailure.add('postgres', () => started.stop());
    const databaseUrl = await ensureDatabase(postgres.url, 'skein');
    skein = await startSkein({ databaseUrl, bus, logger, grpcPort: options.grpcPort, httpPort: options.httpPort, recoverLostAttempts: true });
  } catch (err) {
    const message = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(String(err))
      ? `a port is already in use (gRPC ${options.grpcPort}, HTTP ${options.httpPort}): stop the other Skein or pass --grpc-port/--http-port`
      : (err as Error).message;
    io.stderr.write(`skein: cannot start: ${message}\n`);
    await cleanupOnFailure.run();
    return 1;
  }
  const running = skein;
  const database = postgres;
  // Hooks run in order: stop serving and drain work before the database and bus go away.
  const hooks = new Shutdown({ logger })
    .add('services', () => running.stop())
    .add('bus', () => bus.close())
    .add('postgres', () => database.stop())
    .add('telemetry', () => telemetry.shutdown());

  let adminToken: { file: string; created: boolean };
  try {
    adminToken = await ensureAdminTokenFile(running.pool, dataDir);
  } catch (err) {
    io.stderr.write(`skein: cannot create the admin token: ${(err as Error).message}\n`);
    await hooks.run();
    return 1;
  }

  let workflows: string[] = [];
  try {
    const applied = await applyWorkflowFiles(running.pool, options.workflowsDir);
    for (const file of applied) {
      for (const error of file.errors) io.stderr.write(`skein: ${error}\n`);
      workflows = workflows.concat(file.workflows.map((w) => w.name));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') io.stderr.write(`skein: could not apply ${options.workflowsDir}: ${(err as Error).message}\n`);
  }

  say('');
  say('Skein is running.');
  say(`  gRPC API   localhost:${running.grpcPort}`);
  say(`  REST API   http://localhost:${running.httpPort}/v1/workflows`);
  say(`  log file   ${logFile}`);
  say(`  API token  ${adminToken.file} (admin${adminToken.created ? ', created now' : ''}; send it as \`authorization: Bearer <token>\`)`);
  if (workflows.length > 0) say(`  workflows  ${workflows.join(', ')} (from ${options.workflowsDir})`);
  say('');
  say('Try, in another terminal (the CLI finds the token in ./.skein, or in $SKEIN_DATA_DIR):');
  if (path.resolve(DEFAULT_DATA_DIR) !== dataDir) say(`  export SKEIN_DATA_DIR=${dataDir}`);
  say(`  npx skein workflows list`);
  if (workflows.length > 0) say(`  npx skein trigger ${workflows[0]} --wait`);
  say('Press Ctrl-C to stop.');
  options.onReady?.({ grpcPort: running.grpcPort, httpPort: running.httpPort });

  if (options.until) {
    await options.until;
  } else {
    hooks.listen();
    await new Promise<void>((resolve) => {
      const onSignal = () => resolve();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
  }
  say('Stopping Skein ...');
  const code = await hooks.run();
  say('Stopped.');
  return code;
}
