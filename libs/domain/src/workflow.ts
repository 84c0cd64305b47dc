/**
 * A workflow as Skein holds it after parsing and validation: every default applied, every
 * duration in milliseconds, env as a list. This is what is stored as a workflow version's spec
 * and what the scheduler reads; the file format is in docs/workflows.md.
 */

import type { KubernetesSpec } from './kubernetes-spec';
import type { TriggerRule } from './trigger-rules';

export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'object';

export interface ParamSpec {
  readonly type: ParamType;
  /** The allowed values of an `enum` param (strings). */
  readonly values?: readonly string[];
  /** Absent: the param is required at trigger time. */
  readonly default?: string | number | boolean | { readonly [key: string]: unknown };
  readonly description?: string;
}

export interface EnvVar {
  readonly name: string;
  readonly value: string;
  /** The value is a secret: it is never logged. */
  readonly secret: boolean;
}

export interface TaskSpec {
  readonly name: string;
  readonly description?: string;
  /** Container image (kubernetes runtime); ignored by the local runtime. */
  readonly image?: string;
  /** Program and its leading arguments. */
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
  /** Names of upstream tasks, in file order. */
  readonly dependsOn: readonly string[];
  /** Extra attempts after the first fails. */
  readonly retries: number;
  /** Wait before a retry, in ms. */
  readonly retryDelayMs: number;
  /** `exponential`: the delay doubles with each failure (up to `maxRetryDelayMs`). Absent: fixed. */
  readonly retryBackoff?: 'exponential';
  /** Cap of an exponential delay, in ms. @default 3600000 */
  readonly maxRetryDelayMs?: number;
  /** Spread retries: each delay is a random point in its upper half. */
  readonly retryJitter?: true;
  /** Kill the attempt after this long; 0 = no limit. */
  readonly timeoutMs: number;
  /**
   * Run the task only when this holds, rendered with the run's templates (`{{ params.x }}`,
   * `{{ tasks.T.outputs.k }} > 0`); false: the task is SKIPPED. See conditions.ts.
   */
  readonly when?: string;
  /** An attempt no executor has started this long after it was dispatched fails with QUEUED_TIMEOUT; absent: the scheduler's default. */
  readonly queuedTimeoutMs?: number;
  /** The executor queue (fleet) that runs this task. @default "default" */
  readonly queue: string;
  /** The pool whose slots the task holds while its attempt is queued or running; absent: none. */
  readonly pool?: string;
  /** Slots of `pool` the task takes (set with `pool`). @default 1 */
  readonly poolSlots?: number;
  /** Higher starts first among tasks waiting for a slot (and among tasks ready at once); absent: 0. */
  readonly priority?: number;
  /** When the task may run, given its upstream tasks' states. @default "allSuccess" */
  readonly triggerRule: TriggerRule;
  /** Settings of the task's Job on the kubernetes runtime (defaults, template and task merged); absent when none. */
  readonly kubernetes?: KubernetesSpec;
}

export interface WorkflowSpec {
  readonly apiVersion: 'skein.dev/v1';
  readonly kind: 'Workflow';
  readonly metadata: {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly description?: string;
    /** Cron expression or preset; absent = manual only. */
    readonly schedule?: string;
    /** IANA time zone of the schedule. @default "UTC" */
    readonly timezone: string;
    /** RFC 3339 timestamp in UTC (`2026-01-01T00:00:00.000Z`): no scheduled run before it. */
    readonly startDate?: string;
    /** No scheduled run for an interval starting at or after this. */
    readonly endDate?: string;
    readonly catchup: boolean;
    readonly maxActiveRuns?: number;
    /** At most this many tasks of the workflow queued or running at once, across all its runs. */
    readonly maxActiveTasks?: number;
    /** A run still going this long after it started is FAILED (RUN_TIMEOUT); absent: no limit. */
    readonly timeoutMs?: number;
    /** Days the logs of this workflow's attempts are kept; 0 keeps them forever; absent: the log-collector's default. */
    readonly logRetentionDays?: number;
    readonly params: Readonly<Record<string, ParamSpec>>;
    readonly tasks: readonly TaskSpec[];
  };
}
