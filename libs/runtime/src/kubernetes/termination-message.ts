import { MAX_OUTPUTS_BYTES } from '../read-outputs';

/**
 * Parses the termination message (what the task wrote to `SKEIN_OUTPUT_PATH`) as the outputs JSON
 * object, with the same rules as the local runtime's `readOutputs`. Kubernetes keeps at most 4096
 * bytes of it, which is the real limit of outputs on this runtime.
 */
export function parseTerminationMessage(text: string | undefined): { outputs?: Record<string, unknown>; error?: string } {
  if (text === undefined || text.trim() === '') return {};
  if (Buffer.byteLength(text) > MAX_OUTPUTS_BYTES) return { error: `the outputs written to SKEIN_OUTPUT_PATH are over ${MAX_OUTPUTS_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `the outputs written to SKEIN_OUTPUT_PATH are not valid JSON (${(err as Error).message}): write one JSON object, e.g. {"rows": 3}; on Kubernetes at most 4096 bytes` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: 'the outputs written to SKEIN_OUTPUT_PATH must be a JSON object: wrap the value, e.g. {"value": ...}' };
  }
  return { outputs: value as Record<string, unknown> };
}
