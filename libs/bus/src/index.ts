export {
  EVENT_BATCH_HEADER,
  STREAMS,
  subjects,
  type Bus,
  type BusMessage,
  type ConsumeOptions,
  type CoreHandler,
  type Headers,
  type MessageHandler,
  type PublishOptions,
  type StreamConfig,
  type StreamName,
  type Subscription,
} from './bus';
export {
  BusError,
  isAckFailed,
  isBusClosed,
  isBusError,
  isConsumerConflict,
  isNoStream,
  isPublishTimeout,
  isStreamConflict,
  type BusErrorCode,
} from './errors';
export { createNatsBus, type NatsBusOptions } from './nats-bus';
export { createInProcessBus, type InProcessBusOptions } from './in-process-bus';
export { DEFAULT_ACK_WAIT_MS, DEFAULT_MAX_IN_FLIGHT } from './consume-options';
export { subjectMatches, streamForSubject } from './subject-match';
