import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json';
import { CliError, println, type CliIo } from './cli-io';
import { createCommandContext, OUTPUT_FORMATS, type CommandContext, type GlobalOptions } from './command-context';
import { applyCommand, validateCommand } from './commands/apply';
import { renderCommand, type RenderOptions } from './commands/render';
import { logsCommand, type LogsOptions } from './commands/logs';
import { getRunCommand, listRunsCommand, parseRunState, tasksCommand, type RunListOptions } from './commands/runs';
import { watchRunCommand } from './commands/watch';
import { deleteWorkflowCommand, listWorkflowVersionsCommand } from './commands/workflow-versions';
import { collectParam, triggerCommand } from './commands/trigger';
import { getWorkflowCommand, listWorkflowsCommand, pauseWorkflowCommand } from './commands/workflows';
import { cancelCommand } from './commands/cancel';
import { backfillCommand, parseTime, type BackfillOptions } from './commands/backfill';
import { retryCommand } from './commands/retry';
import { deletePoolCommand, getPoolCommand, listPoolsCommand } from './commands/pools';
import { runStandalone } from './standalone/standalone';
import { auditCommand, createTokenCommand, listTokensCommand, revokeTokenCommand, TOKEN_ROLES, type TokenRoleName } from './commands/tokens';

export type { CliIo } from './cli-io';

/** The server the CLI talks to unless `--server` or SKEIN_SERVER says otherwise. */
export const DEFAULT_SERVER = 'localhost:7070';

/** Where a command's exit code is left for {@link runCli}. */
export interface CliOutcome {
  exitCode: number;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const port = integer(0, 65535);

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The `skein` command line. Output goes to `io`, never to the process directly, and nothing exits the
 * process: each command leaves its exit code in `outcome`.
 */
export function buildProgram(io: CliIo, outcome: CliOutcome = { exitCode: 0 }): Command {
  /** Runs a command with a context built from the global options, closing its client afterwards. */
  const act = async (command: Command, handler: (ctx: CommandContext) => Promise<number> | number): Promise<void> => {
    const { ctx, close } = createCommandContext(io, command.optsWithGlobals<GlobalOptions>());
    try {
      outcome.exitCode = await handler(ctx);
    } finally {
      close();
    }
  };

  const program = new Command('skein')
    .description('Skein: run DAG workflows of containers and commands')
    .version(packageJson.version)
    .addOption(new Option('--server <address>', 'host:port of the Skein gRPC API (env: SKEIN_SERVER)').default(io.env['SKEIN_SERVER'] || DEFAULT_SERVER))
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .addOption(new Option('--token <secret>', 'API token (env: SKEIN_TOKEN; else a local standalone\'s .skein/admin-token)'))
    .addOption(new Option('--tls', 'connect over TLS (implied by --ca-file and --cert-file)'))
    .addOption(new Option('--ca-file <path>', 'PEM CA certificate to trust for the server (env: SKEIN_CA_FILE)').default(io.env['SKEIN_CA_FILE'] || undefined))
    .addOption(new Option('--cert-file <path>', 'PEM client certificate, for mutual TLS (env: SKEIN_CERT_FILE)').default(io.env['SKEIN_CERT_FILE'] || undefined))
    .addOption(new Option('--key-file <path>', 'PEM key of the client certificate (env: SKEIN_KEY_FILE)').default(io.env['SKEIN_KEY_FILE'] || undefined))
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'skein: ')),
    })
    .showHelpAfterError('(run `skein --help` for usage)');

  program.command('apply')
    .description('create or update workflows from files (every .yaml, .yml and .json in a directory)')
    .requiredOption('-f, --filename <path>', 'workflow file or directory (repeatable)', collect)
    .action((opts: { filename: string[] }, command: Command) => act(command, (ctx) => applyCommand(ctx, opts.filename)));

  program.command('validate')
    .description('check workflow files locally, without a server')
    .requiredOption('-f, --filename <path>', 'workflow file or directory (repeatable)', collect)
    .action((opts: { filename: string[] }, command: Command) => act(command, (ctx) => validateCommand(ctx, opts.filename)));

  program.command('render')
    .description('print the Job manifest the kubernetes runtime would create for a task, as YAML')
    .requiredOption('-f, --filename <path>', 'workflow file or directory; template files too (repeatable)', collect)
    .requiredOption('--task <name>', 'the task to render')
    .option('--workflow <name>', 'the workflow, when the files hold several')
    .option('-p, --param <name=value>', 'a param value (repeatable)', collect, [])
    .option('--namespace <namespace>', 'namespace of a task that names none', 'default')
    .action((opts: RenderOptions, command: Command) => act(command, (ctx) => renderCommand(ctx, opts)));

  const workflows = program.command('workflows').description('list and show workflows');
  workflows.command('list')
    .description('list workflows')
    .option('--filter <expr>', 'only those that match, e.g. \'labels.team = "data" AND paused = false\' (see docs/api.md)', '')
    .action((opts: { filter: string }, command: Command) => act(command, (ctx) => listWorkflowsCommand(ctx, opts.filter)));
  workflows.command('get')
    .description('show a workflow and its tasks')
    .argument('<workflow>', 'workflow name')
    .action((workflow: string, _opts, command: Command) => act(command, (ctx) => getWorkflowCommand(ctx, workflow)));
  workflows.command('pause')
    .description('stop creating scheduled runs of a workflow (runs already created go on)')
    .argument('<workflow>', 'workflow name')
    .action((workflow: string, _opts, command: Command) => act(command, (ctx) => pauseWorkflowCommand(ctx, workflow, true)));
  workflows.command('unpause')
    .alias('resume')
    .description("resume a workflow's schedule")
    .argument('<workflow>', 'workflow name')
    .action((workflow: string, _opts, command: Command) => act(command, (ctx) => pauseWorkflowCommand(ctx, workflow, false)));
  workflows.command('versions')
    .description("list a workflow's versions, newest first")
    .argument('<workflow>', 'workflow name')
    .action((workflow: string, _opts, command: Command) => act(command, (ctx) => listWorkflowVersionsCommand(ctx, workflow)));
  workflows.command('delete')
    .description('delete a workflow, its versions and its runs (refused while a run is queued or running)')
    .argument('<workflow>', 'workflow name')
    .action((workflow: string, _opts, command: Command) => act(command, (ctx) => deleteWorkflowCommand(ctx, workflow)));

  const pools = program.command('pools').description('list, show and delete pools (apply them with `skein apply`)');
  pools.command('list')
    .description('list pools with their slots in use and their waiting tasks')
    .action((_opts, command: Command) => act(command, (ctx) => listPoolsCommand(ctx)));
  pools.command('get')
    .description('show a pool')
    .argument('<pool>', 'pool name')
    .action((pool: string, _opts, command: Command) => act(command, (ctx) => getPoolCommand(ctx, pool)));
  pools.command('delete')
    .description('delete a pool (refused while a workflow names it or a task holds or waits for a slot)')
    .argument('<pool>', 'pool name')
    .action((pool: string, _opts, command: Command) => act(command, (ctx) => deletePoolCommand(ctx, pool)));

  program.command('trigger')
    .description('start a run of a workflow and print its id')
    .argument('<workflow>', 'workflow name')
    .option('-p, --param <name=value>', 'a param value (repeatable)', collectParam)
    .option('-w, --wait', 'wait for the run to end; exit 0 only if it succeeded')
    .option('--request-id <id>', 'idempotency key: repeating it within 24 h returns the first run instead of starting another')
    .action((workflow: string, opts: { param?: Record<string, string>; wait?: boolean; requestId?: string }, command: Command) =>
      act(command, (ctx) => triggerCommand(ctx, workflow, opts)));

  program.command('backfill')
    .description("create a run for every data interval of a workflow's schedule in a time range")
    .argument('<workflow>', 'workflow name')
    .requiredOption('--from <time>', 'first logical date (RFC 3339 or YYYY-MM-DD, inclusive)', parseTime)
    .requiredOption('--to <time>', 'end of the range (exclusive)', parseTime)
    .option('--rerun-succeeded', 'run intervals whose run succeeded again')
    .option('--max-active <n>', "at most this many of the backfill's runs queued or running at once", integer(1, 1000))
    .option('-p, --param <name=value>', 'a param value for every run (repeatable)', collectParam)
    .action((workflow: string, opts: BackfillOptions, command: Command) => act(command, (ctx) => backfillCommand(ctx, workflow, opts)));

  const runs = program.command('runs').description('list and show runs');
  runs.command('list')
    .description('list runs, newest first')
    .option('--workflow <workflow>', 'only the runs of this workflow')
    .option('--limit <n>', 'at most this many runs', integer(1, 100_000), 50)
    .option('--state <state>', 'only runs in this state (queued, running, succeeded, failed, cancelled)', parseRunState)
    .option('--since <time>', 'only runs created at or after this time (RFC 3339 or YYYY-MM-DD)', parseTime)
    .option('--until <time>', 'only runs created before this time', parseTime)
    .action((opts: RunListOptions, command: Command) => act(command, (ctx) => listRunsCommand(ctx, opts)));
  runs.command('watch')
    .description("print a run's state changes as they happen until it ends; exit 0 only if it succeeded")
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .action((run: string, _opts, command: Command) => act(command, (ctx) => watchRunCommand(ctx, run)));
  runs.command('retry')
    .description('run tasks of an ended run again: the failed ones (or --task) and everything downstream')
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .option('--task <task>', 'retry this task and its downstream instead')
    .action((run: string, opts: { task?: string }, command: Command) => act(command, (ctx) => retryCommand(ctx, run, opts)));
  runs.command('get')
    .description('show a run and its tasks')
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .action((run: string, _opts, command: Command) => act(command, (ctx) => getRunCommand(ctx, run)));

  program.command('cancel')
    .description('cancel a run: stop its running tasks and mark the rest cancelled')
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .option('--reason <text>', 'why (recorded as the run\'s reason)')
    .action((run: string, opts: { reason?: string }, command: Command) => act(command, (ctx) => cancelCommand(ctx, run, opts)));

  program.command('tasks')
    .description("show a run's tasks with their states and attempts")
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .action((run: string, _opts, command: Command) => act(command, (ctx) => tasksCommand(ctx, run)));

  program.command('logs')
    .description("print a task's log")
    .argument('<run>', 'run id, or workflows/WORKFLOW/runs/RUN')
    .argument('<task>', 'task name')
    .option('-a, --attempt <n>', 'attempt number (default: the latest)', integer(0, 1_000_000), 0)
    .option('-f, --follow', 'print lines as they are written until the task ends (exit 1 if the attempt did not succeed)')
    .option('--since-seq <n>', 'only lines after this sequence number', integer(0, Number.MAX_SAFE_INTEGER), 0)
    .action((run: string, task: string, opts: LogsOptions, command: Command) => act(command, (ctx) => logsCommand(ctx, run, task, opts)));

  const tokens = program.command('tokens').description('create, list and revoke API tokens (admin)');
  tokens.command('create')
    .description('create an API token and print its secret (shown only this once)')
    .requiredOption('--name <name>', 'what the token is for, e.g. ci-deployer (letters, digits, . _ -)')
    .addOption(new Option('--role <role>', 'viewer: read; operator: also trigger, cancel, retry, backfill, pause; admin: everything').choices(TOKEN_ROLES).makeOptionMandatory())
    .action((opts: { name: string; role: TokenRoleName }, command: Command) => act(command, (ctx) => createTokenCommand(ctx, opts)));
  tokens.command('list')
    .description('list API tokens, newest first (never their secrets)')
    .option('--all', 'include revoked tokens')
    .action((opts: { all?: boolean }, command: Command) => act(command, (ctx) => listTokensCommand(ctx, opts)));
  tokens.command('revoke')
    .description('revoke an API token: calls with it fail from now on')
    .argument('<token>', 'token id, or tokens/ID')
    .action((token: string, _opts, command: Command) => act(command, (ctx) => revokeTokenCommand(ctx, token)));

  program.command('audit')
    .description('show the audit log of mutating API calls, newest first (admin)')
    .option('--limit <n>', 'at most this many events', integer(1, 100_000), 50)
    .action((opts: { limit: number }, command: Command) => act(command, (ctx) => auditCommand(ctx, opts)));

  program.command('standalone')
    .description('run all of Skein in this process: embedded PostgreSQL, scheduler, executor, log collector and API')
    .option('--data-dir <dir>', 'where the database and logs are kept', '.skein')
    .option('--http-port <port>', 'REST API port', port, 8080)
    .option('--grpc-port <port>', 'gRPC API port', port, 7070)
    .option('--workflows <dir>', 'apply the workflow files in this directory at start', 'examples')
    .option('--log-level <level>', 'log level (trace, debug, info, warn, error)', 'info')
    .action(async (opts: { dataDir: string; httpPort: number; grpcPort: number; workflows: string; logLevel: string }) => {
      outcome.exitCode = await runStandalone({
        dataDir: opts.dataDir, httpPort: opts.httpPort, grpcPort: opts.grpcPort, workflowsDir: opts.workflows, logLevel: opts.logLevel, io,
      });
    });

  return program;
}

/**
 * Runs the CLI and returns its exit code. Errors are printed as `skein: <message>`, never as a stack.
 *
 * @param argv as process.argv: the node binary and script first.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: CliOutcome = { exitCode: 0 };
  try {
    await buildProgram(io, outcome).parseAsync([...argv], { from: 'node' });
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander printed it (or printed help)
    if (err instanceof CliError) {
      println(io.stderr, `skein: ${err.message}`);
      for (const line of err.lines) println(io.stderr, line);
      return 1;
    }
    println(io.stderr, `skein: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
