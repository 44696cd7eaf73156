/**
 * Lambda entry: deployment events. steer53's own (`source: "steer53.deployment"`: a pipeline's
 * started / succeeded / failed / rolled back, an operator's abort / promote) and the native AWS
 * deployment events the construct routes here (ECS, CodeDeploy, SageMaker, CodePipeline), mapped to
 * endpoints through the config's `deploymentSources`. Each is applied by evaluating its service
 * at once (functions/app/onDeployment.ts).
 *
 * The event is read into one request per service (functions/app/deploymentRequests.ts).
 * EventBridge delivers at least once, so each service's share of an event runs through Powertools
 * idempotency on the controller's table: a duplicate delivery returns the first one's result and
 * does no work. What makes a duplicate harmless, though, is the engine: its state remembers the
 * keys of the events it applied, under the state's version (see docs/runtime.md, "Duplicate
 * deployment events").
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
import { deploymentEventKind, deploymentRequestsOf } from '../app/deploymentRequests.js';
import { DeploymentDeferredError, onDeployment, type DeploymentRecord, type DeploymentRequest } from '../app/onDeployment.js';
import type { Runtime } from '../app/runtime.js';
import { readEnvironment } from './awsRuntime.js';
import { refusalMessage, type EventRefusal } from '../app/eventChecks.js';
import { MAX_ID_LENGTH } from '../events/eventFields.js';
import { deadlineOf, defaultDeps, MetricNames, rejectMalformed, reportEvaluation, wrap, type HandlerDeps } from './edge.js';

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
  | { status: 'refused'; refusals: readonly { code: string; message: string }[] }
  | { status: 'ignored'; reason: string }
  | { status: 'applied'; services: readonly ServiceDeploymentResult[] };

export interface DeploymentHandlerDeps extends HandlerDeps {
  /**
   * Where deliveries already processed are remembered (Powertools idempotency), so a duplicate
   * does no work. Without it, the engine's memory of idempotency keys still makes it harmless.
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
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'what',
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    responseHook: (response) => (typeof response === 'object' && response !== null && !Array.isArray(response) ? { ...response, duplicate: true } : response),
  });
  const work: ServiceWork = (_payload, request, rt) => applyRequest(deps, rt, request);
  let idempotent: ServiceWork | undefined;
  const apply: ServiceWork = (payload, request, rt) => {
    if (!deps.idempotency) return work(payload, request, rt);
    idempotent ??= makeIdempotent(work, { persistenceStore: deps.idempotency(), config, keyPrefix: 'steer53-deployment', dataIndexArgument: 0 });
    return idempotent(payload, request, rt);
  };

  return wrap(deps, async (event: unknown, context: Context): Promise<DeploymentHandlerResult> => {
    const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
    if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) deps.logger.setCorrelationId(id);
    config.registerLambdaContext(context);
    const kind = deploymentEventKind(event);
    if (kind.kind === 'malformed') return rejectMalformed(deps, 'deployment event', kind.problems);
    const rt = await deps.runtime();
    const read = deploymentRequestsOf(kind, rt.config, { now: rt.clock.now(), account: rt.account });
    if (read.kind === 'malformed') return rejectMalformed(deps, read.what, read.problems);
    if (read.kind === 'refused') return refuse(deps, read.what, read.refusals);
    if (read.kind === 'ignored') {
      deps.logger.debug(
        read.why === 'no-phase'
          ? 'native deployment event is no deployment phase; nothing to do'
          : 'native deployment event maps to no endpoint (no deploymentSources names it); nothing to do',
        { event: read.what, why: read.reason },
      );
      return { status: 'ignored', reason: read.reason };
    }
    const deadline = deadlineOf(rt, context);
    const services: ServiceDeploymentResult[] = [];
    for (const request of read.requests) {
      const result = await applyOnce(deps, apply, rt, { ...request, ...(deadline !== undefined ? { deadline } : {}) });
      if ('problems' in result) return rejectMalformed(deps, 'deployment event', result.problems);
      services.push(result);
    }
    return { status: 'applied', services };
  });
}

/** Logs and counts an event that may not act (too old, from the future, from a foreign account); nothing changed. */
function refuse(deps: DeploymentHandlerDeps, what: string, refusals: readonly EventRefusal[]): DeploymentHandlerResult {
  const listed = refusals.map((r) => ({ code: r.code, message: refusalMessage(r) }));
  deps.logger.error(`refused ${what}: nothing changed`, { refusals: listed });
  deps.counter.count(MetricNames.MALFORMED_EVENTS, 'none');
  return { status: 'refused', refusals: listed };
}

/** One service's share of the event: evaluated with it (onDeployment), logged and counted. */
async function applyRequest(deps: DeploymentHandlerDeps, rt: Runtime, request: DeploymentRequest): ReturnType<ServiceWork> {
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
}

/** Applies one request through the idempotency layer: a duplicate delivery gets the first one's result. */
async function applyOnce(deps: DeploymentHandlerDeps, apply: ServiceWork, rt: Runtime, request: DeploymentRequest): ReturnType<ServiceWork> {
  const payload = payloadOf(request);
  let result: Awaited<ReturnType<ServiceWork>>;
  try {
    result = await apply(payload, request, rt);
  } catch (error) {
    if (error instanceof IdempotencyValidationError) {
      const message = `"${payload.key}" was already used for a different event (same key, different endpoint, phase or version)`;
      return { status: 'rejected', problems: [{ path: 'detail.idempotencyKey', message }] };
    }
    // DeploymentDeferredError, a transient AWS error, or a delivery still in progress elsewhere: delivering it again will help.
    deps.logger.warn('deployment event not applied; failing the invocation so it is delivered again', {
      steer53Service: request.service,
      errorName: (error as Error).name,
      error: (error as Error).message,
      deferred: error instanceof DeploymentDeferredError,
    });
    throw error;
  }
  if ('problems' in result) return result;
  deps.logger.info(result.duplicate ? 'duplicate deployment event: already applied, nothing done' : 'deployment event applied', {
    steer53Service: result.service,
    detailType: request.detailType,
    status: result.status,
    evaluation: result.evaluation,
    decisionId: result.decisionId,
    records: result.records,
  });
  return result;
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
