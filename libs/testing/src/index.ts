export { freePort } from './free-port';
export { startEmbeddedPostgres, type EmbeddedPostgresServer, type StartEmbeddedPostgresOptions } from './embedded-postgres';
export { createTestDatabase, type TestDatabase } from './test-database';
export { startNatsServer, natsServerBinary, type NatsServer, type StartNatsServerOptions } from './nats-server';
