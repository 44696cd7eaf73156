/**
 * Port: the numbers and alarm states the controller observes. The use case asks for whole
 * batches (every query of a tick at once), so an adapter can share calls between services.
 */
import type { MetricQuery } from '../core/config.js';
import type { AlarmState, EpochMs } from '../core/types.js';

/** A metric query with its region resolved (the config defaults it to the endpoint's region). */
export type ResolvedMetricQuery = MetricQuery & { readonly region: string };

export interface MetricRequest {
  /** Caller's key for the result; unique within one `fetchMetrics` call. */
  readonly key: string;
  readonly query: ResolvedMetricQuery;
  /**
   * For a percentile: also the percentile rank at this value, in the metric's unit (CloudWatch's
   * `PR(:value)`, the percent of samples at or below it), so the engine can count the samples
   * past a signal's trip.
   */
  readonly rankAt?: number;
  /**
   * Ask the SampleCount of the same metric too, for a percentile that needs enough samples to
   * mean anything, or a per-request share judged on its count. GetMetricData bills every query: a
   * percentile whose signal needs a single sample asks for none. @default true for a percentile statistic
   */
  readonly sampleCount?: boolean;
}

export interface MetricWindow {
  /** Inclusive start of the window asked for. */
  readonly startTime: EpochMs;
  /** Exclusive end; every period ending at or before it is complete. */
  readonly endTime: EpochMs;
}

export interface Datapoint {
  /** Start of the period the value describes. */
  readonly timestamp: EpochMs;
  readonly value: number;
}

export interface MetricSeries {
  /** Datapoints in the window, oldest first. */
  readonly values: readonly Datapoint[];
  /** For percentile statistics, and requests that asked it: SampleCount of the same metric and periods, oldest first. */
  readonly sampleCounts?: readonly Datapoint[];
  /** For a request with `rankAt`: the percent of samples at or below it, per period, oldest first. */
  readonly ranks?: readonly Datapoint[];
  /** False when the source said its answer was partial or failed for this query. */
  readonly complete: boolean;
  /** Why the series is incomplete, when the source said (an API error, a CloudWatch message). */
  readonly error?: string;
}

export interface AlarmRef {
  /** Caller's key for the result. */
  readonly key: string;
  readonly name?: string;
  readonly arn?: string;
  readonly region: string;
}

export interface MetricsSource {
  /** Every request's series by key; a key with no data has an empty series. */
  fetchMetrics(requests: readonly MetricRequest[], window: MetricWindow): Promise<ReadonlyMap<string, MetricSeries>>;
  /** Current alarm states by key; an alarm that does not exist is missing from the map. */
  fetchAlarmStates(alarms: readonly AlarmRef[]): Promise<ReadonlyMap<string, AlarmState>>;
}

/** Identity of a metric series: the same metric, statistic, period, region and account. */
export function metricIdentity(query: ResolvedMetricQuery): string {
  const dimensions = Object.entries(query.dimensions)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [query.region, query.accountRoleArn ?? '', query.namespace, query.metricName, dimensions, query.statistic, query.periodSeconds].join('|');
}
