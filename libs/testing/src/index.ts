export { freePort } from './free-port';
export { createTestDatabase, type TestDatabase } from './test-database';
export { startNatsServer, natsServerBinary, type NatsServer, type StartNatsServerOptions } from './nats-server';
export { startServiceStack, type ServiceStack, type ServiceName, type StartStackOptions } from './service-stack';
