export { runTraceId, runRetrySpanId, runSpanId, attemptSpanId, attemptTraceparent, parseTraceparent } from './trace-ids';
export { recordFinishedSpan, withRemoteParent, type FinishedSpan } from './record-span';
export { startTelemetry, tracingEnabled, type Telemetry, type TelemetryOptions } from './start-telemetry';
export { HOP_MARKS, markHop, recordHopMarks, type HopMark } from './hop-marks';
