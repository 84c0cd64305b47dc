import type { Logger } from 'pino';
import type { BusMessage, MessageHandler } from './bus';

/**
 * Runs a handler for one delivered message, the same way in both buses: a handler that throws (or
 * rejects) has its message nak'ed for redelivery; `release` is called once either way.
 */
export function runHandler(handler: MessageHandler, message: BusMessage, logger: Pick<Logger, 'warn'>, release: () => void): void {
  let result: Promise<void>;
  try {
    result = Promise.resolve(handler(message));
  } catch (err) {
    result = Promise.reject(err);
  }
  result.then(release, (err: unknown) => {
    logger.warn({ err, subject: message.subject, sequence: message.sequence }, 'message handler failed; the message will be redelivered');
    message.nak();
    release();
  });
}
