/**
 * The events steer53 itself publishes on EventBridge (`source: "steer53"`), one zod schema per
 * detail type. These schemas are the contract documented in docs/events.md; the publisher
 * validates every event against them before it is sent, so the documentation cannot drift from
 * what is published.
 */
import * as z from 'zod/mini';
import './zodMessages.js';

export const CONTROLLER_EVENT_SOURCE = 'steer53';

export const ControllerDetailTypes = {
  TRAFFIC_SHIFTED: 'Traffic Shifted',
  SHIFT_BLOCKED: 'Shift Blocked',
  DRIFT_DETECTED: 'Drift Detected',
  /** A canary failed (or an operator aborted it): the pipeline should roll the endpoint back. */
  ROLLBACK_REQUESTED: 'Rollback Requested',
  /** Every canary step passed (or an operator promoted it): the new version carries its full share. */
  ROLLOUT_SUCCEEDED: 'Rollout Succeeded',
  /** An override (freeze, pin, maintenance drain, drill) was set, changed or ended. */
  OVERRIDE_CHANGED: 'Override Changed',
  /**
   * steer53 asked an endpoint's capacity provider for a new instance count (more before traffic
   * moves in, or the extra given back). For the `generic` provider this event *is* the request:
   * the user's automation (Karpenter, a fleet of its own) acts on it.
   */
  CAPACITY_REQUESTED: 'Capacity Requested',
} as const;
export type ControllerDetailType = (typeof ControllerDetailTypes)[keyof typeof ControllerDetailTypes];

const weightsSchema = z.record(z.string(), z.number().check(z.int(), z.minimum(0), z.maximum(255)));
const reasonSchema = z.object({ code: z.string(), message: z.string(), endpoint: z.optional(z.string()) });

const serviceFieldsSchema = {
  /** The steer53 service name. */
  service: z.string(),
  dnsName: z.string(),
  recordType: z.string(),
  hostedZoneId: z.string(),
  /** ISO-8601 time of the evaluation. */
  at: z.iso.datetime(),
  /** What started the evaluation: `schedule`, `alarm <name>`, `cli <user>`. */
  trigger: z.string(),
};

export const trafficShiftedDetailSchema = z.object({
  ...serviceFieldsSchema,
  /** Id of the decision; the audit entry and the Route 53 change comment carry the same id. */
  decisionId: z.string(),
  /** `normal`, `frozen`, `pinned` or `fail-static`. */
  mode: z.string(),
  /** The change drains a failing endpoint (exempt from the change budget and step bound). */
  emergency: z.boolean(),
  /** Weights of every record before and after the change. */
  before: weightsSchema,
  after: weightsSchema,
  changes: z.array(z.object({ endpoint: z.string(), from: z.number().check(z.int()), to: z.number().check(z.int()) })),
  reasons: z.array(reasonSchema),
  /** Route 53 change ids. */
  changeIds: z.array(z.string()),
});

export const shiftBlockedDetailSchema = z.object({
  ...serviceFieldsSchema,
  decisionId: z.string(),
  mode: z.string(),
  /** The weights Route 53 holds (unchanged by this evaluation unless `changes` were also applied). */
  currentWeights: weightsSchema,
  /** What policy wanted before the blocking rule. */
  targetWeights: weightsSchema,
  /** Each refused action with the rule that refused it. */
  blocked: z.array(reasonSchema),
});

export const driftDetectedDetailSchema = z.object({
  ...serviceFieldsSchema,
  /** Weights the controller last wrote. */
  expected: weightsSchema,
  /** Weights Route 53 holds now. */
  actual: weightsSchema,
  /** Records whose weight differs. */
  endpoints: z.array(z.string()),
});

const rolloutFields = {
  /** Id of the decision that ended the canary; its audit entry carries the same id. */
  decisionId: z.string(),
  /** SetIdentifier of the endpoint being rolled out. */
  endpoint: z.string(),
  /** The version the pipeline deployed (as its deployment event named it). */
  version: z.string(),
  /** The pipeline run that deployed it, when the deployment event named one. */
  pipelineExecutionId: z.optional(z.string()),
  /** Why, in a sentence: the judged evidence, or who aborted or promoted. */
  reason: z.string(),
};

export const rollbackRequestedDetailSchema = z.object({
  ...serviceFieldsSchema,
  ...rolloutFields,
  /**
   * What steer53 does with the endpoint's traffic meanwhile: `drain` keeps it at 0 until a
   * `Deployment Rolled Back` arrives; `restore` has already returned it to its pre-deploy weight.
   */
  onFailure: z.enum(['drain', 'restore']),
});

const overrideSchema = z.object({ by: z.string(), reason: z.string(), setAt: z.number(), until: z.nullable(z.number()) });

export const overrideChangedDetailSchema = z.object({
  ...serviceFieldsSchema,
  /** Id of the decision that told it; its audit entry carries the same id. */
  decisionId: z.string(),
  /** `set` (set or changed, with the end the engine gives it), `expired`, or `lifted` (ended by an operator before its end). */
  change: z.enum(['set', 'expired', 'lifted']),
  /** The endpoint of a maintenance drain or a drill, when it is about one. */
  endpoint: z.optional(z.string()),
  /** What happened, in a sentence: what, who, why, until when. */
  message: z.string(),
  /** The overrides in force after the decision (times in epoch ms; `until` is never more than 7 days after `setAt`). */
  overrides: z.object({
    freeze: z.optional(overrideSchema),
    pin: z.optional(z.object({ ...overrideSchema.shape, weights: weightsSchema })),
    drains: z.optional(z.record(z.string(), overrideSchema)),
  }),
});

export const rolloutSucceededDetailSchema = z.object({
  ...serviceFieldsSchema,
  ...rolloutFields,
});

export const capacityRequestedDetailSchema = z.object({
  ...serviceFieldsSchema,
  /** Id of the decision that asked; its audit entry carries the same id. */
  decisionId: z.string(),
  /** SetIdentifier of the endpoint. */
  endpoint: z.string(),
  /** Where the capacity is (the endpoint's region). */
  region: z.string(),
  /** The provider kind (`sagemaker-variant`, `ecs-service`, `ec2-asg`, `generic`). */
  provider: z.string(),
  /** `out`: more instances before traffic moves in; `in`: the extra given back. */
  direction: z.enum(['out', 'in']),
  /** Instances to hold. */
  desired: z.number().check(z.int(), z.minimum(0)),
  /** Instances in service when it was asked. */
  inService: z.number().check(z.int(), z.minimum(0)),
  /** Why, in a sentence. */
  reason: z.string(),
});

export type TrafficShiftedDetail = z.output<typeof trafficShiftedDetailSchema>;
export type ShiftBlockedDetail = z.output<typeof shiftBlockedDetailSchema>;
export type DriftDetectedDetail = z.output<typeof driftDetectedDetailSchema>;
export type RollbackRequestedDetail = z.output<typeof rollbackRequestedDetailSchema>;
export type RolloutSucceededDetail = z.output<typeof rolloutSucceededDetailSchema>;
export type OverrideChangedDetail = z.output<typeof overrideChangedDetailSchema>;
export type CapacityRequestedDetail = z.output<typeof capacityRequestedDetailSchema>;

export type ControllerEvent =
  | { readonly detailType: typeof ControllerDetailTypes.TRAFFIC_SHIFTED; readonly detail: TrafficShiftedDetail }
  | { readonly detailType: typeof ControllerDetailTypes.SHIFT_BLOCKED; readonly detail: ShiftBlockedDetail }
  | { readonly detailType: typeof ControllerDetailTypes.DRIFT_DETECTED; readonly detail: DriftDetectedDetail }
  | { readonly detailType: typeof ControllerDetailTypes.ROLLBACK_REQUESTED; readonly detail: RollbackRequestedDetail }
  | { readonly detailType: typeof ControllerDetailTypes.ROLLOUT_SUCCEEDED; readonly detail: RolloutSucceededDetail }
  | { readonly detailType: typeof ControllerDetailTypes.OVERRIDE_CHANGED; readonly detail: OverrideChangedDetail }
  | { readonly detailType: typeof ControllerDetailTypes.CAPACITY_REQUESTED; readonly detail: CapacityRequestedDetail };

export const controllerDetailSchemas = {
  [ControllerDetailTypes.TRAFFIC_SHIFTED]: trafficShiftedDetailSchema,
  [ControllerDetailTypes.SHIFT_BLOCKED]: shiftBlockedDetailSchema,
  [ControllerDetailTypes.DRIFT_DETECTED]: driftDetectedDetailSchema,
  [ControllerDetailTypes.ROLLBACK_REQUESTED]: rollbackRequestedDetailSchema,
  [ControllerDetailTypes.ROLLOUT_SUCCEEDED]: rolloutSucceededDetailSchema,
  [ControllerDetailTypes.OVERRIDE_CHANGED]: overrideChangedDetailSchema,
  [ControllerDetailTypes.CAPACITY_REQUESTED]: capacityRequestedDetailSchema,
} as const;

/** The service fields every controller event starts with. */
export function serviceFields(
  service: { readonly name: string; readonly dnsName: string; readonly recordType: string; readonly hostedZoneId: string },
  at: number,
  trigger: string,
) {
  return {
    service: service.name,
    dnsName: service.dnsName,
    recordType: service.recordType,
    hostedZoneId: service.hostedZoneId,
    at: new Date(at).toISOString(),
    trigger,
  };
}

/** The `Capacity Requested` event of one ask: published by the use case, or, for the generic provider, as the ask itself. */
export function capacityRequestedEvent(
  service: Parameters<typeof serviceFields>[0],
  ask: Omit<CapacityRequestedDetail, keyof ReturnType<typeof serviceFields>> & { readonly at: number; readonly trigger: string },
): ControllerEvent {
  const { at, trigger, ...fields } = ask;
  return { detailType: ControllerDetailTypes.CAPACITY_REQUESTED, detail: { ...serviceFields(service, at, trigger), ...fields } };
}
