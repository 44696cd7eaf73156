/**
 * Presets for the signal sources inference endpoints usually have. A preset is written in the
 * config as `source: 'sagemaker-model-latency'` (etc.) with a few fields, and expands into a
 * plain metric signal with the namespace, dimensions and unit conversion filled in. The
 * conversions matter: SageMaker ModelLatency is reported in microseconds, and GPUUtilization is
 * summed over the instance's GPUs (0–100 × GPU count), so both are normalised here.
 */
import * as z from 'zod';
import { keyNameSchema, metricQuerySchema, regionSchema, roleArnSchema, statisticSchema, type MetricSignal } from './signals.js';

const common = {
  name: keyNameSchema,
  trip: z.number().finite(),
  clear: z.number().finite(),
  minSamples: z.number().int().min(1).optional(),
  severity: z.enum(['degrade', 'fail']).default('degrade'),
  /** See the metric signal's `scalesWithLoad`. @default per preset: true for KV-cache usage (GPU utilisation is busy time: not proportional) */
  scalesWithLoad: z.boolean().optional(),
  /** @default 60 */
  periodSeconds: z.number().int().min(60).multipleOf(60).default(60),
  region: regionSchema.optional(),
  accountRoleArn: roleArnSchema.optional(),
};

/** SageMaker endpoint ModelLatency (reported in µs); thresholds in milliseconds. */
const sagemakerModelLatency = z.strictObject({
  source: z.literal('sagemaker-model-latency'),
  endpointName: z.string().min(1),
  /** @default 'AllTraffic' */
  variantName: z.string().min(1).default('AllTraffic'),
  /** @default 'p99' */
  statistic: statisticSchema.default('p99'),
  ...common,
});

/** SageMaker GPUUtilization (summed over GPUs); normalised to percent per GPU by `gpuCount`. */
const sagemakerGpuUtilization = z.strictObject({
  source: z.literal('sagemaker-gpu-utilization'),
  endpointName: z.string().min(1),
  /** @default 'AllTraffic' */
  variantName: z.string().min(1).default('AllTraffic'),
  /** GPUs per instance (e.g. 8 on ml.p4d.24xlarge): the metric reads up to 100 × this. */
  gpuCount: z.number().int().min(1),
  /** @default 'Average' */
  statistic: statisticSchema.default('Average'),
  ...common,
});

/**
 * SageMaker Invocation5XXErrors: 1 for each invocation the model answered with a 5xx, 0 otherwise,
 * so its Average is the share of invocations that failed and its SampleCount the invocations. Judged
 * on that count (`perRequest`); thresholds in percent of invocations. Severity `fail` by default:
 * errors mean the endpoint is failing, not slow.
 */
const sagemakerErrorRate = z.strictObject({
  source: z.literal('sagemaker-error-rate'),
  endpointName: z.string().min(1),
  /** @default 'AllTraffic' */
  variantName: z.string().min(1).default('AllTraffic'),
  ...common,
  /** Percent of invocations failing: a breach when proven past it. */
  trip: z.number().gt(0).lt(100),
  clear: z.number().min(0).lt(100),
  /** @default 'fail' */
  severity: z.enum(['degrade', 'fail']).default('fail'),
});

/** ALB TargetResponseTime (seconds); thresholds in seconds. */
const albTargetResponseTime = z.strictObject({
  source: z.literal('alb-target-response-time'),
  /** The LoadBalancer dimension, `app/name/0123456789abcdef`. */
  loadBalancer: z.string().regex(/^app\/[^/]+\/[0-9a-f]+$/, { error: 'must be the LoadBalancer dimension, app/<name>/<id>' }),
  /** The TargetGroup dimension, `targetgroup/name/0123456789abcdef`. @default none (whole load balancer) */
  targetGroup: z
    .string()
    .regex(/^targetgroup\/[^/]+\/[0-9a-f]+$/, { error: 'must be the TargetGroup dimension, targetgroup/<name>/<id>' })
    .optional(),
  /** @default 'p99' */
  statistic: statisticSchema.default('p99'),
  ...common,
});

/** Generic model-server metrics (vLLM / TGI / Triton exported to CloudWatch). */
function genericPreset<S extends string>(source: S, defaultMetricName: string, defaultStatistic: string, defaultUnit: string) {
  return z.strictObject({
    source: z.literal(source),
    namespace: z.string().min(1),
    /** @default per preset: TimeToFirstToken, QueueDepth or KVCacheUsage */
    metricName: z.string().min(1).default(defaultMetricName),
    /** @default {} */
    dimensions: z.record(z.string(), z.string()).default({}),
    statistic: statisticSchema.default(defaultStatistic),
    /** Raw value → unit multiplier (seconds → ms is 1000). @default 1 */
    scale: z.number().positive().default(1),
    unit: z.string().default(defaultUnit),
    ...common,
  });
}
const timeToFirstToken = genericPreset('time-to-first-token', 'TimeToFirstToken', 'p99', 'ms');
const queueDepth = genericPreset('queue-depth', 'QueueDepth', 'Maximum', 'requests');
const kvCacheUsage = genericPreset('kv-cache-usage', 'KVCacheUsage', 'Maximum', '%');

export const presetSignalSchemas = [
  sagemakerModelLatency,
  sagemakerGpuUtilization,
  sagemakerErrorRate,
  albTargetResponseTime,
  timeToFirstToken,
  queueDepth,
  kvCacheUsage,
] as const;

export type PresetSignal = z.output<(typeof presetSignalSchemas)[number]>;

function metricSignal(
  preset: PresetSignal,
  query: { namespace: string; metricName: string; dimensions: Record<string, string>; statistic: string },
  unit: string,
  scale: number,
): MetricSignal {
  return {
    name: preset.name,
    source: 'metric',
    metric: metricQuerySchema.parse({
      ...query,
      periodSeconds: preset.periodSeconds,
      region: preset.region,
      accountRoleArn: preset.accountRoleArn,
    }),
    unit,
    scale,
    direction: 'higher-is-worse',
    trip: preset.trip,
    clear: preset.clear,
    minSamples: preset.minSamples,
    severity: preset.severity,
    scalesWithLoad: preset.scalesWithLoad ?? preset.source === 'kv-cache-usage',
  };
}

/** Expands a preset into the plain metric signal the engine and the CloudWatch adapter use. */
export function expandPresetSignal(preset: PresetSignal): MetricSignal {
  switch (preset.source) {
    case 'sagemaker-model-latency':
      return metricSignal(
        preset,
        {
          namespace: 'AWS/SageMaker',
          metricName: 'ModelLatency',
          dimensions: { EndpointName: preset.endpointName, VariantName: preset.variantName },
          statistic: preset.statistic,
        },
        'ms',
        0.001, // ModelLatency is reported in microseconds
      );
    case 'sagemaker-gpu-utilization':
      return metricSignal(
        preset,
        {
          namespace: '/aws/sagemaker/Endpoints',
          metricName: 'GPUUtilization',
          dimensions: { EndpointName: preset.endpointName, VariantName: preset.variantName },
          statistic: preset.statistic,
        },
        '%',
        1 / preset.gpuCount, // summed over the instance's GPUs: 0–100 × gpuCount
      );
    case 'sagemaker-error-rate':
      return {
        ...metricSignal(
          preset,
          {
            namespace: 'AWS/SageMaker',
            metricName: 'Invocation5XXErrors',
            dimensions: { EndpointName: preset.endpointName, VariantName: preset.variantName },
            statistic: 'Average',
          },
          '%',
          100, // a share of invocations, in percent
        ),
        perRequest: true,
      };
    case 'alb-target-response-time':
      return metricSignal(
        preset,
        {
          namespace: 'AWS/ApplicationELB',
          metricName: 'TargetResponseTime',
          dimensions: preset.targetGroup ? { LoadBalancer: preset.loadBalancer, TargetGroup: preset.targetGroup } : { LoadBalancer: preset.loadBalancer },
          statistic: preset.statistic,
        },
        's',
        1,
      );
    case 'time-to-first-token':
    case 'queue-depth':
    case 'kv-cache-usage':
      return metricSignal(
        preset,
        { namespace: preset.namespace, metricName: preset.metricName, dimensions: preset.dimensions, statistic: preset.statistic },
        preset.unit,
        preset.scale,
      );
  }
}

/**
 * Typed helpers for a `steer53.config.ts`: `presets.sagemakerModelLatency({ ... })` reads better
 * than the raw source string and is checked by the compiler.
 */
export const presets = {
  sagemakerModelLatency: (s: Omit<z.input<typeof sagemakerModelLatency>, 'source'>) => ({ source: 'sagemaker-model-latency' as const, ...s }),
  sagemakerGpuUtilization: (s: Omit<z.input<typeof sagemakerGpuUtilization>, 'source'>) => ({ source: 'sagemaker-gpu-utilization' as const, ...s }),
  sagemakerErrorRate: (s: Omit<z.input<typeof sagemakerErrorRate>, 'source'>) => ({ source: 'sagemaker-error-rate' as const, ...s }),
  albTargetResponseTime: (s: Omit<z.input<typeof albTargetResponseTime>, 'source'>) => ({ source: 'alb-target-response-time' as const, ...s }),
  timeToFirstToken: (s: Omit<z.input<typeof timeToFirstToken>, 'source'>) => ({ source: 'time-to-first-token' as const, ...s }),
  queueDepth: (s: Omit<z.input<typeof queueDepth>, 'source'>) => ({ source: 'queue-depth' as const, ...s }),
  kvCacheUsage: (s: Omit<z.input<typeof kvCacheUsage>, 'source'>) => ({ source: 'kv-cache-usage' as const, ...s }),
};
