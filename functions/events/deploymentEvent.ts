/**
 * The steer53 deployment event: what a CI/CD pipeline puts on EventBridge when it deploys to one
 * endpoint of a service. This zod schema is the single source of truth: the deployment handler
 * parses with it, and the published JSON Schema is generated from it.
 */
import { z } from 'zod';

export const DEPLOYMENT_EVENT_SOURCE = 'steer53.deployment';

export const DeploymentDetailTypes = {
  STARTED: 'Deployment Started',
  SUCCEEDED: 'Deployment Succeeded',
  FAILED: 'Deployment Failed',
  ROLLED_BACK: 'Deployment Rolled Back',
} as const;
export type DeploymentDetailType = (typeof DeploymentDetailTypes)[keyof typeof DeploymentDetailTypes];

export const deploymentDetailTypeSchema = z.enum([
  DeploymentDetailTypes.STARTED,
  DeploymentDetailTypes.SUCCEEDED,
  DeploymentDetailTypes.FAILED,
  DeploymentDetailTypes.ROLLED_BACK,
]);

/** The `detail` of a deployment event. Unknown keys are rejected: a typo must not pass silently. */
export const deploymentDetailSchema = z.strictObject({
  /** The steer53 service name (`services[].name` in the config). */
  service: z.string().regex(/^[a-zA-Z0-9][\w.-]{0,63}$/, { error: 'must be a steer53 service name (1–64 letters, digits, dots, dashes or underscores)' }),
  /** The SetIdentifier of the endpoint being deployed. */
  endpoint: z.string().min(1).max(128),
  /** The version being deployed (image tag, model version, commit). */
  version: z.string().min(1).max(256),
  /** The pipeline run, so the audit log can link back to it. */
  pipelineExecutionId: z.string().min(1).max(256).optional(),
  /** Same key = same event: duplicates (EventBridge delivers at least once) are harmless. */
  idempotencyKey: z.string().min(1).max(256),
});
export type DeploymentDetail = z.output<typeof deploymentDetailSchema>;

/** The whole EventBridge envelope of a deployment event. */
export const deploymentEventSchema = z.object({
  version: z.string().optional(),
  id: z.string().min(1),
  source: z.literal(DEPLOYMENT_EVENT_SOURCE),
  account: z.string().optional(),
  time: z.iso.datetime({ offset: true }),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  'detail-type': deploymentDetailTypeSchema,
  detail: deploymentDetailSchema,
});
export type DeploymentEvent = z.output<typeof deploymentEventSchema>;
