/**
 * Observe: what the controller asks CloudWatch for one evaluation, and how the answers become the
 * engine's observations. Which period is judged is decided here, once, from the clock: the newest
 * period that has ended at least `metricDelaySeconds` ago (CloudWatch's newest minute is still
 * filling, and metrics arrive late). Anything missing, partial or stale is left out, so the engine
 * sees it as `unknown` and holds: missing data never counts as healthy.
 */
import type { ServiceConfig } from '../core/config.js';
import type { AlarmObservation, AlarmState, EndpointObservations, EpochMs, ServiceObservations, SignalObservation } from '../core/types.js';
import { canaryQueryOf } from '../core/canaryLatency.js';
import { percentileOf } from '../core/percentiles.js';
import type { AlarmRef, MetricRequest, MetricSeries, MetricsSource, MetricWindow } from '../ports/metrics.js';

export interface ObservationOptions {
  /** How long after a period ends its metrics are taken as complete. @default 60 */
  readonly metricDelaySeconds?: number;
}

/** An alarm state known from the event that triggered the evaluation, fresher than DescribeAlarms. */
export interface KnownAlarmState {
  readonly service: string;
  readonly endpoint: string;
  readonly signal: string;
  readonly state: AlarmState;
}

export interface ServiceObservationResult {
  readonly observations: ServiceObservations;
  /** Signals left out, with why (API errors, partial data), for the log. */
  readonly gaps: readonly string[];
}

const LOAD_SIGNAL = '#load';
/** The rollout latency signal's metric at the canary's statistic (core/canaryLatency.ts). */
const CANARY_SIGNAL = '#canary';

/**
 * Periods of the load metric read for each evaluation. The judged period is often still arriving
 * (CloudWatch publishes a minute one to two and a half minutes after it ends, in parts), so its
 * request count is low; the periods before it are whole. The busiest of the last few, as
 * CloudWatch has them now, is the load: it lags a rising load by at most a couple of periods and
 * never reads a half-arrived minute as a quiet one.
 */
export const LOAD_PERIODS = 3;

function signalKey(service: string, endpoint: string, signal: string): string {
  return `${service}\u0000${endpoint}\u0000${signal}`;
}

/** Start and end of the period judged now. */
export function judgedPeriod(now: EpochMs, periodSeconds: number, metricDelaySeconds: number): { start: EpochMs; end: EpochMs } {
  const periodMs = periodSeconds * 1000;
  const end = Math.floor((now - metricDelaySeconds * 1000) / periodMs) * periodMs;
  return { start: end - periodMs, end };
}

/**
 * The period a service is judged on: the newest that ended `metricDelaySeconds` ago, unless it has
 * not been published yet. CloudWatch publishes a minute in parts over one to two minutes, so an
 * evaluation that reads just past the delay (an alarm's or a deployment's, or a schedule that fires
 * on the minute) often finds most endpoints without a datapoint; judged on that, the service fails
 * static, or holds with nothing known. When fewer than half of the endpoints with metric signals
 * have any datapoint in it and more have one in the period before, the period before is judged (the
 * engine counts a period once, however often it is read). An endpoint down, or every one's metrics
 * lost, still shows: the period before has no more data than the newest.
 */
export function publishedPeriod(
  service: ServiceConfig,
  series: ReadonlyMap<string, MetricSeries>,
  period: { start: EpochMs; end: EpochMs },
): { start: EpochMs; end: EpochMs; unpublished?: string } {
  const periodMs = period.end - period.start;
  const before = { start: period.start - periodMs, end: period.start };
  const withSignals = service.endpoints.filter((e) => e.signals.some((s) => s.source === 'metric'));
  const arrived = (end: EpochMs) => withSignals.filter((e) => hasDatapoint(service, e, series, end)).length;
  const newest = arrived(period.end);
  if (!notYetPublished(newest, arrived(before.end), withSignals.length)) return period;
  const unpublished = `the period from ${new Date(period.start).toISOString()} is not published yet (${withSignals.length - newest} of ${withSignals.length} endpoints without a datapoint): judging the one before`;
  return { ...before, unpublished };
}

/**
 * The rule of `publishedPeriod`, on counts of endpoints with a datapoint: fewer than half in the
 * newest period, and more in the period before. (The simulator's reader applies it too.)
 */
export function notYetPublished(arrivedNewest: number, arrivedBefore: number, endpoints: number): boolean {
  return arrivedNewest * 2 < endpoints && arrivedBefore > arrivedNewest;
}

function hasDatapoint(service: ServiceConfig, endpoint: ServiceConfig['endpoints'][number], series: ReadonlyMap<string, MetricSeries>, end: EpochMs): boolean {
  return endpoint.signals.some((signal) => {
    if (signal.source !== 'metric') return false;
    const answer = series.get(signalKey(service.name, endpoint.setIdentifier, signal.name));
    const periodMs = signal.metric.periodSeconds * 1000;
    return answer?.complete === true && answer.values.some((d) => d.timestamp >= end - periodMs && d.timestamp + periodMs <= end);
  });
}

export function metricRequestsFor(service: ServiceConfig): MetricRequest[] {
  const requests: MetricRequest[] = [];
  for (const endpoint of service.endpoints) {
    for (const signal of endpoint.signals) {
      if (signal.source !== 'metric') continue;
      const statistic = signal.metric.statistic;
      requests.push({
        key: signalKey(service.name, endpoint.setIdentifier, signal.name),
        query: { ...signal.metric, region: signal.metric.region ?? endpoint.region },
        // A percentile: its SampleCount and its rank at the trip, in the metric's own unit, so the
        // engine counts the requests past the trip (tail evidence). A per-request share: its
        // SampleCount (the requests it is a share of). Nothing more for other statistics.
        ...(percentileOf(statistic) !== undefined ? { rankAt: signal.trip / signal.scale, sampleCount: true } : { sampleCount: signal.perRequest === true }),
      });
    }
    if (endpoint.load)
      requests.push({
        key: signalKey(service.name, endpoint.setIdentifier, LOAD_SIGNAL),
        query: { ...endpoint.load, region: endpoint.load.region ?? endpoint.region },
      });
    const canary = canaryQueryOf(endpoint, service.policy.rollout);
    if (canary)
      requests.push({
        key: signalKey(service.name, endpoint.setIdentifier, CANARY_SIGNAL),
        query: { ...canary, region: canary.region ?? endpoint.region },
        // Its samples decide whether a period is evidence (`canary.minSamples`).
        sampleCount: percentileOf(canary.statistic) !== undefined,
      });
  }
  return requests;
}

/** A service's alarm signal: whose it is, and the ref that reads its state (keyed by service, endpoint and signal). */
export interface AlarmSignalRef extends Omit<KnownAlarmState, 'state'> {
  readonly ref: AlarmRef;
}

export function alarmSignalsFor(service: ServiceConfig): AlarmSignalRef[] {
  const signals: AlarmSignalRef[] = [];
  for (const endpoint of service.endpoints) {
    for (const signal of endpoint.signals) {
      if (signal.source !== 'alarm') continue;
      const ref = {
        key: signalKey(service.name, endpoint.setIdentifier, signal.name),
        region: signal.alarm.region ?? endpoint.region,
        ...(signal.alarm.name ? { name: signal.alarm.name } : {}),
        ...(signal.alarm.arn ? { arn: signal.alarm.arn } : {}),
      };
      signals.push({ service: service.name, endpoint: endpoint.setIdentifier, signal: signal.name, ref });
    }
  }
  return signals;
}

export function alarmRefsFor(service: ServiceConfig): AlarmRef[] {
  return alarmSignalsFor(service).map((s) => s.ref);
}

/**
 * Observes several services at once: one metrics call and one alarms call for all of them, so
 * services that share regions (and metrics) share CloudWatch requests.
 */
export async function observeServices(
  metrics: MetricsSource,
  services: readonly ServiceConfig[],
  now: EpochMs,
  options: ObservationOptions = {},
  known: readonly KnownAlarmState[] = [],
): Promise<Map<string, ServiceObservationResult>> {
  const delay = options.metricDelaySeconds ?? 60;
  const requests = services.flatMap(metricRequestsFor);
  const knownKeys = new Map(known.map((k) => [signalKey(k.service, k.endpoint, k.signal), k.state]));
  const alarms = services.flatMap(alarmRefsFor).filter((ref) => !knownKeys.has(ref.key));

  // One window for every query: from the earliest period start any service judges to the latest
  // end, and one period more, should the newest not be published yet (publishedPeriod).
  const newest = services.map((s) => judgedPeriod(now, s.policy.evaluationPeriodSeconds, delay));
  const evaluationPeriods = services.map((s) => s.policy.evaluationPeriodSeconds);
  const longest =
    (Math.max(1, ...requests.map((r) => r.query.periodSeconds * (r.key.endsWith(LOAD_SIGNAL) ? LOAD_PERIODS : 1)), ...evaluationPeriods) +
      Math.max(...evaluationPeriods)) *
    1000;
  const end = Math.max(...newest.map((p) => p.end));
  const window: MetricWindow = { startTime: Math.min(...newest.map((p) => p.end)) - longest, endTime: end };

  const gaps: string[] = [];
  // Ranks are asked in a second, small call, only of percentiles past their trip (see askRanks).
  const firstPass = requests.map(({ rankAt: _rank, ...request }) => request);
  const [firstSeries, alarmStates] = await Promise.all([
    firstPass.length > 0 ? metrics.fetchMetrics(firstPass, window) : Promise.resolve(new Map<string, MetricSeries>()),
    alarms.length > 0
      ? metrics.fetchAlarmStates(alarms).catch((error: unknown) => {
          // Alarms unreadable: their signals are unknown (the engine holds), not an evaluation failure.
          gaps.push(`alarm states: ${(error as Error).message}`);
          return new Map<string, AlarmState>();
        })
      : Promise.resolve(new Map<string, AlarmState>()),
  ]);

  const periods = services.map((s, i) => publishedPeriod(s, firstSeries, newest[i]!));
  const ranked = await askRanks(metrics, rankedRequests(services, requests, periods), firstSeries, window);
  if (ranked.gap) gaps.push(ranked.gap);
  const series = ranked.series;

  const out = new Map<string, ServiceObservationResult>();
  services.forEach((service, i) => {
    const period = periods[i]!;
    const serviceGaps = [...gaps, ...(period.unpublished ? [period.unpublished] : [])];
    const endpointEntries: [string, EndpointObservations][] = [];
    for (const endpoint of service.endpoints) {
      // Entries, not assignments: a signal named "__proto__" must be a plain key.
      const signalEntries: [string, SignalObservation | AlarmObservation][] = [];
      for (const signal of endpoint.signals) {
        const key = signalKey(service.name, endpoint.setIdentifier, signal.name);
        if (signal.source === 'alarm') {
          const state = knownKeys.get(key) ?? alarmStates.get(key);
          if (state) signalEntries.push([signal.name, { alarmState: state }]);
          continue;
        }
        const picked = pick(series.get(key), signal.metric.periodSeconds, period.end, signal.direction);
        if (picked.gap) serviceGaps.push(`${endpoint.setIdentifier}/${signal.name}: ${picked.gap}`);
        if (picked.observation) signalEntries.push([signal.name, picked.observation]);
      }
      const signals: Record<string, SignalObservation | AlarmObservation> = Object.fromEntries(signalEntries);
      let requestRate: number | null = null;
      let requestsInPeriod: number | null = null;
      if (endpoint.load) {
        const loadSeries = series.get(signalKey(service.name, endpoint.setIdentifier, LOAD_SIGNAL));
        const load = busiest(loadSeries, endpoint.load.periodSeconds, period.end);
        if (load.gap) serviceGaps.push(`${endpoint.setIdentifier}/load: ${load.gap}`);
        // The load query counts requests per period; the engine wants requests per second.
        if (load.value !== undefined) requestRate = load.value / endpoint.load.periodSeconds;
        requestsInPeriod = countedIn(loadSeries, endpoint.load.periodSeconds, period);
      }
      const canary = canaryQueryOf(endpoint, service.policy.rollout);
      const canaryLatency = canary
        ? pick(series.get(signalKey(service.name, endpoint.setIdentifier, CANARY_SIGNAL)), canary.periodSeconds, period.end, 'higher-is-worse').observation
        : undefined;
      endpointEntries.push([endpoint.setIdentifier, { signals, requestRate, requestsInPeriod, ...(canaryLatency ? { canaryLatency } : {}) }]);
    }
    out.set(service.name, { observations: { endpoints: Object.fromEntries(endpointEntries), periodStart: period.start }, gaps: serviceGaps });
  });
  return out;
}

/** A request for a percentile's rank at its trip, with what is needed to tell whether its value is past it. */
interface RankedRequest {
  readonly request: MetricRequest & { readonly rankAt: number };
  readonly end: EpochMs;
  readonly periodSeconds: number;
  readonly direction: 'higher-is-worse' | 'lower-is-worse';
}

function rankedRequests(services: readonly ServiceConfig[], requests: readonly MetricRequest[], periods: readonly { end: EpochMs }[]): RankedRequest[] {
  const byKey = new Map(requests.map((r) => [r.key, r]));
  return services.flatMap((service, i) =>
    service.endpoints.flatMap((endpoint) =>
      endpoint.signals.flatMap((signal): RankedRequest[] => {
        if (signal.source !== 'metric') return [];
        const request = byKey.get(signalKey(service.name, endpoint.setIdentifier, signal.name));
        if (request?.rankAt === undefined) return [];
        return [
          { request: { ...request, rankAt: request.rankAt }, end: periods[i]!.end, periodSeconds: signal.metric.periodSeconds, direction: signal.direction },
        ];
      }),
    ),
  );
}

/**
 * Tail evidence (core/tailEvidence.ts) matters only for a percentile past its trip: within it, the
 * count past trip cannot prove a breach. So the ranks (`PR(:trip)`) are asked in a second call,
 * only of those, and their series replace the first ones: a healthy tick pays for no rank at all.
 * A second call that fails leaves the first series (the engine judges the value alone) and says so.
 */
async function askRanks(
  metrics: MetricsSource,
  ranked: readonly RankedRequest[],
  first: ReadonlyMap<string, MetricSeries>,
  window: MetricWindow,
): Promise<{ series: ReadonlyMap<string, MetricSeries>; gap?: string }> {
  const due = ranked.filter((r) => {
    const value = pick(first.get(r.request.key), r.periodSeconds, r.end, r.direction).observation?.value;
    return value !== undefined && value !== null && (r.direction === 'higher-is-worse' ? value > r.request.rankAt : value < r.request.rankAt);
  });
  if (due.length === 0) return { series: first };
  try {
    const again = await metrics.fetchMetrics(
      due.map((r) => r.request),
      window,
    );
    const series = new Map(first);
    for (const r of due) {
      const answer = again.get(r.request.key);
      if (answer?.complete) series.set(r.request.key, answer);
    }
    return { series };
  } catch (error) {
    return { series: first, gap: `percentile ranks: ${(error as Error).message}` };
  }
}

/** The datapoint of the period ending at `end` (or the newest one inside the signal's own period). */
function pick(
  series: MetricSeries | undefined,
  periodSeconds: number,
  end: EpochMs,
  direction: 'higher-is-worse' | 'lower-is-worse',
): { observation?: SignalObservation; gap?: string } {
  if (!series) return { gap: 'no answer' };
  // Partial answers are not trusted: a p99 over part of the data is not the p99.
  if (!series.complete) return { gap: series.error ?? 'partial data' };
  const earliest = end - periodSeconds * 1000;
  const candidates = series.values.filter((d) => d.timestamp >= earliest && d.timestamp + periodSeconds * 1000 <= end);
  const newest = candidates.at(-1);
  if (!newest) return {};
  const count = series.sampleCounts?.find((d) => d.timestamp === newest.timestamp);
  const rank = series.ranks?.find((d) => d.timestamp === newest.timestamp);
  const samples = count?.value ?? 0;
  return {
    observation: {
      value: newest.value,
      periodStart: newest.timestamp,
      // A percentile without its SampleCount is treated as having none: low-sample, not healthy.
      ...(series.sampleCounts ? { sampleCount: samples } : {}),
      // PR(:trip) is the percent at or below trip: the rest are past it (below it, when lower is worse).
      ...(series.sampleCounts && rank
        ? { worseThanTrip: Math.round((samples * (direction === 'higher-is-worse' ? 100 - rank.value : rank.value)) / 100) }
        : {}),
    },
  };
}

/**
 * What the load metric counted in the judged period itself: its datapoint covering that period,
 * or null when there is none. A zero is a datapoint of zero (an agent that publishes its request
 * counter every period), never a missing one.
 */
function countedIn(series: MetricSeries | undefined, periodSeconds: number, period: { start: EpochMs; end: EpochMs }): number | null {
  if (!series?.complete) return null;
  const periodMs = periodSeconds * 1000;
  const covering = series.values.find((d) => d.timestamp <= period.start && d.timestamp + periodMs >= period.end && Number.isFinite(d.value));
  return covering === undefined ? null : covering.value;
}

/** The busiest of the last LOAD_PERIODS periods ending by `end` (see LOAD_PERIODS); undefined when none has data. */
function busiest(series: MetricSeries | undefined, periodSeconds: number, end: EpochMs): { value?: number; gap?: string } {
  if (!series) return { gap: 'no answer' };
  if (!series.complete) return { gap: series.error ?? 'partial data' };
  const periodMs = periodSeconds * 1000;
  const recent = series.values.filter((d) => d.timestamp >= end - LOAD_PERIODS * periodMs && d.timestamp + periodMs <= end && Number.isFinite(d.value));
  return recent.length === 0 ? {} : { value: Math.max(...recent.map((d) => d.value)) };
}
