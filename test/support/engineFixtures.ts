/**
 * Builders for engine tests: a small service, observations by verdict class, and a driver that
 * runs the engine minute by minute and applies its target weights as Route 53 would.
 */
import { serviceSchema, type ServiceConfig, type ServiceConfigInput } from '../../functions/core/config.js';
import { decide, evaluationOf } from '../../functions/core/engine.js';
import type { Evaluation } from '../../functions/core/phase.js';
import type { DecideInput, Decision, EndpointObservations, ServiceState, Weights } from '../../functions/core/types.js';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

type PolicyInput = NonNullable<ServiceConfigInput['policy']>;

/** A service of `n` endpoints `a`, `b`, `c`… each with a p99 latency signal (trip 2000, clear 1500) and an error-rate fail signal. */
export function makeService(
  options: { n?: number; baselines?: number[]; policy?: PolicyInput; endpoints?: Partial<ServiceConfigInput['endpoints'][number]>[] } = {},
): ServiceConfig {
  const n = options.n ?? options.baselines?.length ?? 3;
  return serviceSchema.parse({
    name: 'chat',
    dnsName: 'chat.example.com',
    hostedZoneId: 'Z0123456789ABC',
    policy: options.policy ?? {},
    endpoints: Array.from({ length: n }, (_, i) => ({
      setIdentifier: String.fromCharCode(97 + i),
      region: 'eu-west-1',
      baselineWeight: options.baselines?.[i] ?? 100,
      signals: [
        { name: 'p99', source: 'metric', metric: { namespace: 'Inference', metricName: 'Latency', statistic: 'p99' }, unit: 'ms', trip: 2000, clear: 1500 },
        {
          name: 'errors',
          source: 'metric',
          metric: { namespace: 'Inference', metricName: 'ErrorRate', statistic: 'Average' },
          trip: 5,
          clear: 1,
          severity: 'fail',
        },
      ],
      ...(options.endpoints?.[i] ?? {}),
    })),
  });
}

/** `fail`: errors 20% past their trip (M of N periods drain); `fail-severe`: eight times their trip (drains at once). */
export type Health =
  | 'ok'
  | 'slow'
  | 'very-slow'
  | 'severe'
  | 'extreme'
  | 'extreme-few'
  | 'hold'
  | 'fail'
  | 'fail-severe'
  | 'missing'
  | 'low-sample-slow'
  | 'low-sample-fast'
  | 'thin-slow';

/** Observations of one endpoint in a given condition. */
export function observe(health: Health, requestRate?: number): EndpointObservations {
  const p99 = {
    ok: 900,
    slow: 2400,
    'very-slow': 3800,
    severe: 5000,
    extreme: 25_000,
    'extreme-few': 25_000,
    hold: 1800,
    fail: 900,
    'fail-severe': 900,
    missing: 0,
    'low-sample-slow': 2600,
    'low-sample-fast': 800,
    'thin-slow': 3000,
  }[health];
  if (health === 'missing') return { signals: {} };
  const lowSample = health.startsWith('low-sample');
  return {
    signals: {
      // extreme-few: 25 s, but only 30 of 1,000 requests (3%) past trip: a breach its tail does not prove severe.
      // thin-slow: 3 of 19 requests past trip, which proves a p99 past it on too few requests to expect one slow (thin).
      p99:
        health === 'extreme-few'
          ? { value: p99, sampleCount: 1000, worseThanTrip: 30 }
          : health === 'thin-slow'
            ? { value: p99, sampleCount: 19, worseThanTrip: 3 }
            : { value: p99, sampleCount: lowSample ? 50 : 5000 },
      errors: { value: health === 'fail' ? 6 : health === 'fail-severe' ? 40 : 0.1 },
    },
    ...(requestRate === undefined ? {} : { requestRate }),
  };
}

export interface Step {
  readonly decision: Decision;
  readonly state: ServiceState;
  readonly weights: Weights;
  readonly minute: number;
}

/**
 * Runs the engine once a minute for as many minutes as `healthAt` is asked about, applying each
 * decision's target weights. `healthAt(minute)` gives each endpoint's condition by SetIdentifier.
 */
export function runMinutes(
  service: ServiceConfig,
  minutes: number,
  healthAt: (minute: number) => Record<string, Health>,
  start?: { state?: ServiceState; weights?: Weights },
): Step[] {
  let state = start?.state;
  let weights: Weights = start?.weights ?? Object.fromEntries(service.endpoints.map((e) => [e.setIdentifier, e.baselineWeight]));
  const steps: Step[] = [];
  for (let m = 0; m < minutes; m++) {
    const now = T0 + m * MINUTE;
    const health = healthAt(m);
    const endpoints = Object.fromEntries(Object.entries(health).map(([id, h]) => [id, observe(h)]));
    const { decision, nextState } = decide(service, { now, observations: { periodStart: now - MINUTE, endpoints }, state, currentWeights: weights });
    state = nextState;
    weights = { ...decision.targetWeights };
    steps.push({ decision, state, weights, minute: m });
  }
  return steps;
}

/** One endpoint at one minute of `deployDay`: its request rate, utilisation, whether `a` serves the new version yet, and a ±2% wobble. */
export interface DeployDayMinute {
  readonly id: string;
  readonly rate: number;
  readonly u: number;
  readonly deployed: boolean;
  readonly wobble: number;
}

/**
 * Three endpoints a, b and c of 100 requests/s warm capacity: a day of traffic swinging ±30% around
 * 150 requests/s, then `after` more minutes in which `a` deploys v2 (started at the day's end,
 * succeeded two minutes later). `observe` gives each endpoint's observations; the steps are those
 * from the deploy on (`m` minutes after it started).
 */
export function deployDay(service: ServiceConfig, observe: (at: DeployDayMinute) => EndpointObservations, after: number, start?: ServiceState) {
  let state = start;
  let weights: Weights = { a: 100, b: 100, c: 100 };
  const history = 24 * 60;
  const steps: { m: number; decision: Decision; state: ServiceState; weights: Weights }[] = [];
  const event = (phase: 'started' | 'succeeded', at: number) => ({ endpoint: 'a', version: 'v2', phase, idempotencyKey: `k-${phase}`, at });
  for (let m = 0; m < history + after; m++) {
    const now = T0 + m * MINUTE;
    const demand = 150 * (1 + 0.3 * Math.sin((2 * Math.PI * m) / history));
    const total = weights.a! + weights.b! + weights.c!;
    const endpoints = Object.fromEntries(
      ['a', 'b', 'c'].map((id) => {
        const rate = (demand * weights[id]!) / total;
        return [id, observe({ id, rate, u: rate / 100, deployed: m >= history + 2, wobble: 1 + 0.02 * Math.sin(m * 1.7 + id.charCodeAt(0)) })];
      }),
    );
    const deployments = m === history ? [event('started', now)] : m === history + 2 ? [event('succeeded', now)] : [];
    const { decision, nextState } = decide(service, {
      now,
      observations: { periodStart: now - MINUTE, endpoints },
      state,
      currentWeights: weights,
      deployments,
    });
    state = nextState;
    weights = { ...decision.targetWeights };
    if (m >= history) steps.push({ m: m - history, decision, state, weights });
  }
  return steps;
}

/** Every endpoint `ok` except the ones named. */
export function allOk(service: ServiceConfig, except: Record<string, Health> = {}): Record<string, Health> {
  return Object.fromEntries(service.endpoints.map((e) => [e.setIdentifier, except[e.setIdentifier] ?? 'ok']));
}

export function codes(decision: Decision): string[] {
  return [...decision.reasons, ...decision.blocked].map((r) => r.code);
}

/** What the phases of one decision read, for phase tests: the service at rest at T0, with `input` and then `changes` applied. */
export function evaluation(service: ServiceConfig, input: Partial<DecideInput> = {}, changes: Partial<Evaluation> = {}): Evaluation {
  const ev = evaluationOf(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints: {} }, state: undefined, ...input });
  return { ...ev, ...changes };
}
