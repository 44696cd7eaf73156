/**
 * The scenario file format: one zod schema, strict like the policy config (an unknown key is a
 * typo and fails loudly), with a documented default for every setting. docs/simulator.md
 * describes it field by field. Times and durations accept seconds (a number) or a string such as
 * `90s`, `15m`, `2h` or `1h30m`.
 */
import { z } from 'zod';
import { serviceSchema } from '../functions/core/config.js';
import { CONTROLLER_NAMES } from './world.js';

const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** `90` → 90, `'15m'` → 900, `'1h30m'` → 5400. Undefined when the text is not a duration. */
export function parseDurationSeconds(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match || value.trim() === '') return undefined;
  const [, h, m, s] = match;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

const DURATION_ERROR = 'must be a duration: seconds, or a string such as 90s, 15m, 2h or 1h30m';
export const durationSchema = z.union([z.number(), z.string()], { error: DURATION_ERROR }).transform((value, ctx) => {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_ERROR });
    return z.NEVER;
  }
  return seconds;
});

const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { error: 'must be 1–64 lower-case letters, digits or dashes' });

/** A multiplier on a demand source over time: a launch spike, a surge, a campaign. */
export const shapeSchema = z.strictObject({
  kind: z.literal('surge'),
  /** When the ramp begins, from the scenario start. */
  start: durationSchema,
  /** Ramp from `before` to `factor`. @default 0 */
  ramp: durationSchema.default(0),
  /** How long the peak holds. @default 0 */
  hold: durationSchema.default(0),
  /** Ramp from `factor` to `after`. @default 0 */
  decay: durationSchema.default(0),
  /** Multiplier on the source's rate at the peak. */
  factor: z.number().min(0),
  /** Multiplier before the ramp (0 for a product that launches). @default 1 */
  before: z.number().min(0).default(1),
  /** Multiplier after the decay. @default 1 */
  after: z.number().min(0).default(1),
});
export type DemandShape = z.output<typeof shapeSchema>;

/** The ways to read a trace and to scale it (shared with `steer53 trace inspect`). */
export const TRACE_FORMATS = ['csv', 'jsonl'] as const;
export const TRACE_KINDS = ['requests', 'rate'] as const;
export const TIMESTAMP_UNITS = ['s', 'ms', 'us', 'iso'] as const;
export const TRACE_SCALINGS = ['intensity', 'time-warp'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];
export type TraceScaling = (typeof TRACE_SCALINGS)[number];

/**
 * A trace file and how to read it: the options of `steer53 trace inspect`, by the same names.
 * Nothing about a trace is guessed: a timestamp unit is inferred only when one unit alone makes
 * sense of the values, and a file that looks like a rate series is refused until `kind` says so
 * (sim/trace.ts; docs/simulator.md, "Traces").
 */
export const traceRefSchema = z
  .strictObject({
    /** CSV or JSONL file, relative to the scenario file. */
    file: z.string().min(1),
    /** @default from the extension: `.jsonl` or `.ndjson` → jsonl, anything else → csv */
    format: z.enum(TRACE_FORMATS, { error: 'must be csv or jsonl' }).optional(),
    /** `requests`: one row per request; `rate`: a time series of request rates (requests/s) in `valueColumn`. @default 'requests' */
    kind: z.enum(TRACE_KINDS, { error: 'must be requests or rate' }).optional(),
    /** Column with the time of the row. @default 'TIMESTAMP' */
    timestampColumn: z.string().min(1).default('TIMESTAMP'),
    /** `iso` (date-times), or numbers in `s`, `ms` or `us` (epoch or from the start). @default inferred when only one unit fits, else an error */
    timestampUnit: z.enum(TIMESTAMP_UNITS, { error: 'must be s, ms, us or iso' }).optional(),
    /** The rate column of a `rate` series, in requests per second. Required for kind rate. */
    valueColumn: z.string().min(1).optional(),
    /** Column with prompt (context) tokens; read when present, an error when named and missing. @default 'ContextTokens' */
    promptTokensColumn: z.string().min(1).optional(),
    /** Column with generated (output) tokens; read when present, an error when named and missing. @default 'GeneratedTokens' */
    outputTokensColumn: z.string().min(1).optional(),
  })
  .superRefine(
    (ref, ctx) => {
      if (ref.kind === 'rate' && ref.valueColumn === undefined) {
        ctx.addIssue({ code: 'custom', path: ['valueColumn'], message: 'is required for kind rate: the column with the rate in requests per second' });
      }
      if (ref.kind !== 'rate' && ref.valueColumn !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['valueColumn'], message: 'only for kind rate (a request trace has one row per request)' });
      }
      for (const column of ['promptTokensColumn', 'outputTokensColumn'] as const) {
        if (ref.kind === 'rate' && ref[column] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [column], message: 'only for kind requests (a rate series has no requests: give the source a tokens trace)' });
        }
      }
      // Checked even when another setting is invalid, so that every problem is reported at once.
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
export type TraceRef = z.output<typeof traceRefSchema>;

const curveSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({
    kind: z.literal('diurnal'),
    /** Relative swing around the mean: 0.3 → 70%–130%. @default 0.3 */
    amplitude: z.number().min(0).max(1).default(0.3),
    /** Time of day of the peak, from midnight of the scenario's start day. @default '15h' */
    peakAt: durationSchema.default(15 * 3600),
  }),
]);

export const demandSourceSchema = z
  .strictObject({
    /** Shown in the report. @default 'trace' or 'curve' */
    name: z.string().min(1).optional(),
    /** Arrivals (and token counts) from a real trace, tiled when the scenario is longer. */
    trace: traceRefSchema.optional(),
    /**
     * How a trace reaches `meanRps`: `intensity` repeats or thins each request in place (the
     * per-minute shape and its burstiness stay); `time-warp` compresses or stretches the time axis.
     * @default 'intensity'
     */
    scaling: z.enum(TRACE_SCALINGS, { error: 'must be intensity or time-warp' }).optional(),
    /** A synthetic arrival rate with Poisson noise; with a trace, the daily swing the trace's rate follows. */
    curve: curveSchema.optional(),
    /** Token mix for a curve or a rate-series source (per-request work). @default the Azure conversation trace */
    tokens: traceRefSchema.optional(),
    /** Mean requests per second before shapes and the daily swing; a trace is scaled to it (see `scaling`). */
    meanRps: z.number().positive(),
    /** @default [] */
    shapes: z.array(shapeSchema).default([]),
  })
  .superRefine((source, ctx) => {
    if (source.trace === undefined && source.curve === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs a trace or a curve' });
    }
    if (source.trace !== undefined && source.trace.kind !== 'rate' && source.tokens !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'only for a curve or a rate-series trace (a request trace brings its own token counts)' });
    }
    if (source.tokens?.kind === 'rate') {
      ctx.addIssue({ code: 'custom', path: ['tokens', 'kind'], message: 'must be requests: a token mix needs one row per request' });
    }
    if (source.trace === undefined && source.scaling !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['scaling'], message: 'only for a trace source (a curve has no trace to scale)' });
    }
  });
export type DemandSource = z.output<typeof demandSourceSchema>;

const demandSchema = z.strictObject({ sources: z.array(demandSourceSchema).min(1, { error: 'needs at least one source' }) });

/**
 * How a region scales when a controller asks it to (an Auto Scaling group, an ECS service, a
 * SageMaker variant behind it): docs/simulator.md, "Capacity".
 */
export const regionScalingSchema = z.strictObject({
  /** Most replicas the region can be asked to hold (the group's max size); at least its configured replicas. */
  maxReplicas: z.number().int().min(1).max(1000),
  /** Extra replicas, beyond the configured ones, the region can obtain: 0 when there is no capacity or quota. @default maxReplicas − replicas */
  obtainable: z.number().int().min(0).max(1000).optional(),
  /** From a launch to in service: instance launch, image pull, model load and warm-up. @default { minutes: [6, 12], distribution: lognormal } */
  provisioning: z
    .strictObject({
      /** `lognormal`: the 5th and 95th percentiles of the delay; `uniform`: its least and greatest. @default [6, 12] */
      minutes: z.tuple([z.number().min(0).max(1440), z.number().min(0).max(1440)], { error: 'must be two numbers of minutes: [low, high]' }).default([6, 12]),
      /** @default 'lognormal' */
      distribution: z.enum(['lognormal', 'uniform'], { error: 'must be lognormal or uniform' }).default('lognormal'),
    })
    .superRefine((p, ctx) => {
      const [low, high] = p.minutes;
      if (high < low) ctx.addIssue({ code: 'custom', path: ['minutes', 1], message: `must be at least the low end (${low})` });
      if (p.distribution === 'lognormal' && low <= 0) {
        ctx.addIssue({ code: 'custom', path: ['minutes', 0], message: 'must be above 0 for a lognormal delay (or use distribution: uniform)' });
      }
    })
    .prefault({}),
});
export type RegionScalingSpec = z.output<typeof regionScalingSchema>;

export const regionSchema = z.strictObject({
  /** The SetIdentifier of the endpoint this region serves. */
  name: z.string().min(1),
  /**
   * Requests per second the region sustains at full warm capacity (for the scenario's request mix):
   * sets how many serving units it runs (warmRps / one unit's sustainable rate, rounded, at least 1).
   */
  warmRps: z.number().positive().optional(),
  /** Serving units (model replicas) the region runs, instead of deriving them from warmRps. */
  replicas: z.number().int().min(1).max(1000).optional(),
  /**
   * A load-test table to calibrate the region's serving unit from (CSV or vllm bench serve JSON,
   * relative to the scenario file; see `steer53 world sweep`). @default the OCI Llama 3.3 70B fit
   */
  calibration: z.string().min(1).optional(),
  /** Round trip added to every request (client to region). @default 60 */
  networkLatencyMs: z.number().min(0).default(60),
  /** Multiplier on every prefill and decode time in normal operation (older GPUs, a larger model). @default 1 */
  latencyFactor: z.number().min(0.1).max(20).default(1),
  /** The region can be asked for more replicas (sim/fleet.ts). @default none: it holds its replicas throughout */
  scaling: regionScalingSchema.optional(),
});
export type RegionSpec = z.output<typeof regionSchema>;

const regionTarget = {
  /** One region (a SetIdentifier), a list, or `all`. */
  region: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'must be a region name, a list of them, or "all"' }),
  /** From the scenario start. */
  start: durationSchema,
  /** How long it lasts at full strength (after the ramp in). */
  duration: durationSchema,
  /** Linear ramp in, before full strength, and out again after. @default 0 */
  ramp: durationSchema.default(0),
  /** Shown in the report. @default the kind */
  label: z.string().min(1).optional(),
};

export const incidentSchema = z.discriminatedUnion('kind', [
  /** Hard down: every request fails and health checks fail. */
  z.strictObject({ kind: z.literal('outage'), ...regionTarget }),
  /**
   * Slow but "up": the model runs slower, so each request takes longer and the region serves
   * fewer of them; requests queue rather than error, and health checks pass.
   */
  z.strictObject({
    kind: z.literal('gray-failure'),
    ...regionTarget,
    /** Multiplier on every prefill and decode time (the region's throughput falls with it). @default 3 */
    latencyFactor: z.number().min(1).default(3),
    /** Share of replicas still serving, on top of the slowdown. @default 1 */
    capacityFactor: z.number().gt(0).max(1).optional(),
    /** Added to every request (a congested link). @default 0 */
    addedLatencyMs: z.number().min(0).default(0),
  }),
  /** Warm capacity lost (GPUs out, instances recycled); latency follows from the queue. */
  z.strictObject({ kind: z.literal('capacity-loss'), ...regionTarget, capacityFactor: z.number().gt(0).max(1) }),
  /** A share of requests fail (5xx); health checks fail as often. */
  z.strictObject({ kind: z.literal('errors'), ...regionTarget, errorRate: z.number().gt(0).max(1) }),
  /** CloudWatch stops reporting (the observation fails, not the region). */
  z.strictObject({ kind: z.literal('metric-outage'), ...regionTarget }),
  /**
   * A pipeline deploys a new version to one endpoint: `started` at `start`, the outcome
   * (`succeeded` or `failed`) after `duration`, and `rolled-back` when the pipeline rolls back —
   * after a failure, or when steer53 publishes `Rollback Requested` — `rollback.delaySeconds` later.
   */
  z.strictObject({
    kind: z.literal('deployment'),
    /** The endpoint (region) that deploys: one name. */
    region: z.string({ error: 'must be one region name (a deployment is per endpoint)' }).min(1),
    /** The version deployed (the events' `version`). */
    version: z.string().min(1),
    /** When the pipeline starts (the `started` event), from the scenario start. */
    start: durationSchema,
    /** How long the deployment takes before its outcome event. */
    duration: durationSchema,
    /** The pipeline's outcome: `succeeded` (the new version serves) or `failed` (the old one stays). @default 'succeeded' */
    outcome: z.enum(['succeeded', 'failed']).default('succeeded'),
    /** The endpoint while it deploys. @default serving at full capacity */
    whileDeploying: z
      .strictObject({
        /** Hard down while it deploys (instances replaced in place). @default false */
        down: z.boolean().default(false),
        /** Warm capacity while it deploys (a rolling update takes instances out). @default 1 */
        capacityFactor: z.number().gt(0).max(1).default(1),
      })
      .prefault({}),
    /** How the new version behaves once it serves. @default the same as the old one */
    newVersion: z
      .strictObject({
        /**
         * Multiplier on the service part of every request's latency (prefill and its slowdown as
         * the batch fills): the new version's p99 under the same load is about this much higher.
         * @default 1
         */
        latencyFactor: z.number().min(0.1).max(20).default(1),
        /** Multiplier on warm capacity (a heavier model serves fewer requests per GPU). @default 1 */
        capacityFactor: z.number().gt(0).max(4).default(1),
        /** Share of requests that fail (5xx). @default 0 */
        errorRate: z.number().min(0).max(1).default(0),
      })
      .prefault({}),
    rollback: z
      .strictObject({
        /** The pipeline rolls back when steer53 publishes `Rollback Requested` for this version. @default true */
        onRequest: z.boolean().default(true),
        /** The pipeline rolls back by itself after a failed deployment. @default true */
        afterFailure: z.boolean().default(true),
        /** From the request (or the failure) to the old version serving again and `rolled-back` emitted. @default 180 */
        delay: durationSchema.default(180),
        /** The pipeline starts a rollback by itself at this time (an operator, its own alarm), unless asked sooner. @default never */
        at: durationSchema.optional(),
      })
      .prefault({}),
    /** EventBridge delivers at least once: deliver a phase's event again (same idempotency key and time) at `at`. @default [] */
    redeliver: z.array(z.strictObject({ phase: z.enum(['started', 'succeeded', 'failed', 'rolled-back']), at: durationSchema })).default([]),
    /** The events' `pipelineExecutionId`. @default `sim-<scenario>-<index>` */
    pipelineExecutionId: z.string().min(1).optional(),
    /** Shown in the report. @default `<region> deploys <version>` */
    label: z.string().min(1).optional(),
  }),
]);
export type IncidentSpec = z.output<typeof incidentSchema>;

/** How late a datapoint arrives after its period ends: floorSeconds + lognormal(medianSeconds, sigma), with these defaults. */
function arrivalDelaySchema(defaults: { floorSeconds: number; medianSeconds: number; sigma: number }) {
  return z.strictObject({
    floorSeconds: z.number().min(0).max(600).default(defaults.floorSeconds),
    medianSeconds: z.number().min(0).max(600).default(defaults.medianSeconds),
    sigma: z.number().min(0).max(2).default(defaults.sigma),
  });
}

/** What an alarm signal's CloudWatch alarm watches, and how it is evaluated. */
export const alarmModelSchema = z
  .strictObject({
    /** @default 'errorRate' */
    metric: z.enum(['errorRate', 'p99LatencyMs', 'p95LatencyMs', 'averageLatencyMs', 'gpuUtilization']).default('errorRate'),
    /** Breaching when the datapoint is above this. @default 0.05 */
    threshold: z.number().default(0.05),
    /** M ("datapoints to alarm"). @default 2 */
    datapointsToAlarm: z.number().int().min(1).default(2),
    /** N ("evaluation periods"). @default 3 */
    evaluationPeriods: z.number().int().min(1).default(3),
    /**
     * The alarm's period. 60: a standard alarm on the servers' minute reports, evaluated once a
     * minute. 10, 20 or 30: a high-resolution alarm, on a metric the servers publish every 10 s
     * (PutMetricData with StorageResolution 1), which CloudWatch evaluates every 10 s; each
     * datapoint arrives `cloudwatch.highResolutionDelay` after its 10 s end. GPU utilisation is
     * reported once a minute. @default 60
     */
    periodSeconds: z.union([z.literal(10), z.literal(20), z.literal(30), z.literal(60)], { error: 'must be 10, 20, 30 or 60' }).default(60),
    /**
     * CloudWatch's TreatMissingData. `missing`: a period without data is not considered (with
     * none in the evaluation range, INSUFFICIENT_DATA). `notBreaching`: a period without data
     * counts as good, so an alarm on errors goes OK once its endpoint serves nothing. @default 'missing'
     */
    treatMissingData: z.enum(['missing', 'notBreaching'], { error: 'must be missing or notBreaching' }).default('missing'),
    /**
     * errorRate only: a period with fewer requests than this reads 0, as an alarm on the metric math
     * `IF(requests >= N, errors / requests, 0)` does. A few errors among a quiet 10 s say nothing of
     * the region, and one of them alone would be past any threshold. A period with no requests is
     * still missing. @default 0
     */
    minRequests: z.number().int().min(0).default(0),
  })
  .refine((m) => m.periodSeconds === 60 || m.metric !== 'gpuUtilization', {
    error: 'gpuUtilization is reported once a minute: its alarm needs periodSeconds 60',
    path: ['periodSeconds'],
  })
  .refine((m) => m.minRequests === 0 || m.metric === 'errorRate', {
    error: 'minRequests counts the requests behind an error rate: only an errorRate alarm takes it',
    path: ['minRequests'],
  });
export type AlarmModel = z.output<typeof alarmModelSchema>;

/** What world quantity a metric signal reads; inferred from the metric name when not given. */
export const measureSchema = z.enum(['latency', 'gpuUtilization', 'queueDepth', 'kvCacheUsage', 'errorRate', 'errorCount', 'requestCount']);
export type Measure = z.output<typeof measureSchema>;

// ---- expect: what the benchmark expects of steer53 in this scenario ----------------------------

/**
 * Bounds on one of steer53's results across the seeds a run covers: `mean` bounds the mean over
 * the seeds, `worst` the worst seed for that metric (the lowest benefit; the highest ratio, count
 * or time). With one seed both bound that seed's value.
 */
function boundsSchema<T extends z.ZodType<number, unknown>>(value: T) {
  return z
    .strictObject({ mean: value.optional(), worst: value.optional() })
    .refine((b) => b.mean !== undefined || b.worst !== undefined, { error: 'needs mean, worst or both' });
}

const countBounds = boundsSchema(z.number().int().min(0));
/** A ratio or share: any finite number (a share of the oracle's benefit is negative when steer53 did worse than static). */
const shareBounds = boundsSchema(z.number());
const durationBounds = boundsSchema(durationSchema);

/** A controller a ratio can name: any run beside steer53 (checked as the file is read, so the list can grow). */
const otherControllers = () => CONTROLLER_NAMES.filter((name) => name !== 'steer53');
const controllerKey = z.string().refine((name) => (otherControllers() as readonly string[]).includes(name), {
  error: (issue) => `unknown controller "${String(issue.input)}" (controllers: ${otherControllers().join(', ')})`,
});
const ratioToSchema = z.record(controllerKey, shareBounds, {
  // zod reports a bad key as "Invalid key in record"; say which key, and why.
  error: (issue) => (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined),
});

/**
 * What the benchmark expects of steer53 in this scenario. Every expectation is judged per seed
 * and over the seeds run (`npm run bench -- --seeds 1-5`); a missed one makes `npm run bench`
 * exit 1. docs/simulator.md describes the format.
 */
export const expectSchema = z.strictObject({
  /** Share of the oracle's benefit steer53 captures, `(static − steer53) / (static − oracle)` on sloMissFraction: lower bounds. @default not judged */
  benefit: shareBounds.optional(),
  /** steer53's sloMissFraction over a named controller's (`route53-health-check: { worst: 0.5 }`): upper bounds. @default none */
  ratioTo: ratioToSchema.optional(),
  /** Flaps (reversals of more than one weight unit within 10 minutes): upper bounds. @default { worst: 0 } */
  flaps: countBounds.default({ worst: 0 }),
  /** Changes of what DNS answers: upper bounds. @default not judged */
  dnsChanges: countBounds.optional(),
  /** Changes that broke a safety rule: upper bounds. @default { worst: 0 } */
  safetyViolations: countBounds.default({ worst: 0 }),
  /**
   * What steer53's capacity asks cost: its extra instance-hours (beyond the regions' configured
   * replicas) over the oracle's, per seed (`overOracle: { worst: 1.2 }`: at most 20% more): upper
   * bounds. Needs a region that can scale. @default not judged
   */
  extraInstanceHours: z.strictObject({ overOracle: shareBounds }).optional(),
  /** From the start of harm to the first change that helped; a seed that never mitigates is worst. @default not judged */
  timeToMitigate: durationBounds.optional(),
  /** Per deployment, where the policy runs rollouts. @default none judged */
  rollout: z
    .strictObject({
      /** A bad version is never answered above the first canary step's share. @default false */
      badVersionCapped: z.boolean().default(false),
      /** A bad version's rollback is requested within this many canary holds of its `succeeded` event. @default not judged */
      rollbackWithinHolds: z.number().int().min(1).optional(),
      /** A good version gets back to its full baseline share, with no rollback requested. @default false */
      goodVersionAtBaseline: z.boolean().default(false),
    })
    .optional(),
  /** The shortened run of `npm run bench -- --quick`. @default cut 30 minutes after the last incident, demand shape or deployment ends */
  quick: z
    .strictObject({
      /** How long the quick run lasts (at most the scenario's duration). */
      duration: durationSchema.refine((s) => s >= 600, { error: 'must be at least 10m' }),
    })
    .optional(),
});
export type ExpectSpec = z.output<typeof expectSchema>;

export const scenarioSchema = z
  .strictObject({
    name: nameSchema,
    /** One or two sentences for the report. @default '' */
    description: z.string().default(''),
    /** Does the scenario hold a real incident (shown in the report and the benchmark's JSON)? @default true when it has world incidents or demand shapes */
    incident: z.boolean().optional(),
    duration: durationSchema.refine((s) => s >= 600 && s <= 7 * 86400, { error: 'must be between 10m and 7 days' }),
    /** @default 1 */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1),
    /** Wall-clock time of the scenario start (shown in reports; the engine sees it as `now`). @default '2025-03-03T12:00:00Z' */
    startTime: z.iso.datetime({ error: 'must be an ISO date-time such as 2025-03-03T12:00:00Z' }).default('2025-03-03T12:00:00Z'),
    /** Resolution of the world model. @default 10 */
    stepSeconds: z
      .union([z.literal(5), z.literal(10), z.literal(15), z.literal(20), z.literal(30), z.literal(60)], { error: 'must be 5, 10, 15, 20, 30 or 60' })
      .default(10),
    slo: z
      .strictObject({
        /** A request slower than this (time to first token) missed the SLO. @default 2000 */
        latencyMs: z.number().positive().default(2000),
      })
      .prefault({}),
    /** Clients give up (and the request fails) after this long in a queue. @default 60 */
    requestTimeoutSeconds: z.number().positive().default(60),
    dns: z
      .strictObject({
        /** TTL of the weighted records. @default 60 */
        ttlSeconds: z.number().int().min(0).default(60),
        /** Route 53 propagation to all authoritative servers (INSYNC), for API writes and health-check changes alike. @default 60 */
        propagationSeconds: z.number().min(0).default(60),
        /** Recursive resolvers the service's clients use. @default 2000 */
        resolvers: z.number().int().min(1).max(100_000).default(2000),
        /** Pareto shape of resolver sizes (smaller: a few resolvers carry more of the clients). @default 1.2 */
        sizeAlpha: z.number().gt(0.5).max(10).default(1.2),
        /** Share of resolvers that keep answers past the TTL (Bhowmick et al. 2023: 8.74%). @default 0.0874 */
        stretchFraction: z.number().min(0).max(1).default(0.0874),
        /** Median time a TTL-stretching resolver keeps an answer. @default 600 */
        stretchMedianSeconds: z.number().positive().default(600),
        /** Lognormal sigma of that time. @default 1 */
        stretchSigma: z.number().min(0).max(3).default(1),
        /** Route 53 health check interval (standard 30 s, fast 10 s). @default 30 */
        healthCheckIntervalSeconds: z.union([z.literal(10), z.literal(30)]).default(30),
        /** Consecutive failed checks before unhealthy (and passed checks before healthy). @default 3 */
        healthCheckFailureThreshold: z.number().int().min(1).max(10).default(3),
      })
      .prefault({}),
    cloudwatch: z
      .strictObject({
        /**
         * When a minute's datapoint arrives, after the minute ends: in `parts` parts, each
         * floorSeconds + lognormal(medianSeconds, sigma) late (AWS: typically 1–2 minutes).
         * @default { floorSeconds: 30, medianSeconds: 45, sigma: 0.45, parts: 4 }
         */
        publicationDelay: arrivalDelaySchema({ floorSeconds: 30, medianSeconds: 45, sigma: 0.45 })
          .extend({ parts: z.number().int().min(1).max(16).default(4) })
          .prefault({}),
        /**
         * When a high-resolution datapoint (10 s, for alarms with `periodSeconds` under 60)
         * arrives, after its 10 s end: floorSeconds + lognormal(medianSeconds, sigma), whole (AWS:
         * "a few seconds" before an alarm can see it; high-resolution alarms are evaluated every 10 s).
         * @default { floorSeconds: 2, medianSeconds: 5, sigma: 0.5 }
         */
        highResolutionDelay: arrivalDelaySchema({ floorSeconds: 2, medianSeconds: 5, sigma: 0.5 }).prefault({}),
        /** How long after a period ends the CloudWatch-reading controllers read it (steer53's metricDelaySeconds). @default 60 */
        readDelaySeconds: z.number().min(0).max(600).default(60),
        /** Chance that any one datapoint never arrives. @default 0 */
        missingProbability: z.number().min(0).max(1).default(0),
        /** Seconds after each minute at which scheduled controllers evaluate. @default 15 */
        evaluationOffsetSeconds: z.number().int().min(0).max(59).default(15),
      })
      .prefault({}),
    /**
     * steer53's static stability (docs/runtime.md): `http` attaches a Route 53 HTTP health check to
     * each record steer53 weights (the same checks as `route53-health-check`, on `dns.healthCheck*`),
     * so Route 53 leaves a dead region out of its answers within seconds whatever the weights say;
     * `none` leaves steer53 alone with its weights. @default 'http'
     */
    staticStability: z.strictObject({ healthChecks: z.enum(['http', 'none']).default('http') }).prefault({}),
    /** The baselines that need settings of their own. */
    baselines: z
      .strictObject({
        /**
         * `route53-alarm-health-check`: a Route 53 health check on a CloudWatch alarm over each
         * region's time to first token, combined with the HTTP health check (a calculated health check).
         */
        alarmHealthCheck: z
          .strictObject({
            /**
             * The alarm's statistic. Route 53 cannot use an alarm on a percentile (extended
             * statistic): `p99` is stronger than what can be deployed, `average` is what can. @default 'p99'
             */
            statistic: z.enum(['p99', 'p95', 'average']).default('p99'),
            /** Breaching above this (ms). @default the scenario's SLO */
            thresholdMs: z.number().positive().optional(),
            /** @default 3 */
            datapointsToAlarm: z.number().int().min(1).default(3),
            /** @default 3 */
            evaluationPeriods: z.number().int().min(1).default(3),
            /** The health check's status while the alarm has insufficient data (Route 53's default: last known). @default 'last-known' */
            insufficientData: z.enum(['last-known', 'healthy', 'unhealthy']).default('last-known'),
            /**
             * Also a health check on each of the endpoint's error alarms (its fail-severity alarm
             * signals, the alarms steer53 drains on), in the same calculated health check: a team
             * that pages on its 5xx alarm puts a health check on it too. @default true
             */
            errorAlarms: z.boolean({ error: 'must be true or false' }).default(true),
          })
          .prefault({}),
      })
      .prefault({}),
    demand: demandSchema,
    /**
     * What ran before the scenario starts. The world runs this long first — the same regions and
     * policy, no incidents, this demand — and steer53 begins the scenario with the state it built
     * up, as it would in production, where the controller has been running for days before any
     * incident or deployment. Nothing in it counts toward the metrics or the report.
     * @default none: steer53 starts the scenario cold
     */
    history: z
      .strictObject({
        duration: durationSchema.refine((s) => s >= 600 && s <= 7 * 86400, { error: 'must be between 10m and 7 days' }),
        /** @default the scenario's demand */
        demand: demandSchema.optional(),
      })
      .optional(),
    regions: z.array(regionSchema).min(1, { error: 'needs at least one region' }),
    /** @default [] */
    incidents: z.array(incidentSchema).default([]),
    /**
     * Alarm signals by alarm name (or ARN); `{region}` in a name stands for each region's own
     * (`chat-{region}-ttft-fast`). @default every alarm: error rate > 5% for 2 of 3 minutes
     */
    alarms: z.record(z.string(), alarmModelSchema).default({}),
    /** Metric signals by signal name, where the metric name does not say what they measure. @default inferred */
    measures: z.record(z.string(), measureSchema).default({}),
    /** The policy inline: one service of the config schema. */
    service: serviceSchema.optional(),
    /** Or a policy config file (relative to the scenario file) and the service in it. */
    config: z.strictObject({ file: z.string().min(1), service: z.string().min(1).optional() }).optional(),
    /** What the benchmark expects of steer53 here. @default flaps and safety violations 0 on every seed */
    expect: expectSchema.prefault({}),
  })
  .superRefine((scenario, ctx) => {
    if ((scenario.service === undefined) === (scenario.config === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'needs exactly one of service (inline policy) or config (a policy file)' });
    }
    const names = new Set<string>();
    scenario.regions.forEach((region, i) => {
      if (names.has(region.name)) ctx.addIssue({ code: 'custom', path: ['regions', i, 'name'], message: `duplicate region "${region.name}"` });
      names.add(region.name);
    });
    scenario.incidents.forEach((incident, i) => {
      if (incident.kind === 'deployment') {
        if (incident.region === 'all' || !names.has(incident.region)) {
          ctx.addIssue({ code: 'custom', path: ['incidents', i, 'region'], message: `must be one region of the scenario (regions: ${[...names].join(', ')})` });
        }
        const end = incident.start + incident.duration;
        if (end >= scenario.duration) {
          ctx.addIssue({
            code: 'custom',
            path: ['incidents', i, 'duration'],
            message: `the deployment must end before the scenario does (start + duration = ${end} s, scenario ${scenario.duration} s)`,
          });
        }
        if (incident.rollback.at !== undefined && incident.rollback.at <= incident.start) {
          ctx.addIssue({ code: 'custom', path: ['incidents', i, 'rollback', 'at'], message: `must be after the deployment starts (${incident.start} s)` });
        }
        incident.redeliver.forEach((again, j) => {
          if (again.at >= scenario.duration)
            ctx.addIssue({
              code: 'custom',
              path: ['incidents', i, 'redeliver', j, 'at'],
              message: `must be before the end of the scenario (${scenario.duration} s)`,
            });
          if (again.phase === 'succeeded' && incident.outcome !== 'succeeded')
            ctx.addIssue({ code: 'custom', path: ['incidents', i, 'redeliver', j, 'phase'], message: 'this deployment fails: it never emits succeeded' });
          if (again.phase === 'failed' && incident.outcome !== 'failed')
            ctx.addIssue({ code: 'custom', path: ['incidents', i, 'redeliver', j, 'phase'], message: 'this deployment succeeds: it never emits failed' });
        });
        // One deployment at a time per endpoint: a pipeline deploys an endpoint once at a time.
        scenario.incidents.forEach((other, k) => {
          if (k >= i || other.kind !== 'deployment' || other.region !== incident.region) return;
          if (incident.start < other.start + other.duration && other.start < end) {
            ctx.addIssue({ code: 'custom', path: ['incidents', i, 'start'], message: `overlaps the deployment at incidents[${k}] on ${incident.region}` });
          }
        });
      }
      const targets =
        typeof incident.region === 'string' ? (incident.region === 'all' || incident.kind === 'deployment' ? [] : [incident.region]) : incident.region;
      targets.forEach((name) => {
        if (!names.has(name))
          ctx.addIssue({ code: 'custom', path: ['incidents', i, 'region'], message: `unknown region "${name}" (regions: ${[...names].join(', ')})` });
      });
      if (incident.start >= scenario.duration) {
        ctx.addIssue({ code: 'custom', path: ['incidents', i, 'start'], message: `must be before the end of the scenario (${scenario.duration} s)` });
      }
    });
    for (const [i, source] of scenario.demand.sources.entries()) {
      for (const [j, shape] of source.shapes.entries()) {
        if (shape.start >= scenario.duration) {
          ctx.addIssue({
            code: 'custom',
            path: ['demand', 'sources', i, 'shapes', j, 'start'],
            message: `must be before the end of the scenario (${scenario.duration} s)`,
          });
        }
      }
    }
  })
  .superRefine((scenario, ctx) => {
    // A 10-second datapoint is what the steps inside those 10 s served: the steps must tile it.
    for (const [name, alarm] of Object.entries(scenario.alarms)) {
      if (alarm.periodSeconds < 60 && scenario.stepSeconds !== 5 && scenario.stepSeconds !== 10) {
        ctx.addIssue({
          code: 'custom',
          path: ['alarms', name, 'periodSeconds'],
          message: `a high-resolution alarm needs stepSeconds 5 or 10 (the world publishes 10-second datapoints); stepSeconds is ${scenario.stepSeconds}`,
        });
      }
    }
    const quick = scenario.expect.quick;
    if (quick !== undefined && quick.duration > scenario.duration) {
      ctx.addIssue({ code: 'custom', path: ['expect', 'quick', 'duration'], message: `must be at most the scenario's duration (${scenario.duration} s)` });
    }
  });
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioSpec = z.output<typeof scenarioSchema>;
