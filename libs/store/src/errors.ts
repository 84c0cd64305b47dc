/** Base class of the store's errors: each has a stable `code`. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: string = 'STORE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A row that was asked for by id does not exist. */
export class NotFoundError extends StoreError {
  override readonly name = 'NotFoundError';
  override readonly code = 'NOT_FOUND';
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} "${id}" not found`);
  }
}

/** A row that was to be created exists already. */
export class AlreadyExistsError extends StoreError {
  override readonly name = 'AlreadyExistsError';
  override readonly code = 'ALREADY_EXISTS';
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} "${id}" already exists`);
  }
}

/** A row changed between a read and a write that depended on it (optimistic concurrency). */
export class ConcurrentChangeError extends StoreError {
  override readonly name = 'ConcurrentChangeError';
  override readonly code = 'CONCURRENT_CHANGE';
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} "${id}" changed while it was being updated`);
  }
}

/** Migrations could not be applied. */
export class MigrationError extends StoreError {
  override readonly name = 'MigrationError';
  override readonly code = 'MIGRATION_FAILED';
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}

export function isAlreadyExists(err: unknown): err is AlreadyExistsError {
  return err instanceof AlreadyExistsError;
}

export function isConcurrentChange(err: unknown): err is ConcurrentChangeError {
  return err instanceof ConcurrentChangeError;
}
