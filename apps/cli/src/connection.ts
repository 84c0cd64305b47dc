/**
 * How the CLI reaches the API: the server, the API token it sends, and TLS. The token is the first
 * of `--token`, `SKEIN_TOKEN`, and — only when the server is on this machine — the `admin-token` file
 * that `skein standalone` writes in its data directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { bearerTokenInterceptor } from '@skein/config';
import { CliError } from './cli-io';

/** The file, in a standalone's data directory, holding its admin token. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** The standalone data directory the CLI looks in unless SKEIN_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = '.skein';

export interface ApiConnection {
  /** `host:port` of the gRPC API. */
  readonly server: string;
  /** The API token's secret; undefined sends none (the API then answers UNAUTHENTICATED). */
  readonly token?: string;
  /** Connect over TLS (else plaintext). */
  readonly tls?: {
    /** PEM CA certificate(s) to trust instead of the system's. */
    readonly caFile?: string;
    /** PEM client certificate and key, for an API that requires them (mutual TLS). */
    readonly certFile?: string;
    readonly keyFile?: string;
  };
}

/** What `--token`, `--tls`, `--ca-file`, `--cert-file` and `--key-file` gave. */
export interface ConnectionFlags {
  readonly server: string;
  readonly token?: string;
  readonly tls?: boolean;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

function isLocal(server: string): boolean {
  const host = server.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The token file of a standalone in the data directory, if the server is local and the file exists. */
function localStandaloneToken(server: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (!isLocal(server)) return undefined;
  const file = path.join(env['SKEIN_DATA_DIR'] || DEFAULT_DATA_DIR, ADMIN_TOKEN_FILE);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}

export function resolveConnection(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): ApiConnection {
  const token = flags.token || env['SKEIN_TOKEN'] || localStandaloneToken(flags.server, env);
  if ((flags.certFile === undefined) !== (flags.keyFile === undefined)) {
    throw new CliError('give both --cert-file and --key-file (a client certificate and its key), or neither');
  }
  const useTls = flags.tls === true || flags.caFile !== undefined || flags.certFile !== undefined;
  return {
    server: flags.server,
    ...(token ? { token } : {}),
    ...(useTls ? { tls: { caFile: flags.caFile, certFile: flags.certFile, keyFile: flags.keyFile } } : {}),
  };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message}`, [], { cause: err });
  }
}

/** The channel credentials of a connection. */
export function channelCredentials(connection: ApiConnection): ChannelCredentials {
  const tls = connection.tls;
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(
    tls.caFile ? readPem(tls.caFile, 'CA file') : null,
    tls.keyFile ? readPem(tls.keyFile, 'client key file') : null,
    tls.certFile ? readPem(tls.certFile, 'client certificate file') : null,
  );
}

/** Client options sending the connection's token on every call. */
export function clientOptions(connection: ApiConnection): ClientOptions {
  return connection.token ? { interceptors: [bearerTokenInterceptor(connection.token)] } : {};
}
