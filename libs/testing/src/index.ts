export { freePort } from './free-port';
export { createTestDatabase, type TestDatabase } from './test-database';
export { startNatsServer, natsServerBinary, type NatsServer, type StartNatsServerOptions } from './nats-server';
