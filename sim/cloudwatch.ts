/**
 * CloudWatch as a controller sees it. Each region's servers report every minute; the report
 * reaches CloudWatch in parts (one per reporting agent or instance group), each part after its own
 * publication delay — typically one to two and a half minutes after the minute ends, jittered — so
 * a minute read early is partial: fewer samples, and revised as the rest arrives. A datapoint
 * lost (a metric outage, random loss) never arrives and is missing, not zero. Percentiles are
 * over every request of the period (CloudWatch keeps raw values), with their SampleCount; alarms
 * are evaluated on this same view every minute, like CloudWatch alarms (M of the last N periods
 * breaching; INSUFFICIENT_DATA when none of them has data).
 */
import { percentileOf } from '../functions/core/config.js';
import type { AlarmObservation, AlarmState, SignalObservation } from '../functions/core/types.js';
import { LatencyHistogram } from './latencyHistogram.js';
import { Rng, streamSeed, hashString } from './random.js';
// A high-resolution datapoint's seconds are also how often CloudWatch evaluates a high-resolution alarm.
import { HIGH_RESOLUTION_SECONDS, type HighResolutionReport } from './region.js';
import type { SignalBinding } from './scenario.js';
import type { AlarmModel } from './scenarioSchema.js';

/** One region's one-minute datapoint, as it is once every part has arrived. */
export interface Datapoint {
  readonly requests: number;
  /** Requests answered with an error or refused. Requests clients gave up on in a queue are not errors to the server. */
  readonly serverErrors: number;
  /** First tokens in the minute: the count behind the latency statistics (CloudWatch SampleCount). */
  readonly sampleCount: number;
  /** Latency percentiles in ms, aligned with CloudWatchSim.percentiles; NaN without samples. */
  readonly latencyPercentiles: Float64Array;
  readonly latencyAverage: number;
  readonly latencyMaximum: number;
  readonly latencyMinimum: number;
  /** Percent (NVML/SageMaker GPUUtilization per GPU); null when the region is down (its instances report nothing). */
  readonly gpuUtilization: number | null;
  /** Requests waiting per replica (`num_requests_waiting`). */
  readonly queueDepth: number | null;
  /** Percent of the KV cache in use. */
  readonly kvCacheUsage: number | null;
}

/** A high-resolution (10 s) datapoint as CloudWatch keeps it: the region's report of those 10 s, raw. */
export type HighResolutionPoint = Readonly<HighResolutionReport>;

/** How late a datapoint (or a part of one) arrives after its period ends: floor + lognormal(median, sigma). */
export interface ArrivalDelay {
  readonly floorSeconds: number;
  readonly medianSeconds: number;
  readonly sigma: number;
}

/** High-resolution datapoints kept (about 20 minutes): more than any alarm's evaluation range reaches back. */
const HIGH_RESOLUTION_KEPT = 128;
const HIGH_RESOLUTION_DELAY_KEY = hashString('cloudwatch-high-resolution-delay');
/** How late a high-resolution datapoint arrives, whole, after its 10 s end, by default. */
const DEFAULT_HIGH_RESOLUTION_DELAY: ArrivalDelay = { floorSeconds: 2, medianSeconds: 5, sigma: 0.5 };

/** How late a minute's datapoint arrives, per part. */
export interface PublicationDelay extends ArrivalDelay {
  /** Parts a minute's report arrives in. */
  readonly parts: number;
}

/** When a datapoint (or part) of a period ending at `end` arrives: one draw of `rng`. */
function arrivalAfter(end: number, d: ArrivalDelay, rng: Rng): number {
  return end + d.floorSeconds + d.medianSeconds * Math.exp(d.sigma * rng.normal());
}

const HOST_MEASURES = new Set<string>(['gpuUtilization', 'queueDepth', 'kvCacheUsage']);
/** Minutes whose latency histograms are kept, for percentiles over periods longer than a minute. */
const HISTOGRAM_MINUTES = 32;
const DELAY_KEY = hashString('cloudwatch-delay');
/** Periods beyond N an alarm's evaluation range reaches back for datapoints that arrived late. */
const EVALUATION_RANGE_EXTRA = 2;

export const DEFAULT_ALARM: AlarmModel = {
  metric: 'errorRate',
  threshold: 0.05,
  datapointsToAlarm: 2,
  evaluationPeriods: 3,
  periodSeconds: 60,
  treatMissingData: 'missing',
  minRequests: 0,
};

interface Stored {
  readonly point: Datapoint;
  /** Seconds from the scenario start at which each part arrives, ascending. */
  readonly arrivals: Float64Array;
}

export class CloudWatchSim {
  /** By region, by minute: undefined = never arrives. */
  private readonly points: (Stored | undefined)[][];
  private readonly histograms: (LatencyHistogram | undefined)[][];
  private readonly histogramMinute: Int32Array[];
  private readonly rng = new Rng(0);
  private readonly alarms = new Map<string, { state: AlarmState; evaluated: number }>();
  /** By region: 10-second datapoints by their index (seconds 10b to 10b + 10), with when each arrives. */
  private readonly highResolution: Map<number, { point: HighResolutionPoint; arrival: number }>[];
  /** A high-resolution alarm period's value once every datapoint of it has arrived (it no longer changes), by region, metric, period and index. */
  private readonly settledValues = new Map<string, number | null>();
  /** Where a period's datapoints are merged: one histogram, cleared each time, not one allocated per evaluation. */
  private readonly merged = new LatencyHistogram();

  constructor(
    regions: number,
    /** The latency percentiles every datapoint carries. */
    readonly percentiles: readonly number[],
    private readonly delay: PublicationDelay,
    private readonly seed: number,
    private readonly highResolutionDelay: ArrivalDelay = DEFAULT_HIGH_RESOLUTION_DELAY,
  ) {
    this.highResolution = Array.from({ length: regions }, () => new Map());
    this.points = Array.from({ length: regions }, () => []);
    this.histograms = Array.from({ length: regions }, () => new Array(HISTOGRAM_MINUTES));
    this.histogramMinute = Array.from({ length: regions }, () => new Int32Array(HISTOGRAM_MINUTES).fill(-1));
  }

  /** Called by the world when minute m of region r is over: its parts start on their way (null: lost). */
  publish(r: number, m: number, point: Datapoint | null, histogram: LatencyHistogram | null): void {
    if (point === null) return;
    const d = this.delay;
    this.rng.reseed(streamSeed(this.seed, DELAY_KEY, r, m));
    const end = (m + 1) * 60;
    const arrivals = new Float64Array(d.parts);
    for (let k = 0; k < d.parts; k++) arrivals[k] = arrivalAfter(end, d, this.rng);
    arrivals.sort();
    this.points[r]![m] = { point, arrivals };
    if (histogram) {
      this.histograms[r]![m % HISTOGRAM_MINUTES] = histogram;
      this.histogramMinute[r]![m % HISTOGRAM_MINUTES] = m;
    }
  }

  /** Called by the world when the 10 s of bin b of region r are over (null: lost): the datapoint starts on its way. */
  publishHighResolution(r: number, b: number, point: HighResolutionPoint | null): void {
    if (point === null) return;
    this.rng.reseed(streamSeed(this.seed, HIGH_RESOLUTION_DELAY_KEY, r, b));
    const arrival = arrivalAfter((b + 1) * HIGH_RESOLUTION_SECONDS, this.highResolutionDelay, this.rng);
    const kept = this.highResolution[r]!;
    kept.set(b, { point, arrival });
    kept.delete(b - HIGH_RESOLUTION_KEPT);
  }

  /** Share of minute m's report that has arrived by time t (0 when none, or never). */
  arrivedShare(r: number, m: number, t: number): number {
    const stored = m >= 0 ? this.points[r]![m] : undefined;
    if (!stored) return 0;
    let arrived = 0;
    for (const at of stored.arrivals) if (at <= t) arrived++;
    return arrived / stored.arrivals.length;
  }

  /** The newest minute with any data visible at time t, or -1. */
  newestVisibleMinute(r: number, t: number): number {
    for (let m = Math.floor(t / 60) - 1; m >= 0 && m >= Math.floor(t / 60) - 15; m--) if (this.arrivedShare(r, m, t) > 0) return m;
    return -1;
  }

  /** The last whole minute that ended at least `delaySeconds` before t: what a reader that waits that long asks for. */
  static judgedMinute(t: number, delaySeconds: number): number {
    return Math.floor((t - delaySeconds) / 60) - 1;
  }

  /** Minute m's datapoint as visible at time t: counts scaled to the parts that arrived; null before any. */
  visible(r: number, m: number, t: number): Datapoint | null {
    const share = this.arrivedShare(r, m, t);
    if (share <= 0) return null;
    const point = this.points[r]![m]!.point;
    if (share >= 1) return point;
    return { ...point, requests: point.requests * share, serverErrors: point.serverErrors * share, sampleCount: Math.round(point.sampleCount * share) };
  }

  /** The complete datapoint (for the report and the truth), whether or not a reader could see it yet. */
  final(r: number, m: number): Datapoint | null {
    return m < 0 ? null : (this.points[r]![m]?.point ?? null);
  }

  /** A latency percentile (ms) of a datapoint, for any percentile CloudWatch was asked for. */
  latencyPercentile(point: Datapoint, p: number): number {
    const i = this.percentiles.indexOf(p);
    return i >= 0 ? point.latencyPercentiles[i]! : Number.NaN;
  }

  /**
   * What GetMetricData returns at time t for a signal over minutes first..last (one period): the
   * raw value in the metric's own unit and its sample count; undefined when nothing has arrived.
   */
  periodDatapoint(binding: SignalBinding, r: number, first: number, last: number, t: number): { value: number; sampleCount: number } | undefined {
    const value = this.valueOver(binding, r, first, last, t);
    return value === null ? undefined : { value: value.value / binding.signal.scale, sampleCount: value.samples };
  }

  /** What a controller reading `delaySeconds` after a period ends gets for a metric signal at time t. */
  observe(binding: SignalBinding, r: number, t: number, startMs: number, delaySeconds: number): SignalObservation | undefined {
    const periodMinutes = Math.max(1, Math.round(binding.signal.metric.periodSeconds / 60));
    const newest = CloudWatchSim.judgedMinute(t, delaySeconds);
    const last = Math.floor((newest + 1) / periodMinutes) * periodMinutes - 1;
    if (last < 0) return undefined;
    const first = last - periodMinutes + 1;
    const point = this.periodDatapoint(binding, r, first, last, t);
    if (point === undefined) return undefined;
    const rank = this.rankAtTrip(binding, r, first, last, t);
    const worse = rank === undefined ? undefined : Math.round((point.sampleCount * (binding.signal.direction === 'higher-is-worse' ? 100 - rank : rank)) / 100);
    return {
      value: point.value,
      sampleCount: point.sampleCount,
      ...(worse === undefined ? {} : { worseThanTrip: worse }),
      periodStart: startMs + first * 60_000,
    };
  }

  /**
   * For a latency percentile, `PR(:trip)` over the period's visible requests: the percent at or
   * below the signal's trip. Undefined for other signals, without samples, or once a minute's
   * histogram is no longer kept.
   */
  rankAtTrip(binding: SignalBinding, r: number, first: number, last: number, t: number): number | undefined {
    const signal = binding.signal;
    if (binding.measure !== 'latency' || percentileOf(signal.metric.statistic) === undefined) return undefined;
    const tripMs = signal.trip / binding.toUnit;
    let below = 0;
    let samples = 0;
    for (let m = first; m <= last; m++) {
      const point = this.visible(r, m, t);
      if (point === null || point.sampleCount <= 0) continue;
      if (this.histogramMinute[r]![m % HISTOGRAM_MINUTES] !== m) return undefined;
      below += point.sampleCount * this.histograms[r]![m % HISTOGRAM_MINUTES]!.shareAtOrBelow(tripMs);
      samples += point.sampleCount;
    }
    return samples > 0 ? (100 * below) / samples : undefined;
  }

  /** A signal's value over minutes first..last as visible at t (in the signal's unit before scale), null when missing. */
  private valueOver(binding: SignalBinding, r: number, first: number, last: number, t: number): { value: number; samples: number } | null {
    if (binding.measure === 'latency') return this.latencyOver(binding, r, first, last, t);
    let sum = 0;
    let reports = 0;
    let samples = 0;
    for (let m = first; m <= last; m++) {
      const point = this.visible(r, m, t);
      if (point === null) continue;
      const v = this.hostOrCountValue(binding, point);
      if (v === null) continue;
      sum += v;
      reports++;
      // Host metrics (GPU, queue, KV cache) count reports, six a minute; counts count requests.
      samples += HOST_MEASURES.has(binding.measure) ? 6 : binding.measure === 'errorRate' ? answered(point) : point.requests;
    }
    if (reports === 0) return null;
    const counted = binding.measure === 'errorCount' || binding.measure === 'requestCount';
    return { value: (counted ? sum : sum / reports) * binding.toUnit, samples: Math.round(samples) };
  }

  /** Latency statistics over every visible request of the period (merged histograms where kept). */
  private latencyOver(binding: SignalBinding, r: number, first: number, last: number, t: number): { value: number; samples: number } | null {
    const statistic = binding.signal.metric.statistic;
    const p = percentileOf(statistic);
    if (first === last) {
      const point = this.visible(r, first, t);
      if (point === null || point.sampleCount <= 0) return null;
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
      return Number.isFinite(v) ? { value: v * binding.toUnit, samples: point.sampleCount } : null;
    }
    const merged = new LatencyHistogram();
    let samples = 0;
    for (let m = first; m <= last; m++) {
      const point = this.visible(r, m, t);
      if (point === null || point.sampleCount <= 0) continue;
      samples += point.sampleCount;
      const histogram = this.histogramMinute[r]![m % HISTOGRAM_MINUTES] === m ? this.histograms[r]![m % HISTOGRAM_MINUTES] : undefined;
      if (histogram) {
        const share = point.sampleCount / Math.max(1, histogram.count);
        for (let b = 0; b < merged.counts.length; b++) merged.counts[b]! += histogram.counts[b]! * share;
        merged.count += histogram.count * share;
        merged.sum += histogram.sum * share;
        merged.max = Math.max(merged.max, histogram.max);
        merged.min = Math.min(merged.min, histogram.min);
      }
    }
    if (samples === 0 || merged.count === 0) return null;
    const v =
      p !== undefined
        ? merged.percentile(p)
        : statistic === 'Average'
          ? merged.mean
          : statistic === 'Maximum'
            ? merged.max
            : statistic === 'Minimum'
              ? merged.min
              : samples;
    return Number.isFinite(v) ? { value: v * binding.toUnit, samples } : null;
  }

  private hostOrCountValue(binding: SignalBinding, point: Datapoint): number | null {
    switch (binding.measure) {
      case 'gpuUtilization':
        return point.gpuUtilization;
      case 'queueDepth':
        return point.queueDepth;
      case 'kvCacheUsage':
        return point.kvCacheUsage;
      case 'errorRate':
        return answered(point) > 0 ? point.serverErrors / answered(point) : null;
      case 'errorCount':
        return point.requests > 0 ? point.serverErrors : null;
      case 'requestCount':
        return point.requests;
      case 'latency':
        return null;
    }
  }

  /** An alarm's value for one datapoint, null when missing. */
  private alarmValue(model: AlarmModel, point: Datapoint | null): number | null {
    if (point === null) return null;
    switch (model.metric) {
      case 'errorRate':
        return errorShare(model, point.requests, point.serverErrors);
      case 'p99LatencyMs':
        return point.sampleCount > 0 ? this.latencyPercentile(point, 99) : null;
      case 'p95LatencyMs':
        return point.sampleCount > 0 ? this.latencyPercentile(point, 95) : null;
      case 'averageLatencyMs':
        return point.sampleCount > 0 ? point.latencyAverage : null;
      case 'gpuUtilization':
        return point.gpuUtilization;
    }
  }

  /**
   * The alarm's state at time t, as CloudWatch has evaluated it (once a minute, on what had
   * arrived by then). Alarms are kept per model and region, so every reader sees the same state.
   */
  alarmState(model: AlarmModel, r: number, t: number): AlarmState {
    const key = `${r}|${model.metric}|${model.threshold}|${model.datapointsToAlarm}|${model.evaluationPeriods}|${model.periodSeconds}|${model.treatMissingData}`;
    let alarm = this.alarms.get(key);
    if (!alarm) {
      alarm = { state: 'INSUFFICIENT_DATA', evaluated: -1 };
      this.alarms.set(key, alarm);
    }
    // A standard alarm is evaluated once a minute; a high-resolution one (a period under a minute) every 10 s.
    const every = model.periodSeconds < 60 ? HIGH_RESOLUTION_SECONDS : 60;
    for (let e = alarm.evaluated + 1; e <= Math.floor(t / every); e++) {
      alarm.state = this.evaluateAlarm(model, r, e * every, alarm.state);
      alarm.evaluated = e;
    }
    return alarm.state;
  }

  /**
   * One evaluation at time t, as CloudWatch does it: it retrieves an evaluation range longer than
   * N periods; with at least N datapoints there, it judges the most recent N (ALARM when M of them
   * breach). With fewer, treatMissingData = missing keeps its state (missing data is not
   * considered), or with none, INSUFFICIENT_DATA; notBreaching fills the missing periods in as
   * good and judges them with every datapoint in the range. Minutes still partial count with what
   * arrived.
   */
  private evaluateAlarm(model: AlarmModel, r: number, t: number, previous: AlarmState): AlarmState {
    const newest = Math.floor(t / model.periodSeconds) - 1;
    const values: number[] = [];
    for (let k = newest; k >= 0 && k > newest - model.evaluationPeriods - EVALUATION_RANGE_EXTRA && values.length < model.evaluationPeriods; k--) {
      const v = model.periodSeconds < 60 ? this.highResolutionValue(model, r, k, t) : this.alarmValue(model, this.visible(r, k, t));
      if (v !== null && Number.isFinite(v)) values.push(v);
    }
    // notBreaching: the periods short of N are filled in as good; every real one in the range counts.
    if (model.treatMissingData === 'notBreaching') return values.filter((v) => v > model.threshold).length >= model.datapointsToAlarm ? 'ALARM' : 'OK';
    if (values.length === 0) return 'INSUFFICIENT_DATA';
    if (values.length < model.evaluationPeriods)
      return previous === 'INSUFFICIENT_DATA' ? (values.some((v) => v > model.threshold) ? 'INSUFFICIENT_DATA' : 'OK') : previous;
    return values.filter((v) => v > model.threshold).length >= model.datapointsToAlarm ? 'ALARM' : 'OK';
  }

  /**
   * An alarm's value over period k of its (sub-minute) period: the 10-second datapoints in it that
   * arrived by t, merged; null with none. Kept once all of them have arrived: an alarm evaluated
   * every 10 s reads each period several times.
   */
  private highResolutionValue(model: AlarmModel, r: number, k: number, t: number): number | null {
    const key = `${r}|${model.metric}|${model.periodSeconds}|${model.minRequests}|${k}`;
    const settled = this.settledValues.get(key);
    if (settled !== undefined) return settled;
    const per = model.periodSeconds / HIGH_RESOLUTION_SECONDS;
    const ttft = this.merged;
    ttft.clear();
    let requests = 0;
    let serverErrors = 0;
    let arrived = 0;
    for (let b = k * per; b < (k + 1) * per; b++) {
      const kept = this.highResolution[r]!.get(b);
      if (!kept || kept.arrival > t) continue;
      arrived++;
      requests += kept.point.requests;
      serverErrors += kept.point.serverErrors;
      ttft.addAll(kept.point.ttft);
    }
    const value = arrived === 0 ? null : highResolutionMetric(model, requests, serverErrors, ttft);
    if (arrived === per) this.settledValues.set(key, value);
    return value;
  }

  observeAlarm(model: AlarmModel, r: number, t: number): AlarmObservation {
    return { alarmState: this.alarmState(model, r, t) };
  }
}

/**
 * The requests a server logged an outcome for in the minute, as a per-request error metric (1
 * failed, 0 not) counts them: failures as they are answered, successes at their first token. A
 * request that arrived late in a minute and answered in the next counts in the next, with its latency.
 */
function answered(point: Datapoint): number {
  return point.sampleCount + point.serverErrors;
}

/** An error alarm's share: null with no requests; 0 with fewer than its `minRequests` (its metric math's guard). */
function errorShare(model: AlarmModel, requests: number, serverErrors: number): number | null {
  if (requests === 0) return null;
  return requests < model.minRequests ? 0 : serverErrors / requests;
}

/** An alarm's metric over merged high-resolution datapoints; null where it has nothing to count. */
function highResolutionMetric(model: AlarmModel, requests: number, serverErrors: number, ttft: LatencyHistogram): number | null {
  switch (model.metric) {
    case 'errorRate':
      return errorShare(model, requests, serverErrors);
    case 'p99LatencyMs':
      return ttft.count > 0 ? ttft.percentile(99) : null;
    case 'p95LatencyMs':
      return ttft.count > 0 ? ttft.percentile(95) : null;
    case 'averageLatencyMs':
      return ttft.count > 0 ? ttft.sum / ttft.count : null;
    case 'gpuUtilization':
      return null;
  }
}
