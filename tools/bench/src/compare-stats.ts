import { quantile } from './measure';

/** A figure over the measured runs: median and interquartile range, with every run's value. */
export interface Stat {
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
  readonly values: readonly number[];
}

const round = (x: number) => Number(x.toFixed(3));

export function stat(values: readonly number[]): Stat {
  return { median: round(quantile(values, 0.5)), q1: round(quantile(values, 0.25)), q3: round(quantile(values, 0.75)), values: values.map(round) };
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
