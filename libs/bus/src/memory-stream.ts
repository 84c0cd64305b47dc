import type { Headers, StreamConfig } from './bus';
import { BusError } from './errors';
import type { MemoryConsumer } from './memory-consumer';
import { subjectMatches, subjectsOverlap } from './subject-match';

/** A message held by a {@link MemoryStream}. */
export interface StoredMessage {
  readonly sequence: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
}

/**
 * The in-process counterpart of a JetStream stream: an ordered log of messages with sequence
 * numbers, a `msgId` duplicate window, and the durable consumers reading it. With work-queue
 * retention a message is removed as soon as a consumer acks (or terms) it.
 */
export class MemoryStream {
  /** Messages still held, by sequence. A Map iterates in insertion (= sequence) order. */
  readonly messages = new Map<number, StoredMessage>();
  readonly consumers = new Map<string, MemoryConsumer>();
  private lastSequence = 0;
  /** msgId → time (ms) its duplicate window ends; insertion order is expiry order. */
  private readonly recentIds = new Map<string, number>();

  constructor(readonly config: StreamConfig) {}

  /**
   * Stores a message and hands it to the consumer whose filter matches. Returns undefined
   * when `msgId` was seen within the duplicate window (the publish succeeds, nothing is stored).
   */
  append(subject: string, data: Uint8Array, headers: Headers, msgId: string | undefined, now: number): StoredMessage | undefined {
    if (msgId !== undefined) {
      this.forgetExpiredIds(now);
      if (this.recentIds.has(msgId)) return undefined;
      this.recentIds.set(msgId, now + this.config.duplicateWindowMs);
    }
    const message: StoredMessage = { sequence: ++this.lastSequence, subject, data, headers };
    this.messages.set(message.sequence, message);
    for (const consumer of this.consumers.values()) {
      if (subjectMatches(consumer.filterSubject, subject)) consumer.offer(message.sequence);
    }
    return message;
  }

  /** Called when a consumer acks or terms a message: a work queue forgets it. */
  settled(sequence: number): void {
    if (this.config.retention === 'workqueue') this.messages.delete(sequence);
  }

  /**
   * Checks a new consumer's filter against the stream and, for a work queue, against the other
   * consumers: JetStream refuses overlapping filters there (each message has one reader).
   */
  checkFilter(durable: string, filterSubject: string): void {
    if (!subjectsOverlap(this.config.subjects, filterSubject)) {
      throw new BusError('INVALID_ARGUMENT', `filter subject ${filterSubject} is outside stream ${this.config.jetstreamName} (${this.config.subjects})`);
    }
    if (this.config.retention !== 'workqueue') return;
    for (const other of this.consumers.values()) {
      if (other.durable !== durable && subjectsOverlap(other.filterSubject, filterSubject)) {
        throw new BusError(
          'CONSUMER_CONFLICT',
          `consumer ${durable} (filter ${filterSubject}) overlaps consumer ${other.durable} (filter ${other.filterSubject}) on work-queue stream ${this.config.jetstreamName}: give each durable a distinct filterSubject`,
        );
      }
    }
  }

  /** Sequences of held messages on subjects matching `filterSubject`, oldest first. */
  sequencesMatching(filterSubject: string): number[] {
    const out: number[] = [];
    for (const message of this.messages.values()) {
      if (subjectMatches(filterSubject, message.subject)) out.push(message.sequence);
    }
    return out;
  }

  private forgetExpiredIds(now: number): void {
    for (const [id, expiresAt] of this.recentIds) {
      if (expiresAt > now) return;
      this.recentIds.delete(id);
    }
  }
}
