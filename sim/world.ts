/**
 * The world, stepped in time for one controller: demand arrives, DNS splits it between regions as
 * clients' cached answers say, each region queues and serves it (latencyModel.ts), CloudWatch
 * publishes what it saw each minute, and the controller reads CloudWatch and writes Route 53.
 *
 * Every random draw is keyed by (seed, region, step), so every controller meets the same noise
 * (common random numbers) and the same scenario and seed give the same numbers.
 */
import { CloudWatchSim, type Datapoint } from './cloudwatch.js';
import { ClientDns, sharesOf } from './dns.js';
import { PROMPT_SAMPLES_PER_STEP } from './demand.js';
import { CALIBRATION, REFERENCE_SERVICE_SECONDS, type RegionCondition } from './latencyModel.js';
import { EXPONENTIAL_TABLE, Rng, hashString, lognormalTable, percentile, streamSeed } from './random.js';
import type { Scenario } from './scenario.js';
import { PipelineSim, type RolloutMark } from './deployments.js';
import { percentileOf } from '../functions/core/config.js';
import type { ServiceState } from '../functions/core/types.js';

export const CONTROLLER_NAMES = ['steer53', 'static', 'route53-health-check', 'naive-threshold', 'oracle'] as const;
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
  /** Ordered by a deployment rollout (a pipeline's event, a canary step, a rollback): not a flap when it reverses a move. */
  readonly rollout?: boolean;
}

/**
 * Route 53 for one run: the weights it holds (what a controller reads back) and the answers
 * clients get, which change only after propagation and then as caches expire.
 */
export class Route53Sim {
  private current: number[];
  readonly writes: WeightWrite[] = [];

  constructor(
    private readonly dns: ClientDns,
    initial: readonly number[],
    private readonly propagationSeconds: number,
  ) {
    this.current = [...initial];
  }

  get weights(): readonly number[] {
    return this.current;
  }

  /** A ChangeResourceRecordSets call: visible to resolvers after the propagation delay. */
  write(
    t: number,
    weights: readonly number[],
    meta: { emergency?: boolean; why: string; kind?: 'api' | 'health-check'; delaySeconds?: number; rollout?: boolean },
  ): void {
    if (weights.every((w, i) => w === this.current[i])) return;
    this.writes.push({
      t,
      before: this.current,
      after: [...weights],
      kind: meta.kind ?? 'api',
      emergency: meta.emergency ?? false,
      why: meta.why,
      ...(meta.rollout ? { rollout: true } : {}),
    });
    this.current = [...weights];
    this.dns.publish(t + (meta.delaySeconds ?? this.propagationSeconds), sharesOf(weights));
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

  /** Work per second (reference requests) arriving on average over [t, t + window). */
  workRate(t: number, windowSeconds = 300): number {
    const dt = this.scenario.spec.stepSeconds;
    const from = Math.max(0, Math.floor(t / dt));
    const to = Math.min(this.scenario.steps, Math.max(from + 1, Math.floor((t + windowSeconds) / dt)));
    let sum = 0;
    for (let s = from; s < to; s++) sum += this.scenario.demand.work[s]!;
    return sum / ((to - from) * dt);
  }

  /** Warm capacity of region r at time t, in reference requests per second (0 when down). */
  capacity(r: number, t: number): number {
    const c = this.condition(r, t);
    return c.down ? 0 : this.scenario.regions[r]!.spec.warmRps * c.capacityFactor;
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

export interface Controller {
  readonly name: ControllerName;
  /** Called at every step boundary; the controller decides when it evaluates. */
  tick(t: number): void | Promise<void>;
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
  /** True p99 (ms) of successful requests; NaN without any. */
  readonly p99: Float64Array[];
  /** Share of the service's requests that reached the region. */
  readonly share: Float64Array[];
  readonly gpu: Float64Array[];
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
}

/** The latency percentiles every datapoint carries: the report's, and every signal's. */
function percentileList(scenario: Scenario): number[] {
  const set = new Set<number>([99]);
  for (const alarm of scenario.alarms.values()) if (alarm.metric === 'p95LatencyMs') set.add(95);
  for (const endpoint of scenario.service.endpoints) {
    for (const signal of endpoint.signals) {
      if (signal.source !== 'metric') continue;
      const p = percentileOf(signal.metric.statistic);
      if (p !== undefined) set.add(p);
    }
  }
  return [...set].sort((a, b) => a - b);
}

const REGION_KEY = hashString('region');
const PROMPT_MASK = PROMPT_SAMPLES_PER_STEP - 1;
const MINUTE_KEY = hashString('minute');

/** Runs the scenario's world under one controller. */
export async function runWorld(scenario: Scenario, factory: ControllerFactory, options: { readonly warmState?: ServiceState } = {}): Promise<RunResult> {
  const spec = scenario.spec;
  const dt = spec.stepSeconds;
  const steps = scenario.steps;
  const regionCount = scenario.endpoints.length;
  const minutes = Math.ceil((steps * dt) / 60);
  const stepsPerMinute = 60 / dt;
  const sloMs = spec.slo.latencyMs;
  const timeoutMs = spec.requestTimeoutSeconds * 1000;

  const dns = new ClientDns(
    { ttlSeconds: spec.dns.ttlSeconds, staleFraction: spec.dns.staleFraction, staleTailSeconds: spec.dns.staleTailSeconds },
    sharesOf(scenario.baselineWeights),
  );
  const route53 = new Route53Sim(dns, scenario.baselineWeights, spec.dns.propagationSeconds);
  const percentiles = percentileList(scenario);
  const cloudwatch = new CloudWatchSim(regionCount, percentiles, spec.cloudwatch.reportingDelaySeconds);
  const pipeline = new PipelineSim(scenario.deployments, scenario.startMs);
  const truth = new WorldTruth(scenario, pipeline);
  const controller = factory({ scenario, route53, cloudwatch, truth, pipeline, ...(options.warmState ? { warmState: options.warmState } : {}) });
  const newVersionServed = scenario.deployments.map(() => ({ maxShare: 0, requests: 0 }));

  const series: RunSeries = {
    requests: Array.from({ length: regionCount }, () => new Float64Array(minutes)),
    failed: Array.from({ length: regionCount }, () => new Float64Array(minutes)),
    missed: Array.from({ length: regionCount }, () => new Float64Array(minutes)),
    p99: Array.from({ length: regionCount }, () => new Float64Array(minutes).fill(NaN)),
    share: Array.from({ length: regionCount }, () => new Float64Array(minutes)),
    gpu: Array.from({ length: regionCount }, () => new Float64Array(minutes)),
  };

  // Per-region running state.
  const backlog = new Float64Array(regionCount); // queued work, reference requests
  const reservoirSize = spec.samplesPerMinute;
  const quota = Math.max(1, Math.ceil((reservoirSize * dt) / 60));
  const reservoirs = Array.from({ length: regionCount }, () => new Float64Array(quota * stepsPerMinute));
  const filled = new Int32Array(regionCount);
  const latencyCount = new Float64Array(regionCount);
  const busySum = new Float64Array(regionCount);
  const queueSum = new Float64Array(regionCount);
  const latSum = new Float64Array(regionCount);
  const latMax = new Float64Array(regionCount);
  const latMin = new Float64Array(regionCount).fill(Infinity);
  const downSteps = new Int32Array(regionCount);
  const serverErrors = new Float64Array(regionCount);
  const shares = new Float64Array(regionCount);
  const regionKeys = scenario.endpoints.map((id) => hashString(id));
  const rng = new Rng(0);
  const minuteRng = new Rng(0);
  const noiseTables = scenario.regions.map((region) => lognormalTable(region.spec.latencyNoiseSigma));
  const prefill = new Float64Array(PROMPT_SAMPLES_PER_STEP);

  let totalRequests = 0;
  let totalFailed = 0;
  let totalMissed = 0;

  for (let s = 0; s < steps; s++) {
    const t = s * dt;
    const m = Math.floor(t / 60);
    pipeline.advance(t);
    const pending = controller.tick(t);
    if (pending) await pending;
    dns.sharesAt(t + dt / 2, shares);
    const arrivals = scenario.demand.arrivals[s]!;
    const work = scenario.demand.work[s]!;
    const conditions = truth.conditionsAtStep(s);
    for (let i = 0; i < scenario.deployments.length; i++) {
      if (pipeline.serving(i, t + dt / 2) !== 'new') continue;
      const r = scenario.deployments[i]!.region;
      const served = newVersionServed[i]!;
      served.maxShare = Math.max(served.maxShare, shares[r]!);
      served.requests += arrivals * shares[r]!;
    }
    const promptBase = s * PROMPT_SAMPLES_PER_STEP;
    const meanWorkPerRequest = arrivals > 0 ? work / arrivals : 1;

    for (let r = 0; r < regionCount; r++) {
      const region = scenario.regions[r]!;
      const condition = conditions[r]!;
      const n = arrivals * shares[r]!;
      const offered = work * shares[r]!;
      series.requests[r]![m]! += n;
      series.share[r]![m]! += shares[r]! / stepsPerMinute;
      totalRequests += n;

      if (condition.down) {
        // Hard down: connections fail; the queue empties with the instances.
        series.failed[r]![m]! += n;
        serverErrors[r]! += n;
        totalFailed += n;
        backlog[r] = 0;
        downSteps[r]!++;
        continue;
      }

      const rate = region.spec.warmRps * condition.capacityFactor; // reference requests per second
      const capacity = rate * dt;
      const before = backlog[r]!;
      const total = before + offered;
      const served = Math.min(total, capacity);
      let after = total - served;
      // Clients give up after the timeout: the queue holds at most that much work.
      const maxBacklog = rate * spec.requestTimeoutSeconds;
      let dropped = 0;
      if (after > maxBacklog) {
        dropped = offered > 0 ? Math.min(1, (after - maxBacklog) / offered) : 0;
        after = maxBacklog;
      }
      backlog[r] = after;
      const rho = offered / capacity;
      const busy = Math.min(1, served / capacity);
      busySum[r]! += busy;
      const backlogWaitMs = ((before + after) / 2 / rate) * 1000;
      const pWait = region.wait.probabilityOfWait(rho);
      const meanWaitMs = region.wait.meanWaitSeconds(rho, REFERENCE_SERVICE_SECONDS) * 1000;
      // Requests waiting: the backlog, plus the Erlang queue (Lq = C·ρ / (1 − ρ)).
      const rhoQ = Math.min(rho, 0.999);
      queueSum[r]! += after / meanWorkPerRequest + (pWait * rhoQ) / (1 - rhoQ);

      const errorFailed = n * condition.errorRate;
      serverErrors[r]! += errorFailed;
      const droppedFailed = (n - errorFailed) * dropped;
      const ok = n - errorFailed - droppedFailed;
      let failed = errorFailed + droppedFailed;

      // Sample request latencies: at most `quota` per step, each standing for ok/k requests.
      rng.reseed(streamSeed(spec.seed, REGION_KEY, regionKeys[r]!, s));
      const whole = Math.floor(ok);
      const k = Math.min(quota, whole + (rng.next() < ok - whole ? 1 : 0));
      let missed = 0;
      if (k > 0) {
        const weight = ok / k;
        const slowdown = (1 + CALIBRATION.batchSlowdown * busy) * condition.latencyFactor * region.spec.latencyFactor;
        const fixedMs = region.spec.networkLatencyMs + condition.addedLatencyMs + backlogWaitMs;
        const noise = noiseTables[r]!;
        const reservoir = reservoirs[r]!;
        // This step's prefill times, before noise: one per sampled prompt length.
        for (let i = 0; i < PROMPT_SAMPLES_PER_STEP; i++) {
          prefill[i] = (CALIBRATION.prefillBaseMs + (CALIBRATION.prefillMsPerKiloToken * scenario.demand.prompts[promptBase + i]!) / 1000) * slowdown;
        }
        // The chance of queueing for a slot, in 16-bit units (one draw decides it and the wait).
        // Below 1 in 10,000 it cannot move a percentile or the miss count: no second draw.
        const waitThreshold = pWait * 65536;
        const queueing = pWait >= 1e-4;
        let late = 0;
        let timedOut = 0;
        let f = filled[r]!;
        let sum = 0;
        let max = latMax[r]!;
        let min = latMin[r]!;
        const capacityOfReservoir = reservoir.length;
        for (let i = 0; i < k; i++) {
          // One 32-bit draw: 16 bits of noise, 16 bits for the prompt; another: queueing and its wait.
          const a = rng.nextUint32();
          let latency = prefill[(a >>> 16) & PROMPT_MASK]! * noise[a & 0xffff]! + fixedMs;
          if (queueing) {
            const b = rng.nextUint32();
            if (b >>> 16 < waitThreshold) latency += EXPONENTIAL_TABLE[b & 0xffff]! * meanWaitMs;
          }
          if (latency >= timeoutMs) {
            // The client gave up: a failure, and the server saw a request run that long.
            timedOut++;
            latency = timeoutMs;
          } else if (latency > sloMs) late++;
          if (f < capacityOfReservoir) reservoir[f++] = latency;
          sum += latency;
          if (latency > max) max = latency;
          if (latency < min) min = latency;
        }
        filled[r] = f;
        latSum[r]! += sum * weight;
        latMax[r] = max;
        latMin[r] = min;
        missed = late * weight;
        failed += timedOut * weight;
        latencyCount[r]! += k * weight;
      }
      series.failed[r]![m]! += failed;
      series.missed[r]![m]! += missed;
      totalFailed += failed;
      totalMissed += missed;
    }

    // A minute is complete: publish its datapoints.
    if ((s + 1) % stepsPerMinute === 0 || s === steps - 1) {
      const stepsInMinute = (s % stepsPerMinute) + 1;
      for (let r = 0; r < regionCount; r++) {
        const condition = conditions[r]!;
        minuteRng.reseed(streamSeed(spec.seed, MINUTE_KEY, regionKeys[r]!, m));
        const lost = condition.metricsMissing || minuteRng.next() < spec.cloudwatch.missingProbability;
        const n = filled[r]!;
        const values = new Float64Array(percentiles.length);
        const reservoir = reservoirs[r]!;
        // Highest first: after each selection everything above the rank is ≥ it, so the next
        // (lower) percentile is selected within the remaining prefix.
        for (let i = percentiles.length - 1; i >= 0; i--) values[i] = n > 0 ? percentile(reservoir, n, percentiles[i]!) : NaN;
        series.p99[r]![m] = n > 0 ? values[percentiles.indexOf(99)]! : NaN;
        const allDown = downSteps[r] === stepsInMinute;
        const gpu = allDown ? null : Math.min(100, Math.max(0, (100 * busySum[r]!) / stepsInMinute + 1.5 * minuteRng.normal()));
        series.gpu[r]![m] = gpu ?? NaN;
        const point: Datapoint = {
          requests: series.requests[r]![m]!,
          serverErrors: serverErrors[r]!,
          sampleCount: Math.round(latencyCount[r]!),
          latencyPercentiles: values,
          latencyAverage: latencyCount[r]! > 0 ? latSum[r]! / latencyCount[r]! : NaN,
          latencyMaximum: n > 0 ? latMax[r]! : NaN,
          latencyMinimum: n > 0 ? latMin[r]! : NaN,
          gpuUtilization: gpu,
          queueDepth: allDown ? null : queueSum[r]! / stepsInMinute,
          kvCacheUsage: allDown ? null : Math.min(100, (92 * busySum[r]!) / stepsInMinute + (backlog[r]! > 0 ? 8 : 0)),
        };
        cloudwatch.publish(r, m, lost ? null : point);
        filled[r] = 0;
        latencyCount[r] = 0;
        busySum[r] = 0;
        queueSum[r] = 0;
        latSum[r] = 0;
        latMax[r] = 0;
        latMin[r] = Infinity;
        downSteps[r] = 0;
        serverErrors[r] = 0;
      }
    }
  }

  return {
    controller: controller.name,
    totalRequests,
    totalFailed,
    totalMissed,
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
  };
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
