/**
 * The native AWS deployment events steer53 follows, as AWS documents them (examples copied into
 * test/fixtures/native-events). Only the fields steer53 reads are checked; everything else AWS
 * adds is kept and ignored, because these shapes grow over time and are not ours to police.
 */
import * as z from 'zod/mini';
import './zodMessages.js';
import {
  accountIdField,
  boundedString,
  eventIdField,
  eventTimeField,
  MAX_ARN_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  nonEmptyBounded,
  regionField,
} from './eventFields.js';

const name = nonEmptyBounded(MAX_NAME_LENGTH);

export const NativeDeploymentSources = {
  ECS: { source: 'aws.ecs', detailType: 'ECS Deployment State Change' },
  CODE_DEPLOY: { source: 'aws.codedeploy', detailType: 'CodeDeploy Deployment State-change Notification' },
  SAGEMAKER: { source: 'aws.sagemaker', detailType: 'SageMaker Endpoint Deployment State Change' },
  CODE_PIPELINE: { source: 'aws.codepipeline', detailType: 'CodePipeline Pipeline Execution State Change' },
} as const;
export type NativeDeploymentKind = keyof typeof NativeDeploymentSources;

const envelope = {
  id: eventIdField,
  time: eventTimeField,
  /** The account the deployment happened in (EventBridge sets it). */
  account: accountIdField,
  region: regionField,
  resources: z._default(z.array(boundedString(MAX_ARN_LENGTH)).check(z.maxLength(20)), []),
};

/** ECS Deployment State Change: `resources` names the ECS service. */
export const ecsDeploymentEventSchema = z.looseObject({
  ...envelope,
  source: z.literal(NativeDeploymentSources.ECS.source),
  'detail-type': z.literal(NativeDeploymentSources.ECS.detailType),
  detail: z.looseObject({
    /** SERVICE_DEPLOYMENT_IN_PROGRESS (initial or rollback), SERVICE_DEPLOYMENT_COMPLETED, SERVICE_DEPLOYMENT_FAILED. */
    eventName: name,
    deploymentId: name,
    /** A rollback deployment says so here: "ECS deployment circuit breaker: rolling back to deploymentId …". */
    reason: z.optional(boundedString(MAX_TEXT_LENGTH)),
  }),
});

/** CodeDeploy Deployment State-change Notification. */
export const codeDeployDeploymentEventSchema = z.looseObject({
  ...envelope,
  source: z.literal(NativeDeploymentSources.CODE_DEPLOY.source),
  'detail-type': z.literal(NativeDeploymentSources.CODE_DEPLOY.detailType),
  detail: z.looseObject({
    application: name,
    deploymentGroup: name,
    deploymentId: name,
    /** START, SUCCESS, FAILURE, STOP, READY (blue/green, waiting to reroute traffic). */
    state: name,
  }),
});

/** SageMaker Endpoint Deployment State Change. */
export const sageMakerDeploymentEventSchema = z.looseObject({
  ...envelope,
  source: z.literal(NativeDeploymentSources.SAGEMAKER.source),
  'detail-type': z.literal(NativeDeploymentSources.SAGEMAKER.detailType),
  detail: z.looseObject({
    EndpointName: name,
    /** The config in service; after a successful update, the new one. */
    EndpointConfigName: name,
    /** UPDATING, IN_SERVICE, ROLLING_BACK, FAILED, UPDATE_ROLLBACK_FAILED, … */
    EndpointStatus: name,
    /** Present while a new endpoint config is being deployed (absent on a capacity-only update). */
    PendingDeploymentSummary: z.optional(z.looseObject({ EndpointConfigName: name })),
  }),
});

/** CodePipeline Pipeline Execution State Change. */
export const codePipelineExecutionEventSchema = z.looseObject({
  ...envelope,
  source: z.literal(NativeDeploymentSources.CODE_PIPELINE.source),
  'detail-type': z.literal(NativeDeploymentSources.CODE_PIPELINE.detailType),
  detail: z.looseObject({
    pipeline: name,
    'execution-id': name,
    /** STARTED, SUCCEEDED, FAILED, STOPPING, STOPPED, CANCELED, SUPERSEDED, RESUMED. */
    state: name,
  }),
});

export const nativeDeploymentEventSchemas = {
  ECS: ecsDeploymentEventSchema,
  CODE_DEPLOY: codeDeployDeploymentEventSchema,
  SAGEMAKER: sageMakerDeploymentEventSchema,
  CODE_PIPELINE: codePipelineExecutionEventSchema,
} as const;

export type EcsDeploymentEvent = z.output<typeof ecsDeploymentEventSchema>;
export type CodeDeployDeploymentEvent = z.output<typeof codeDeployDeploymentEventSchema>;
export type SageMakerDeploymentEvent = z.output<typeof sageMakerDeploymentEventSchema>;
export type CodePipelineExecutionEvent = z.output<typeof codePipelineExecutionEventSchema>;

/** Which native deployment event this is by its source and detail type, whatever its detail holds. */
export function nativeKindOf(event: unknown): NativeDeploymentKind | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { source, 'detail-type': detailType } = event as { source?: unknown; 'detail-type'?: unknown };
  return (Object.keys(NativeDeploymentSources) as NativeDeploymentKind[]).find(
    (kind) => NativeDeploymentSources[kind].source === source && NativeDeploymentSources[kind].detailType === detailType,
  );
}
