/**
 * Lambda entry: deployment events. steer53's own (`source: "steer53.deployment"`: a pipeline's
 * started / succeeded / failed / rolled back, an operator's abort / promote) and the native AWS
 * deployment events the construct routes here (ECS, CodeDeploy, SageMaker, CodePipeline), mapped to
 * endpoints through the config's `deploymentSources`. Each is applied by evaluating its service
 * at once (functions/app/onDeployment.ts).
 *
 * EventBridge delivers at least once, so each service's share of an event runs through Powertools
 * idempotency on the controller's table: a duplicate delivery returns the first one's result and
 * changes nothing. (The engine also remembers the idempotency keys of a rollout in progress; this
 * layer also covers duplicates that arrive after a rollout has ended.)
 *
 * Failing: malformed input, or an event naming a service or endpoint the config does not have,
 * is logged and counted, not retried. An event that could not be applied yet (another evaluation
 * of the service is applying a change) or a transient AWS error fails the invocation, so Lambda
 * delivers it again; the idempotency record of a failed attempt is removed, so the retry applies.
 */
import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { problemsOf } from '../core/validationProblems.js';
import { mapNativeDeployment, type NativeDeployment } from '../app/nativeDeployments.js';
import { DeploymentDeferredError, onDeployment, type DeploymentInput, type DeploymentRecord, type DeploymentRequest } from '../app/onDeployment.js';
import type { Runtime } from '../app/runtime.js';
import { DEPLOYMENT_EVENT_SOURCE, deploymentEventSchema, PhaseOfDetailType } from '../events/deploymentEvent.js';
import { nativeKindOf } from '../events/nativeDeploymentEvents.js';
import { readEnvironment } from './awsRuntime.js';
import { deadlineOf, defaultDeps, rejectMalformed, reportEvaluation, wrap, type HandlerDeps } from './edge.js';

/** What one service made of a deployment event. */
export interface ServiceDeploymentResult {
  readonly service: string;
  /** `evaluated`: the service was evaluated with the event; `skipped`: the native event means no deployment there (recorded). */
  readonly status: 'evaluated' | 'skipped';
  /** The evaluation's status (`applied`, `unchanged`) and decision, when evaluated. */
  readonly evaluation?: string;
  readonly decisionId?: string;
  readonly records: readonly DeploymentRecord[];
  /** A duplicate delivery: this is the first delivery's result, and nothing was done again. */
  readonly duplicate?: boolean;
}

export type DeploymentHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'ignored'; reason: string }
  | { status: 'applied'; services: readonly ServiceDeploymentResult[] };

export interface DeploymentHandlerDeps extends HandlerDeps {
  /**
   * Where deliveries already processed are remembered (Powertools idempotency). Without it, the
   * engine's own memory of idempotency keys is the only guard against duplicates.
   */
  readonly idempotency?: () => BasePersistenceLayer;
}

/**
 * How long a processed delivery is remembered: EventBridge retries delivery for up to 24 hours
 * and Lambda keeps an asynchronous event up to the function's maximum event age (1 hour as the
 * construct sets it), so a duplicate cannot arrive later than that.
 */
export const IDEMPOTENCY_EXPIRY_SECONDS = 2 * 24 * 3600;

/** Idempotency records share the controller's table: one partition, away from the services' items. */
export const IDEMPOTENCY_PARTITION = 'IDEMPOTENCY#deployment';

/** The DynamoDB persistence layer on the controller's table (`pk`/`sk`, TTL on `expiresAt`). */
export function deploymentIdempotencyStore(options: { tableName: string; client: DynamoDBClient }): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    staticPkValue: IDEMPOTENCY_PARTITION,
    // The table's TTL attribute: Powertools writes epoch seconds, as TTL wants.
    expiryAttr: 'expiresAt',
  });
}

interface IdempotencyPayload {
  /** `<service>/<idempotency keys>`: the same event for the same service. */
  readonly key: string;
  /** What the event says; the same key with something else is a producer's bug, refused. */
  readonly what: readonly (readonly [string, string, string])[];
}

type ServiceWork = (
  payload: IdempotencyPayload,
  request: DeploymentRequest,
  rt: Runtime,
) => Promise<ServiceDeploymentResult | { status: 'rejected'; problems: readonly { path: string; message: string }[] }>;

export function createDeploymentHandler(deps: DeploymentHandlerDeps) {
  const work: ServiceWork = async (_payload, request, rt) => {
    const outcome = await onDeployment(rt, request);
    if (outcome.status === 'rejected') return outcome;
    if (outcome.status === 'skipped') return { service: outcome.service, status: 'skipped', records: outcome.records };
    reportEvaluation(deps, outcome.evaluation);
    return {
      service: outcome.service,
      status: 'evaluated',
      evaluation: outcome.evaluation.status,
      ...(outcome.evaluation.decisionId !== undefined ? { decisionId: outcome.evaluation.decisionId } : {}),
      records: outcome.records,
    };
  };
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'what',
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    responseHook: (response) => (typeof response === 'object' && response !== null && !Array.isArray(response) ? { ...response, duplicate: true } : response),
  });
  let idempotent: ServiceWork | undefined;
  const apply: ServiceWork = (payload, request, rt) => {
    if (!deps.idempotency) return work(payload, request, rt);
    idempotent ??= makeIdempotent(work, { persistenceStore: deps.idempotency(), config, keyPrefix: 'steer53-deployment', dataIndexArgument: 0 });
    return idempotent(payload, request, rt);
  };

  return wrap(deps, async (event: unknown, context: Context): Promise<DeploymentHandlerResult> => {
    if (typeof event === 'object' && event !== null && typeof (event as { id?: unknown }).id === 'string')
      deps.logger.setCorrelationId((event as { id: string }).id);
    config.registerLambdaContext(context);

    let requests: DeploymentRequest[];
    let rt: Runtime;
    const parsed = deploymentEventSchema.safeParse(event);
    if (parsed.success) {
      const { detail, 'detail-type': detailType } = parsed.data;
      const at = Date.parse(parsed.data.time);
      const input: DeploymentInput =
        'reason' in detail
          ? {
              from: 'operator',
              reason: detail.reason,
              signal: {
                endpoint: detail.endpoint,
                version: detail.version,
                phase: PhaseOfDetailType[detailType],
                at,
                idempotencyKey: detail.idempotencyKey,
                by: detail.by,
              },
            }
          : {
              from: 'pipeline',
              signal: {
                endpoint: detail.endpoint,
                version: detail.version,
                phase: PhaseOfDetailType[detailType],
                at,
                idempotencyKey: detail.idempotencyKey,
                ...(detail.pipelineExecutionId !== undefined ? { pipelineExecutionId: detail.pipelineExecutionId } : {}),
              },
            };
      rt = await deps.runtime();
      requests = [{ service: detail.service, inputs: [input], source: DEPLOYMENT_EVENT_SOURCE, detailType, eventId: parsed.data.id }];
    } else if (nativeKindOf(event) !== undefined) {
      rt = await deps.runtime();
      const mapping = mapNativeDeployment(event, rt.config)!;
      if (mapping.kind === 'malformed') return rejectMalformed(deps, mapping.what, mapping.problems);
      if (mapping.kind === 'no-phase') {
        deps.logger.debug('native deployment event is no deployment phase; nothing to do', { event: mapping.what, why: mapping.why });
        return { status: 'ignored', reason: `${mapping.what}: ${mapping.why}` };
      }
      if (mapping.deployments.length === 0) {
        // The construct routes what the config maps; anything else (a rule widened by hand, another bus) is not ours.
        deps.logger.debug('native deployment event maps to no endpoint (no deploymentSources names it); nothing to do', { event: mapping.what });
        return { status: 'ignored', reason: `${mapping.what}: no endpoint's deploymentSources names it` };
      }
      const byService = new Map<string, NativeDeployment[]>();
      for (const d of mapping.deployments) byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
      const { id, 'detail-type': detailType, source } = event as { id: string; 'detail-type': string; source: string };
      requests = [...byService].map(([service, deployments]) => ({
        service,
        inputs: deployments.map((native) => ({ from: 'native' as const, native })),
        source,
        detailType,
        eventId: id,
      }));
    } else {
      return rejectMalformed(deps, 'deployment event', problemsOf(parsed.error));
    }

    const deadline = deadlineOf(rt, context);
    const services: ServiceDeploymentResult[] = [];
    for (const request of requests) {
      const payload = payloadOf(request);
      let result: Awaited<ReturnType<ServiceWork>>;
      try {
        result = await apply(payload, { ...request, ...(deadline !== undefined ? { deadline } : {}) }, rt);
      } catch (error) {
        if (error instanceof IdempotencyValidationError) {
          return rejectMalformed(deps, 'deployment event', [
            {
              path: 'detail.idempotencyKey',
              message: `"${payload.key}" was already used for a different event (same key, different endpoint, phase or version)`,
            },
          ]);
        }
        // DeploymentDeferredError, a transient AWS error, or a delivery still in progress elsewhere: delivering it again will help.
        deps.logger.warn('deployment event not applied; failing the invocation so it is delivered again', {
          service: request.service,
          errorName: (error as Error).name,
          error: (error as Error).message,
          deferred: error instanceof DeploymentDeferredError,
        });
        throw error;
      }
      if ('problems' in result) return rejectMalformed(deps, 'deployment event', result.problems);
      deps.logger.info(result.duplicate ? 'duplicate deployment event: already applied, nothing done' : 'deployment event applied', {
        service: result.service,
        detailType: request.detailType,
        status: result.status,
        evaluation: result.evaluation,
        decisionId: result.decisionId,
        records: result.records,
      });
      services.push(result);
    }
    return { status: 'applied', services };
  });
}

function payloadOf(request: DeploymentRequest): IdempotencyPayload {
  const keys = request.inputs.map((i) => (i.from === 'native' ? i.native.idempotencyKey : i.signal.idempotencyKey));
  const what = request.inputs.map((i): readonly [string, string, string] =>
    i.from === 'native' ? [i.native.endpoint, i.native.phase, i.native.version] : [i.signal.endpoint, i.signal.phase, i.signal.version ?? ''],
  );
  return { key: `${request.service}/${keys.join(' ')}`, what };
}

function productionDeps(): DeploymentHandlerDeps {
  const base = defaultDeps();
  let store: BasePersistenceLayer | undefined;
  return {
    ...base,
    idempotency: () => {
      store ??= deploymentIdempotencyStore({ tableName: readEnvironment(process.env).tableName, client: new DynamoDBClient({}) });
      return store;
    },
  };
}

export const handler = createDeploymentHandler(productionDeps());
