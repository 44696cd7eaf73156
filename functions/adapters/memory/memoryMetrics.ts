/**
 * CloudWatch in memory: datapoints fed per metric and period, alarm states set from outside. The
 * simulator feeds it what its world model produced; tests feed it by hand. It answers the same
 * questions the CloudWatch adapter does, so the use cases cannot tell the difference.
 */
import { percentileOf, type MetricQuery, type ServiceConfig } from '../../core/config.js';
import type { AlarmState, EpochMs } from '../../core/types.js';
import { Steer53Error } from '../../core/errors.js';
import {
  metricIdentity,
  type AlarmRef,
  type Datapoint,
  type MetricRequest,
  type MetricSeries,
  type MetricWindow,
  type MetricsSource,
  type ResolvedMetricQuery,
} from '../../ports/metrics.js';

export { metricIdentity };

function alarmIdentity(ref: { name?: string; arn?: string; region: string }): string {
  if (ref.arn) {
    const match = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):\d{12}:alarm:(.+)$/.exec(ref.arn);
    if (match) return `${match[1]}|${match[2]}`;
  }
  return `${ref.region}|${ref.name ?? ''}`;
}

export interface FedObservation {
  readonly value: number;
  /** Samples behind a percentile; used for its SampleCount series. Omitted = enough samples. */
  readonly sampleCount?: number;
  /** A percentile's percentile ranks: value → percent of samples at or below it (`PR(:value)`). Omitted = not known. */
  readonly percentRanks?: ReadonlyMap<number, number>;
}

export class InMemoryMetrics implements MetricsSource {
  /** Per metric: period starts kept sorted (so a fetch finds its window by binary search) and values. */
  readonly #series = new Map<string, { readonly starts: EpochMs[]; readonly values: Map<EpochMs, FedObservation> }>();
  readonly #alarms = new Map<string, AlarmState>();
  readonly #incomplete = new Set<string>();
  #failures: Error[] = [];
  /** Calls made, for tests that check calls are shared. */
  metricCalls = 0;
  alarmCalls = 0;
  /** Every alarm asked for, in order, for tests. */
  readonly alarmReads: AlarmRef[] = [];
  /** The requests of the latest call, for tests (only the latest: a long simulation makes many). */
  lastRequests: readonly MetricRequest[] = [];

  /** Feeds one period's value of a metric. `periodStart` is the start of the period. */
  record(query: MetricQuery, periodStart: EpochMs, observation: FedObservation): void {
    const key = metricIdentity(query as ResolvedMetricQuery);
    let series = this.#series.get(key);
    if (!series) {
      series = { starts: [], values: new Map() };
      this.#series.set(key, series);
    }
    if (!series.values.has(periodStart)) {
      // Usually fed in time order: append; otherwise insert in place.
      const at = series.starts.length === 0 || series.starts.at(-1)! < periodStart ? series.starts.length : lowerBound(series.starts, periodStart);
      series.starts.splice(at, 0, periodStart);
    }
    series.values.set(periodStart, observation);
  }

  /**
   * Feeds one period's value of a named signal (or the load query, with `signal: 'load'`) of an
   * endpoint, looking the query up in the service config.
   */
  recordSignal(service: ServiceConfig, setIdentifier: string, signal: string, periodStart: EpochMs, observation: FedObservation): void {
    const endpoint = service.endpoints.find((e) => e.setIdentifier === setIdentifier);
    if (!endpoint) throw new Steer53Error(`service ${service.name} has no endpoint "${setIdentifier}"`);
    if (signal === 'load') {
      if (!endpoint.load) throw new Steer53Error(`endpoint ${setIdentifier} of ${service.name} has no load query`);
      this.record(endpoint.load, periodStart, observation);
      return;
    }
    const config = endpoint.signals.find((s) => s.name === signal);
    if (!config) throw new Steer53Error(`endpoint ${setIdentifier} of ${service.name} has no signal "${signal}"`);
    if (config.source !== 'metric') throw new Steer53Error(`signal "${signal}" of ${setIdentifier} is an alarm: use setAlarmState`);
    this.record(config.metric, periodStart, observation);
  }

  /** Sets an alarm's state, by name and region or by ARN. */
  setAlarmState(ref: { name?: string; arn?: string; region: string }, state: AlarmState): void {
    this.#alarms.set(alarmIdentity(ref), state);
  }

  /** Answers for this metric are reported as partial (CloudWatch's `PartialData`). */
  markIncomplete(query: MetricQuery): void {
    this.#incomplete.add(metricIdentity(query as ResolvedMetricQuery));
  }

  /** The next calls (metrics or alarms) throw these errors, one per call, in order. */
  failNextCalls(...errors: Error[]): void {
    this.#failures.push(...errors);
  }

  async fetchMetrics(requests: readonly MetricRequest[], window: MetricWindow): Promise<ReadonlyMap<string, MetricSeries>> {
    this.metricCalls += 1;
    this.lastRequests = [...requests];
    const failure = this.#failures.shift();
    if (failure) throw failure;
    const out = new Map<string, MetricSeries>();
    for (const request of requests) {
      const identity = metricIdentity(request.query);
      const series = this.#series.get(identity);
      const fed: [EpochMs, FedObservation][] = [];
      if (series) {
        // Only periods wholly inside the window: CloudWatch's newest period is still filling.
        for (let i = lowerBound(series.starts, window.startTime); i < series.starts.length; i += 1) {
          const start = series.starts[i]!;
          if (start + request.query.periodSeconds * 1000 > window.endTime) break;
          fed.push([start, series.values.get(start)!]);
        }
      }
      const values: Datapoint[] = fed.map(([timestamp, o]) => ({ timestamp, value: o.value }));
      // A percentile's SampleCount series exists once a sample count was fed; feeding none means
      // "enough samples", which keeps simple simulations simple.
      const percentile = percentileOf(request.query.statistic) !== undefined;
      const counted = fed.filter(([, o]) => o.sampleCount !== undefined).map(([timestamp, o]) => ({ timestamp, value: o.sampleCount! }));
      const sampleCounts: Datapoint[] | undefined = (percentile || request.sampleCount === true) && counted.length > 0 ? counted : undefined;
      const rankAt = request.rankAt;
      const ranked = rankAt === undefined || !percentile ? [] : fed.filter(([, o]) => o.percentRanks?.has(rankAt));
      const ranks: Datapoint[] | undefined =
        ranked.length > 0 ? ranked.map(([timestamp, o]) => ({ timestamp, value: o.percentRanks!.get(rankAt!)! })) : undefined;
      out.set(request.key, { values, ...(sampleCounts ? { sampleCounts } : {}), ...(ranks ? { ranks } : {}), complete: !this.#incomplete.has(identity) });
    }
    return out;
  }

  async fetchAlarmStates(alarms: readonly AlarmRef[]): Promise<ReadonlyMap<string, AlarmState>> {
    this.alarmCalls += 1;
    this.alarmReads.push(...alarms);
    const failure = this.#failures.shift();
    if (failure) throw failure;
    const out = new Map<string, AlarmState>();
    for (const alarm of alarms) {
      const state = this.#alarms.get(alarmIdentity(alarm));
      if (state) out.set(alarm.key, state);
    }
    return out;
  }
}

/** Index of the first element not below `value` in a sorted array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
