export { LogCollector, type LogCollectorOptions, type StoredLogPage } from './log-collector';
export { addLogCollectorService, logCollectorGrpcImplementation, createLogCollectorClient } from './internal-grpc';
