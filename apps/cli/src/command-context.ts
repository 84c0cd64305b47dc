import { println, type CliIo } from './cli-io';
import { resolveConnection, type ConnectionFlags } from './connection';
import { createSkeinClient, type SkeinClient } from './skein-client';

/** The output formats of `-o`. */
export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What every command gets: where to write, how to format, and the API (connected on first use). */
export interface CommandContext {
  readonly io: CliIo;
  readonly output: OutputFormat;
  /** The API client; created on first use, closed when the command ends. */
  client(): SkeinClient;
  /** Writes a line to stdout. */
  out(text?: string): void;
  /** Writes a line to stderr. */
  err(text?: string): void;
}

export interface GlobalOptions extends ConnectionFlags {
  readonly output: OutputFormat;
}

/** A context and the function that releases what it opened. */
export function createCommandContext(io: CliIo, options: GlobalOptions, deadlineMs?: number): { ctx: CommandContext; close(): void } {
  let client: SkeinClient | undefined;
  const ctx: CommandContext = {
    io,
    output: options.output,
    client() {
      client ??= createSkeinClient({ ...resolveConnection(options, io.env), deadlineMs });
      return client;
    },
    out: (text = '') => println(io.stdout, text),
    err: (text = '') => println(io.stderr, text),
  };
  return { ctx, close: () => client?.close() };
}

/** Every item of a paged List call, following next_page_token to the end (or until `limit` items). */
export async function collectPages<T>(
  fetch: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>,
  limit = Infinity,
): Promise<T[]> {
  const items: T[] = [];
  let pageToken = '';
  do {
    const page = await fetch(pageToken);
    items.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken !== '' && items.length < limit);
  return items.slice(0, limit);
}
