/**
 * CloudWatch as a controller sees it: one datapoint per region per one-minute period, readable
 * only once the period is complete and the reporting delay has passed; datapoints that never
 * arrive (a metric outage, random loss) are missing, not zero; percentiles come with their
 * SampleCount; alarms are evaluated like CloudWatch alarms (M of the last N periods breaching,
 * INSUFFICIENT_DATA when the periods hold no data at all).
 */
import type { AlarmObservation, AlarmState, SignalObservation } from '../functions/core/types.js';
import type { AlarmModel } from './scenarioSchema.js';
import type { SignalBinding } from './scenario.js';
import { percentileOf } from '../functions/core/config.js';

/** One region's one-minute datapoint, as published. */
export interface Datapoint {
  readonly requests: number;
  /**
   * Requests the region answered with an error (5xx, connection refused). Requests clients gave
   * up on while they queued are not errors to the region: it shows them as latency, if at all.
   */
  readonly serverErrors: number;
  /** Successful requests behind the latency statistics (CloudWatch SampleCount). */
  readonly sampleCount: number;
  /** Latency percentiles in ms, aligned with CloudWatchSim.percentiles; NaN without samples. */
  readonly latencyPercentiles: Float64Array;
  readonly latencyAverage: number;
  readonly latencyMaximum: number;
  readonly latencyMinimum: number;
  /** Percent busy; null when the region is down (its instances report nothing). */
  readonly gpuUtilization: number | null;
  readonly queueDepth: number | null;
  readonly kvCacheUsage: number | null;
}

const HOST_MEASURES = new Set<string>(['gpuUtilization', 'queueDepth', 'kvCacheUsage']);

export const DEFAULT_ALARM: AlarmModel = { metric: 'errorRate', threshold: 0.05, datapointsToAlarm: 2, evaluationPeriods: 3 };

export class CloudWatchSim {
  /** By region, by minute: null = missing (never arrived). */
  private readonly points: (Datapoint | null)[][];

  constructor(
    regions: number,
    /** The latency percentiles every datapoint carries. */
    readonly percentiles: readonly number[],
    private readonly reportingDelaySeconds: number,
  ) {
    this.points = Array.from({ length: regions }, () => []);
  }

  /** Called by the world when minute m of region r is complete. */
  publish(r: number, m: number, point: Datapoint | null): void {
    this.points[r]![m] = point;
  }

  /** The newest complete minute whose datapoints can be read at time t (seconds), or -1. */
  newestReadableMinute(t: number): number {
    return Math.floor((t - this.reportingDelaySeconds) / 60) - 1;
  }

  datapoint(r: number, m: number): Datapoint | null {
    return m < 0 ? null : (this.points[r]![m] ?? null);
  }

  /** A latency percentile (ms) of a datapoint, for any percentile CloudWatch was asked for. */
  latencyPercentile(point: Datapoint, p: number): number {
    const i = this.percentiles.indexOf(p);
    return i >= 0 ? point.latencyPercentiles[i]! : NaN;
  }

  /** What GetMetricData returns for a metric signal at time t: the newest readable period. */
  observe(binding: SignalBinding, r: number, t: number, startMs: number): SignalObservation | undefined {
    const periodMinutes = Math.max(1, Math.round(binding.signal.metric.periodSeconds / 60));
    // A longer period is readable once its last minute is; it starts on a period boundary.
    const newest = this.newestReadableMinute(t);
    const last = Math.floor((newest + 1) / periodMinutes) * periodMinutes - 1;
    if (last < 0) return undefined;
    const first = last - periodMinutes + 1;
    const value = this.valueOver(binding, r, first, last);
    if (value === null) return undefined;
    return { value: value.value / binding.signal.scale, sampleCount: value.samples, periodStart: startMs + first * 60_000 };
  }

  /**
   * A signal's datapoint for the period of minutes first..last as CloudWatch would store it: the
   * raw value (in the metric's own unit) and its sample count; undefined when missing.
   */
  periodDatapoint(binding: SignalBinding, r: number, first: number, last: number): { value: number; sampleCount: number } | undefined {
    const value = this.valueOver(binding, r, first, last);
    return value === null ? undefined : { value: value.value / binding.signal.scale, sampleCount: value.samples };
  }

  /** The display value of a signal over minutes first..last (sample-weighted), null when missing. */
  private valueOver(binding: SignalBinding, r: number, first: number, last: number): { value: number; samples: number } | null {
    let weighted = 0;
    let weight = 0;
    let samples = 0;
    let any = false;
    for (let m = first; m <= last; m++) {
      const point = this.datapoint(r, m);
      if (point === null) continue;
      const v = this.displayValue(binding, point);
      if (v === null) continue;
      any = true;
      const w = binding.measure === 'latency' ? point.sampleCount : 1;
      weighted += v * (w || 1);
      weight += w || 1;
      // Latency statistics count requests; host metrics (GPU, queue, KV cache) count reports,
      // one per 10 s per host whether or not requests arrive; error and request counts count requests.
      samples += binding.measure === 'latency' ? point.sampleCount : HOST_MEASURES.has(binding.measure) ? 6 : point.requests;
    }
    if (!any) return null;
    const value = binding.measure === 'errorCount' || binding.measure === 'requestCount' ? weighted : weighted / weight;
    return { value: value * binding.toUnit, samples: Math.round(samples) };
  }

  private displayValue(binding: SignalBinding, point: Datapoint): number | null {
    switch (binding.measure) {
      case 'latency': {
        if (point.sampleCount <= 0) return null; // no successful request: CloudWatch has no datapoint
        const statistic = binding.signal.metric.statistic;
        const p = percentileOf(statistic);
        const v =
          p !== undefined
            ? this.latencyPercentile(point, p)
            : statistic === 'Average'
              ? point.latencyAverage
              : statistic === 'Maximum'
                ? point.latencyMaximum
                : statistic === 'Minimum'
                  ? point.latencyMinimum
                  : point.sampleCount;
        return Number.isFinite(v) ? v : null;
      }
      case 'gpuUtilization':
        return point.gpuUtilization;
      case 'queueDepth':
        return point.queueDepth;
      case 'kvCacheUsage':
        return point.kvCacheUsage;
      case 'errorRate':
        return point.requests > 0 ? point.serverErrors / point.requests : null;
      case 'errorCount':
        return point.requests > 0 ? point.serverErrors : null;
      case 'requestCount':
        return point.requests;
    }
  }

  /** An alarm's value for one datapoint, null when missing. */
  private alarmValue(model: AlarmModel, point: Datapoint | null): number | null {
    if (point === null) return null;
    switch (model.metric) {
      case 'errorRate':
        return point.requests > 0 ? point.serverErrors / point.requests : null;
      case 'p99LatencyMs':
        return point.sampleCount > 0 ? this.latencyPercentile(point, 99) : null;
      case 'p95LatencyMs':
        return point.sampleCount > 0 ? this.latencyPercentile(point, 95) : null;
      case 'gpuUtilization':
        return point.gpuUtilization;
    }
  }

  /**
   * The alarm's state at time t, as CloudWatch evaluates it with treatMissingData = missing:
   * ALARM when at least M of the last N periods with data breach, INSUFFICIENT_DATA when none of
   * the last N periods has data, else OK.
   */
  alarmState(model: AlarmModel, r: number, t: number): AlarmState {
    const newest = this.newestReadableMinute(t);
    let present = 0;
    let breaching = 0;
    for (let m = newest - model.evaluationPeriods + 1; m <= newest; m++) {
      const v = this.alarmValue(model, this.datapoint(r, m));
      if (v === null || !Number.isFinite(v)) continue;
      present++;
      if (v > model.threshold) breaching++;
    }
    if (present === 0) return 'INSUFFICIENT_DATA';
    return breaching >= model.datapointsToAlarm ? 'ALARM' : 'OK';
  }

  observeAlarm(model: AlarmModel, r: number, t: number): AlarmObservation {
    return { alarmState: this.alarmState(model, r, t) };
  }
}
