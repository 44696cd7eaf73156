/**
 * From a deployment event, as EventBridge delivers it, to what it asks of each steer53 service:
 * steer53's own events (a pipeline's phase, an operator's abort or promote) name their service;
 * a native AWS deployment event (ECS, CodeDeploy, SageMaker, CodePipeline) is mapped to the
 * endpoints whose `deploymentSources` name it, one request per service. No I/O: the Lambda
 * handler reads the event here and hands each request to onDeployment.
 */
import type { Config } from '../core/config.js';
import type { DeploymentPhase, EpochMs } from '../core/types.js';
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import { DEPLOYMENT_EVENT_SOURCE, deploymentEventSchema, PhaseOfDetailType, type DeploymentDetailType } from '../events/deploymentEvent.js';
import { parseEventTime } from '../events/eventFields.js';
import { nativeKindOf } from '../events/nativeDeploymentEvents.js';
import { ageRefusal, publisherRefusal, type EventRefusal } from './eventChecks.js';
import { mapNativeDeployment, type NativeDeployment } from './nativeDeployments.js';
import type { DeploymentInput, DeploymentRequest } from './onDeployment.js';

type Steer53DeploymentEvent = ReturnType<typeof deploymentEventSchema.parse>;

/** What kind of deployment event it is, before the config is needed. */
export type DeploymentEventKind =
  | { readonly kind: 'steer53'; readonly event: Steer53DeploymentEvent }
  | { readonly kind: 'native'; readonly event: unknown }
  | { readonly kind: 'malformed'; readonly problems: readonly ValidationProblem[] };

/** What a deployment event asks of steer53. */
export type DeploymentRequests =
  | { readonly kind: 'requests'; readonly requests: readonly DeploymentRequest[] }
  | { readonly kind: 'malformed'; readonly what: string; readonly problems: readonly ValidationProblem[] }
  /** Nothing to do: a native event that is no deployment phase, or that no endpoint's deploymentSources names. */
  | { readonly kind: 'ignored'; readonly what: string; readonly why: 'no-phase' | 'no-endpoint'; readonly reason: string }
  /** Not allowed to act: too old, from the future, or from an account the service does not list. */
  | { readonly kind: 'refused'; readonly what: string; readonly refusals: readonly EventRefusal[] };

/** What the checks of an event need: the time now and the controller's account. */
export interface RequestContext {
  readonly now: EpochMs;
  readonly account: string | undefined;
}

// A Map, not the record: a detail type is event data.
const PHASES: ReadonlyMap<string, DeploymentPhase> = new Map(Object.entries(PhaseOfDetailType));

export function deploymentEventKind(event: unknown): DeploymentEventKind {
  const parsed = deploymentEventSchema.safeParse(event);
  if (parsed.success) return { kind: 'steer53', event: parsed.data };
  if (nativeKindOf(event) !== undefined) return { kind: 'native', event };
  return { kind: 'malformed', problems: problemsOf(parsed.error) };
}

/** The requests of a steer53 or native deployment event, per service, that may act. */
export function deploymentRequestsOf(read: Exclude<DeploymentEventKind, { kind: 'malformed' }>, config: Config, context: RequestContext): DeploymentRequests {
  return read.kind === 'steer53' ? steer53Requests(read.event, config, context) : nativeRequests(read.event, config, context);
}

function steer53Requests(event: Steer53DeploymentEvent, config: Config, context: RequestContext): DeploymentRequests {
  const what = `${DEPLOYMENT_EVENT_SOURCE} ${event['detail-type']}`;
  const request = steer53Request(event);
  const age = ageRefusal(parseEventTime(event.time)!, context.now, config.events);
  if (age) return { kind: 'refused', what, refusals: [age] };
  const service = config.services.find((s) => s.name === request.service);
  // An unknown service is the use case's to reject (malformed), with the services it knows.
  const refusal = service ? publisherRefusal(service, event.account, context.account, false) : undefined;
  return refusal ? { kind: 'refused', what, refusals: [refusal] } : { kind: 'requests', requests: [request] };
}

function steer53Request(event: Steer53DeploymentEvent): DeploymentRequest {
  const { detail, 'detail-type': detailType } = event;
  const signal = {
    endpoint: detail.endpoint,
    version: detail.version,
    phase: PHASES.get(detailType as DeploymentDetailType)!,
    at: parseEventTime(event.time)!,
    idempotencyKey: detail.idempotencyKey,
  };
  const input: DeploymentInput =
    'reason' in detail
      ? { from: 'operator', reason: detail.reason, signal: { ...signal, by: detail.by } }
      : {
          from: 'pipeline',
          signal: {
            ...signal,
            version: detail.version,
            ...(detail.pipelineExecutionId !== undefined ? { pipelineExecutionId: detail.pipelineExecutionId } : {}),
          },
        };
  return { service: detail.service, inputs: [input], source: DEPLOYMENT_EVENT_SOURCE, detailType, eventId: event.id, callerAccount: event.account };
}

function nativeRequests(event: unknown, config: Config, context: RequestContext): DeploymentRequests {
  const mapping = mapNativeDeployment(event, config)!;
  if (mapping.kind === 'malformed') return mapping;
  if (mapping.kind === 'no-phase') return { kind: 'ignored', what: mapping.what, why: 'no-phase', reason: `${mapping.what}: ${mapping.why}` };
  if (mapping.deployments.length === 0) {
    // The construct routes what the config maps; anything else (a rule widened by hand, another bus) is not ours.
    return { kind: 'ignored', what: mapping.what, why: 'no-endpoint', reason: `${mapping.what}: no endpoint's deploymentSources names it` };
  }
  const first = mapping.deployments[0]!;
  const age = ageRefusal(first.at, context.now, config.events);
  if (age) return { kind: 'refused', what: mapping.what, refusals: [age] };
  const byService = new Map<string, NativeDeployment[]>();
  const refusals: EventRefusal[] = [];
  for (const d of mapping.deployments) {
    const refusal = publisherRefusal(config.services.find((s) => s.name === d.service)!, d.account, context.account, true);
    if (refusal) refusals.push(refusal);
    else byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
  }
  if (byService.size === 0) return { kind: 'refused', what: mapping.what, refusals: [...new Map(refusals.map((r) => [JSON.stringify(r), r])).values()] };
  const { id, 'detail-type': detailType, source } = event as { id: string; 'detail-type': string; source: string };
  const requests = [...byService].map(([service, deployments]) => ({
    service,
    inputs: deployments.map((native) => ({ from: 'native' as const, native })),
    source,
    detailType,
    eventId: id,
    callerAccount: first.account,
  }));
  return { kind: 'requests', requests };
}
