export { LogCollector, type LogCollectorOptions, type StoredLogPage } from './log-collector';
export {
  addLogCollectorService, logCollectorGrpcImplementation, createLogCollectorClient, type LogCollectorGrpcOptions,
} from './internal-grpc';
export { LogFeed, type StoredElsewhereListener, type StoredLinesListener } from './log-feed';
export { readLogProgress, type LogProgress, type LogProgressOptions } from './log-progress';
export { tailLog, type LogTailChunk, type TailOptions } from './log-tail';
export { BatchWriter, type BatchWriterOptions } from './batch-writer';
export { LogMaintenance, type LogMaintenanceOptions } from './log-maintenance';
export { LogCollectorError, SlowReaderError, isSlowReader } from './errors';
export { writeWithBackpressure } from './stream-writer';
