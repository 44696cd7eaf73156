/**
 * The controllers steer53 is compared with, on the same world and seed:
 * - `static`: no controller; the baseline weights stay.
 * - `route53-health-check`: Route 53's own failover — HTTP health checks every 30 s from several
 *   checkers, an endpoint unhealthy after 3 consecutive failures at (nearly) every checker, and
 *   unhealthy records left out of answers. It sees only hard failures: a slow endpoint still
 *   answers its health check.
 * - `naive-threshold`: reads the same CloudWatch data as steer53 but with no hysteresis: drains an
 *   endpoint on any breaching minute and restores it on the first minute that is not breaching.
 */
import type { MetricSignal } from '../../functions/core/config.js';
import { Rng, hashString, streamSeed } from '../random.js';
import type { Controller, ControllerContext, EvaluationRecord } from '../world.js';
import { hasReadableData, observeService } from './observe.js';

export function staticController(): Controller {
  return { name: 'static', evaluations: [], tick() {} };
}

/** Route 53 health checkers (regions it checks from); healthy while more than 18% say so. */
const CHECKERS = 8;
const HEALTHY_CHECKER_FRACTION = 0.18;

export function route53HealthCheckController(context: ControllerContext): Controller {
  const { scenario, route53, truth } = context;
  const { healthCheckIntervalSeconds: interval, healthCheckFailureThreshold: threshold } = scenario.spec.dns;
  const regions = scenario.endpoints.length;
  // Per region, per checker: its view (healthy or not) and its run of consecutive results.
  const healthy = Array.from({ length: regions }, () => new Array<boolean>(CHECKERS).fill(true));
  const run = Array.from({ length: regions }, () => new Array<number>(CHECKERS).fill(0));
  const endpointHealthy = new Array<boolean>(regions).fill(true);
  const evaluations: EvaluationRecord[] = [];
  const rng = new Rng(0);
  const key = hashString('route53-health-check');
  let next = 0;
  let check = 0;

  return {
    name: 'route53-health-check',
    evaluations,
    tick(t) {
      if (t < next) return;
      while (next <= t) next += interval;
      check++;
      let changed = false;
      for (let r = 0; r < regions; r++) {
        const condition = truth.condition(r, t);
        // A health check is an HTTP request to the endpoint: it fails when requests fail, and
        // passes however slow the model is (the health path does not run inference).
        const failureChance = condition.down ? 1 : condition.errorRate;
        rng.reseed(streamSeed(scenario.spec.seed, key, r, check));
        let healthyCheckers = 0;
        for (let c = 0; c < CHECKERS; c++) {
          const passed = rng.next() >= failureChance;
          // run > 0 counts consecutive results that disagree with the checker's current view.
          const disagrees = passed !== healthy[r]![c]!;
          run[r]![c] = disagrees ? run[r]![c]! + 1 : 0;
          if (run[r]![c]! >= threshold) {
            healthy[r]![c] = passed;
            run[r]![c] = 0;
          }
          if (healthy[r]![c]) healthyCheckers++;
        }
        const isHealthy = healthyCheckers / CHECKERS > HEALTHY_CHECKER_FRACTION;
        if (isHealthy !== endpointHealthy[r]) {
          endpointHealthy[r] = isHealthy;
          changed = true;
        }
      }
      if (!changed) return;
      // Unhealthy records leave the answers; if every record is unhealthy, Route 53 answers with all.
      const anyHealthy = endpointHealthy.some((h) => h);
      const weights = scenario.baselineWeights.map((w, r) => (!anyHealthy || endpointHealthy[r] ? w : 0));
      const why = scenario.endpoints.map((id, r) => `${id} ${endpointHealthy[r] ? 'healthy' : 'unhealthy'}`).join(', ');
      // Health status reaches the DNS servers directly (data plane): no change-batch propagation.
      route53.write(t, weights, { kind: 'health-check', why, delaySeconds: 0 });
      evaluations.push({ t, statuses: endpointHealthy.map((h) => (h ? 'healthy' : 'drained')), reasons: [why] });
    },
  };
}

export function naiveThresholdController(context: ControllerContext): Controller {
  const { scenario, route53 } = context;
  const service = scenario.service;
  const period = service.policy.evaluationPeriodSeconds;
  const evaluations: EvaluationRecord[] = [];
  let next = scenario.spec.cloudwatch.evaluationOffsetSeconds;

  return {
    name: 'naive-threshold',
    evaluations,
    tick(t) {
      if (t < next) return;
      while (next <= t) next += period;
      if (!hasReadableData(context, t)) return;
      const observations = observeService(context, t);
      const current = [...route53.weights];
      const target = [...current];
      const statuses: string[] = [];
      service.endpoints.forEach((endpoint, r) => {
        let breach = false;
        let missing = false;
        for (const signal of endpoint.signals) {
          const observation = observations.endpoints[endpoint.setIdentifier]?.signals[signal.name];
          if (observation === undefined) {
            missing = true;
          } else if ('alarmState' in observation) {
            if (observation.alarmState === 'ALARM') breach = true;
            else if (observation.alarmState === 'INSUFFICIENT_DATA') missing = true;
          } else if (observation.value === null) {
            missing = true;
          } else if (pastTrip(signal, observation.value)) {
            breach = true;
          }
        }
        // One threshold, no memory: breach → 0, anything else with data → baseline.
        if (breach) target[r] = 0;
        else if (!missing) target[r] = scenario.baselineWeights[r]!;
        statuses.push(target[r] === 0 ? 'drained' : 'healthy');
      });
      if (target.every((w) => w === 0)) return; // even a naive controller never drains everything
      route53.write(t, target, { why: statuses.map((s, r) => `${scenario.endpoints[r]} ${s}`).join(', ') });
      evaluations.push({ t, statuses, reasons: [] });
    },
  };
}

function pastTrip(signal: MetricSignal | { source: 'alarm' }, raw: number): boolean {
  if (signal.source !== 'metric') return false;
  const value = raw * signal.scale;
  return signal.direction === 'higher-is-worse' ? value > signal.trip : value < signal.trip;
}
