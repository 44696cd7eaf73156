/**
 * Native AWS deployment events (ECS, CodeDeploy, SageMaker, CodePipeline) mapped to the endpoints
 * whose `deploymentSources` name them, and turned into the deployment signals the engine applies.
 *
 * AWS's events say less than a pipeline's steer53 events: a rollback is usually a new deployment
 * of the previous version, indistinguishable from a new one, and SageMaker reports IN_SERVICE
 * after capacity changes too. So the last step, `resolveNative`, reads the endpoint's rollout in
 * progress:
 *   - a rollback starting (ECS circuit breaker, SageMaker ROLLING_BACK) fails the rollout in
 *     progress, whatever version the event names;
 *   - a deployment that completes while steer53 waits for a rollback is that rollback;
 *   - a deployment that starts while steer53 waits for a rollback is taken as the rollback, not
 *     as a new version (its completion then ends the rollout);
 *   - SageMaker's IN_SERVICE counts as "succeeded" only while a deployment is in progress.
 * Pure: no I/O, no clock.
 */
import type { Config, EndpointConfig, ServiceConfig } from '../core/config.js';
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import type { DeploymentSignal, EpochMs, RolloutState } from '../core/types.js';
import {
  NativeDeploymentSources,
  nativeDeploymentEventSchemas,
  nativeKindOf,
  type CodeDeployDeploymentEvent,
  type CodePipelineExecutionEvent,
  type EcsDeploymentEvent,
  type NativeDeploymentKind,
  type SageMakerDeploymentEvent,
} from '../events/nativeDeploymentEvents.js';
import { parseEventTime } from '../events/eventFields.js';

/** What a native event says happened; `rollback-started` is resolved against the rollout in progress. */
export type NativePhase = 'started' | 'succeeded' | 'failed' | 'rollback-started';

/** One native event's meaning for one endpoint. */
export interface NativeDeployment {
  readonly kind: NativeDeploymentKind;
  readonly service: string;
  readonly endpoint: string;
  readonly phase: NativePhase;
  readonly version: string;
  readonly at: EpochMs;
  readonly idempotencyKey: string;
  readonly pipelineExecutionId?: string;
  /** Who deployed, for the audit log: `ECS service default/servicetest`, `CodePipeline myPipeline`, … */
  readonly by: string;
  /** The event's own status (`SERVICE_DEPLOYMENT_COMPLETED`, `SUCCESS`, …), for the audit log. */
  readonly status: string;
  /** The account and region the event comes from (EventBridge sets both). */
  readonly account: string;
  readonly region: string;
}

export type NativeMapping =
  | { readonly kind: 'malformed'; readonly what: string; readonly problems: readonly ValidationProblem[] }
  /** A state that is no deployment phase (CodeDeploy READY, CodePipeline STOPPING, a SageMaker capacity update). */
  | { readonly kind: 'no-phase'; readonly what: string; readonly why: string }
  /** Mapped to the endpoints that name the source; none when no endpoint does. */
  | { readonly kind: 'mapped'; readonly what: string; readonly deployments: readonly NativeDeployment[] };

type DeploymentSources = EndpointConfig['deploymentSources'];

interface Reading {
  readonly phase: NativePhase | undefined;
  readonly version: string;
  readonly status: string;
  readonly by: string;
  readonly pipelineExecutionId?: string;
  /** Does this endpoint's `deploymentSources` name the event's resource? */
  readonly matches: (sources: DeploymentSources) => boolean;
  /** Why a state without a phase is not one. */
  readonly why?: string;
  /**
   * The resource deploys in its own region (a SageMaker endpoint, a CodeDeploy group), so of the
   * endpoints naming it those in the event's region are meant. Not a pipeline: one pipeline often
   * deploys several regions.
   */
  readonly regional?: boolean;
}

// Maps, not plain objects: a status named `constructor` or `__proto__` must be an unknown status.
const ECS_PHASES: ReadonlyMap<string, NativePhase> = new Map([
  ['SERVICE_DEPLOYMENT_IN_PROGRESS', 'started'],
  ['SERVICE_DEPLOYMENT_COMPLETED', 'succeeded'],
  ['SERVICE_DEPLOYMENT_FAILED', 'failed'],
]);

function readEcs(event: EcsDeploymentEvent): Reading {
  const { eventName, deploymentId, reason } = event.detail;
  let phase = ECS_PHASES.get(eventName);
  // "Service deployment in progress events are delivered when both an initial and a rollback
  // deployment is started. The difference between the two is in the reason field." (ECS docs)
  if (phase === 'started' && reason !== undefined && /rolling back/i.test(reason)) phase = 'rollback-started';
  const services = event.resources.filter((arn) => arn.includes(':service/'));
  return {
    phase,
    version: deploymentId,
    status: eventName,
    by: `ECS service ${services.map((arn) => arn.slice(arn.indexOf(':service/') + ':service/'.length)).join(', ') || '?'}`,
    matches: (sources) => sources.ecsServices.some((arn) => services.includes(arn)),
    ...(phase === undefined ? { why: `${eventName} is not a deployment phase` } : {}),
  };
}

const CODE_DEPLOY_PHASES: ReadonlyMap<string, NativePhase> = new Map([
  ['START', 'started'],
  ['SUCCESS', 'succeeded'],
  ['FAILURE', 'failed'],
  ['STOP', 'failed'],
]);

function readCodeDeploy(event: CodeDeployDeploymentEvent): Reading {
  const { application, deploymentGroup, deploymentId, state } = event.detail;
  const phase = CODE_DEPLOY_PHASES.get(state);
  return {
    phase,
    version: deploymentId,
    status: state,
    by: `CodeDeploy ${application}/${deploymentGroup}`,
    regional: true,
    matches: (sources) => sources.codeDeployDeploymentGroups.some((g) => g.application === application && g.deploymentGroup === deploymentGroup),
    // READY: a blue/green deployment waits to reroute traffic; its outcome follows.
    ...(phase === undefined ? { why: `${state} is not a deployment phase` } : {}),
  };
}

function readSageMaker(event: SageMakerDeploymentEvent): Reading {
  const { EndpointName, EndpointConfigName, EndpointStatus, PendingDeploymentSummary } = event.detail;
  const matches = (sources: DeploymentSources) => sources.sagemakerEndpoints.includes(EndpointName);
  const by = `SageMaker endpoint ${EndpointName}`;
  const regional = true;
  switch (EndpointStatus) {
    case 'UPDATING':
      // Without a pending deployment this is a capacity change on the config in service: no new version.
      return PendingDeploymentSummary
        ? { phase: 'started', version: PendingDeploymentSummary.EndpointConfigName, status: EndpointStatus, by, matches, regional }
        : {
            phase: undefined,
            version: EndpointConfigName,
            status: EndpointStatus,
            by,
            matches,
            why: 'UPDATING without a pending deployment is a capacity change, not a new version',
          };
    case 'IN_SERVICE':
      return { phase: 'succeeded', version: EndpointConfigName, status: EndpointStatus, by, matches, regional };
    case 'ROLLING_BACK':
      return {
        phase: 'rollback-started',
        version: PendingDeploymentSummary?.EndpointConfigName ?? EndpointConfigName,
        status: EndpointStatus,
        by,
        matches,
        regional,
      };
    case 'FAILED':
    case 'UPDATE_ROLLBACK_FAILED':
      return { phase: 'failed', version: PendingDeploymentSummary?.EndpointConfigName ?? EndpointConfigName, status: EndpointStatus, by, matches, regional };
    default:
      return { phase: undefined, version: EndpointConfigName, status: EndpointStatus, by, matches, why: `${EndpointStatus} is not a deployment phase` };
  }
}

const CODE_PIPELINE_PHASES: ReadonlyMap<string, NativePhase> = new Map([
  ['STARTED', 'started'],
  ['SUCCEEDED', 'succeeded'],
  ['FAILED', 'failed'],
  ['STOPPED', 'failed'],
  ['CANCELED', 'failed'],
]);

function readCodePipeline(event: CodePipelineExecutionEvent): Reading {
  const { pipeline, 'execution-id': executionId, state } = event.detail;
  const phase = CODE_PIPELINE_PHASES.get(state);
  return {
    phase,
    version: executionId,
    status: state,
    by: `CodePipeline ${pipeline}`,
    pipelineExecutionId: executionId,
    matches: (sources) => sources.codePipelines.includes(pipeline),
    // SUPERSEDED: a newer execution takes over and reports its own start; STOPPING and RESUMED are on the way to an outcome.
    ...(phase === undefined ? { why: `${state} is not a deployment phase` } : {}),
  };
}

/** What every native event carries besides its reading. */
interface Envelope {
  readonly id: string;
  readonly time: string;
  readonly account: string;
  readonly region: string;
}

type Read = { ok: true; reading: Reading; envelope: Envelope } | { ok: false; problems: ValidationProblem[] };

function readWith<T extends Envelope>(
  schema: { safeParse(event: unknown): { success: true; data: T } | { success: false; error: Parameters<typeof problemsOf>[0] } },
  event: unknown,
  reader: (event: T) => Reading,
): Read {
  const parsed = schema.safeParse(event);
  return parsed.success ? { ok: true, reading: reader(parsed.data), envelope: parsed.data } : { ok: false, problems: problemsOf(parsed.error) };
}

function read(kind: NativeDeploymentKind, event: unknown): Read {
  switch (kind) {
    case 'ECS':
      return readWith(nativeDeploymentEventSchemas.ECS, event, readEcs);
    case 'CODE_DEPLOY':
      return readWith(nativeDeploymentEventSchemas.CODE_DEPLOY, event, readCodeDeploy);
    case 'SAGEMAKER':
      return readWith(nativeDeploymentEventSchemas.SAGEMAKER, event, readSageMaker);
    case 'CODE_PIPELINE':
      return readWith(nativeDeploymentEventSchemas.CODE_PIPELINE, event, readCodePipeline);
  }
}

/** Whether an event is one of the native deployment events steer53 follows (by source and detail type). */
export function isNativeDeploymentEvent(event: unknown): boolean {
  return nativeKindOf(event) !== undefined;
}

/**
 * Maps a native deployment event to every endpoint whose `deploymentSources` name its resource.
 * SageMaker endpoint and CodeDeploy group names are regional, and such a resource deploys in its
 * own region: when endpoints in several regions name the same one, those in the event's region
 * are meant. (An ECS service's ARN names its region; a pipeline may deploy several regions.)
 */
export function mapNativeDeployment(event: unknown, config: Config): NativeMapping | undefined {
  const kind = nativeKindOf(event);
  if (kind === undefined) return undefined;
  const what = `${NativeDeploymentSources[kind].source} ${NativeDeploymentSources[kind].detailType}`;
  const result = read(kind, event);
  if (!result.ok) return { kind: 'malformed', what, problems: result.problems.map((p) => ({ ...p, message: `${p.message} (as ${what})` })) };
  const { reading, envelope } = result;
  if (reading.phase === undefined) return { kind: 'no-phase', what, why: reading.why ?? `${reading.status} is not a deployment phase` };
  const named = config.services.flatMap((service) =>
    service.endpoints.filter((e) => reading.matches(e.deploymentSources)).map((endpoint) => ({ service, endpoint })),
  );
  const inRegion = named.filter((n) => n.endpoint.region === envelope.region);
  const meant = reading.regional === true && inRegion.length > 0 ? inRegion : named;
  const phased = { ...reading, phase: reading.phase };
  const deployments = meant.map(({ service, endpoint }) => nativeDeploymentOf(kind, phased, envelope, service, endpoint));
  return { kind: 'mapped', what, deployments };
}

function nativeDeploymentOf(
  kind: NativeDeploymentKind,
  reading: Reading & { readonly phase: NativePhase },
  envelope: Envelope,
  service: ServiceConfig,
  endpoint: EndpointConfig,
): NativeDeployment {
  return {
    kind,
    service: service.name,
    endpoint: endpoint.setIdentifier,
    phase: reading.phase,
    version: reading.version,
    at: parseEventTime(envelope.time)!,
    // The event id is unique per event and kept across EventBridge's redeliveries; the status and
    // version keep two different events apart even where AWS's samples share an id; the endpoint,
    // because one event may deploy several endpoints of a service, each applied once.
    idempotencyKey: `${NativeDeploymentSources[kind].source}/${envelope.id}/${reading.status}/${reading.version}/${endpoint.setIdentifier}`,
    ...(reading.pipelineExecutionId !== undefined ? { pipelineExecutionId: reading.pipelineExecutionId } : {}),
    by: reading.by,
    status: reading.status,
    account: envelope.account,
    region: envelope.region,
  };
}

export type NativeResolution = { readonly signal: DeploymentSignal } | { readonly skip: string };

/** Turns a native deployment into the signal the engine applies, in the light of the endpoint's rollout in progress. */
export function resolveNative(deployment: NativeDeployment, rollout: RolloutState | undefined): NativeResolution {
  const signal = (phase: DeploymentSignal['phase'], version = deployment.version): NativeResolution => ({
    signal: {
      endpoint: deployment.endpoint,
      version,
      phase,
      at: deployment.at,
      idempotencyKey: deployment.idempotencyKey,
      ...(deployment.pipelineExecutionId !== undefined ? { pipelineExecutionId: deployment.pipelineExecutionId } : {}),
      by: deployment.by,
    },
  });
  const waitingForRollback = rollout?.phase === 'rolling-back';
  switch (deployment.phase) {
    case 'rollback-started':
      return rollout ? signal('failed', rollout.version) : { skip: `${deployment.status}: a rollback started with no rollout in progress` };
    case 'failed':
      return signal('failed');
    case 'succeeded':
      if (waitingForRollback) return signal('rolled-back');
      if (deployment.kind === 'SAGEMAKER' && !rollout)
        return { skip: 'IN_SERVICE with no deployment in progress (SageMaker reports it after capacity changes too)' };
      return signal('succeeded');
    case 'started':
      if (waitingForRollback && rollout.version !== deployment.version)
        return { skip: `a deployment starting while ${rollout.version} waits for its rollback is taken as the rollback; its completion ends the rollout` };
      return signal('started');
  }
}
