/**
 * Where the CLI reads its environment and writes its output: process.stdout/stderr/env in the real
 * command, string buffers in tests.
 */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** An error the CLI reports as `skein: <message>` (plus `lines`, one per line) and exits non-zero on. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    /** Shown after the message, one per line (e.g. field violations). */
    readonly lines: readonly string[] = [],
    options: { cause?: unknown; reason?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.reason = options.reason;
  }

  /** The API's ErrorInfo reason, when the error came from Skein (e.g. `WORKFLOW_INVALID`). */
  readonly reason: string | undefined;
}

/** Writes `text` and a newline. */
export function println(stream: CliIo['stdout'], text = ''): void {
  stream.write(`${text}\n`);
}
