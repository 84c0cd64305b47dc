import { z } from 'zod';

/** Environment fields shared by the services. Each documents its default. */
export const fields = {
  /** PostgreSQL connection URL. Required by scheduler, api and log-collector. */
  databaseUrl: z.string({ required_error: 'is required (e.g. postgres://user:pass@127.0.0.1:5432/skein)' })
    .url('must be a URL such as postgres://user:pass@127.0.0.1:5432/skein'),
  /** NATS server URL(s), comma separated. @default nats://127.0.0.1:4222 */
  natsUrl: z.string().default('nats://127.0.0.1:4222'),
  /** A TCP port; 0 picks a free one. */
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** Host to bind. @default 127.0.0.1 */
  host: z.string().default('127.0.0.1'),
  /** pino level. @default info */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A positive integer with a default. */
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  /**
   * The shared secret every internal gRPC call bears (scheduler and log-collector servers, the api as
   * their client). Required; give every service the same value.
   */
  internalToken: z.string({ required_error: 'is required: the shared secret of Skein\'s internal gRPC, the same for every service (e.g. `openssl rand -hex 32`)' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  /** A gRPC address host:port. */
  address: (fallback: string) => z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port').default(fallback),
  /**
   * Where a client finds a service that may have several replicas: `host:port`, or a gRPC target that
   * names several — `dns:///scheduler.skein.svc:7071` (every address the name resolves to) or
   * `ipv4:10.0.0.5:7071,10.0.0.6:7071` — of which the client uses one that answers, moving on when it fails.
   */
  target: (fallback: string) => z.string().regex(/^([^\s:/,]+:\d+|dns:(\/\/[^\s/]*\/)?[^\s/,]+(:\d+)?|ipv4:[\d.]+:\d+(,[\d.]+:\d+)*|ipv6:\S+|unix:\S+)$/,
    'must be host:port or a gRPC target: dns:///host:port, ipv4:a.b.c.d:port,a.b.c.d:port, ipv6:..., unix:path').default(fallback),
};
