import type { TaskEnvVar } from '@skein/runtime';

/** What a secret value is replaced with in logs and messages. */
export const REDACTED = '***';

/** Replaces secret values in a line of text. */
export type Redactor = (text: string) => string;

/** A {@link Redactor} that can learn more values after it is made. */
export interface SecretRedactor extends Redactor {
  /**
   * Redacts these values too from now on (the kubernetes runtime's Secret values, read while the
   * attempt launches). Empty values are ignored.
   */
  add(values: Iterable<string>): void;
}

/**
 * A redactor for the secret values of a task's environment, and for any value {@link SecretRedactor.add}
 * gives it later. A value that spans several lines (a PEM key) is also redacted line by line, since
 * logs arrive one line at a time. Longer values are replaced first, so a secret that contains another
 * is hidden whole.
 */
export function createRedactor(env: readonly TaskEnvVar[]): SecretRedactor {
  const values = new Set<string>();
  let secrets: string[] = [];
  const learn = (value: string) => {
    if (value === '') return;
    values.add(value);
    if (value.includes('\n')) {
      for (const part of value.split(/\r?\n/)) if (part.trim() !== '') values.add(part);
    }
  };
  const sort = () => {
    secrets = [...values].sort((a, b) => b.length - a.length);
  };
  for (const variable of env) if (variable.secret) learn(variable.value);
  sort();
  const redact: Redactor = (text) => {
    for (const secret of secrets) {
      if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    }
    return text;
  };
  return Object.assign(redact, {
    add(more: Iterable<string>) {
      for (const value of more) learn(value);
      sort();
    },
  });
}
