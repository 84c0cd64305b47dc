export { Scheduler, type SchedulerOptions } from './scheduler';
export { RunApplier, RunNotEndedError, type CreateRunInput, type AttemptTraceContext } from './run-applier';
export { compileRunGraph, RunGraphCache, type RunGraph } from './run-graph';
export { addSchedulerService, schedulerGrpcImplementation, createSchedulerClient, type SchedulerClientOptions } from './internal-grpc';
export { CronScheduler, type CronSchedulerOptions } from './cron-scheduler';
