/**
 * The latency a canary is judged on: its rollout latency signal's metric at the canary's own
 * statistic (`rollout.canary.statistic`, a median by default), read beside the signal itself.
 *
 * A DNS canary runs at a few percent of its capacity and serves a few hundred requests a minute.
 * A p99 of those is the third-slowest request: in the faithful simulator, the good version of
 * canary-success read 1.2-1.7× its control on p99 on every seed tried, and was rolled back, because
 * an idle region's p99 (the longest prompts' prefill) sits far above the line learned at its usual
 * load. Its median moves with the model's speed and little else: the same good version reads
 * 0.8-1.05×, and the 1.4× slower one of canary-regression 1.1-1.3×.
 *
 * The observations carry the reading (EndpointObservations `canaryLatency`); here it replaces the
 * latency signal's value in the verdicts the rollout judge and the load profiles read, so both
 * speak of the same statistic. Pure.
 */
import type { EndpointConfig, MetricSignal, RolloutPolicy, ServiceConfig } from './config.js';
import { percentileOf } from './percentiles.js';
import type { EndpointVerdict, LoadProfile, ServiceObservations } from './types.js';

/** The metric signal a rollout judges on an endpoint: the one `canary.latencySignal` names, else the endpoint's first percentile signal. */
export function rolloutLatencySignal(endpoint: EndpointConfig, policy: RolloutPolicy): MetricSignal | undefined {
  const name = policy.canary.latencySignal;
  return endpoint.signals.find(
    (s): s is MetricSignal => s.source === 'metric' && (name !== undefined ? s.name === name : percentileOf(s.metric.statistic) !== undefined),
  );
}

/**
 * The latency signal an endpoint's canary reading is of, and the query that reads it, when
 * rollouts are on and the canary's statistic is not the signal's own (then the signal's value is
 * the reading, and nothing more is asked).
 */
export function canaryReadOf(endpoint: EndpointConfig, policy: RolloutPolicy): { signal: MetricSignal; query: MetricSignal['metric'] } | undefined {
  if (policy.mode === 'none') return undefined;
  const signal = rolloutLatencySignal(endpoint, policy);
  if (signal === undefined || signal.metric.statistic === policy.canary.statistic) return undefined;
  return { signal, query: { ...signal.metric, statistic: policy.canary.statistic } };
}

/** The query that reads an endpoint's canary latency (`canaryReadOf`), if any. */
export function canaryQueryOf(endpoint: EndpointConfig, policy: RolloutPolicy): MetricSignal['metric'] | undefined {
  return canaryReadOf(endpoint, policy)?.query;
}

/** How a basis is written: `p99-ttft@p50`. */
function basisOf(signal: MetricSignal, statistic: string): string {
  return `${signal.name}@${statistic}`;
}

/** What a load profile was learned on: the signal and the statistic (a line learned on one is no expectation of another). */
export function canaryBasis(endpoint: EndpointConfig, policy: RolloutPolicy): string | undefined {
  const signal = rolloutLatencySignal(endpoint, policy);
  return signal === undefined ? undefined : basisOf(signal, policy.canary.statistic);
}

/**
 * The verdicts as the rollout judge and the load profiles read them: each endpoint's latency
 * signal carrying its canary reading. Missing when the reading is (never the signal's own value
 * in its place: a p99 is no median).
 */
export function canaryVerdicts(
  service: ServiceConfig,
  observations: ServiceObservations,
  verdicts: Readonly<Record<string, EndpointVerdict>>,
): Record<string, EndpointVerdict> {
  const policy = service.policy.rollout;
  const out: Record<string, EndpointVerdict> = { ...verdicts };
  for (const endpoint of service.endpoints) {
    const id = endpoint.setIdentifier;
    const signal = canaryReadOf(endpoint, policy)?.signal;
    const verdict = verdicts[id];
    if (signal === undefined || verdict === undefined) continue;
    const reading = observations.endpoints[id]?.canaryLatency;
    const value = reading?.value === null || reading?.value === undefined || !Number.isFinite(reading.value) ? null : reading.value * signal.scale;
    out[id] = {
      ...verdict,
      signals: verdict.signals.map((s) =>
        s.signal === signal.name
          ? { ...s, value, statistic: policy.canary.statistic, sampleCount: value === null ? null : (reading?.sampleCount ?? null), canaryReading: true }
          : s,
      ),
    };
  }
  return out;
}

/**
 * A profile learned on the basis the endpoint's canaries are judged on now. One that does not say
 * (state layouts before 8) was learned on the latency signal at its own statistic.
 */
export function onBasis(profile: LoadProfile, endpoint: EndpointConfig, policy: RolloutPolicy): boolean {
  const signal = rolloutLatencySignal(endpoint, policy);
  if (signal === undefined) return false;
  return (profile.basis ?? basisOf(signal, signal.metric.statistic)) === basisOf(signal, policy.canary.statistic);
}

/** The load profiles learned on the basis the service judges canaries on now; the others are set aside. */
export function profilesOnBasis(service: ServiceConfig, profiles: Readonly<Record<string, LoadProfile | undefined>>): Record<string, LoadProfile> {
  const out: Record<string, LoadProfile> = {};
  for (const endpoint of service.endpoints) {
    const profile = profiles[endpoint.setIdentifier];
    if (profile !== undefined && onBasis(profile, endpoint, service.policy.rollout)) out[endpoint.setIdentifier] = profile;
  }
  return out;
}
