/**
 * A deployment event (a pipeline's, an operator's abort or promote, or a native AWS deployment
 * event mapped to endpoints): the service is evaluated at once with it, through evaluateService,
 * so the rollout moves under the same protocol as every other change (state version, intent,
 * Route 53 write, audit, notice, EventBridge events — `Rollback Requested` and `Rollout Succeeded`
 * included). Every deployment event is recorded in the service's audit log with what the engine
 * made of it, in one entry named by its idempotency key (a deferred event's entry becomes its
 * outcome once it is applied). Whether an event is a duplicate is the engine's to say, from the
 * keys its state remembers: a duplicate's first entry stands.
 *
 * When the evaluation could not run (another evaluation is applying a change to the service, or
 * kept winning the race), the event was not applied: that is recorded and thrown as a retryable
 * error, so Lambda delivers the event again a little later.
 */
import type { ServiceConfig, ValidationProblem } from '../core/config.js';
import { Steer53Error } from '../core/errors.js';
import { RolloutReasonCodes, type DeploymentIgnoredReason, type DeploymentSignal, type EpochMs, type RolloutState } from '../core/types.js';
import { AuditKinds, AuditStatuses, type AuditEntry } from '../ports/stateStore.js';
import { EvaluationStatuses, evaluateService, type EvaluationOutcome, type EvaluationStatus } from './evaluateService.js';
import { resolveNative, type NativeDeployment } from './nativeDeployments.js';
import type { Runtime } from './runtime.js';
import { ownValue } from './weightRecords.js';

/** A pipeline's or operator's deployment signal; an operator may leave the version out. */
export type RequestedSignal = Omit<DeploymentSignal, 'version'> & { readonly version: string | undefined };

export type DeploymentInput =
  | { readonly from: 'pipeline'; readonly signal: DeploymentSignal }
  | { readonly from: 'operator'; readonly signal: RequestedSignal; readonly reason: string }
  | { readonly from: 'native'; readonly native: NativeDeployment };

export interface DeploymentRequest {
  /** The steer53 service the inputs are for. */
  readonly service: string;
  readonly inputs: readonly DeploymentInput[];
  /** The EventBridge event: source, detail type and id, for the audit log. */
  readonly source: string;
  readonly detailType: string;
  readonly eventId: string;
  /** The account that put the event (EventBridge sets it from the caller's credentials): who really sent it. */
  readonly callerAccount?: string;
  /** When this invocation will be stopped at the latest (see EvaluationRequest.deadline). */
  readonly deadline?: EpochMs;
}

/** What became of one deployment input; JSON, so the idempotency layer can store it. */
export interface DeploymentRecord {
  readonly endpoint: string;
  readonly phase: string;
  readonly version: string;
  readonly idempotencyKey: string;
  /** The engine acted on it (false: ignored as a duplicate, out of order, mode none, or skipped before the engine). */
  readonly applied: boolean;
  /** What the engine (or the native mapping) said of it, one line. */
  readonly outcome: string;
  readonly auditId: string;
}

export type DeploymentOutcome =
  | { readonly status: 'rejected'; readonly problems: readonly ValidationProblem[] }
  | { readonly status: 'evaluated'; readonly service: string; readonly records: readonly DeploymentRecord[]; readonly evaluation: EvaluationOutcome }
  /** Every input was a native event that means no deployment here (see resolveNative): recorded, nothing evaluated. */
  | { readonly status: 'skipped'; readonly service: string; readonly records: readonly DeploymentRecord[] };

/** The deployment event could not be applied now; delivering it again later will. */
export class DeploymentDeferredError extends Steer53Error {
  readonly service: string;
  readonly retryable = true;
  constructor(service: string, why: string, options?: ErrorOptions) {
    super(`deployment event for service "${service}" not applied yet: ${why}; it must be delivered again`, options);
    this.name = 'DeploymentDeferredError';
    this.service = service;
  }
}

function problem(path: string, message: string): DeploymentOutcome {
  return { status: 'rejected', problems: [{ path, message }] };
}

function actorOf(input: DeploymentInput): string {
  switch (input.from) {
    case 'pipeline':
      return input.signal.pipelineExecutionId ? `pipeline ${input.signal.pipelineExecutionId}` : (input.signal.by ?? 'pipeline');
    case 'operator':
      return `operator ${input.signal.by ?? '?'}`;
    case 'native':
      return input.native.by;
  }
}

export async function onDeployment(rt: Runtime, request: DeploymentRequest): Promise<DeploymentOutcome> {
  const service = rt.config.services.find((s) => s.name === request.service);
  if (!service) return problem('detail.service', `no service "${request.service}" in the config (known: ${rt.config.services.map((s) => s.name).join(', ')})`);
  const unknown = unknownEndpoint(service, request);
  if (unknown) return unknown;
  const { signals, skipped } = await signalsOf(rt, service, request);
  if (signals.length === 0) return { status: 'skipped', service: service.name, records: skipped };
  const evaluation = await evaluateService(rt, service, {
    trigger: `${request.detailType} (${[...new Set(signals.map((s) => actorOf(s.input)))].join(', ')})`,
    deployments: signals.map((s) => s.signal),
    ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
  });
  if (evaluation.status === EvaluationStatuses.BUSY || evaluation.status === EvaluationStatuses.SUPERSEDED) {
    await deferred(rt, service, request, signals, evaluation.status);
  }
  const records: DeploymentRecord[] = [...skipped];
  for (const applied of signals) records.push(await recordOutcome(rt, service, request, applied, evaluation));
  return { status: 'evaluated', service: service.name, records, evaluation };
}

/** A deployment input with the signal the engine is given for it. */
interface SignalOf {
  readonly input: DeploymentInput;
  readonly signal: DeploymentSignal;
}

function unknownEndpoint(service: ServiceConfig, request: DeploymentRequest): DeploymentOutcome | undefined {
  const known = service.endpoints.map((e) => e.setIdentifier);
  const endpoint = request.inputs.map((input) => (input.from === 'native' ? input.native.endpoint : input.signal.endpoint)).find((id) => !known.includes(id));
  if (endpoint === undefined) return undefined;
  return problem('detail.endpoint', `service "${service.name}" has no endpoint "${endpoint}" (known: ${known.join(', ')})`);
}

/**
 * The signals the engine is given. Native events and versionless operator commands are read
 * against the rollout in progress; a native event that means no deployment here is recorded, not signalled.
 */
async function signalsOf(rt: Runtime, service: ServiceConfig, request: DeploymentRequest): Promise<{ signals: SignalOf[]; skipped: DeploymentRecord[] }> {
  const needsState = request.inputs.some((i) => i.from === 'native' || (i.from === 'operator' && i.signal.version === undefined));
  const rollouts: Readonly<Record<string, RolloutState>> = needsState ? ((await rt.store.load(service.name)).state?.rollouts ?? {}) : {};
  const signals: SignalOf[] = [];
  const skipped: DeploymentRecord[] = [];
  for (const input of request.inputs) {
    if (input.from === 'pipeline') signals.push({ input, signal: input.signal });
    else if (input.from === 'operator') {
      const version = input.signal.version ?? ownValue(rollouts, input.signal.endpoint)?.version ?? 'none in progress';
      signals.push({ input, signal: { ...input.signal, version } });
    } else {
      const resolved = resolveNative(input.native, ownValue(rollouts, input.native.endpoint));
      if ('signal' in resolved) {
        signals.push({ input, signal: resolved.signal });
        continue;
      }
      const { native } = input;
      const record = recordOf(native, false, resolved.skip);
      skipped.push(record);
      await rt.store.putAudit(deploymentAudit(service, request, input, record, native.at, AuditStatuses.RECORDED, { status: native.status }));
    }
  }
  return { signals, skipped };
}

/** The evaluation could not run: every event is recorded as not applied yet, and thrown to be delivered again. */
async function deferred(
  rt: Runtime,
  service: ServiceConfig,
  request: DeploymentRequest,
  signals: readonly SignalOf[],
  status: EvaluationStatus,
): Promise<never> {
  const why =
    status === EvaluationStatuses.BUSY ? 'another evaluation is applying a change to the service' : 'other evaluations kept winning the race for the service';
  for (const { input, signal } of signals) {
    const record = recordOf(signal, false, `not applied yet: ${why}; delivered again later`);
    await rt.store.putAudit(deploymentAudit(service, request, input, record, signal.at, AuditStatuses.FAILED, {}));
  }
  throw new DeploymentDeferredError(service.name, why);
}

/**
 * What the engine made of one event, from the reasons of its decision: applied, or ignored (a
 * DEPLOYMENT_IGNORED reason carrying its idempotency key). Recorded in the audit log under the
 * event's key — except a duplicate the engine recognised: the entry of its first delivery stands.
 */
async function recordOutcome(
  rt: Runtime,
  service: ServiceConfig,
  request: DeploymentRequest,
  { input, signal }: SignalOf,
  evaluation: EvaluationOutcome,
): Promise<DeploymentRecord> {
  const reasons = (evaluation.decision?.reasons ?? []).filter((r) => r.endpoint === signal.endpoint && RolloutReasonCodes.has(r.code));
  const ignoredBy = reasons.find((r): r is DeploymentIgnoredReason => r.code === 'DEPLOYMENT_IGNORED' && r.idempotencyKey === signal.idempotencyKey);
  const said = ignoredBy ? [ignoredBy] : reasons.filter((r) => r.code !== 'DEPLOYMENT_IGNORED');
  const record = recordOf(signal, ignoredBy === undefined, said.map((r) => r.message).join('; ') || 'applied; no change to the rollout');
  if (ignoredBy?.why === 'duplicate') return record;
  await rt.store.putAudit({
    ...deploymentAudit(service, request, input, record, signal.at, ignoredBy ? AuditStatuses.RECORDED : AuditStatuses.APPLIED, {
      decisionId: evaluation.decisionId,
      evaluation: evaluation.status,
      ...(input.from === 'native' ? { status: input.native.status, nativeVersion: input.native.version } : {}),
      ...(input.from === 'operator' ? { reason: input.reason } : {}),
    }),
    reasons: said,
  });
  return record;
}

function auditIdOf(idempotencyKey: string): string {
  return `deployment-${idempotencyKey}`;
}

function recordOf(signal: Pick<DeploymentRecord, 'endpoint' | 'phase' | 'version' | 'idempotencyKey'>, applied: boolean, outcome: string): DeploymentRecord {
  return {
    endpoint: signal.endpoint,
    phase: signal.phase,
    version: signal.version,
    idempotencyKey: signal.idempotencyKey,
    applied,
    outcome,
    auditId: auditIdOf(signal.idempotencyKey),
  };
}

function deploymentAudit(
  service: ServiceConfig,
  request: DeploymentRequest,
  input: DeploymentInput,
  record: DeploymentRecord,
  at: EpochMs,
  status: AuditEntry['status'],
  extra: Readonly<Record<string, unknown>>,
): AuditEntry {
  return {
    service: service.name,
    id: record.auditId,
    at,
    kind: AuditKinds.DEPLOYMENT,
    status,
    actor: request.callerAccount === undefined ? actorOf(input) : `${actorOf(input)} (account ${request.callerAccount})`,
    summary: `${service.dnsName}: ${request.detailType} on ${record.endpoint}, version ${record.version} — ${record.outcome}`.slice(0, 1000),
    detail: {
      source: request.source,
      detailType: request.detailType,
      eventId: request.eventId,
      ...(request.callerAccount !== undefined ? { callerAccount: request.callerAccount } : {}),
      endpoint: record.endpoint,
      phase: record.phase,
      version: record.version,
      idempotencyKey: record.idempotencyKey,
      applied: record.applied,
      ...(input.from !== 'native' && input.signal.pipelineExecutionId !== undefined ? { pipelineExecutionId: input.signal.pipelineExecutionId } : {}),
      ...(input.from === 'native' && input.native.pipelineExecutionId !== undefined ? { pipelineExecutionId: input.native.pipelineExecutionId } : {}),
      ...extra,
    },
  };
}
