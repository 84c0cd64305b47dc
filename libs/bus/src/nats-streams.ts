import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig as JsStreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { STREAMS, type StreamConfig } from './bus';
import { BusError } from './errors';

/** JetStream API error codes this library reacts to. */
export const JsCodes = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
  WorkQueueMultipleUnfiltered: 10099,
  WorkQueueFilterNotUnique: 10100,
} as const;

/** The JetStream API error code of `err`, if it is one. */
export function jsApiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/** The JetStream configuration Skein wants for one of its streams. */
export function desiredStreamConfig(stream: StreamConfig, replicas: number): Partial<JsStreamConfig> & { name: string } {
  return {
    name: stream.jetstreamName,
    subjects: [stream.subjects],
    retention: stream.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(stream.duplicateWindowMs),
    num_replicas: replicas,
  };
}

/**
 * Creates each of {@link STREAMS} if missing. An existing stream is updated only when a field
 * Skein owns differs, and only in ways JetStream applies in place: nothing here deletes data.
 * Retention and storage cannot change in place, so a mismatch there is a {@link BusError}
 * (`STREAM_CONFLICT`) for an operator to resolve.
 */
export async function ensureJetStreamStreams(jsm: JetStreamManager, replicas: number, logger: Logger): Promise<void> {
  for (const stream of Object.values(STREAMS)) {
    await ensureStream(jsm, stream, replicas, logger);
  }
}

/** Ensures one stream; see {@link ensureJetStreamStreams}. */
export async function ensureStream(jsm: JetStreamManager, stream: StreamConfig, replicas: number, logger: Logger): Promise<void> {
  try {
    await reconcileStream(jsm, stream, replicas, logger);
  } catch (err) {
    if (err instanceof BusError) throw err;
    throw new BusError('BROKER_ERROR', `could not create or update stream ${stream.jetstreamName}: ${(err as Error).message}`, { cause: err });
  }
}

async function reconcileStream(jsm: JetStreamManager, stream: StreamConfig, replicas: number, logger: Logger): Promise<void> {
  const desired = desiredStreamConfig(stream, replicas);
  try {
    // `add` with an identical configuration is a no-op on the server, so the common case is one call.
    await jsm.streams.add(desired);
    return;
  } catch (err) {
    if (jsApiCode(err) !== JsCodes.StreamNameInUse) throw err;
  }
  const { config: existing } = await jsm.streams.info(stream.jetstreamName);
  if (existing.retention !== desired.retention || existing.storage !== desired.storage) {
    throw new BusError(
      'STREAM_CONFLICT',
      `stream ${stream.jetstreamName} exists with retention=${existing.retention} storage=${existing.storage}, ` +
        `Skein needs retention=${desired.retention} storage=${desired.storage}; these cannot change in place: ` +
        'drain it and delete it (nats stream rm) so Skein can recreate it',
    );
  }
  const subjectsDiffer = existing.subjects.length !== 1 || existing.subjects[0] !== stream.subjects;
  if (!subjectsDiffer && existing.duplicate_window === desired.duplicate_window && existing.num_replicas === desired.num_replicas) return;
  logger.info(
    { stream: stream.jetstreamName, subjects: existing.subjects, duplicateWindow: existing.duplicate_window, replicas: existing.num_replicas },
    'updating stream configuration',
  );
  await jsm.streams.update(stream.jetstreamName, {
    ...existing,
    subjects: desired.subjects ?? [stream.subjects],
    duplicate_window: desired.duplicate_window ?? existing.duplicate_window,
    num_replicas: replicas,
  });
}
