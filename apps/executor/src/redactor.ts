import type { TaskEnvVar } from '@skein/runtime';

/** What a secret value is replaced with in logs and messages. */
export const REDACTED = '***';

/** Replaces secret values in a line of text. */
export type Redactor = (text: string) => string;

const identity: Redactor = (text) => text;

/**
 * A redactor for the secret values of a task's environment. A value that spans several lines (a
 * PEM key) is also redacted line by line, since logs arrive one line at a time. Longer values are
 * replaced first, so a secret that contains another is hidden whole.
 */
export function createRedactor(env: readonly TaskEnvVar[]): Redactor {
  const values = new Set<string>();
  for (const variable of env) {
    if (!variable.secret || variable.value === '') continue;
    values.add(variable.value);
    if (variable.value.includes('\n')) {
      for (const part of variable.value.split(/\r?\n/)) if (part.trim() !== '') values.add(part);
    }
  }
  if (values.size === 0) return identity;
  const secrets = [...values].sort((a, b) => b.length - a.length);
  return (text) => {
    for (const secret of secrets) {
      if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    }
    return text;
  };
}
