/**
 * `npm run bench:engine`: how fast the engine decides. 1,000 services × 5 endpoints, with states
 * warmed up through a mix of incidents so every code path (shedding, drains, recoveries, fail
 * static) is exercised, then timed over repeated rounds. Reported as decisions per second and as
 * a ratio against a naive threshold controller run side by side on the same inputs — the least a
 * controller can do — so the figure means something on any machine.
 *
 * Options: --services N (default 1000), --endpoints N (default 5), --rounds N (default 15), --json,
 * --rollouts (every service has a canary rollout policy, so the engine also learns each endpoint's
 * latency against load every period).
 */
import { parseArgs } from 'node:util';
import { serviceSchema, type ServiceConfig } from '../../functions/core/config.js';
import { decide } from '../../functions/core/engine.js';
import type { DecideInput, EndpointObservations, ServiceObservations, ServiceState, Weights } from '../../functions/core/types.js';
import { evaluateEndpoint } from '../../functions/core/verdicts.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
    rollouts: { type: 'boolean', default: false },
  },
  strict: true,
});
const SERVICES = positive('services', values.services);
const ENDPOINTS = positive('endpoints', values.endpoints);
const ROUNDS = positive('rounds', values.rounds);

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench:engine: --${name} must be a positive integer, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeService(i: number): ServiceConfig {
  return serviceSchema.parse({
    name: `svc-${i}`,
    dnsName: `svc-${i}.example.com`,
    hostedZoneId: 'Z0123456789ABC',
    ...(values.rollouts ? { policy: { rollout: { mode: 'canary' } } } : {}),
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      setIdentifier: `region-${e}`,
      region: 'eu-west-1',
      baselineWeight: 50 + ((i + e) % 4) * 25,
      capacity: { warmRps: 100 },
      signals: [
        { name: 'p99', source: 'metric', metric: { namespace: 'N', metricName: 'Latency', statistic: 'p99' }, unit: 'ms', trip: 2000, clear: 1500 },
        { name: 'gpu', source: 'metric', metric: { namespace: 'N', metricName: 'GPU', statistic: 'Average' }, unit: '%', trip: 95, clear: 80 },
        { name: 'errors', source: 'alarm', alarm: { name: `errors-${i}-${e}` }, severity: 'fail' },
      ],
    })),
  });
}

function observations(service: ServiceConfig, minute: number, random: () => number, periodStart: number): ServiceObservations {
  const endpoints: Record<string, EndpointObservations> = {};
  service.endpoints.forEach((e, k) => {
    // Each endpoint has its own incident rhythm: mostly fine, sometimes slow, now and then failing.
    const phase = (minute + k * 7) % 40;
    const slow = phase >= 10 && phase < 18;
    const failing = k === 0 && phase >= 30 && phase < 33;
    const missing = random() < 0.02;
    endpoints[e.setIdentifier] = missing
      ? { signals: {} }
      : {
          signals: {
            p99: { value: (slow ? 2600 : 900) + random() * 300, sampleCount: 2000 + Math.floor(random() * 4000) },
            gpu: { value: (slow ? 90 : 55) + random() * 10 },
            errors: { alarmState: failing ? 'ALARM' : 'OK' },
          },
          requestRate: 40 + random() * 20,
        };
  });
  return { periodStart, endpoints };
}

/** The baseline: verdicts, then weights proportional to baseline for every endpoint not breaching. */
function naiveDecide(service: ServiceConfig, input: DecideInput): Weights {
  const weights: Weights = {};
  for (const e of service.endpoints) {
    const verdict = evaluateEndpoint(e.signals, input.observations.endpoints[e.setIdentifier]);
    weights[e.setIdentifier] = verdict.verdict === 'breach' ? 0 : e.baselineWeight;
  }
  return weights;
}

const services = Array.from({ length: SERVICES }, (_, i) => makeService(i));
const random = prng(53);
const start = Date.UTC(2026, 0, 1);
const states: (ServiceState | undefined)[] = services.map(() => undefined);
const weights: Weights[] = services.map((s) => Object.fromEntries(s.endpoints.map((e) => [e.setIdentifier, e.baselineWeight])));

// Warm up: an hour of evaluations, so states are spread over every status.
let minute = 0;
for (; minute < 60; minute++) {
  const now = start + minute * 60_000;
  services.forEach((service, i) => {
    const out = decide(service, { now, observations: observations(service, minute, random, now - 60_000), state: states[i], currentWeights: weights[i]! });
    states[i] = out.nextState;
    weights[i] = { ...out.decision.targetWeights };
  });
}

const engineMs: number[] = [];
const naiveMs: number[] = [];
let changes = 0;
for (let round = 0; round < ROUNDS; round++, minute++) {
  const now = start + minute * 60_000;
  const inputs: DecideInput[] = services.map((service, i) => ({
    now,
    observations: observations(service, minute, random, now - 60_000),
    state: states[i],
    currentWeights: weights[i]!,
  }));
  // Alternate which goes first, so neither always gets the warmer cache.
  const runEngine = () => {
    const t0 = performance.now();
    for (let i = 0; i < services.length; i++) {
      const out = decide(services[i]!, inputs[i]!);
      states[i] = out.nextState;
      weights[i] = out.decision.targetWeights as Weights;
      changes += out.decision.changes.length > 0 ? 1 : 0;
    }
    engineMs.push(performance.now() - t0);
  };
  const runNaive = () => {
    const t0 = performance.now();
    let sink = 0;
    for (let i = 0; i < services.length; i++) sink += Object.keys(naiveDecide(services[i]!, inputs[i]!)).length;
    naiveMs.push(performance.now() - t0);
    if (sink < 0) console.error(sink);
  };
  if (round % 2 === 0) {
    runEngine();
    runNaive();
  } else {
    runNaive();
    runEngine();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const engine = median(engineMs);
const naive = median(naiveMs);
const result = {
  services: SERVICES,
  endpointsPerService: ENDPOINTS,
  rounds: ROUNDS,
  engineMsPerRound: Number(engine.toFixed(2)),
  naiveMsPerRound: Number(naive.toFixed(2)),
  engineDecisionsPerSecond: Math.round((SERVICES / engine) * 1000),
  microsecondsPerDecision: Number(((engine * 1000) / SERVICES).toFixed(1)),
  ratioToNaive: Number((engine / naive).toFixed(2)),
  decisionsWithChanges: changes,
  target: `all ${SERVICES} services in under 100 ms`,
  met: engine < 100,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `engine: ${SERVICES} services × ${ENDPOINTS} endpoints${values.rollouts ? ', canary rollout policy (load profiles learned)' : ''}, median of ${ROUNDS} rounds (after a warm-up hour)`,
  );
  console.log(`| controller | ms per round | decisions/s | µs per decision |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(
    `| steer53 engine | ${result.engineMsPerRound} | ${result.engineDecisionsPerSecond.toLocaleString('en-US')} | ${result.microsecondsPerDecision} |`,
  );
  console.log(
    `| naive threshold (baseline) | ${result.naiveMsPerRound} | ${Math.round((SERVICES / naive) * 1000).toLocaleString('en-US')} | ${((naive * 1000) / SERVICES).toFixed(1)} |`,
  );
  console.log(`engine / naive: ${result.ratioToNaive}×; target ${result.target}: ${result.met ? 'met' : 'NOT met'}`);
}
