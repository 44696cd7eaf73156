/**
 * The steer53 deployment event: what a CI/CD pipeline puts on EventBridge when it deploys to one
 * endpoint of a service, and what an operator puts to abort or promote a rollout. These zod
 * schemas are the single source of truth: the deployment handler parses with them, the CLI builds
 * its events with them, and the published JSON Schema (docs/schemas/deployment-event.schema.json)
 * is generated from them.
 */
import * as z from 'zod/mini';
import './zodMessages.js';
import type { DeploymentPhase } from '../core/types.js';
import { accountIdField, boundedString, eventIdField, eventTimeField, MAX_ARN_LENGTH, regionField } from './eventFields.js';

export const DEPLOYMENT_EVENT_SOURCE = 'steer53.deployment';

export const DeploymentDetailTypes = {
  STARTED: 'Deployment Started',
  SUCCEEDED: 'Deployment Succeeded',
  FAILED: 'Deployment Failed',
  ROLLED_BACK: 'Deployment Rolled Back',
  /** An operator stops the rollout in progress: rollback requested, as if the canary had failed. */
  ABORT_REQUESTED: 'Rollout Abort Requested',
  /** An operator ends the rollout in progress as a success: the endpoint goes to its full share. */
  PROMOTE_REQUESTED: 'Rollout Promote Requested',
} as const;
export type DeploymentDetailType = (typeof DeploymentDetailTypes)[keyof typeof DeploymentDetailTypes];

/** The detail types a pipeline sends, each with the phase it reports. */
export const PipelineDetailTypes = [
  DeploymentDetailTypes.STARTED,
  DeploymentDetailTypes.SUCCEEDED,
  DeploymentDetailTypes.FAILED,
  DeploymentDetailTypes.ROLLED_BACK,
] as const;
export type PipelineDetailType = (typeof PipelineDetailTypes)[number];
export const OperatorDetailTypes = [DeploymentDetailTypes.ABORT_REQUESTED, DeploymentDetailTypes.PROMOTE_REQUESTED] as const;
export type OperatorDetailType = (typeof OperatorDetailTypes)[number];

export const PhaseOfDetailType: Readonly<Record<DeploymentDetailType, DeploymentPhase>> = {
  [DeploymentDetailTypes.STARTED]: 'started',
  [DeploymentDetailTypes.SUCCEEDED]: 'succeeded',
  [DeploymentDetailTypes.FAILED]: 'failed',
  [DeploymentDetailTypes.ROLLED_BACK]: 'rolled-back',
  [DeploymentDetailTypes.ABORT_REQUESTED]: 'abort',
  [DeploymentDetailTypes.PROMOTE_REQUESTED]: 'promote',
};

export function detailTypeOfPhase(phase: DeploymentPhase): DeploymentDetailType {
  return (Object.keys(PhaseOfDetailType) as DeploymentDetailType[]).find((type) => PhaseOfDetailType[type] === phase)!;
}

export const deploymentDetailTypeSchema = z.enum(PipelineDetailTypes);
export const operatorDetailTypeSchema = z.enum(OperatorDetailTypes);

const serviceName = z
  .string()
  .check(z.regex(/^[a-zA-Z0-9][\w.-]{0,63}$/, { error: 'must be a steer53 service name (1–64 letters, digits, dots, dashes or underscores)' }));
const endpointName = z.string().check(z.minLength(1), z.maxLength(128));
const idempotencyKey = z.string().check(z.minLength(1), z.maxLength(256));
/** A schema with a description (for the published JSON Schema). */
const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

/** The `detail` of a pipeline's deployment event. Unknown keys are rejected: a typo must not pass silently. */
export const deploymentDetailSchema = z.strictObject({
  /** The steer53 service name (`services[].name` in the config). */
  service: described(serviceName, 'The steer53 service name (services[].name in the config).'),
  /** The SetIdentifier of the endpoint being deployed. */
  endpoint: described(endpointName, 'The SetIdentifier of the endpoint being deployed.'),
  /** The version being deployed (image tag, model version, commit). */
  version: described(z.string().check(z.minLength(1), z.maxLength(256)), 'The version being deployed (image tag, model version, commit).'),
  /** The pipeline run, so the audit log and the events steer53 sends back can link to it. */
  pipelineExecutionId: described(
    z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    'The pipeline run; echoed in Rollback Requested and Rollout Succeeded.',
  ),
  /** Same key = same event: duplicates (EventBridge delivers at least once) are harmless. */
  idempotencyKey: described(idempotencyKey, 'Same key, same event: a duplicate delivery is applied once. One key per phase of a deployment.'),
});
export type DeploymentDetail = z.output<typeof deploymentDetailSchema>;

/** The `detail` of an operator's abort or promote. */
export const operatorDetailSchema = z.strictObject({
  service: described(serviceName, 'The steer53 service name.'),
  endpoint: described(endpointName, 'The SetIdentifier of the endpoint whose rollout is aborted or promoted.'),
  /** The version the operator means, when they know it; recorded in the audit log. */
  version: described(
    z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    'The version the operator means (recorded); the rollout in progress is acted on.',
  ),
  /** Why, for the audit log and the notification. */
  reason: described(z.string().check(z.minLength(1), z.maxLength(1000)), 'Why, for the audit log and the notification.'),
  /** Who: the IAM principal of the operator (the CLI puts its caller identity here). */
  by: described(z.string().check(z.minLength(1), z.maxLength(512)), 'Who: the IAM principal of the operator.'),
  idempotencyKey: described(idempotencyKey, 'Same key, same command: a duplicate delivery is applied once.'),
});
export type OperatorDetail = z.output<typeof operatorDetailSchema>;

const envelope = {
  version: z.optional(boundedString(16)),
  id: eventIdField,
  source: z.literal(DEPLOYMENT_EVENT_SOURCE),
  /** The account that put the event: EventBridge sets it from the caller's credentials, so it cannot be forged. */
  account: accountIdField,
  time: eventTimeField,
  region: z.optional(regionField),
  resources: z.optional(z.array(boundedString(MAX_ARN_LENGTH)).check(z.maxLength(20))),
};

export const pipelineDeploymentEventSchema = z.object({ ...envelope, 'detail-type': deploymentDetailTypeSchema, detail: deploymentDetailSchema });
export const operatorDeploymentEventSchema = z.object({ ...envelope, 'detail-type': operatorDetailTypeSchema, detail: operatorDetailSchema });

/** The whole EventBridge envelope of a steer53 deployment event, as the deployment handler receives it. */
export const deploymentEventSchema = z.discriminatedUnion('detail-type', [pipelineDeploymentEventSchema, operatorDeploymentEventSchema]).check(
  z.meta({
    title: 'steer53 deployment event',
    description:
      'An EventBridge event with source "steer53.deployment": a pipeline reports a deployment of one endpoint, or an operator aborts or promotes its rollout.',
  }),
);
export type DeploymentEvent = z.output<typeof deploymentEventSchema>;
