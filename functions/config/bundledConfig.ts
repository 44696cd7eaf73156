/**
 * The config as the Lambda functions read it: the JSON the CDK app writes next to each bundle,
 * which is the *output* of the config schema (functions/core/config.ts), validated in full at synth:
 * presets expanded, defaults applied, every range, pattern and cross-field rule checked.
 *
 * At cold start the handlers check its structure only, with this zod/mini schema, instead of
 * running the full schema again (whose refinements, presets and transforms would add the whole of
 * `zod` and the config code, about 110 KB, to every bundle). "Structure" means:
 *  - every object is strict: a key the schema does not output is reported (a config written by
 *    another steer53 version, or the raw input form instead of the resolved one);
 *  - every key the schema always outputs is present, with its JSON type (string, number, integer,
 *    boolean, list, object) and, for the fields the code switches on, its allowed values
 *    (`source`, `role`, `direction`, `severity`, the policy's modes and actions, `version` 1);
 *  - the lists the code cannot do without are not empty (services, endpoints, signals).
 * Not checked again: ranges, patterns and the rules between fields (thresholds in order, steps
 * increasing, names unique, canary signals present). A file that fails is refused with every
 * problem and its path, as the full schema would list them.
 *
 * The TypeScript check at the bottom keeps this schema and the config schema's output type the
 * same: changing one without the other fails `npm run typecheck`.
 */
import type { Config } from '../core/config.js';
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import * as z from 'zod/mini';
import '../events/zodMessages.js';

const integer = z.number().check(z.int());
const nonEmpty = <T extends z.ZodMiniType>(item: T, what: string) => z.array(item).check(z.minLength(1, { error: `needs at least one ${what}` }));

const metricQuery = z.strictObject({
  namespace: z.string(),
  metricName: z.string(),
  dimensions: z.record(z.string(), z.string()),
  statistic: z.string(),
  periodSeconds: integer,
  region: z.optional(z.string()),
  accountRoleArn: z.optional(z.string()),
});

const severity = z.enum(['degrade', 'fail']);

const metricSignal = z.strictObject({
  name: z.string(),
  source: z.literal('metric'),
  metric: metricQuery,
  unit: z.string(),
  scale: z.number(),
  direction: z.enum(['higher-is-worse', 'lower-is-worse']),
  trip: z.number(),
  clear: z.number(),
  minSamples: z.optional(integer),
  severity,
  scalesWithLoad: z.boolean(),
  perRequest: z.optional(z.boolean()),
});

const alarmSignal = z.strictObject({
  name: z.string(),
  source: z.literal('alarm'),
  alarm: z.strictObject({ name: z.optional(z.string()), arn: z.optional(z.string()), region: z.optional(z.string()) }),
  severity,
  excess: z.optional(z.number().check(z.minimum(0))),
});

const provider = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sagemaker-variant'), endpointName: z.string(), variantName: z.string() }),
  z.strictObject({ kind: z.literal('ecs-service'), cluster: z.string(), service: z.string() }),
  z.strictObject({ kind: z.literal('ec2-asg'), autoScalingGroupName: z.string() }),
  z.strictObject({ kind: z.literal('generic'), inService: metricQuery }),
]);

const scaling = z.strictObject({
  provider,
  maxInstances: integer,
  minInstances: integer,
  stepInstances: z.optional(integer),
  perInstanceRps: z.optional(z.number()),
  timeoutSeconds: integer,
  scaleInCooldownSeconds: integer,
});

const endpoint = z.strictObject({
  setIdentifier: z.string(),
  region: z.string(),
  baselineWeight: integer.check(z.minimum(0), z.maximum(255)),
  role: z.enum(['active', 'standby', 'overflow']),
  capacity: z.strictObject({ warmRps: z.optional(z.number()), maxShare: z.number(), targetUtilization: z.number(), scaling: z.optional(scaling) }),
  // Resolved: a load query's region defaults to its endpoint's.
  load: z.optional(z.strictObject({ ...metricQuery.shape, region: z.string() })),
  signals: nonEmpty(z.discriminatedUnion('source', [metricSignal, alarmSignal]), 'signal'),
  deploymentSources: z.strictObject({
    ecsServices: z.array(z.string()),
    codeDeployDeploymentGroups: z.array(z.strictObject({ application: z.string(), deploymentGroup: z.string() })),
    sagemakerEndpoints: z.array(z.string()),
    codePipelines: z.array(z.string()),
  }),
});

const policy = z.strictObject({
  evaluationPeriodSeconds: integer,
  detection: z.strictObject({
    breachesToDegrade: integer,
    breachesToDrain: integer,
    window: integer,
    severeExcess: z.number(),
    breachesToDegradeSevere: integer,
    extremeExcess: z.number(),
    clearsToRecover: integer,
    confidence: z.number(),
    severeTailShare: z.number(),
  }),
  dwell: z.strictObject({ minSeconds: integer, growthFactor: z.number(), maxSeconds: integer }),
  shedding: z.strictObject({
    gain: z.number(),
    minStep: z.number(),
    maxStep: z.number(),
    impairedStep: z.number(),
    impairedLoadShare: z.number(),
    intervalSeconds: integer,
    extremeIntervalSeconds: integer,
  }),
  recovery: z.strictObject({ steps: z.array(z.number()), holdSeconds: integer }),
  safety: z.strictObject({
    minHealthyEndpoints: integer,
    maxShiftPerEvaluation: z.number(),
    failStaticFraction: z.number(),
    failStaticAction: z.enum(['hold', 'baseline']),
    failStaticNoticeSeconds: integer,
  }),
  deadbandWeight: integer,
  rebalanceMinShare: z.number(),
  drift: z.strictObject({ action: z.enum(['revert', 'adopt']), adoptSeconds: integer }),
  changeBudget: z.strictObject({ maxChangesPerHour: integer }),
  capacityBudget: z.strictObject({ maxRequestsPerHour: integer }),
  rollout: z.strictObject({
    mode: z.enum(['none', 'drain-during-deploy', 'canary']),
    canary: z.strictObject({
      steps: z.array(z.number()),
      holdSeconds: integer,
      latencySignal: z.optional(z.string()),
      statistic: z.string(),
      maxLatencyRatio: z.number(),
      errorSignal: z.optional(z.string()),
      maxErrorDelta: z.number(),
      minSamples: integer,
      maxExtensions: integer,
      onInconclusive: z.enum(['fail', 'pass']),
    }),
    onFailure: z.enum(['drain', 'restore']),
    timeoutSeconds: integer,
  }),
  polling: z.strictObject({ quietIntervalSeconds: integer }),
});

const service = z.strictObject({
  name: z.string(),
  dnsName: z.string(),
  recordType: z.enum(['A', 'AAAA', 'CNAME']),
  hostedZoneId: z.string(),
  policy,
  deploymentPublishers: z.strictObject({ accounts: z.array(z.string()), principalArns: z.array(z.string()) }),
  endpoints: nonEmpty(endpoint, 'endpoint'),
  drills: z.array(
    z.strictObject({
      endpoint: z.string(),
      schedule: z.string(),
      durationMinutes: integer,
      guardAlarm: z.strictObject({ name: z.string(), region: z.string() }),
    }),
  ),
});

/** The structure of the resolved config (see above). */
export const bundledConfigSchema = z.strictObject({
  version: z.literal(1),
  events: z.strictObject({ maxAgeSeconds: integer, clockSkewSeconds: integer }),
  services: nonEmpty(service, 'service'),
});

export type BundledConfigCheck = { ok: true; value: Config } | { ok: false; problems: ValidationProblem[] };

/** Checks the structure of a config the CDK app resolved and validated. */
export function checkBundledConfig(input: unknown): BundledConfigCheck {
  const result = bundledConfigSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data as Config } : { ok: false, problems: problemsOf(result.error) };
}

// This schema's output is the config schema's output as it is written to JSON (a `load` that is
// undefined is left out), each assignable to the other: a field added, removed or retyped on one
// side only fails the typecheck.
type Endpoint = Config['services'][number]['endpoints'][number];
type FileEndpoint = Omit<Endpoint, 'load'> & { load?: Endpoint['load'] };
type FileConfig = Omit<Config, 'services'> & { services: (Omit<Config['services'][number], 'endpoints'> & { endpoints: FileEndpoint[] })[] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const bundledConfigMatchesConfig: Same<z.output<typeof bundledConfigSchema>, FileConfig> = true;
