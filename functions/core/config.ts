/**
 * The policy config: one zod schema that the CDK app, the Lambda handlers, the CLI and the
 * simulator all parse with. Every object is strict (an unknown key is a typo, and a typo in a
 * traffic policy must fail loudly, not be ignored), and every setting has a documented default.
 */
import * as z from 'zod';
import { problemsOf, type ValidationProblem } from './validationProblems.js';
import { percentileOf } from './percentiles.js';
import { isCron } from './drills.js';
import { expandPresetSignal, presetSignalSchemas } from './presets.js';
import {
  alarmSignalSchema,
  keyNameSchema,
  metricQuerySchema,
  metricSignalSchema,
  regionSchema,
  statisticSchema,
  type AlarmSignal,
  type MetricSignal,
} from './signals.js';

export { defaultMinSamples, percentileOf, statisticSchema, metricQuerySchema, type MetricQuery } from './signals.js';

const rawSignalSchema = z.discriminatedUnion('source', [metricSignalSchema, alarmSignalSchema, ...presetSignalSchemas]);

function checkThresholds(signal: { trip: number; clear: number; direction: 'higher-is-worse' | 'lower-is-worse' }, ctx: z.RefinementCtx): void {
  if (signal.direction === 'higher-is-worse' && !(signal.clear < signal.trip)) {
    ctx.addIssue({ code: 'custom', path: ['clear'], message: `must be below trip (${signal.trip})` });
  }
  if (signal.direction === 'lower-is-worse' && !(signal.clear > signal.trip)) {
    ctx.addIssue({ code: 'custom', path: ['clear'], message: `must be above trip (${signal.trip})` });
  }
}

/** A per-request share: an Average of 0/1 samples, worse when higher, its trip a share of requests. */
function checkPerRequest(signal: MetricSignal, ctx: z.RefinementCtx): void {
  if (signal.metric.statistic !== 'Average') {
    ctx.addIssue({ code: 'custom', path: ['metric', 'statistic'], message: 'must be Average with perRequest (the share of requests that failed)' });
  }
  if (signal.direction !== 'higher-is-worse') ctx.addIssue({ code: 'custom', path: ['direction'], message: 'must be higher-is-worse with perRequest' });
  const share = signal.trip / signal.scale;
  if (!(share > 0 && share < 1)) {
    ctx.addIssue({
      code: 'custom',
      path: ['trip'],
      message: `must be a share of requests between 0 and 1 once divided by scale (${signal.scale}); it is ${share}`,
    });
  }
}

/** A signal as the engine and adapters see it: presets expanded, defaults applied. */
export const signalSchema = rawSignalSchema
  .superRefine((signal, ctx) => {
    if (signal.source === 'alarm') return;
    checkThresholds({ trip: signal.trip, clear: signal.clear, direction: 'direction' in signal ? signal.direction : 'higher-is-worse' }, ctx);
    if (signal.source === 'metric' && signal.perRequest === true) checkPerRequest(signal, ctx);
  })
  .transform((signal) => (signal.source === 'metric' || signal.source === 'alarm' ? signal : expandPresetSignal(signal)));
export type SignalInput = z.input<typeof signalSchema>;

export type { AlarmSignal, MetricSignal } from './signals.js';
export type Signal = MetricSignal | AlarmSignal;

const instanceCountSchema = z.number().int({ error: 'must be a whole number of instances' }).min(0).max(10_000);

/**
 * Where an endpoint's instances come from, so steer53 can ask for more before it moves traffic in
 * (docs/runtime.md, "Capacity handshake"). One adapter per kind (functions/adapters/aws/capacity*).
 */
export const capacityProviderSchema = z.discriminatedUnion('kind', [
  /** A SageMaker real-time endpoint's production variant: its Application Auto Scaling scalable target's MinCapacity is raised; CurrentInstanceCount is read. */
  z.strictObject({
    kind: z.literal('sagemaker-variant'),
    endpointName: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, { error: 'must be a SageMaker endpoint name' }),
    /** @default 'AllTraffic' */
    variantName: z
      .string()
      .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, { error: 'must be a SageMaker variant name' })
      .default('AllTraffic'),
  }),
  /** An ECS service: its desired count is raised; its running count is read. */
  z.strictObject({
    kind: z.literal('ecs-service'),
    cluster: z.string().regex(/^[a-zA-Z0-9_-]{1,255}$/, { error: 'must be an ECS cluster name' }),
    service: z.string().regex(/^[a-zA-Z0-9_-]{1,255}$/, { error: 'must be an ECS service name' }),
  }),
  /** An EC2 Auto Scaling group: its desired capacity is raised; its InService instances are counted. */
  z.strictObject({
    kind: z.literal('ec2-asg'),
    autoScalingGroupName: z.string().regex(/^[^:]{1,255}$/, { error: 'must be an Auto Scaling group name (no colon)' }),
  }),
  /**
   * Anything else (EKS with Karpenter, a fleet of its own): steer53 publishes a `Capacity
   * Requested` event on its event bus for the user's automation, and reads the instances in
   * service from a CloudWatch metric the user publishes.
   */
  z.strictObject({
    kind: z.literal('generic'),
    /** The metric whose latest value is the number of instances in service (statistic Maximum is usual). */
    inService: metricQuerySchema,
  }),
]);
export type CapacityProviderConfig = z.output<typeof capacityProviderSchema>;

/** The capacity handshake of one endpoint: which provider, and the bounds steer53 keeps to. */
export const scalingSchema = z
  .strictObject({
    provider: capacityProviderSchema,
    /** Never ask for more instances than this. */
    maxInstances: instanceCountSchema.pipe(z.number().min(1)),
    /** Never give back below this (nor below what the endpoint had before steer53 asked). @default 0 */
    minInstances: instanceCountSchema.default(0),
    /** Most instances one request adds. @default maxInstances */
    stepInstances: instanceCountSchema.pipe(z.number().min(1)).optional(),
    /**
     * Requests per second one instance serves warm at its SLO. @default the endpoint's `warmRps`
     * divided by the instances in service when steer53 first reads the endpoint
     */
    perInstanceRps: z.number().positive().optional(),
    /** Capacity asked for and not in service after this long is taken as unobtainable (quota, insufficient capacity): told, and planned without. @default 900 */
    timeoutSeconds: z.number().int().min(60).max(86_400).default(900),
    /** Least time after an ask for more before any of it is given back (give-backs that follow one another do not wait again), and after a give-back before a new ask unless an endpoint is drained. @default 900 */
    scaleInCooldownSeconds: z.number().int().min(0).max(86_400).default(900),
  })
  .superRefine((scaling, ctx) => {
    if (scaling.minInstances > scaling.maxInstances)
      ctx.addIssue({ code: 'custom', path: ['minInstances'], message: `must be at most maxInstances (${scaling.maxInstances})` });
  });
export type ScalingConfig = z.output<typeof scalingSchema>;

/** What an endpoint can serve warm, so a shift never overloads the endpoint it moves into. */
export const capacitySchema = z.strictObject({
  /** Requests per second the endpoint serves warm at its SLO. @default unlimited */
  warmRps: z.number().positive().optional(),
  /** Largest share (0–1] of the service's traffic the endpoint may carry. @default 1 */
  maxShare: z.number().gt(0).max(1).default(1),
  /** Fraction of warm capacity a shift may fill, leaving room for bursts. @default 0.85 */
  targetUtilization: z.number().gt(0).max(1).default(0.85),
  /** Ask for more instances before moving traffic in, and give them back after. @default none: plan within the capacity there is */
  scaling: scalingSchema.optional(),
});

export const endpointSchema = z
  .strictObject({
    /** The weighted record's SetIdentifier. */
    setIdentifier: keyNameSchema.pipe(z.string().max(128)),
    region: regionSchema,
    /** Normal weight of the record (Route 53 weights are integers 0–255). */
    baselineWeight: z.number().int({ error: 'must be an integer 0–255' }).min(0, { error: 'must be 0–255' }).max(255, { error: 'must be 0–255' }),
    /** `active` serves at baseline; `standby` and `overflow` take traffic only when actives cannot. @default 'active' */
    role: z.enum(['active', 'standby', 'overflow']).default('active'),
    /** @default { maxShare: 1, targetUtilization: 0.85 } */
    capacity: capacitySchema.prefault({}),
    /**
     * Optional query for the endpoint's request rate (requests per period), so capacity can be
     * judged against real demand. @default none: capacity is judged by maxShare alone
     */
    load: metricQuerySchema.optional(),
    signals: z.array(signalSchema).min(1, { error: 'needs at least one signal' }),
    /**
     * The native AWS deployment events that deploy this endpoint, so they count as deployment
     * events for it (see `policy.rollout`). @default none
     */
    deploymentSources: z
      .strictObject({
        /** ECS services, by ARN (ECS Deployment State Change). */
        ecsServices: z.array(z.string().regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/.+$/, { error: 'must be an ECS service ARN' })).default([]),
        /** CodeDeploy deployment groups (CodeDeploy Deployment State-change Notification). */
        codeDeployDeploymentGroups: z.array(z.strictObject({ application: z.string().min(1), deploymentGroup: z.string().min(1) })).default([]),
        /** SageMaker endpoints, by name (SageMaker Endpoint Deployment State Change). */
        sagemakerEndpoints: z.array(z.string().min(1)).default([]),
        /** CodePipeline pipelines, by name (CodePipeline Pipeline Execution State Change). */
        codePipelines: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
  })
  .superRefine((endpoint, ctx) => {
    const { scaling, warmRps } = endpoint.capacity;
    if (scaling !== undefined && scaling.perInstanceRps === undefined && warmRps === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['capacity', 'scaling', 'perInstanceRps'],
        message: 'is needed when capacity.warmRps is not given: requests are sized from what one instance serves',
      });
    }
    const seen = new Set<string>();
    endpoint.signals.forEach((signal, i) => {
      if (seen.has(signal.name)) ctx.addIssue({ code: 'custom', path: ['signals', i, 'name'], message: `duplicate signal name "${signal.name}"` });
      seen.add(signal.name);
    });
  });
export type EndpointConfig = z.output<typeof endpointSchema>;

/** Deployment rollouts: drain while deploying, ramp the new version in as a canary, judge it, promote or roll back. */
export const rolloutPolicySchema = z
  .strictObject({
    /**
     * `none`: deployment events are recorded, weights untouched. `drain-during-deploy`: the
     * endpoint's share is taken away while it deploys, then it ramps back as a canary.
     * `canary`: it keeps serving while it deploys, and the new version ramps in as a canary.
     * @default 'none'
     */
    mode: z.enum(['none', 'drain-during-deploy', 'canary']).default('none'),
    canary: z
      .strictObject({
        /** Fractions of baseline the new version steps through; the last must be 1. @default [0.05, 0.25, 0.5, 1] */
        steps: z.array(z.number().gt(0).max(1)).min(1).default([0.05, 0.25, 0.5, 1]),
        /** How long each step runs before it is judged. @default 300 */
        holdSeconds: z.number().int().min(0).default(300),
        /** The signal judged against the other endpoints (the control), by name. @default the endpoint's first percentile signal */
        latencySignal: z.string().min(1).optional(),
        /**
         * The statistic of the latency signal's metric the canary is judged on, read beside the
         * signal's own (one more CloudWatch metric per endpoint while rollouts are on). A median: a
         * canary serves a few hundred requests a minute at a few percent of its capacity, where a
         * p99 is three requests and the learned line does not reach (docs/deployment-events.md,
         * "The canary's statistic"). @default 'p50'
         */
        statistic: statisticSchema.default('p50'),
        /** The canary fails when its latency exceeds the control's by this factor. @default 1.1 (a median moves less than a tail) */
        maxLatencyRatio: z.number().gt(1).default(1.1),
        /** An error-rate signal judged too, by name: the canary fails when it exceeds the control's by `maxErrorDelta`. @default none */
        errorSignal: z.string().min(1).optional(),
        /** @default 0.01 (one percentage point when the signal is a fraction) */
        maxErrorDelta: z.number().min(0).default(0.01),
        /** Samples the canary's latency needs in a period for that period to count as evidence. @default 100 (a median's standard error is then about 6%) */
        minSamples: z.number().int().min(1).default(100),
        /** Times a step is extended when its evidence was inconclusive (too little traffic). @default 2 */
        maxExtensions: z.number().int().min(0).default(2),
        /** What an inconclusive step does once its extensions are spent: never pass on no evidence by default. @default 'fail' */
        onInconclusive: z.enum(['fail', 'pass']).default('fail'),
      })
      .prefault({}),
    /**
     * When the canary fails: `drain` keeps the endpoint at 0 until the pipeline reports it rolled
     * back, then restores its pre-deploy weight; `restore` returns it to its pre-deploy weight at
     * once (for pipelines whose rollback is instant). @default 'drain'
     */
    onFailure: z.enum(['drain', 'restore']).default('drain'),
    /** A deployment (or rollback) that reports no outcome within this long ends, loudly, and the endpoint returns to policy. @default 3600 */
    timeoutSeconds: z.number().int().min(60).default(3600),
  })
  .superRefine((rollout, ctx) => {
    const { statistic } = rollout.canary;
    if (percentileOf(statistic) === undefined && statistic !== 'Average') {
      ctx.addIssue({ code: 'custom', path: ['canary', 'statistic'], message: `must be a percentile (p50, p90, …) or Average, not ${statistic}` });
    }
    const steps = rollout.canary.steps;
    if (steps.at(-1) !== 1) ctx.addIssue({ code: 'custom', path: ['canary', 'steps'], message: 'must end at 1 (full baseline)' });
    steps.forEach((step, i) => {
      if (i > 0 && step <= steps[i - 1]!) ctx.addIssue({ code: 'custom', path: ['canary', 'steps', i], message: 'must be larger than the step before' });
    });
  });
export type RolloutPolicy = z.output<typeof rolloutPolicySchema>;

/** The knobs of the anti-flap and safety rules. Each exists because a real system flapped without it. */
export const policySchema = z
  .strictObject({
    /** How often the service is evaluated (the schedule), and the length of one verdict period. @default 60 */
    evaluationPeriodSeconds: z.number().int().min(10).default(60),
    detection: z
      .strictObject({
        /** M: breaching periods, out of the last `window`, that degrade an endpoint. @default 3 */
        breachesToDegrade: z.number().int().min(1).default(3),
        /** M for `fail`-severity signals, out of the same window, that drain an endpoint. @default 2 */
        breachesToDrain: z.number().int().min(1).default(2),
        /** N: the window of recent periods M is counted in. @default 5 */
        window: z.number().int().min(1).max(60).default(5),
        /**
         * A severe breach — a signal at least this far past trip, relative to trip (1 = twice the
         * trip value) — is strong evidence: `breachesToDegradeSevere` of them are enough. @default 1
         */
        severeExcess: z.number().positive().default(1),
        /**
         * M for severe breaches: an endpoint whose p99 is many times its trip threshold should not
         * wait for the usual M (a value above `breachesToDegrade` simply never applies). @default 2
         */
        breachesToDegradeSevere: z.number().int().min(1).default(2),
        /**
         * An extreme breach — a severe one (for a percentile, proven on its tail) whose value is at
         * least this far past trip (9 = ten times the trip value) — degrades on its one period: a
         * p99 of 20 s against a 2 s trip is not noise (noise in the benchmark's scenarios stays
         * under 5× trip; a gray failure's first severe minute is 13× or more). @default 9
         */
        extremeExcess: z.number().positive().default(9),
        /** K: consecutive clear periods before a degraded or drained endpoint starts recovering. @default 5 */
        clearsToRecover: z.number().int().min(1).default(5),
        /**
         * How sure a period's slow-request count must make the engine that a percentile is past
         * its trip before it is a breach (a one-sided binomial test; docs/runtime.md, "Tail
         * evidence"). Used when CloudWatch gives the count (percentile signals). @default 0.99
         */
        confidence: z.number().min(0.5).max(0.999999).default(0.99),
        /**
         * A percentile's breach is severe when the count proves, at the same confidence, at least
         * this many times the share it allows past trip: 5 = 5% of requests past a p99's trip. A
         * burst of long prompts pushes 2–4% of a minute's requests past trip; a region that has
         * turned slow pushes most of them. (`severeExcess` plays this part for other signals.) @default 5
         */
        severeTailShare: z.number().min(1).default(5),
      })
      .prefault({}),
    dwell: z
      .strictObject({
        /**
         * Least time after a move toward less traffic (entering a state, or shedding more) before
         * the endpoint may move toward more traffic. Ten minutes: a restore sooner than that after
         * a shed is what operators (and the benchmark) call a flap. @default 600
         */
        minSeconds: z.number().int().min(0).default(600),
        /** After a failed recovery the dwell is multiplied by this. @default 2 */
        growthFactor: z.number().min(1).default(2),
        /** The grown dwell never exceeds this. @default 3600 */
        maxSeconds: z.number().int().min(0).default(3600),
      })
      .prefault({}),
    shedding: z
      .strictObject({
        /** Share of baseline shed per unit of relative excess over trip ((value − trip) / |trip|). @default 1 */
        gain: z.number().positive().default(1),
        /** Least share of baseline shed by one breaching period. @default 0.1 */
        minStep: z.number().gt(0).max(1).default(0.1),
        /** Most share of baseline shed by one breaching period. @default 0.3 */
        maxStep: z.number().gt(0).max(1).default(0.3),
        /**
         * Share of baseline shed by one period of a severe breach while the endpoint carries no
         * more than its planned capacity (`warmRps × targetUtilization`): slow at a load it was
         * sized for, it is impaired, not busy, and a step in proportion to its excess leaves most of
         * its requests slow for several shed intervals (docs/runtime.md, "Impaired, not busy"). An
         * extreme breach there (`detection.extremeExcess` past trip) drains it at once. @default 0.6
         */
        impairedStep: z.number().gt(0).max(1).default(0.6),
        /**
         * Load, as a share of planned capacity, at or below which a severe breach is impairment, not
         * load: a GPU server's tail grows steeply only near saturation, so well under the load it was
         * sized for it has no excess to shed (measured: gray failures trip at 33–67%, saturation at
         * 72–99%). @default 0.75
         */
        impairedLoadShare: z.number().gt(0).max(1).default(0.75),
        /**
         * Least time between two sheds of one endpoint, so the effect of the last one (Route 53
         * propagation ~60 s, resolver TTLs, one CloudWatch period) shows before the next. @default 180
         */
        intervalSeconds: z.number().int().min(0).default(180),
        /**
         * The least time between two sheds while the breach is extreme (`detection.extremeExcess`):
         * one Route 53 propagation and one CloudWatch period, no more. With most requests ten times
         * their trip, a third minute of waiting costs more than shedding a little too much.
         * @default 120
         */
        extremeIntervalSeconds: z.number().int().min(0).default(120),
      })
      .prefault({}),
    recovery: z
      .strictObject({
        /** Fractions of baseline a recovering endpoint steps through; the last must be 1. @default [0.1, 0.25, 0.5, 1] */
        steps: z.array(z.number().gt(0).max(1)).min(1).default([0.1, 0.25, 0.5, 1]),
        /** How long each step is held (and must stay free of breaches) before the next. @default 300 */
        holdSeconds: z.number().int().min(0).default(300),
      })
      .prefault({}),
    safety: z
      .strictObject({
        /** Endpoints that must keep a non-zero weight. Never less than 1. @default 1 */
        minHealthyEndpoints: z.number().int().min(1).default(1),
        /** Largest share of the service's traffic one evaluation may move (emergency drains exempt). @default 0.5 */
        maxShiftPerEvaluation: z.number().gt(0).max(1).default(0.5),
        /**
         * Fail static when more than this fraction of endpoints look bad or unknown at once: the
         * fault is more likely the observation than every region. @default 0.5
         */
        failStaticFraction: z.number().min(0).max(1).default(0.5),
        /** What fail static does: keep the current weights, or return to baseline. @default 'hold' */
        failStaticAction: z.enum(['hold', 'baseline']).default('hold'),
        /**
         * How long fail static lasts before operators are told (a critical notice), one that comes
         * back within this long of its end going on; its end is told once it has stayed ended this
         * long, and only when its start was. It holds the weights from its first period all the
         * same. Most fail statics last a minute (a burst every region breaches, a minute published
         * late), and each was a critical page. 0 tells both at once. @default 180
         */
        failStaticNoticeSeconds: z.number().int().min(0).default(180),
      })
      .prefault({}),
    /** Weight changes smaller than this (on every record) are not written, unless they start or stop a record serving or return to the baseline weights. @default 3 */
    deadbandWeight: z.number().int().min(0).max(255).default(3),
    /**
     * A rebalance no endpoint's state asked for — demand moved the capacity limits — is written
     * only when it moves at least this share of the traffic, so noisy demand cannot wiggle the
     * weights; the last step back to the baseline weights is written however small. @default 0.05
     */
    rebalanceMinShare: z.number().min(0).max(1).default(0.05),
    /** Route 53 holding weights steer53 did not write (a console edit during an incident). */
    drift: z
      .strictObject({
        /**
         * `revert`: decide from what Route 53 holds, as from any weights, so policy wins at the
         * next change. `adopt`: take the edit as a manual pin for `adoptSeconds`, then return to
         * policy; a later edit while it holds is adopted in its place. An adopted pin holds like
         * any pin, emergency drains included: adopt only where people edit weights on purpose.
         * @default 'revert'
         */
        action: z.enum(['revert', 'adopt']).default('revert'),
        /** How long an adopted edit holds. @default 1800 */
        adoptSeconds: z.number().int().min(60).max(86_400).default(1800),
      })
      .prefault({}),
    changeBudget: z
      .strictObject({
        /** Non-emergency weight changes per service per rolling hour; emergency drains are counted, not blocked. @default 12 */
        maxChangesPerHour: z.number().int().min(1).default(12),
      })
      .prefault({}),
    capacityBudget: z
      .strictObject({
        /** Capacity requests (scale-out or give-back, any endpoint) per service per rolling hour; re-asking what was asked is not counted. @default 12 */
        maxRequestsPerHour: z.number().int().min(1).default(12),
      })
      .prefault({}),
    /** What a deployment event from a pipeline does to the endpoint it deploys. */
    rollout: rolloutPolicySchema.prefault({}),
    /** How often the schedule reads a quiet service (see functions/app/pollingCadence.ts). */
    polling: z
      .strictObject({
        /**
         * A service whose endpoints are all healthy with clear verdicts, each with an alarm signal
         * (its fast path), and with no rollout, drill, override, fail static or pending change, is
         * read this often; any other every period. A multiple of `evaluationPeriodSeconds`; equal
         * to it reads every service every period. @default 300
         */
        quietIntervalSeconds: z.number().int().min(10).max(3600).default(300),
      })
      .prefault({}),
  })
  .superRefine((policy, ctx) => {
    const steps = policy.recovery.steps;
    if (steps.at(-1) !== 1) ctx.addIssue({ code: 'custom', path: ['recovery', 'steps'], message: 'must end at 1 (full baseline)' });
    steps.forEach((step, i) => {
      if (i > 0 && step <= steps[i - 1]!) ctx.addIssue({ code: 'custom', path: ['recovery', 'steps', i], message: 'must be larger than the step before' });
    });
    if (policy.detection.breachesToDegrade > policy.detection.window) {
      ctx.addIssue({ code: 'custom', path: ['detection', 'breachesToDegrade'], message: `must be at most window (${policy.detection.window})` });
    }
    if (policy.detection.breachesToDrain > policy.detection.window) {
      ctx.addIssue({ code: 'custom', path: ['detection', 'breachesToDrain'], message: `must be at most window (${policy.detection.window})` });
    }
    if (policy.shedding.minStep > policy.shedding.maxStep) {
      ctx.addIssue({ code: 'custom', path: ['shedding', 'minStep'], message: `must be at most maxStep (${policy.shedding.maxStep})` });
    }
    if (policy.dwell.maxSeconds < policy.dwell.minSeconds) {
      ctx.addIssue({ code: 'custom', path: ['dwell', 'maxSeconds'], message: `must be at least minSeconds (${policy.dwell.minSeconds})` });
    }
    const { quietIntervalSeconds } = policy.polling;
    if (quietIntervalSeconds < policy.evaluationPeriodSeconds || quietIntervalSeconds % policy.evaluationPeriodSeconds !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['polling', 'quietIntervalSeconds'],
        message: `must be a multiple of evaluationPeriodSeconds (${policy.evaluationPeriodSeconds})`,
      });
    }
  });
export type Policy = z.output<typeof policySchema>;

const accountIdSchema = z.string().regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' });
const publisherArnSchema = z.string().regex(/^arn:aws[a-z-]*:(iam::\d{12}:(role|user)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/, {
  error: 'must be an IAM role or user ARN',
});

/**
 * Who may move this service's traffic with deployment events. Deny by default: without it, only
 * the controller's own account (the account steer53 is deployed in) may.
 */
export const deploymentPublishersSchema = z.strictObject({
  /**
   * Accounts whose steer53 deployment events (a pipeline's phases, an operator's abort or promote)
   * and native deployment events (ECS, CodeDeploy, SageMaker, CodePipeline) act on this service.
   * EventBridge sets an event's `account` from the caller's credentials, so it cannot be forged.
   * @default [] (the controller's own account only)
   */
  accounts: z.array(accountIdSchema).max(50).default([]),
  /**
   * IAM roles or users that may put steer53 deployment events for it. The event does not carry the
   * principal, so this is enforced by the bus policy: when any service lists principals, every
   * other principal is denied putting `steer53.deployment` events on the bus. @default []
   */
  principalArns: z.array(publisherArnSchema).max(50).default([]),
});

export const serviceSchema = z
  .strictObject({
    /** Short id of the service: the key of its state, audit log and CLI commands. */
    name: z.string().regex(/^[a-zA-Z0-9][\w.-]{0,63}$/, { error: 'must be 1–64 letters, digits, dots, dashes or underscores' }),
    /** The public DNS name the weighted records share. */
    dnsName: z
      .string()
      .regex(/^(\*\.)?([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)+[a-zA-Z]{2,63}\.?$/, { error: 'must be a DNS name such as chat.example.com' })
      .transform((name) => name.toLowerCase().replace(/\.$/, '')),
    /** @default 'A' */
    recordType: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
    hostedZoneId: z
      .string()
      .regex(/^(\/hostedzone\/)?Z[A-Z0-9]{1,31}$/, { error: 'must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ' })
      .transform((id) => id.replace(/^\/hostedzone\//, '')),
    /** @default every policy default */
    policy: policySchema.prefault({}),
    /** @default the controller's own account only */
    deploymentPublishers: deploymentPublishersSchema.prefault({}),
    endpoints: z
      .array(endpointSchema)
      .min(1, { error: 'needs at least one endpoint' })
      .max(100, { error: 'at most 100 (Route 53 allows 100 weighted records per name and type)' }),
    /**
     * Scheduled drills: practice failovers. At each time the schedule names, the endpoint is
     * drained for `durationMinutes` — only when every endpoint is healthy and nothing else holds
     * the weights — and brought back at once if the guard alarm goes to ALARM. @default none
     */
    drills: z
      .array(
        z.strictObject({
          /** The SetIdentifier of the endpoint to drain. */
          endpoint: z.string().min(1),
          /** When, as a cron expression in UTC (`minute hour day-of-month month day-of-week`), e.g. `0 10 * * 2`: Tuesdays 10:00. */
          schedule: z.string().refine(isCron, { error: 'must be a cron expression in UTC such as "0 10 * * 2" (minute hour day-of-month month day-of-week)' }),
          /** How long the endpoint stays drained. @default 15 */
          durationMinutes: z
            .number()
            .int()
            .min(1)
            .max(24 * 60)
            .default(15),
          /** The alarm that ends the drill the moment it is in ALARM (its region defaults to the endpoint's). */
          guardAlarm: z.strictObject({ name: z.string().min(1).max(255), region: regionSchema.optional() }),
        }),
      )
      .default([]),
  })
  .superRefine((service, ctx) => {
    service.drills.forEach((drill, i) => {
      if (!service.endpoints.some((e) => e.setIdentifier === drill.endpoint)) {
        ctx.addIssue({
          code: 'custom',
          path: ['drills', i, 'endpoint'],
          message: `"${drill.endpoint}" is not an endpoint of this service (endpoints: ${service.endpoints.map((e) => e.setIdentifier).join(', ')})`,
        });
      }
    });
    const seen = new Set<string>();
    service.endpoints.forEach((endpoint, i) => {
      if (seen.has(endpoint.setIdentifier)) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'setIdentifier'], message: `duplicate setIdentifier "${endpoint.setIdentifier}"` });
      }
      seen.add(endpoint.setIdentifier);
    });
    if (service.endpoints.every((e) => e.baselineWeight === 0)) {
      ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'at least one endpoint needs a baseline weight above 0' });
    }
    const rollout = service.policy.rollout;
    for (const key of ['latencySignal', 'errorSignal'] as const) {
      const name = rollout.canary[key];
      if (name === undefined) continue;
      service.endpoints.forEach((endpoint, i) => {
        if (!endpoint.signals.some((signal) => signal.name === name && signal.source === 'metric')) {
          ctx.addIssue({
            code: 'custom',
            path: ['policy', 'rollout', 'canary', key],
            message: `endpoint ${i} (${endpoint.setIdentifier}) has no metric signal named "${name}"`,
          });
        }
      });
    }
    if (service.policy.safety.minHealthyEndpoints > service.endpoints.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['policy', 'safety', 'minHealthyEndpoints'],
        message: `must be at most the number of endpoints (${service.endpoints.length})`,
      });
    }
  })
  .transform((service) => ({
    ...service,
    drills: service.drills.map((drill) => ({
      ...drill,
      guardAlarm: { ...drill.guardAlarm, region: drill.guardAlarm.region ?? service.endpoints.find((e) => e.setIdentifier === drill.endpoint)?.region ?? '' },
    })),
    // A signal's region defaults to its endpoint's: CloudWatch is regional.
    endpoints: service.endpoints.map((endpoint) => ({
      ...endpoint,
      load: endpoint.load ? { ...endpoint.load, region: endpoint.load.region ?? endpoint.region } : undefined,
      signals: endpoint.signals.map(
        (signal): Signal =>
          signal.source === 'metric'
            ? { ...signal, metric: { ...signal.metric, region: signal.metric.region ?? endpoint.region } }
            : { ...signal, alarm: { ...signal.alarm, region: signal.alarm.region ?? endpoint.region } },
      ),
    })),
  }));
export type ServiceConfig = z.output<typeof serviceSchema>;
export type ServiceConfigInput = z.input<typeof serviceSchema>;

/** How old (or how far in the future) an event may be before it is refused. */
export const eventLimitsSchema = z.strictObject({
  /**
   * Alarm and deployment events older than this, by their own time, are refused: a replay, a
   * dead-letter redrive or a late retry is news that has passed. @default 3600 (the functions'
   * maximum event age)
   */
  maxAgeSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3600),
  /** How far ahead of the controller's clock an event's time may be (clock skew); further is refused. @default 300 */
  clockSkewSeconds: z.number().int().min(0).max(3600).default(300),
});

export const configSchema = z
  .strictObject({
    /** Schema version of this file. @default 1 */
    version: z.literal(1).default(1),
    /** @default { maxAgeSeconds: 3600, clockSkewSeconds: 300 } */
    events: eventLimitsSchema.prefault({}),
    services: z.array(serviceSchema).min(1, { error: 'needs at least one service' }),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    const records = new Set<string>();
    config.services.forEach((service, i) => {
      if (names.has(service.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service name "${service.name}"` });
      names.add(service.name);
      const record = `${service.hostedZoneId} ${service.dnsName} ${service.recordType}`;
      if (records.has(record)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'dnsName'],
          message: `another service already manages ${service.dnsName} ${service.recordType} in ${service.hostedZoneId}`,
        });
      }
      records.add(record);
    });
  });
export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Types a `steer53.config.ts` with the schema's input type; validation happens when it is loaded. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

// Moved to validationProblems.ts (no zod at run time there), re-exported for the config's callers.
export { formatPath, problemsOf, type ValidationProblem } from './validationProblems.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: ValidationProblem[] };

/** Parses a config, collecting every problem at once rather than stopping at the first. */
export function parseConfig(input: unknown): ParseResult<Config> {
  const result = configSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, problems: problemsOf(result.error) };
}
