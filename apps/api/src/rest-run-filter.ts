import { RunState, runStateFromJSON } from '@skein/proto';
import type { Request } from 'express';
import { invalidArgument } from './errors';
import { quote } from './limits';

/** The filter fields of ListRuns as REST query parameters (`state`, `createTimeAfter`, `createTimeBefore`). */
export interface RunListFilter {
  readonly state: RunState;
  readonly createTimeAfter: Date | undefined;
  readonly createTimeBefore: Date | undefined;
}

function single(query: Request['query'], jsonName: string, protoName: string): string | undefined {
  const value = query[jsonName] ?? query[protoName];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be given once');
  return value;
}

function time(query: Request['query'], jsonName: string, protoName: string): Date | undefined {
  const value = single(query, jsonName, protoName);
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(parsed.getTime())) throw invalidArgument(protoName, `must be an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
  return parsed;
}

/** `?state=RUN_STATE_FAILED` (or `failed`) `&createTimeAfter=2026-01-01T00:00:00Z&createTimeBefore=...`. */
export function runListFilterOf(query: Request['query']): RunListFilter {
  const stateText = single(query, 'state', 'state');
  let state = RunState.RUN_STATE_UNSPECIFIED;
  if (stateText !== undefined) {
    const upper = stateText.toUpperCase();
    state = runStateFromJSON(upper.startsWith('RUN_STATE_') ? upper : `RUN_STATE_${upper}`);
    if (state === RunState.UNRECOGNIZED || state === RunState.RUN_STATE_UNSPECIFIED) {
      throw invalidArgument('state', `unknown run state ${quote(stateText)}: one of queued, running, succeeded, failed, cancelled`);
    }
  }
  return {
    state,
    createTimeAfter: time(query, 'createTimeAfter', 'create_time_after'),
    createTimeBefore: time(query, 'createTimeBefore', 'create_time_before'),
  };
}
