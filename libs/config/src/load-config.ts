import type { ZodType, ZodTypeDef } from 'zod';
import { ConfigError } from './errors';

/**
 * Parses configuration from an environment-like record with a zod schema, once, at start.
 * Every problem is reported together, naming the variable, so a service fails fast with a message
 * an operator can act on.
 */
export function loadConfig<T>(schema: ZodType<T, ZodTypeDef, unknown>, env: Readonly<Record<string, string | undefined>>, service: string): T {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `  ${name}: ${issue.message}`;
  });
  throw new ConfigError(`${service}: invalid configuration\n${problems.join('\n')}`);
}
