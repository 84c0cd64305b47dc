import type { Pool } from 'pg';
import { subjects, type Bus } from '@skein/bus';
import { TaskEvent } from '@skein/proto';
import { listUnfinishedAttempts } from '@skein/store';

/**
 * `skein standalone` runs tasks as child processes and queues dispatches in memory, so a restart
 * loses both. Every attempt still queued or running when it starts again is reported LOST, and the
 * retry policy decides what happens next — nothing stays "running" forever.
 */
export async function recoverLostAttempts(pool: Pool, bus: Bus, executor: string): Promise<number> {
  const attempts = await listUnfinishedAttempts(pool, 100_000);
  const now = new Date();
  await Promise.all(attempts.map((a) => bus.publish(subjects.event(a.runId), TaskEvent.encode(TaskEvent.fromPartial({
    attemptId: a.id, runId: a.runId, task: a.task, attempt: a.number, executor, time: now,
    kind: { $case: 'failed', failed: { reason: 'LOST', message: 'Skein stopped while this attempt was queued or running', startTime: a.startTime ?? undefined, endTime: now } },
  })).finish(), { msgId: `${a.id}:lost` })));
  return attempts.length;
}
