/**
 * The controllers steer53 is compared with, on the same world and seed:
 * - `static`: no controller; the baseline weights stay.
 * - `route53-health-check`: Route 53's own failover — HTTP health checks every 30 s from 16
 *   checkers on their own schedules, an endpoint unhealthy after 3 consecutive failures at (nearly)
 *   every checker, and unhealthy records left out of answers. It sees only hard failures: a slow
 *   endpoint still answers its health check.
 * - `route53-alarm-health-check`: the same, combined with a health check on a CloudWatch alarm over
 *   the region's p99 time to first token and one on each of its error alarms: what an AWS user
 *   deploys for latency and errors.
 * - `naive-threshold`: reads the same CloudWatch data as steer53 but with no hysteresis: drains an
 *   endpoint on any breaching minute and restores it on the first minute that is not breaching.
 */
import type { AlarmSignal, EndpointConfig, MetricSignal } from '../../functions/core/config.js';
import type { RegionCondition } from '../latencyModel.js';
import { Rng, hashString, streamSeed } from '../random.js';
import type { AlarmModel } from '../scenarioSchema.js';
import type { Controller, ControllerContext, EvaluationRecord } from '../world.js';
import { alarmModelOf, hasReadableData, observeService } from './observe.js';

export function staticController(): Controller {
  return { name: 'static', evaluations: [], tick() {} };
}

/**
 * Route 53's health checkers: 8 regions by default, several checkers in each; each checks on its
 * own schedule (they are not coordinated, so an endpoint sees a check every few seconds), and an
 * endpoint is healthy while more than 18% of them say so.
 */
const CHECKERS = 16;
const HEALTHY_CHECKER_FRACTION = 0.18;

/**
 * An HTTP health check's view of each region, checker by checker: a checker turns unhealthy after
 * `threshold` consecutive failures and healthy again after as many passes. A check is an HTTP
 * request to the endpoint's health path: it fails when requests fail, and passes however slow the
 * model is (the health path does not run inference).
 */
export class HttpHealthChecks {
  private readonly healthy: boolean[][];
  /** Each checker's last failed check (seconds from the start); -Infinity: none yet. */
  private readonly lastFailure: number[][];
  private readonly run: number[][];
  private readonly phase: number[][];
  private readonly lastCheck: number[][];
  private readonly rng = new Rng(0);
  private readonly key = hashString('route53-health-check');

  constructor(private readonly context: ControllerContext) {
    const regions = context.scenario.endpoints.length;
    const interval = context.scenario.spec.dns.healthCheckIntervalSeconds;
    this.healthy = Array.from({ length: regions }, () => new Array<boolean>(CHECKERS).fill(true));
    this.lastFailure = Array.from({ length: regions }, () => new Array<number>(CHECKERS).fill(Number.NEGATIVE_INFINITY));
    this.run = Array.from({ length: regions }, () => new Array<number>(CHECKERS).fill(0));
    this.lastCheck = Array.from({ length: regions }, () => new Array<number>(CHECKERS).fill(-1));
    this.phase = Array.from({ length: regions }, (_, r) =>
      Array.from({ length: CHECKERS }, (_, c) => {
        this.rng.reseed(streamSeed(context.scenario.spec.seed, this.key, r, c, -1));
        return this.rng.next() * interval;
      }),
    );
  }

  /** Runs every check due by time t; the endpoints' health as Route 53 aggregates it. */
  healthAt(t: number): boolean[] {
    const { scenario, truth } = this.context;
    const interval = scenario.spec.dns.healthCheckIntervalSeconds;
    const threshold = scenario.spec.dns.healthCheckFailureThreshold;
    return scenario.endpoints.map((_, r) => {
      let healthyCheckers = 0;
      for (let c = 0; c < CHECKERS; c++) {
        const phase = this.phase[r]![c]!;
        const due = Math.floor((t - phase) / interval);
        for (let k = this.lastCheck[r]![c]! + 1; k <= due; k++) this.check(r, c, k, truth.condition(r, phase + k * interval), threshold);
        if (due > this.lastCheck[r]![c]!) this.lastCheck[r]![c] = due;
        if (this.healthy[r]![c]) healthyCheckers++;
      }
      return healthyCheckers / CHECKERS > HEALTHY_CHECKER_FRACTION;
    });
  }

  /**
   * When each of region r's checkers last failed a check (seconds from the start), among the checks
   * run by the last `healthAt`, for those that ever did: what Route 53's
   * GetHealthCheckLastFailureReason tells.
   */
  lastFailures(r: number): number[] {
    return this.lastFailure[r]!.filter((t) => t > Number.NEGATIVE_INFINITY);
  }

  private check(r: number, c: number, k: number, condition: RegionCondition, threshold: number): void {
    this.rng.reseed(streamSeed(this.context.scenario.spec.seed, this.key, r, c, k));
    const passed = this.rng.next() >= (condition.down ? 1 : condition.errorRate);
    if (!passed) this.lastFailure[r]![c] = this.phase[r]![c]! + k * this.context.scenario.spec.dns.healthCheckIntervalSeconds;
    // run > 0 counts consecutive results that disagree with the checker's current view.
    const disagrees = passed !== this.healthy[r]![c]!;
    this.run[r]![c] = disagrees ? this.run[r]![c]! + 1 : 0;
    if (this.run[r]![c]! >= threshold) {
      this.healthy[r]![c] = passed;
      this.run[r]![c] = 0;
    }
  }
}

/** The health checks' view reaches Route 53, which answers by its own rules (world.ts, answeredWeights); recorded when the answers change. */
function failoverWrite(
  context: ControllerContext,
  t: number,
  healthy: readonly boolean[],
  evaluations: EvaluationRecord[],
  detail: (r: number) => string,
): void {
  const { scenario, route53 } = context;
  const why = scenario.endpoints.map((id, r) => `${id} ${healthy[r] ? 'healthy' : `unhealthy (${detail(r)})`}`).join(', ');
  if (route53.setHealth(t, healthy, why)) evaluations.push({ t, statuses: healthy.map((h) => (h ? 'healthy' : 'drained')), reasons: [why] });
}

export function route53HealthCheckController(context: ControllerContext): Controller {
  const checks = new HttpHealthChecks(context);
  const evaluations: EvaluationRecord[] = [];
  return {
    name: 'route53-health-check',
    evaluations,
    tick(t) {
      failoverWrite(context, t, checks.healthAt(t), evaluations, () => 'health checks failing');
    },
  };
}

/**
 * What an AWS user deploys for latency and errors today: each record's health check is a
 * calculated health check of its HTTP health check, a health check on a CloudWatch alarm over the
 * region's time to first token (p99 > the SLO for 3 of 3 one-minute periods, missing data treated
 * as missing), and a health check on each error alarm the team already pages on (the endpoint's
 * fail-severity alarm signals, `errorAlarms`, on standard-resolution metrics: Route 53 cannot use a
 * high-resolution alarm). Route 53 keeps the last known status while an alarm
 * has insufficient data, and reads each alarm's data stream, so a health check follows its alarm
 * as CloudWatch evaluates it.
 */
export function route53AlarmHealthCheckController(context: ControllerContext): Controller {
  const { scenario, cloudwatch } = context;
  const settings = scenario.spec.baselines.alarmHealthCheck;
  const latency: AlarmModel = {
    metric: settings.statistic === 'p99' ? 'p99LatencyMs' : settings.statistic === 'p95' ? 'p95LatencyMs' : 'averageLatencyMs',
    threshold: settings.thresholdMs ?? scenario.spec.slo.latencyMs,
    datapointsToAlarm: settings.datapointsToAlarm,
    evaluationPeriods: settings.evaluationPeriods,
    periodSeconds: 60,
    treatMissingData: 'missing',
    minRequests: 0,
  };
  // Per endpoint, the alarms its calculated health check combines: latency first, then its error alarms.
  const alarms = scenario.service.endpoints.map((endpoint) => [
    { model: latency, what: `latency alarm: ${latency.metric} > ${latency.threshold} ms` },
    ...(settings.errorAlarms ? errorAlarmsOf(scenario, endpoint) : []),
  ]);
  const alarmHealthy = alarms.map((each) => each.map(() => true));
  const checks = new HttpHealthChecks(context);
  const evaluations: EvaluationRecord[] = [];
  let lastMinute = -1;
  return {
    name: 'route53-alarm-health-check',
    evaluations,
    tick(t) {
      const minute = Math.floor(t / 60);
      if (minute !== lastMinute) {
        lastMinute = minute;
        alarms.forEach((each, r) => {
          each.forEach(({ model }, k) => {
            const state = cloudwatch.alarmState(model, r, t);
            if (state === 'ALARM') alarmHealthy[r]![k] = false;
            else if (state === 'OK') alarmHealthy[r]![k] = true;
            else if (settings.insufficientData !== 'last-known') alarmHealthy[r]![k] = settings.insufficientData === 'healthy';
          });
        });
      }
      const http = checks.healthAt(t);
      const healthy = http.map((h, r) => h && alarmHealthy[r]!.every(Boolean));
      const detail = (r: number) =>
        http[r]
          ? alarms[r]!.filter((_, k) => !alarmHealthy[r]![k])
              .map((a) => a.what)
              .join(', ')
          : 'health checks failing';
      failoverWrite(context, t, healthy, evaluations, detail);
    },
  };
}

/**
 * An endpoint's error alarms: its alarm signals that drain it (fail severity), as the simulated
 * alarms they read. Not a high-resolution one (a period under 60 s): Route 53 health checks take
 * alarms on standard-resolution metrics only (AlarmIdentifier, Route 53 API Reference).
 */
function errorAlarmsOf(scenario: ControllerContext['scenario'], endpoint: EndpointConfig): { model: AlarmModel; what: string }[] {
  return endpoint.signals
    .filter((signal): signal is AlarmSignal => signal.source === 'alarm' && signal.severity === 'fail')
    .map((signal) => ({ signal, alarm: alarmModelOf(scenario, signal) }))
    .filter(({ alarm }) => alarm.periodSeconds === 60)
    .map(({ signal, alarm }) => {
      // Its own alarm for the health check, on the same metric: no requests count as no errors, so a
      // region Route 53 has taken out of its answers is let back once its errors stop being measured.
      const model: AlarmModel = { ...alarm, treatMissingData: 'notBreaching' };
      return { model, what: `error alarm ${signal.name}: ${model.metric} > ${model.threshold}` };
    });
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

/** The health checks on steer53's records, as the simulator runs them. */
export interface StaticStability {
  /** Runs the checks due by t and masks the unhealthy records out of Route 53's answers; each endpoint's health, or undefined without health checks. Call at every step. */
  healthAt(t: number): readonly boolean[] | undefined;
  /** When each of region r's checkers last failed (seconds from the start; those that ever did), as of the last `healthAt`; undefined without health checks. */
  lastFailures(r: number): readonly number[] | undefined;
}

/**
 * steer53's static stability in the simulated world: with `staticStability.healthChecks: http`, the
 * same HTTP health checks as `route53-health-check` on the records steer53 weights; Route 53 masks
 * the unhealthy ones out of its answers (Route53Sim.setHealth).
 */
export function staticStability(context: ControllerContext): StaticStability {
  if (context.scenario.spec.staticStability.healthChecks === 'none') return { healthAt: () => undefined, lastFailures: () => undefined };
  const checks = new HttpHealthChecks(context);
  const ids = context.scenario.endpoints;
  return {
    healthAt(t) {
      const healthy = checks.healthAt(t);
      context.route53.setHealth(t, healthy, ids.map((id, r) => `${id} ${healthy[r] ? 'healthy' : 'unhealthy (health checks failing)'}`).join(', '));
      return healthy;
    },
    lastFailures: (r) => checks.lastFailures(r),
  };
}
