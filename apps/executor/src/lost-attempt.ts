import { subjects, type Headers } from '@skein/bus';
import { LogBatch, LogLineStream, type TaskDispatch } from '@skein/proto';
import type { CompiledExecutorOptions } from './executor-options';
import { publishWithRetry } from './publish-with-retry';
import { encodeTaskEvent } from './task-events';

/**
 * Reports an attempt whose local process died with the executor that ran it: its dispatch came back
 * (delivery > 1) and it is not running here. Publishes one system log line saying so and a `failed`
 * event with reason LOST, so the scheduler's retry policy applies and nothing stays "running".
 *
 * The log line is sequence 1 with `final_count` 1: this executor cannot know how many lines the dead
 * one sent. The log store keeps the first line it stored for a sequence, so the attempt's log ends
 * up complete with whatever the dead executor managed to send, or with this line alone.
 */
export async function publishLostAttempt(
  options: Pick<CompiledExecutorOptions, 'bus' | 'identity' | 'publishRetry' | 'logger'>,
  dispatch: TaskDispatch,
  deliveryCount: number,
  headers: Headers | undefined,
): Promise<void> {
  const { bus, identity, publishRetry, logger } = options;
  const { attemptId, runId, workflow, task, attempt } = dispatch;
  const now = new Date();
  const text = `attempt ${attempt} was lost: its process ran on an executor that stopped before the attempt ended ` +
    `(dispatch delivery ${deliveryCount}, seen by executor ${identity}); the retry policy applies`;
  const batch = LogBatch.encode({
    attemptId, runId, workflow, task, attempt,
    lines: [{ sequence: 1, stream: LogLineStream.LOG_LINE_STREAM_SYSTEM, time: now, text }],
    finalCount: 1,
  }).finish();
  try {
    await publishWithRetry(bus, subjects.logs(attemptId), batch, { msgId: `${attemptId}:lost-log` }, publishRetry);
  } catch (err) {
    logger.error({ err, attemptId }, 'the log line of a lost attempt could not be published');
  }
  logger.warn({ attemptId, runId, task, attempt, deliveryCount }, 'attempt lost with a previous executor');
  const event = encodeTaskEvent(dispatch, identity, {
    $case: 'failed',
    failed: { startTime: undefined, endTime: now, exitCode: undefined, reason: 'LOST', message: text },
  });
  const msgId = `${attemptId}:end`;
  await publishWithRetry(bus, subjects.event(runId), event, headers ? { msgId, headers } : { msgId }, publishRetry);
}
