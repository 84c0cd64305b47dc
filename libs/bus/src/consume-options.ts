import { STREAMS, type ConsumeOptions, type StreamConfig } from './bus';
import { BusError } from './errors';
import { isValidSubject, streamForSubject, subjectsOverlap } from './subject-match';

/** {@link ConsumeOptions} with defaults applied and checked, the same way for both implementations. */
export interface ResolvedConsumeOptions {
  readonly stream: StreamConfig;
  readonly durable: string;
  readonly filterSubject: string;
  readonly ackWaitMs: number;
  readonly maxInFlight: number;
}

/** @see ConsumeOptions.ackWaitMs */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** @see ConsumeOptions.maxInFlight */
export const DEFAULT_MAX_IN_FLIGHT = 1000;

// JetStream durable names may not contain `.`, `*`, `>` or whitespace; we are stricter so that a
// name means the same thing everywhere (metrics labels, log fields).
const DURABLE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Applies defaults and rejects options that cannot work, with a message that says what to change. */
export function resolveConsumeOptions(options: ConsumeOptions): ResolvedConsumeOptions {
  const stream = STREAMS[options.stream];
  if (stream === undefined) {
    throw new BusError('INVALID_ARGUMENT', `unknown stream "${String(options.stream)}": use one of ${Object.keys(STREAMS).join(', ')}`);
  }
  if (!DURABLE_NAME.test(options.durable)) {
    throw new BusError('INVALID_ARGUMENT', `durable "${options.durable}" must be 1-128 characters of A-Z, a-z, 0-9, _ or -`);
  }
  const filterSubject = options.filterSubject ?? stream.subjects;
  if (!isValidSubject(filterSubject, true) || !subjectsOverlap(stream.subjects, filterSubject)) {
    throw new BusError('INVALID_ARGUMENT', `filterSubject "${filterSubject}" is not a subject of stream ${stream.name} (${stream.subjects})`);
  }
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  if (!Number.isFinite(ackWaitMs) || ackWaitMs < 1) {
    throw new BusError('INVALID_ARGUMENT', `ackWaitMs must be a positive number of milliseconds, got ${ackWaitMs}`);
  }
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new BusError('INVALID_ARGUMENT', `maxInFlight must be an integer >= 1, got ${maxInFlight}`);
  }
  return { stream, durable: options.durable, filterSubject, ackWaitMs, maxInFlight };
}

/** The stream a publish goes to; throws `NO_STREAM` / `INVALID_ARGUMENT` otherwise. */
export function streamForPublish(subject: string): StreamConfig {
  if (!isValidSubject(subject, false)) {
    throw new BusError('INVALID_ARGUMENT', `cannot publish to "${subject}": a publish subject has non-empty tokens and no wildcards`);
  }
  const stream = streamForSubject(subject);
  if (stream === undefined) {
    throw new BusError('NO_STREAM', `no stream captures subject "${subject}": stream subjects are ${Object.values(STREAMS).map((s) => s.subjects).join(', ')}`);
  }
  return stream;
}

/** Checks a core (non-stream) subject; wildcards only when subscribing. */
export function checkCoreSubject(subject: string, wildcards: boolean): void {
  if (!isValidSubject(subject, wildcards)) {
    throw new BusError('INVALID_ARGUMENT', `invalid subject "${subject}"${wildcards ? '' : ' (no wildcards when publishing)'}`);
  }
}
