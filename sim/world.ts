/**
 * The world, stepped in time for one controller: demand arrives, DNS splits it between regions as
 * clients' resolvers cache the weighted answers (dns.ts), each region's serving units take the
 * requests one by one (region.ts, servingUnit.ts), CloudWatch publishes what the servers reported,
 * late and in parts (cloudwatch.ts), CloudWatch alarms are evaluated every minute on that view,
 * and the controller reads CloudWatch (and hears of alarm state changes, as the alarm handler does
 * in AWS) and writes Route 53.
 *
 * Every random draw is keyed by (seed, what, where, when), so every controller meets the same
 * noise (common random numbers) and the same scenario and seed give the same numbers.
 */
import { CloudWatchSim, DEFAULT_ALARM, type Datapoint } from './cloudwatch.js';
import { ClientDns } from './dns.js';
import { PROMPT_SAMPLES_PER_STEP } from './demand.js';
import type { RegionCondition } from './latencyModel.js';
import { hashString, Rng, streamSeed } from './random.js';
import { HIGH_RESOLUTION_SECONDS, RegionSim, type MinuteReport } from './region.js';
import type { RegionFleet } from './fleet.js';
import type { ServingUnit } from './servingUnit.js';
import type { Scenario } from './scenario.js';
import { PipelineSim, type RolloutMark } from './deployments.js';
import { percentileOf } from '../functions/core/config.js';
import type { AlarmState, ServiceState } from '../functions/core/types.js';

export const CONTROLLER_NAMES = ['steer53', 'static', 'route53-health-check', 'route53-alarm-health-check', 'naive-threshold', 'oracle'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/** One change of what DNS answers: a Route 53 API write, or a health-check status flip. */
export interface WeightWrite {
  /** Seconds from the scenario start. */
  readonly t: number;
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly kind: 'api' | 'health-check';
  readonly emergency: boolean;
  /** Why, in a few words (reason codes for steer53). */
  readonly why: string;
  /**
   * The reason code that ordered the write, as data (steer53: its decision's first endpoint
   * transition, else its first reason): what the benchmark's flaps are broken down by. Absent for
   * the baselines and the oracle; a health check's change is told by `kind`.
   */
  readonly cause?: string;
  /** Ordered by a deployment rollout (a pipeline's event, a canary step, a rollback): not a flap when it reverses a move. */
  readonly rollout?: boolean;
}

/**
 * What Route 53 answers from weighted records with health checks (Route 53 Developer Guide, "How
 * Amazon Route 53 chooses records when health checking is configured"): the healthy records with
 * nonzero weight, by weight; if none, the healthy zero-weight records, equally; if no record is
 * healthy, every record as if healthy (nonzero weights first again).
 */
export function answeredWeights(weights: readonly number[], healthy: readonly boolean[]): number[] {
  const live = weights.map((w, r) => (w > 0 && healthy[r] ? w : 0));
  if (live.some((w) => w > 0)) return live;
  const idle = weights.map((w, r) => (w === 0 && healthy[r] ? 1 : 0));
  if (idle.some((w) => w > 0)) return idle;
  return weights.some((w) => w > 0) ? [...weights] : weights.map(() => 1);
}

/**
 * Route 53 for one run: the record weights it holds (what a controller reads back), the health of
 * each record's health check when the records have them, and the answers clients get, which change
 * only after propagation and then as caches expire.
 */
export class Route53Sim {
  private current: number[];
  private health: boolean[];
  private answered: number[];
  readonly writes: WeightWrite[] = [];

  constructor(
    private readonly dns: ClientDns,
    initial: readonly number[],
  ) {
    this.current = [...initial];
    this.health = initial.map(() => true);
    this.answered = [...initial];
  }

  /** The record weights, as ListResourceRecordSets returns them (health does not change them). */
  get weights(): readonly number[] {
    return this.current;
  }

  /**
   * A ChangeResourceRecordSets call: reaches the authoritative servers over the same propagation as
   * a health-check status change (dns.ts), then resolvers as their caches expire. A write is a DNS
   * change even while health checks hold its effect back.
   */
  write(t: number, weights: readonly number[], meta: { emergency?: boolean; why: string; rollout?: boolean; cause?: string }): void {
    if (weights.every((w, i) => w === this.current[i])) return;
    this.current = [...weights];
    this.answer(t, { kind: 'api', ...meta });
  }

  /** The health checks' aggregated status changed: the answers may change, the records do not. Whether the answers changed. */
  setHealth(t: number, healthy: readonly boolean[], why: string): boolean {
    if (healthy.every((h, i) => h === this.health[i])) return false;
    this.health = [...healthy];
    if (answeredWeights(this.current, this.health).every((w, i) => w === this.answered[i])) return false;
    this.answer(t, { kind: 'health-check', why });
    return true;
  }

  private answer(t: number, meta: { kind: 'api' | 'health-check'; emergency?: boolean; why: string; rollout?: boolean; cause?: string }): void {
    const answered = answeredWeights(this.current, this.health);
    this.writes.push({
      t,
      before: this.answered,
      after: answered,
      kind: meta.kind,
      emergency: meta.emergency ?? false,
      why: meta.why,
      ...(meta.rollout ? { rollout: true } : {}),
      ...(meta.cause !== undefined ? { cause: meta.cause } : {}),
    });
    this.answered = answered;
    this.dns.publish(t, answered);
  }
}

/**
 * The truth of the world, for the oracle and for judging safety: never shown to other
 * controllers. With deployments, what an endpoint serves depends on the run's rollbacks: the
 * run's pipeline is applied over the scenario's conditions.
 */
export class WorldTruth {
  private readonly pipeline: PipelineSim | undefined;

  constructor(
    private readonly scenario: Scenario,
    pipeline?: PipelineSim,
    /** The run's fleets: where regions scale, the replicas in service follow what was asked. */
    private readonly fleets?: readonly RegionFleet<ServingUnit>[],
  ) {
    this.pipeline = pipeline?.hasDeployments ? pipeline : undefined;
  }

  /** Every region's condition during step s. */
  conditionsAtStep(s: number): readonly RegionCondition[] {
    const base = this.scenario.conditions[s]!;
    const pipeline = this.pipeline;
    if (!pipeline) return base;
    const t = (s + 0.5) * this.scenario.spec.stepSeconds;
    return base.map((c, r) => pipeline.condition(c, r, t));
  }

  condition(r: number, t: number): RegionCondition {
    const s = Math.min(this.scenario.steps - 1, Math.max(0, Math.floor(t / this.scenario.spec.stepSeconds)));
    return this.conditionsAtStep(s)[r]!;
  }

  /** Requests per second arriving on average over [t, t + window). */
  demandRate(t: number, windowSeconds = 300): number {
    const dt = this.scenario.spec.stepSeconds;
    const from = Math.max(0, Math.floor(t / dt));
    const to = Math.min(this.scenario.steps, Math.max(from + 1, Math.floor((t + windowSeconds) / dt)));
    let sum = 0;
    for (let s = from; s < to; s++) sum += this.scenario.demand.arrivals[s]!;
    return sum / ((to - from) * dt);
  }

  /**
   * Requests per second region r sustains at time t (0 when down): its serving replicas at the
   * demand's mix, slowed by its condition.
   */
  capacity(r: number, t: number): number {
    return this.capacityWith(r, t, this.fleets?.[r]?.inServiceAt(t) ?? this.scenario.regions[r]!.replicas);
  }

  /** The same with the region's configured replicas, whatever this run asked for (what the scenario threatens). */
  configuredCapacity(r: number, t: number): number {
    return this.capacityWith(r, t, this.scenario.regions[r]!.replicas);
  }

  /** Replicas in service in region r at time t in this run (the configured ones where nothing scales). */
  replicasInService(r: number, t: number): number {
    return this.fleets?.[r]?.inServiceAt(t) ?? this.scenario.regions[r]!.replicas;
  }

  private capacityWith(r: number, t: number, replicas: number): number {
    const c = this.condition(r, t);
    if (c.down) return 0;
    const region = this.scenario.regions[r]!;
    const active = Math.max(1, Math.min(replicas, Math.round(replicas * c.capacityFactor)));
    return (active * region.unitCapacityRps) / c.latencyFactor;
  }
}

export interface ControllerContext {
  readonly scenario: Scenario;
  readonly route53: Route53Sim;
  readonly cloudwatch: CloudWatchSim;
  /** Only the oracle may read this. */
  readonly truth: WorldTruth;
  /** The deployment pipelines: their events for a controller that takes them, and where it answers. */
  readonly pipeline: PipelineSim;
  /** The state a stateful controller ended the scenario's history with; it starts from it. */
  readonly warmState?: ServiceState;
  /**
   * Each region's replicas as its platform holds them (indexed as the endpoints): a controller that
   * scales asks them for replicas (steer53 through its capacity provider, the oracle directly).
   */
  readonly fleets: readonly RegionFleet<ServingUnit>[];
}

/** What a controller did at one evaluation, for the report. */
export interface EvaluationRecord {
  readonly t: number;
  /** Endpoint statuses after the evaluation (healthy/degraded/drained/recovering, or the controller's own words). */
  readonly statuses: readonly string[];
  readonly mode?: string;
  readonly reasons: readonly string[];
  /** Per endpoint, the verdict and its signals as the controller judged them (steer53). */
  readonly verdicts?: readonly string[];
  /** What the rollout reasons said, in full (steer53: deployment events, canary steps and judgements). */
  readonly rollout?: readonly string[];
}

/** A CloudWatch alarm of one of the policy's alarm signals changed state (what EventBridge delivers to the alarm handler). */
export interface AlarmChange {
  readonly alarm: string;
  /** The region index of the endpoint whose signal names the alarm. */
  readonly region: number;
  readonly state: AlarmState;
  readonly previous: AlarmState;
}

/** A controller asked a region to hold a number of replicas (for the report and the tests). */
export interface CapacityAskRecord {
  /** Seconds from the scenario start. */
  readonly t: number;
  readonly endpoint: string;
  readonly desired: number;
  readonly direction: 'out' | 'in';
  readonly reason: string;
}

export interface Controller {
  readonly name: ControllerName;
  /** The replicas it asked regions for, in time order (controllers that scale). */
  readonly capacityAsks?: readonly CapacityAskRecord[];
  /** Called at every step boundary; the controller decides when it evaluates. */
  tick(t: number): void | Promise<void>;
  /** Alarm state changes, delivered before the step's tick (as EventBridge delivers them within seconds). */
  alarmsChanged?(t: number, changes: readonly AlarmChange[]): void | Promise<void>;
  readonly evaluations: EvaluationRecord[];
  /** The controller's state at the end of the run, for a run that follows it (steer53's engine state). */
  state?(): Promise<ServiceState | undefined>;
}

export type ControllerFactory = (context: ControllerContext) => Controller;

/** Per-minute series of one run, for metrics and the report. */
export interface RunSeries {
  /** [region][minute] */
  readonly requests: Float64Array[];
  readonly failed: Float64Array[];
  readonly missed: Float64Array[];
  /** True p99 time to first token (ms) of the minute's first tokens; NaN without any. */
  readonly p99: Float64Array[];
  /** Share of the service's requests that reached the region (where clients went, not the weights). */
  readonly share: Float64Array[];
  /** GPU utilisation (%) and KV-cache usage (%) as the servers reported them; queue depth per replica. */
  readonly gpu: Float64Array[];
  readonly kvCache: Float64Array[];
  readonly queue: Float64Array[];
  /** Replicas in service at the end of the minute (provisioned and warm), and asked for. */
  readonly replicas: Float64Array[];
  readonly desiredReplicas: Float64Array[];
}

/** What one region's replicas cost in one run. */
export interface RegionInstanceUse {
  /** Replica-seconds billed: every replica from its launch (the configured ones from the start) until it left. */
  readonly instanceSeconds: number;
  /** The configured replicas over the run: what it costs when nothing is asked. */
  readonly configuredSeconds: number;
}

export interface RunResult {
  readonly controller: ControllerName;
  readonly totalRequests: number;
  /** Requests that failed outright (errors, down, timeouts). */
  readonly totalFailed: number;
  /** Successful requests slower than the SLO. */
  readonly totalMissed: number;
  readonly writes: readonly WeightWrite[];
  readonly evaluations: readonly EvaluationRecord[];
  readonly series: RunSeries;
  readonly cloudwatch: CloudWatchSim;
  readonly minutes: number;
  /** The run's truth (its deployments rolled back when this controller made them). */
  readonly truth: WorldTruth;
  /** Pipeline events and rollout events, in time order. */
  readonly rollout: readonly RolloutMark[];
  /** Per deployment: the largest share of the service's requests its new version served in one step, and how many. */
  readonly newVersionServed: readonly { readonly maxShare: number; readonly requests: number }[];
  /** When the run's last harm ended (deployments rolled back in this run); null without harm. */
  readonly harmEnd: number | null;
  /** The controller's state at the end (stateful controllers only). */
  readonly finalState?: ServiceState | undefined;
  /** Per region, the replicas it held and what they cost. */
  readonly instances: readonly RegionInstanceUse[];
  /** What the controller asked the regions for. */
  readonly capacityAsks: readonly CapacityAskRecord[];
}

/** The latency percentiles every datapoint carries: the report's, every signal's and every alarm's. */
function percentileList(scenario: Scenario): number[] {
  const set = new Set<number>([50, 95, 99]);
  for (const alarm of scenario.alarms.values()) if (alarm.metric === 'p95LatencyMs') set.add(95);
  for (const endpoint of scenario.service.endpoints) {
    for (const signal of endpoint.signals) {
      if (signal.source !== 'metric') continue;
      const p = percentileOf(signal.metric.statistic);
      if (p !== undefined) set.add(p);
    }
  }
  // The canary's statistic, read beside the rollout latency signal (core/canaryLatency.ts).
  const canary = percentileOf(scenario.service.policy.rollout.canary.statistic);
  if (canary !== undefined) set.add(canary);
  return [...set].sort((a, b) => a - b);
}

const REGION_KEY = hashString('region');
const MINUTE_KEY = hashString('minute');

/** One alarm a policy's alarm signal names, on one region, and its last evaluated state. */
interface WatchedAlarm {
  readonly alarm: string;
  readonly region: number;
  readonly model: import('./scenarioSchema.js').AlarmModel;
  state: AlarmState;
}

function watchedAlarms(scenario: Scenario): WatchedAlarm[] {
  const watched: WatchedAlarm[] = [];
  scenario.service.endpoints.forEach((endpoint, r) => {
    for (const signal of endpoint.signals) {
      if (signal.source !== 'alarm') continue;
      const alarm = signal.alarm.name ?? signal.alarm.arn ?? signal.name;
      watched.push({ alarm, region: r, model: scenario.alarms.get(alarm) ?? DEFAULT_ALARM, state: 'INSUFFICIENT_DATA' });
    }
  });
  return watched;
}

function emptySeries(regions: number, minutes: number): RunSeries {
  const make = (fill = 0) => Array.from({ length: regions }, () => new Float64Array(minutes).fill(fill));
  return {
    requests: make(),
    failed: make(),
    missed: make(),
    p99: make(Number.NaN),
    share: make(),
    gpu: make(Number.NaN),
    kvCache: make(Number.NaN),
    queue: make(Number.NaN),
    replicas: make(),
    desiredReplicas: make(),
  };
}

/** What the servers reported for a minute, as CloudWatch will publish it. */
function datapointOf(report: MinuteReport, percentiles: readonly number[], busyShare: number, noise: number): Datapoint {
  const down = report.downSteps === report.steps;
  const gpu = down || report.replicaSeconds <= 0 ? null : Math.min(100, Math.max(0, (100 * busyShare * report.gpuBusySeconds) / report.replicaSeconds + noise));
  return {
    requests: report.requests,
    serverErrors: report.serverErrors,
    sampleCount: report.ttft.count,
    latencyPercentiles: Float64Array.from(percentiles, (p) => report.ttft.percentile(p)),
    latencyAverage: report.ttft.mean,
    latencyMaximum: report.ttft.count > 0 ? report.ttft.max : Number.NaN,
    latencyMinimum: report.ttft.count > 0 ? report.ttft.min : Number.NaN,
    gpuUtilization: gpu,
    queueDepth: down || report.samples === 0 ? null : report.queueSum / report.samples,
    kvCacheUsage: down || report.samples === 0 ? null : (100 * report.kvSum) / report.samples,
  };
}

/** Runs the scenario's world under one controller. */
export async function runWorld(scenario: Scenario, factory: ControllerFactory, options: { readonly warmState?: ServiceState } = {}): Promise<RunResult> {
  const spec = scenario.spec;
  const dt = spec.stepSeconds;
  const steps = scenario.steps;
  const regionCount = scenario.endpoints.length;
  const minutes = Math.ceil((steps * dt) / 60);
  const stepsPerMinute = 60 / dt;

  const dns = new ClientDns({ ...spec.dns }, scenario.baselineWeights, spec.seed);
  const route53 = new Route53Sim(dns, scenario.baselineWeights);
  const percentiles = percentileList(scenario);
  const cloudwatch = new CloudWatchSim(regionCount, percentiles, spec.cloudwatch.publicationDelay, spec.seed, spec.cloudwatch.highResolutionDelay);
  const alarms = watchedAlarms(scenario);
  // High-resolution alarms: the servers publish every 10 s too, and CloudWatch evaluates every 10 s.
  const highResolution = alarms.some((a) => a.model.periodSeconds < 60);
  const stepsPerBin = HIGH_RESOLUTION_SECONDS / dt;
  const pipeline = new PipelineSim(scenario.deployments, scenario.startMs);
  const regions = scenario.regions.map(
    (region, r) =>
      new RegionSim({
        model: region.unit,
        replicas: region.replicas,
        networkLatencyMs: region.spec.networkLatencyMs,
        sloMs: spec.slo.latencyMs,
        timeoutSeconds: spec.requestTimeoutSeconds,
        seed: spec.seed,
        key: streamSeed(REGION_KEY, hashString(scenario.endpoints[r]!)),
        name: scenario.endpoints[r]!,
        scaling: region.scaling,
        highResolution,
      }),
  );
  const fleets = regions.map((region) => region.fleet);
  const truth = new WorldTruth(scenario, pipeline, fleets);
  const controller = factory({ scenario, route53, cloudwatch, truth, pipeline, fleets, ...(options.warmState ? { warmState: options.warmState } : {}) });
  const newVersionServed = scenario.deployments.map(() => ({ maxShare: 0, requests: 0 }));
  const series = emptySeries(regionCount, minutes);
  const minuteRng = new Rng(0);
  const shares = new Float64Array(regionCount);
  const totals = { requests: 0, failed: 0, missed: 0 };

  for (let s = 0; s < steps; s++) {
    const t = s * dt;
    const m = Math.floor(t / 60);
    pipeline.advance(t);
    // CloudWatch evaluates alarms once a minute (high-resolution ones every 10 s); a change reaches
    // the controller's alarm handler at once.
    if (s % (highResolution ? stepsPerBin : stepsPerMinute) === 0 && alarms.length > 0 && controller.alarmsChanged) {
      const changes = evaluateAlarms(alarms, cloudwatch, t);
      if (changes.length > 0) await controller.alarmsChanged(t, changes);
    }
    const pending = controller.tick(t);
    if (pending) await pending;
    dns.sharesAt(t + dt / 2, shares);
    const arrivals = scenario.demand.arrivals[s]!;
    const conditions = truth.conditionsAtStep(s);
    trackNewVersion(scenario, pipeline, newVersionServed, t + dt / 2, shares, arrivals);
    const mix = { prompts: scenario.demand.prompts, outputs: scenario.demand.outputs, offset: s * PROMPT_SAMPLES_PER_STEP, size: PROMPT_SAMPLES_PER_STEP };
    for (let r = 0; r < regionCount; r++) {
      regions[r]!.step(s, t, dt, arrivals * shares[r]!, conditions[r]!, mix);
      series.share[r]![m]! += shares[r]! / stepsPerMinute;
    }
    // Ten seconds are complete: the servers' high-resolution reports go to CloudWatch.
    if (highResolution && ((s + 1) % stepsPerBin === 0 || s === steps - 1)) {
      const bin = Math.floor(t / HIGH_RESOLUTION_SECONDS);
      for (let r = 0; r < regionCount; r++) {
        const report = regions[r]!.takeHighResolutionReport(bin);
        cloudwatch.publishHighResolution(r, bin, conditions[r]!.metricsMissing ? null : report);
      }
    }
    // A minute is complete: the servers' reports go to CloudWatch.
    if ((s + 1) % stepsPerMinute === 0 || s === steps - 1) {
      for (let r = 0; r < regionCount; r++) publishMinute(r, m, regions[r]!.takeReport(m), conditions[r]!);
    }
  }

  function publishMinute(r: number, m: number, report: MinuteReport, condition: RegionCondition): void {
    minuteRng.reseed(streamSeed(spec.seed, MINUTE_KEY, r, m));
    const lost = condition.metricsMissing || minuteRng.next() < spec.cloudwatch.missingProbability;
    const point = datapointOf(report, percentiles, scenario.regions[r]!.unit.params.gpuBusyShare, 1.5 * minuteRng.normal());
    cloudwatch.publish(r, m, lost ? null : point, lost ? null : report.ttft);
    const failed = report.serverErrors + report.timedOut;
    series.requests[r]![m] = report.requests;
    series.failed[r]![m] = failed;
    series.missed[r]![m] = report.late;
    series.p99[r]![m] = report.ttft.count > 0 ? report.ttft.percentile(99) : Number.NaN;
    series.gpu[r]![m] = point.gpuUtilization ?? Number.NaN;
    series.kvCache[r]![m] = point.kvCacheUsage ?? Number.NaN;
    series.queue[r]![m] = point.queueDepth ?? Number.NaN;
    series.replicas[r]![m] = fleets[r]!.inServiceCount;
    series.desiredReplicas[r]![m] = fleets[r]!.desired;
    totals.requests += report.requests;
    totals.failed += failed;
    totals.missed += report.late;
  }

  return {
    controller: controller.name,
    totalRequests: totals.requests,
    totalFailed: totals.failed,
    totalMissed: totals.missed,
    writes: route53.writes,
    evaluations: controller.evaluations,
    series,
    cloudwatch,
    minutes,
    truth,
    rollout: pipeline.marks,
    newVersionServed,
    harmEnd: runHarmEnd(scenario, pipeline),
    finalState: await controller.state?.(),
    capacityAsks: controller.capacityAsks ?? [],
    instances: fleets.map((fleet, r) => ({
      instanceSeconds: fleet.instanceSeconds(steps * dt),
      configuredSeconds: scenario.regions[r]!.replicas * steps * dt,
    })),
  };
}

/** Every watched alarm evaluated at t; the ones whose state changed. */
function evaluateAlarms(alarms: WatchedAlarm[], cloudwatch: CloudWatchSim, t: number): AlarmChange[] {
  const changes: AlarmChange[] = [];
  for (const watched of alarms) {
    const state = cloudwatch.alarmState(watched.model, watched.region, t);
    if (state === watched.state) continue;
    changes.push({ alarm: watched.alarm, region: watched.region, state, previous: watched.state });
    watched.state = state;
  }
  return changes;
}

/** Per deployment, the largest share of requests its new version served in one step, and how many. */
function trackNewVersion(
  scenario: Scenario,
  pipeline: PipelineSim,
  served: { maxShare: number; requests: number }[],
  t: number,
  shares: Float64Array,
  arrivals: number,
): void {
  for (let i = 0; i < scenario.deployments.length; i++) {
    if (pipeline.serving(i, t) !== 'new') continue;
    const r = scenario.deployments[i]!.region;
    const record = served[i]!;
    record.maxShare = Math.max(record.maxShare, shares[r]!);
    record.requests += arrivals * shares[r]!;
  }
}

/** The scenario's harm window, with each bad version's harm ending when this run rolled it back. */
function runHarmEnd(scenario: Scenario, pipeline: PipelineSim): number | null {
  if (scenario.harmEnd === null) return null;
  if (!scenario.deployments.some((d) => d.badVersion)) return scenario.harmEnd;
  const ends = [
    ...scenario.incidents.filter((i) => i.harmful).map((i) => i.end),
    ...scenario.spec.demand.sources.flatMap((s) => s.shapes.map((shape) => shape.start + shape.ramp + shape.hold + shape.decay)),
    ...scenario.deployments.flatMap((d, i) =>
      !d.harmful ? [] : [d.badVersion ? Math.min(pipeline.rolledBack(i) ?? Infinity, scenario.spec.duration) : d.outcomeAt],
    ),
  ];
  return Math.max(...ends);
}
