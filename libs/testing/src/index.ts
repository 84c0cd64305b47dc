export { freePort } from './free-port';
export { createTestDatabase, type TestDatabase } from './test-database';
export { startNatsServer, natsServerBinary, type NatsServer, type StartNatsServerOptions } from './nats-server';
export { startRedisServer, redisServerBinary, type RedisServer, type StartRedisServerOptions } from './redis-server';
export { startServiceStack, type ServiceStack, type ServiceName, type StartStackOptions } from './service-stack';
export { startFakeKubeServer, type FakeKubeServer, type FakeKubeServerOptions, type InjectedFailure } from './fake-kube/fake-kube-server';
export type { PodScenario } from './fake-kube/fake-pod-runner';
export { RestClient } from './rest-client';
export { createTestCertificates, type TestCertificates } from './test-certificates';
