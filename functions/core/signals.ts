/**
 * The building blocks of a signal: where its numbers come from (a CloudWatch query or an alarm)
 * and how they are judged (trip and clear thresholds). Shared by the config schema and presets.
 */
import * as z from 'zod';

/** A CloudWatch statistic: percentiles (`p99`, `p99.9`) or one of the plain statistics. */
export const statisticSchema = z.string().regex(/^(p(100|[1-9]?\d(\.\d+)?)|Average|Maximum|Minimum|Sum|SampleCount)$/, {
  error: 'must be a percentile such as p95/p99 or one of Average, Maximum, Minimum, Sum, SampleCount',
});

// Moved to percentiles.ts (no zod there, for the Lambda bundles), re-exported for the config's callers.
export { defaultMinSamples, percentileOf } from './percentiles.js';

export const regionSchema = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, {
  error: 'must be an AWS region such as eu-west-1',
});

export const roleArnSchema = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
  error: 'must be an IAM role ARN (arn:aws:iam::123456789012:role/name)',
});

/** Where a metric signal's numbers come from: one CloudWatch GetMetricData query. */
export const metricQuerySchema = z.strictObject({
  namespace: z.string().min(1),
  metricName: z.string().min(1),
  /** @default {} */
  dimensions: z.record(z.string(), z.string()).default({}),
  statistic: statisticSchema,
  /** CloudWatch period; one minute is the finest standard-resolution period. @default 60 */
  periodSeconds: z
    .number()
    .int()
    .refine((s) => s === 1 || s === 5 || s === 10 || s === 30 || (s >= 60 && s % 60 === 0), {
      error: 'must be 1, 5, 10, 30 or a multiple of 60',
    })
    .default(60),
  /** Region to query; CloudWatch is regional. @default the endpoint's region */
  region: regionSchema.optional(),
  /** Role to assume to read metrics held in another account. @default none (this account) */
  accountRoleArn: roleArnSchema.optional(),
});
export type MetricQuery = z.output<typeof metricQuerySchema>;

export const thresholdFields = {
  /** Display unit of the scaled value and thresholds (e.g. `ms`, `s`, `%`). @default '' */
  unit: z.string().default(''),
  /** Multiplier from the raw CloudWatch value to `unit` (µs → ms is 0.001). @default 1 */
  scale: z.number().positive().default(1),
  /** Which way is bad. @default 'higher-is-worse' */
  direction: z.enum(['higher-is-worse', 'lower-is-worse']).default('higher-is-worse'),
  /** A value past this is a breach. */
  trip: z.number().finite(),
  /** Only a value on the safe side of this is clear; between clear and trip, nothing moves. */
  clear: z.number().finite(),
  /** Fewer samples than this make the value `unknown`. @default 10/(1−p) for percentiles, else 1 */
  minSamples: z.number().int().min(1).optional(),
  /**
   * What a confirmed breach does: `degrade` sheds traffic in proportion to the excess, `fail`
   * drains the endpoint (errors, hard-down). @default 'degrade'
   */
  severity: z.enum(['degrade', 'fail']).default('degrade'),
  /**
   * The value grows in proportion to the traffic the endpoint serves (KV-cache usage, queue
   * depth at moderate load). A recovery step is then taken only if the value, scaled to the step's
   * traffic, would still be clear — so a region that is fine at half its share is not handed its
   * full share while it still lacks the capacity for it. Not for GPU utilisation: NVIDIA's and
   * SageMaker's figure is busy time (the share of time a kernel runs), which reads 60-100% at a
   * fraction of a GPU's throughput, so scaling it up predicts overload that is not there and holds
   * a recovery for good. (Capacity is checked apart from this, from `capacity.warmRps`.)
   * @default false (true for the KV-cache preset)
   */
  scalesWithLoad: z.boolean().default(false),
};

/**
 * A name used as a key (SetIdentifier, signal name): anything but the names every JavaScript
 * object already has (`constructor`, `toString`, `__proto__`…), which would read as present.
 */
export const keyNameSchema = z
  .string()
  .min(1)
  .refine((name) => !(name in Object.prototype), { error: (issue) => `"${String(issue.input)}" is reserved; choose another name` });

export const metricSignalSchema = z.strictObject({
  name: keyNameSchema,
  source: z.literal('metric'),
  metric: metricQuerySchema,
  ...thresholdFields,
  /**
   * Each sample of the metric is one request: 1 when it failed, else 0 (an `Error` metric a server
   * logs per request, as EMF does), so its Average is the share of requests that failed and its
   * SampleCount the requests. The share is then judged on that count, as a percentile is (docs/runtime.md,
   * "Error rates on their count"): one failure in five requests does not prove a 5% trip broken.
   * Needs `statistic: Average`, higher-is-worse, and a trip between 0 and 1 once divided by `scale`.
   * @default false (the value is judged alone)
   */
  perRequest: z.boolean().optional(),
});

/**
 * A CloudWatch alarm as a signal: ALARM is a breach, OK is clear, INSUFFICIENT_DATA is unknown.
 * Alarms are how composite or metric-math conditions the controller cannot compute reach it.
 */
export const alarmSignalSchema = z.strictObject({
  name: keyNameSchema,
  source: z.literal('alarm'),
  alarm: z
    .strictObject({
      name: z.string().min(1).optional(),
      arn: z
        .string()
        .regex(/^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/, { error: 'must be a CloudWatch alarm ARN' })
        .optional(),
      /** Region of the alarm. @default the endpoint's region */
      region: regionSchema.optional(),
    })
    .refine((a) => a.name !== undefined || a.arn !== undefined, { error: 'needs a name or an arn' }),
  /** @default 'degrade' */
  severity: z.enum(['degrade', 'fail']).default('degrade'),
  /**
   * How far past trip the alarm's ALARM stands for, as a signal's excess (value ÷ trip − 1): an
   * alarm on p99 time to first token above 20 s, for a 2 s trip, stands for 9 — extreme at the
   * default `detection.extremeExcess`, so one ALARM degrades the endpoint (an impaired one drains).
   * Set it on a high-resolution alarm (10-30 s periods, on a metric published with
   * StorageResolution 1) to act within seconds of a slowdown, not the minutes a minute metric
   * takes to publish. @default 0: an ALARM says that, not how far (a minimum shed, M of N)
   */
  excess: z.number().min(0).optional(),
});

export type MetricSignal = z.output<typeof metricSignalSchema>;
export type AlarmSignal = z.output<typeof alarmSignalSchema>;
