/**
 * Evaluate one service: observe → decide → apply → tell.
 *
 * Apply follows the protocol of the design, so concurrent evaluations and crashes are safe
 * without transactions:
 *   1. record the intent: the engine's next state plus the change to make, written only if the
 *      state is still at the version read (optimistic concurrency; the loser re-reads and
 *      re-decides, a bounded number of times);
 *   2. write Route 53 (UPSERT of the changed weights, the decision id in the change comment);
 *   3. mark the change applied (clear the intent), then record it in the audit log and tell.
 * An intent found younger than the lease belongs to an evaluation still applying it: stand aside.
 * An older one was abandoned by a crash between steps 1 and 3: complete it, then decide afresh.
 *
 * The steps are exposed separately — `prepareEvaluation` up to the intent, returning a plain
 * `PreparedWrite`; then the write; then `completeWrite` or `abandonWrite` of that record — so a
 * tick can record every service's intent first and then write each hosted zone's changes in one
 * ChangeResourceRecordSets call. Whichever way an evaluation ends with a committed decision
 * (unchanged, applied, or an abandoned change completed), `recordAndTell` records and tells it.
 */
import type { ServiceConfig } from '../core/config.js';
import { latestStart } from '../core/drills.js';
import { decide } from '../core/engine.js';
import { baselineWeights } from '../core/weightPlanner.js';
import { changesBetween, holdsAsWritten, sameWeights, writtenWeights } from '../core/weights.js';
import { guardKey, type AlarmState, type Decision, type DeploymentSignal, type EpochMs, type ServiceState, type Weights } from '../core/types.js';
import type { ControllerEvent } from '../events/controllerEvents.js';
import type { RecordSetRef, RecordSetWeights, WeightWrite } from '../ports/dnsWeights.js';
import { RecordNotFoundError, StateVersionConflictError } from '../ports/errors.js';
import type { DriftReport, Notice } from '../ports/notifier.js';
import type { HealthCheckState } from '../ports/healthChecks.js';
import { AuditKinds, AuditStatuses, type AuditEntry, type PendingChange, type StoredServiceState } from '../ports/stateStore.js';
import { observeServices, type KnownAlarmState, type ServiceObservationResult } from './observe.js';
import { withHealthChecks } from './healthChecks.js';
import type { Runtime } from './runtime.js';
import { ownValue, weightsAfter } from './weightRecords.js';
import { askCapacity, capacityInput, capacityMatters } from './capacity.js';
import { driftDetectedEvent, noticeFor, overrideEventsOf, rolloutEventsOf, shiftBlockedEvent, tell, trafficShiftedEvent, type TellFailure } from './tell.js';

export const EvaluationStatuses = {
  /** A weight change was decided and written to Route 53. */
  APPLIED: 'applied',
  /** The decision changed no weight (state, verdict history and audit were still recorded). */
  UNCHANGED: 'unchanged',
  /** Another evaluation of the service is applying a change right now. */
  BUSY: 'busy',
  /** Other evaluations kept winning the race; they have evaluated the service. */
  SUPERSEDED: 'superseded',
} as const;
export type EvaluationStatus = (typeof EvaluationStatuses)[keyof typeof EvaluationStatuses];

export interface EvaluationOutcome {
  readonly service: string;
  readonly status: EvaluationStatus;
  /** Decisions taken (1 unless a race was lost). */
  readonly attempts: number;
  readonly decision?: Decision;
  readonly decisionId?: string;
  readonly changeIds: readonly string[];
  /** A change an earlier, crashed evaluation recorded and this one completed. */
  readonly repaired?: { readonly decisionId: string; readonly changeIds: readonly string[] };
  /** Route 53 weights the controller did not write, newly seen. */
  readonly drift?: DriftReport;
  /** Signals left out of the observations, with why. */
  readonly gaps: readonly string[];
  /** Notices or events that could not be sent (the decision stands). */
  readonly tellFailures: readonly TellFailure[];
}

export interface EvaluationRequest {
  /** Who or what asked: `schedule`, `alarm <name> ALARM`, `cli alice`. */
  readonly trigger: string;
  /** Observations made already (a tick observes every service at once). @default observe this service now */
  readonly observed?: ServiceObservationResult;
  /** Alarm states known from the triggering event. */
  readonly knownAlarms?: readonly KnownAlarmState[];
  /**
   * When this evaluation will be stopped at the latest (a Lambda invocation's deadline). An intent
   * it records is taken as abandoned soon after, rather than after the runtime's fixed lease: a
   * crash is then repaired by the next tick. @default unknown: `intentLeaseSeconds` applies
   */
  readonly deadline?: EpochMs;
  /**
   * Deployment events to apply in this evaluation (a pipeline's or an operator's). They are
   * applied on every attempt, each on the state as it is then. @default none
   */
  readonly deployments?: readonly DeploymentSignal[];
  /**
   * Read already, moments ago (a tick reads its services' states in batches and each hosted zone
   * once): the first attempt decides on these instead of reading again. An attempt made again
   * (a lost race, a repair) reads afresh. @default read now
   */
  readonly preloaded?: { readonly stored?: StoredServiceState; readonly dns?: RecordSetWeights };
  /** The health checks whose turn it is, when a tick reads them in turns (healthChecks.ts). @default every one due */
  readonly healthCheckTurn?: ReadonlySet<string>;
}

/** Time past an evaluation's deadline before its intent is taken as abandoned (clock skew, shutdown). */
const DEADLINE_MARGIN_MS = 5_000;

export function recordSetOf(service: ServiceConfig): RecordSetRef {
  return { hostedZoneId: service.hostedZoneId, dnsName: service.dnsName, recordType: service.recordType };
}

export function changeComment(service: ServiceConfig, decisionId: string): string {
  return `steer53 ${service.name} decision ${decisionId}`;
}

/**
 * An evaluation that has recorded its intent and waits for its Route 53 write: a plain record of
 * what it will write and of what finishing it needs. `completeWrite` or `abandonWrite` finish it.
 */
export interface PreparedWrite {
  readonly kind: 'write';
  readonly service: ServiceConfig;
  readonly trigger: string;
  readonly decisionId: string;
  readonly decision: Decision;
  /** The engine's next state, written again (without the intent) once the change is applied. */
  readonly nextState: ServiceState;
  /** The engine's own weights, where they differ from those written (StoredServiceState.engineWeights). */
  readonly engineWeights: Weights | undefined;
  /** The state's version with the intent in it. */
  readonly intentVersion: number;
  readonly driftSignature: string | null;
  readonly blockedSignature: string | null;
  /** Drift newly seen, to record and tell once the change is applied. */
  readonly newDrift: DriftReport | undefined;
  /** The decision's blocked actions differ from the last ones told. */
  readonly newBlocked: boolean;
  /** The Route 53 write: the records that change, and the listing they were decided on. */
  readonly write: WeightWrite;
  /** When it was decided. */
  readonly at: EpochMs;
  readonly attempts: number;
  readonly repaired: EvaluationOutcome['repaired'];
  readonly gaps: readonly string[];
  /** What could not be told before the write (the repair of an abandoned change). */
  readonly tellFailures: readonly TellFailure[];
}

export type PreparedEvaluation = { readonly kind: 'done'; readonly outcome: EvaluationOutcome } | PreparedWrite;

export interface PlanOutcome {
  readonly service: string;
  /** What the controller would decide now. */
  readonly decision: Decision;
  /** The state version it was decided on. */
  readonly stateVersion: number;
  /** A change another evaluation recorded and has not confirmed: the next evaluation completes it before deciding. */
  readonly pending?: { readonly decisionId: string; readonly to: Weights };
  /** Route 53 weights the controller did not write. */
  readonly drift?: DriftReport;
  /** Signals left out of the observations, with why. */
  readonly gaps: readonly string[];
  /** What the records' Route 53 health checks said, by SetIdentifier, for the endpoints whose check was read (functions/app/healthChecks.ts). */
  readonly healthChecks: Readonly<Record<string, HealthCheckState>>;
}

/**
 * The dry run: observe and decide exactly as an evaluation would now, and write nothing — no
 * state, no Route 53, no audit entry, no notice.
 */
export async function planEvaluation(
  rt: Pick<Runtime, 'dns' | 'metrics' | 'store' | 'clock' | 'options' | 'capacity' | 'healthChecks'>,
  service: ServiceConfig,
): Promise<PlanOutcome> {
  const now = rt.clock.now();
  const stored = await rt.store.load(service.name);
  const metricsSeen = (await observeServices(rt.metrics, [service], now, rt.options ?? {}, [])).get(service.name)!;
  const { decision, drift, observed } = await decideOn(rt, service, stored, now, metricsSeen);
  return {
    service: service.name,
    decision,
    stateVersion: stored.version,
    ...(stored.pending ? { pending: { decisionId: stored.pending.decisionId, to: stored.pending.to } } : {}),
    ...(drift ? { drift } : {}),
    gaps: observed.gaps,
    healthChecks: healthChecksRead(observed),
  };
}

/** The health-check verdicts that went into the observations, by SetIdentifier. */
function healthChecksRead(observed: ServiceObservationResult): Record<string, HealthCheckState> {
  return Object.fromEntries(
    Object.entries(observed.observations.endpoints).flatMap(([id, o]) => (o?.healthCheck === undefined ? [] : [[id, o.healthCheck] as const])),
  );
}

/** Evaluates one service: observe → decide → apply → tell. */
export async function evaluateService(rt: Runtime, service: ServiceConfig, request: EvaluationRequest): Promise<EvaluationOutcome> {
  const prepared = await prepareEvaluation(rt, service, request);
  if (prepared.kind === 'done') return prepared.outcome;
  let changeIds: readonly string[];
  try {
    changeIds = (await rt.dns.writeWeights([prepared.write], changeComment(service, prepared.decisionId))).changeIds;
  } catch (error) {
    await abandonWrite(rt, prepared, error);
    throw error;
  }
  return completeWrite(rt, prepared, changeIds);
}

/** What the attempts so far have gathered: observations made once, a repair done, what could not be told. */
interface Attempts {
  readonly observed: ServiceObservationResult | undefined;
  /** What the first attempt decides on without reading again; dropped for the attempts after it. */
  readonly preloaded: EvaluationRequest['preloaded'];
  readonly repaired: EvaluationOutcome['repaired'];
  readonly tellFailures: readonly TellFailure[];
}

/** An attempt that must be made again, on the state as it is now. */
type Retry = { readonly kind: 'retry'; readonly attempts: Attempts };

/**
 * Observe, decide and, when weights are to change, record the intent; the write is the caller's.
 * An attempt that lost the race to another evaluation (or repaired an abandoned change first) is
 * made again on the state as it is then, a bounded number of times.
 */
export async function prepareEvaluation(rt: Runtime, service: ServiceConfig, request: EvaluationRequest): Promise<PreparedEvaluation> {
  const maxAttempts = rt.options?.maxAttempts ?? 3;
  let gathered: Attempts = { observed: request.observed, preloaded: request.preloaded, repaired: undefined, tellFailures: [] };
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const step = await attemptOnce(rt, service, request, gathered, attempt);
    if (step.kind !== 'retry') return step;
    gathered = { ...step.attempts, preloaded: undefined };
  }
  rt.log.info('other evaluations kept winning the race for this service; they have evaluated it', { service: service.name, attempts: maxAttempts });
  return done(outcomeOf(service, EvaluationStatuses.SUPERSEDED, maxAttempts, gathered, { gaps: gathered.observed?.gaps ?? [] }));
}

async function attemptOnce(
  rt: Runtime,
  service: ServiceConfig,
  request: EvaluationRequest,
  gathered: Attempts,
  attempt: number,
): Promise<PreparedEvaluation | Retry> {
  const now = rt.clock.now();
  const stored = gathered.preloaded?.stored ?? (await rt.store.load(service.name));
  if (stored.pending) {
    const leaseMs = (rt.options?.intentLeaseSeconds ?? 90) * 1000;
    if (now < (stored.pending.leaseUntil ?? stored.pending.recordedAt + leaseMs)) {
      rt.log.info('another evaluation is applying a change to this service; standing aside', {
        service: service.name,
        decisionId: stored.pending.decisionId,
        recordedAt: new Date(stored.pending.recordedAt).toISOString(),
      });
      return done(outcomeOf(service, EvaluationStatuses.BUSY, attempt, gathered, { gaps: [] }));
    }
    const completed = await completeAbandonedChange(rt, service, stored, stored.pending, now, request.trigger);
    // Decide afresh on the state as it is now.
    return retry({ ...gathered, repaired: completed.repaired ?? gathered.repaired, tellFailures: [...gathered.tellFailures, ...completed.tellFailures] });
  }
  const observed = gathered.observed ?? (await observeServices(rt.metrics, [service], now, rt.options ?? {}, request.knownAlarms ?? [])).get(service.name)!;
  if (observed.gaps.length > 0) rt.log.warn('some signals could not be observed; they count as unknown', { service: service.name, gaps: observed.gaps });
  // The health checks are read for the state this attempt decides on: an attempt made again reads them again.
  const decided = await decideOn(rt, service, stored, now, observed, {
    ...(request.deployments ? { deployments: request.deployments } : {}),
    ...(gathered.preloaded?.dns ? { dnsRead: gathered.preloaded.dns } : {}),
    ...(request.healthCheckTurn ? { healthCheckTurn: request.healthCheckTurn } : {}),
  });
  const fingerprints = fingerprintsOf(stored, decided);
  const intent: Intent = {
    service,
    request,
    stored,
    now,
    observed: decided.observed,
    decided,
    fingerprints,
    decisionId: rt.newId(),
    attempt,
    gathered: { ...gathered, observed },
  };
  return decided.decision.changes.length === 0 ? recordUnchanged(rt, intent) : recordIntent(rt, intent);
}

/** What an attempt decided, and what recording it needs. */
interface Intent {
  readonly service: ServiceConfig;
  readonly request: EvaluationRequest;
  readonly stored: StoredServiceState;
  readonly now: EpochMs;
  readonly observed: ServiceObservationResult;
  readonly decided: Decided;
  readonly fingerprints: Fingerprints;
  readonly decisionId: string;
  readonly attempt: number;
  readonly gathered: Attempts;
}

/**
 * The drift and blocked actions of a decision, fingerprinted so each distinct one is told once:
 * one console edit, or one standing block, is not news every minute.
 */
interface Fingerprints {
  readonly driftSignature: string | null;
  readonly blockedSignature: string | null;
  readonly newDrift: DriftReport | undefined;
  readonly newBlocked: boolean;
}

function fingerprintsOf(stored: StoredServiceState, { drift, decision }: Decided): Fingerprints {
  const driftSignature = drift ? signature(drift.actual) : null;
  const blockedSignature = decision.blocked.length > 0 ? signature(decision.blocked.map((b) => `${b.code}:${b.endpoint ?? ''}`).sort()) : null;
  return {
    driftSignature,
    blockedSignature,
    newDrift: drift !== undefined && driftSignature !== stored.driftSignature ? drift : undefined,
    newBlocked: blockedSignature !== null && blockedSignature !== stored.blockedSignature,
  };
}

/** No weight changes: the state (verdict history, state machines) is saved, and the decision recorded and told. */
async function recordUnchanged(rt: Runtime, intent: Intent): Promise<PreparedEvaluation | Retry> {
  const { service, stored, now, decided, fingerprints, decisionId, request } = intent;
  const { driftSignature, blockedSignature } = fingerprints;
  try {
    await rt.store.save(service.name, stored.version, {
      state: decided.nextState,
      driftSignature,
      blockedSignature,
      pending: null,
      updatedAt: now,
      ...engineWeightsOf(decided.engineWeights),
    });
  } catch (error) {
    if (error instanceof StateVersionConflictError) return retry(intent.gathered);
    throw error;
  }
  const asked = await askCapacity(rt, service, decided.decision, decisionId, request.trigger);
  const told = await recordAndTell(rt, {
    ...fingerprints,
    service,
    decisionId,
    decision: decided.decision,
    state: decided.nextState,
    trigger: request.trigger,
    at: now,
  });
  const tellFailures = [...intent.gathered.tellFailures, ...asked, ...told];
  const outcome = outcomeOf(service, EvaluationStatuses.UNCHANGED, intent.attempt, { ...intent.gathered, tellFailures }, { gaps: intent.observed.gaps });
  return done({ ...outcome, decision: decided.decision, decisionId, ...(fingerprints.newDrift ? { drift: fingerprints.newDrift } : {}) });
}

/** Weights are to change: the intent is written with the next state, conditionally on the version read; the write is the caller's. */
async function recordIntent(rt: Runtime, intent: Intent): Promise<PreparedWrite | Retry> {
  const { service, stored, now, decided, fingerprints, decisionId, request } = intent;
  const { decision, nextState } = decided;
  const record = recordSetOf(service);
  const to: Weights = Object.fromEntries(decision.changes.map((c) => [c.setIdentifier, c.to]));
  const leaseMs = (rt.options?.intentLeaseSeconds ?? 90) * 1000;
  const leaseUntil = request.deadline !== undefined ? Math.max(request.deadline, now) + DEADLINE_MARGIN_MS : now + leaseMs;
  const pending: PendingChange = { decisionId, recordedAt: now, leaseUntil, record, from: decided.current, to, decision, trigger: request.trigger };
  const { driftSignature, blockedSignature } = fingerprints;
  let intentVersion: number;
  try {
    intentVersion = await rt.store.save(service.name, stored.version, {
      state: nextState,
      driftSignature,
      blockedSignature,
      pending,
      updatedAt: now,
      ...engineWeightsOf(decided.engineWeights),
    });
  } catch (error) {
    if (!(error instanceof StateVersionConflictError)) throw error;
    rt.log.debug('lost the race to another evaluation; re-reading and deciding again', { service: service.name, attempt: intent.attempt });
    return retry(intent.gathered);
  }
  // The state (with the intent) is committed: an audit write that fails now must not fail the evaluation.
  const audited = await afterCommit(rt, service, () =>
    rt.store.putAudit(decisionAudit(service, decisionId, decision, request.trigger, AuditStatuses.INTENDED, [])),
  );
  // Capacity first: the weights are the caller's to write once this returns.
  const asked = await askCapacity(rt, service, decision, decisionId, request.trigger);
  const { repaired } = intent.gathered;
  const tellFailures = [...intent.gathered.tellFailures, ...audited, ...asked];
  return {
    kind: 'write',
    service,
    trigger: request.trigger,
    decisionId,
    decision,
    nextState,
    engineWeights: decided.engineWeights,
    intentVersion,
    ...fingerprints,
    write: { record, weights: to, ...(decided.read.snapshot !== undefined ? { basedOn: decided.read.snapshot } : {}) },
    at: now,
    attempts: intent.attempt,
    repaired,
    gaps: intent.observed.gaps,
    tellFailures,
  };
}

/** Route 53 accepted the write: the intent is cleared, and the change recorded and told. */
export async function completeWrite(rt: Runtime, prepared: PreparedWrite, changeIds: readonly string[]): Promise<EvaluationOutcome> {
  const { service, decisionId, decision, nextState } = prepared;
  try {
    const { driftSignature, blockedSignature } = prepared;
    await rt.store.save(service.name, prepared.intentVersion, {
      state: nextState,
      driftSignature,
      blockedSignature,
      pending: null,
      updatedAt: rt.clock.now(),
      ...engineWeightsOf(prepared.engineWeights),
    });
  } catch (error) {
    if (!(error instanceof StateVersionConflictError)) throw error;
    // Only an evaluation that took our intent for abandoned can have written; it completed the
    // same change. The lease is shorter than this evaluation took: worth a warning.
    rt.log.warn('the change was completed by another evaluation first (intent lease too short?)', { service: service.name, decisionId });
  }
  const told = await recordAndTell(rt, { ...prepared, state: nextState, changeIds });
  const tellFailures = [...prepared.tellFailures, ...told];
  const outcome = outcomeOf(service, EvaluationStatuses.APPLIED, prepared.attempts, { ...prepared, tellFailures }, { gaps: prepared.gaps });
  return { ...outcome, decision, decisionId, changeIds, ...(prepared.newDrift ? { drift: prepared.newDrift } : {}) };
}

/** Route 53 refused: the failure is recorded, and the intent stays for a later evaluation to complete. */
export async function abandonWrite(rt: Runtime, prepared: PreparedWrite, error: unknown): Promise<void> {
  const { service, decisionId } = prepared;
  const message = (error as Error).message;
  rt.log.error('Route 53 write failed; the recorded intent will be completed by a later evaluation', { service: service.name, decisionId, error: message });
  await rt.store
    .putAudit({ ...decisionAudit(service, decisionId, prepared.decision, prepared.trigger, AuditStatuses.FAILED, []), detail: { error: message } })
    .catch((auditError: unknown) => rt.log.error('could not record the failed write', { service: service.name, error: (auditError as Error).message }));
}

/** A decision to record and tell, once it is committed: applied (with its change ids) or not. */
interface Telling {
  readonly service: ServiceConfig;
  readonly decisionId: string;
  readonly decision: Decision;
  /** The state after the decision, for the notice. */
  readonly state: ServiceState | undefined;
  /** What triggered the evaluation that decided it. */
  readonly trigger: string;
  readonly at: EpochMs;
  /** Route 53's change ids when weights were written; absent when the decision changed none. */
  readonly changeIds?: readonly string[];
  readonly newDrift: DriftReport | undefined;
  readonly newBlocked: boolean;
  /** An intent recorded by an earlier evaluation that did not finish, completed by this one. */
  readonly completedBy?: string;
}

/**
 * Records and tells a committed decision: its audit entry (when it applied a change, moved a
 * state, has something to notify or newly blocked something), the drift newly seen, then the
 * notice and the events. Failures are returned, never thrown: the decision stands.
 */
async function recordAndTell(rt: Runtime, telling: Telling): Promise<TellFailure[]> {
  const { service, decision, decisionId, trigger, changeIds, newDrift, newBlocked, at } = telling;
  const applied = changeIds !== undefined;
  const worthAuditing = applied || decision.transitions.length > 0 || decision.notifications.length > 0 || newBlocked;
  const audited = worthAuditing ? await afterCommit(rt, service, () => rt.store.putAudit(auditOf(telling))) : [];
  const drifted = newDrift ? await afterCommit(rt, service, () => recordDrift(rt, service, newDrift, at, trigger)) : [];
  const noticeTrigger = telling.completedBy !== undefined ? `${trigger} (completed by ${telling.completedBy})` : trigger;
  const notice = noticeFor(service, decision, telling.state, { trigger: noticeTrigger, decisionId, applied, changeIds: changeIds ?? [], newBlocked });
  const events: ControllerEvent[] = [
    ...(applied ? [trafficShiftedEvent(service, decision, decisionId, trigger, changeIds)] : []),
    ...(newBlocked ? [shiftBlockedEvent(service, decision, decisionId, trigger)] : []),
    ...rolloutEventsOf(service, decision, decisionId, trigger),
    ...overrideEventsOf(service, decision, telling.state, decisionId, trigger),
  ];
  const notices = [...driftNotices(service, newDrift, trigger), ...(notice ? [notice] : [])];
  const told = await tell(rt, service, at, notices, [...driftEvents(service, newDrift, at, trigger), ...events]);
  return [...audited, ...drifted, ...told];
}

function auditOf(telling: Telling): AuditEntry {
  const { service, decisionId, decision, trigger, changeIds, completedBy, at } = telling;
  const entry = decisionAudit(service, decisionId, decision, trigger, changeIds ? AuditStatuses.APPLIED : AuditStatuses.RECORDED, changeIds ?? []);
  if (completedBy === undefined) return entry;
  return { ...entry, detail: { completedAt: at, completedBy, note: 'recorded by an evaluation that did not finish; completed by a later one' } };
}

function done(outcome: EvaluationOutcome): PreparedEvaluation {
  return { kind: 'done', outcome };
}

function retry(attempts: Attempts): Retry {
  return { kind: 'retry', attempts };
}

function outcomeOf(
  service: ServiceConfig,
  status: EvaluationStatus,
  attempts: number,
  gathered: Pick<Attempts, 'repaired' | 'tellFailures'>,
  rest: { gaps: readonly string[] },
): EvaluationOutcome {
  return {
    service: service.name,
    status,
    attempts,
    changeIds: [],
    ...(gathered.repaired ? { repaired: gathered.repaired } : {}),
    gaps: rest.gaps,
    tellFailures: gathered.tellFailures,
  };
}

/**
 * Completes a change an evaluation recorded but did not confirm: writes Route 53 (a no-op if the
 * write had landed before the crash), clears the intent, records and tells. `repaired` is
 * undefined when another evaluation cleared it first, or when it could not be completed.
 */
async function completeAbandonedChange(
  rt: Runtime,
  service: ServiceConfig,
  stored: StoredServiceState,
  pending: PendingChange,
  now: EpochMs,
  trigger: string,
): Promise<{ repaired: EvaluationOutcome['repaired']; tellFailures: readonly TellFailure[] }> {
  rt.log.warn('completing a change an earlier evaluation recorded but did not confirm (it probably crashed)', {
    service: service.name,
    decisionId: pending.decisionId,
    recordedAt: new Date(pending.recordedAt).toISOString(),
  });
  // A change decided under an older config (a deploy since renamed the records or endpoints) is
  // not completed: it would write records the policy no longer manages.
  const record = recordSetOf(service);
  const managed = new Set(service.endpoints.map((e) => e.setIdentifier));
  // The change is written at the scale of the records it was decided on (`from`): they must still be the managed ones.
  const decidedOn = Object.keys(pending.from);
  const stale =
    ['hostedZoneId', 'dnsName', 'recordType'].some((k) => pending.record[k as keyof RecordSetRef] !== record[k as keyof RecordSetRef]) ||
    Object.keys(pending.to).some((id) => !managed.has(id)) ||
    decidedOn.length !== managed.size ||
    decidedOn.some((id) => !managed.has(id));
  if (stale) return abandonChange(rt, service, stored, pending, now, trigger, 'the service config changed since it was decided');
  let changeIds: readonly string[];
  try {
    changeIds = (await rt.dns.writeWeights([{ record: pending.record, weights: pending.to }], changeComment(service, pending.decisionId))).changeIds;
  } catch (error) {
    // The records are gone: completing can never succeed, and retrying it would block the service.
    if (error instanceof RecordNotFoundError) return abandonChange(rt, service, stored, pending, now, trigger, error.message);
    throw error;
  }
  if (!(await clearPending(rt, service, stored, stored.state!, now, stored.engineWeights))) return { repaired: undefined, tellFailures: [] };
  const tellFailures = await recordAndTell(rt, {
    service,
    decisionId: pending.decisionId,
    decision: pending.decision,
    state: stored.state,
    trigger: pending.trigger,
    at: now,
    changeIds,
    newDrift: undefined,
    newBlocked: false,
    completedBy: trigger,
  });
  return { repaired: { decisionId: pending.decisionId, changeIds }, tellFailures };
}

/** Saves `state` with the pending change cleared; false when another evaluation got there first. */
async function clearPending(
  rt: Runtime,
  service: ServiceConfig,
  stored: StoredServiceState,
  state: ServiceState,
  now: EpochMs,
  engineWeights: Weights | undefined,
): Promise<boolean> {
  try {
    await rt.store.save(service.name, stored.version, {
      state,
      pending: null,
      driftSignature: stored.driftSignature,
      blockedSignature: stored.blockedSignature,
      updatedAt: now,
      ...engineWeightsOf(engineWeights),
    });
    return true;
  } catch (error) {
    if (error instanceof StateVersionConflictError) return false;
    throw error;
  }
}

/**
 * Drops a recorded change that cannot be completed. The state keeps the engine's view, but its
 * applied weights go back to what was last really written, so Route 53 is not mistaken for drift.
 */
async function abandonChange(
  rt: Runtime,
  service: ServiceConfig,
  stored: StoredServiceState,
  pending: PendingChange,
  now: EpochMs,
  trigger: string,
  why: string,
): Promise<{ repaired: undefined; tellFailures: readonly TellFailure[] }> {
  rt.log.error('dropping a recorded change that cannot be completed', { service: service.name, decisionId: pending.decisionId, why });
  // What Route 53 still holds; the engine decides from it next (its own weights of the dropped change are dropped with it).
  if (!(await clearPending(rt, service, stored, { ...stored.state!, appliedWeights: pending.from }, now, undefined)))
    return { repaired: undefined, tellFailures: [] };
  const tellFailures = await afterCommit(rt, service, () =>
    rt.store.putAudit({
      ...decisionAudit(service, pending.decisionId, pending.decision, pending.trigger, AuditStatuses.FAILED, []),
      detail: { abandonedAt: now, abandonedBy: trigger, why },
    }),
  );
  return { repaired: undefined, tellFailures };
}

/**
 * Audit writes after the state is committed: the change stands whatever happens here, so a
 * failure is logged and returned (the handler counts it) rather than thrown, which would make
 * Lambda retry an evaluation that has already done its work.
 */
async function afterCommit(rt: Runtime, service: ServiceConfig, write: () => Promise<void>): Promise<TellFailure[]> {
  try {
    await write();
    return [];
  } catch (error) {
    rt.log.error('audit write failed after the change was committed', { service: service.name, error: (error as Error).message });
    return [{ channel: 'audit', message: (error as Error).message }];
  }
}

/** A decision taken on the stored state, with what Route 53 held when it was taken. */
interface Decided {
  readonly read: RecordSetWeights;
  /** The observations it was decided on: those given, with the records' health checks read (and their gap, if any). */
  readonly observed: ServiceObservationResult;
  readonly current: Weights;
  readonly drift: DriftReport | undefined;
  /** The decision as written (see `asWritten`). */
  readonly decision: Decision;
  /** The engine's next state, with `appliedWeights` as written. */
  readonly nextState: ServiceState;
  /** The engine's own weights, where they differ from those written (StoredServiceState.engineWeights). */
  readonly engineWeights: Weights | undefined;
}

/**
 * The decision an evaluation takes on the stored state: from the weights Route 53 holds now, the
 * observations (with what the health checks on the records just read say, where the state asks:
 * healthChecks.ts), and the guard alarms of drills. Reads only; the evaluation and the dry run share it.
 */
async function decideOn(
  rt: Pick<Runtime, 'dns' | 'metrics' | 'capacity' | 'healthChecks'> & { readonly log?: Runtime['log'] },
  service: ServiceConfig,
  stored: StoredServiceState,
  now: EpochMs,
  metricsSeen: ServiceObservationResult,
  given: { readonly deployments?: readonly DeploymentSignal[]; readonly dnsRead?: RecordSetWeights; readonly healthCheckTurn?: ReadonlySet<string> } = {},
): Promise<Decided> {
  const { deployments } = given;
  const read = given.dnsRead ?? (await rt.dns.readWeights(recordSetOf(service)));
  const current = managedWeights(service, read.weights);
  const observed = await withHealthChecks(rt, service, stored.state, now, metricsSeen, read.healthChecks, given.healthCheckTurn);
  const guardAlarms = await guardAlarmStates(rt, service, stored.state, now);
  const input = {
    now,
    observations: observed.observations,
    ...engineView(service, stored, current),
    ...(deployments !== undefined ? { deployments } : {}),
    ...(guardAlarms ? { guardAlarms } : {}),
  };
  // The providers are read only when the decision could ask something of them (capacity.ts).
  const first = decide(service, input);
  const { decision, nextState } = capacityMatters(service, stored.state, first.nextState)
    ? decide(service, { ...input, ...(await capacityInput(rt, service)) })
    : first;
  const written = asWritten(service, decision, nextState, current);
  const appliedWeights = weightsAfter(current, written.changes);
  const own = nextState.appliedWeights ?? appliedWeights;
  return {
    read,
    observed,
    current,
    drift: driftOf(service, stored, current),
    decision: written,
    nextState: { ...nextState, appliedWeights },
    engineWeights: sameWeights(own, appliedWeights, Object.keys(appliedWeights)) ? undefined : own,
  };
}

/**
 * What the engine decides from. steer53 writes the engine's weights at the scale that changes the
 * fewest records (core/weights.ts, `writtenWeights`: Route 53 routes by share alone), and keeps the
 * engine's own beside them (`engineWeights`). While Route 53 holds what was written, the engine
 * goes on from its own weights, at the configured total, so its flap guard sees each move's true
 * direction. Otherwise (someone else changed a record, or nothing was kept) it decides from what
 * Route 53 holds, against what was last written.
 */
function engineView(service: ServiceConfig, stored: StoredServiceState, live: Weights): { state: ServiceState | undefined; currentWeights: Weights } {
  const { state, engineWeights } = stored;
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const applied = state?.appliedWeights;
  const known = (w: Weights | null | undefined): w is Weights => w !== null && w !== undefined && ids.every((id) => ownValue(w, id) !== undefined);
  if (!state || !known(applied) || !known(engineWeights) || !sameWeights(applied, live, ids) || !holdsAsWritten(engineWeights, applied, ids)) {
    return { state, currentWeights: live };
  }
  const own = Object.fromEntries(ids.map((id) => [id, ownValue(engineWeights, id)!]));
  return { state: { ...state, appliedWeights: own }, currentWeights: own };
}

/**
 * The decision as it is written: from the weights Route 53 holds, to the engine's target at the
 * scale that changes the fewest records. Written at the configured scale instead, as the numbers
 * an operator reads against what they gave: the baseline weights (at rest, Route 53 holds the
 * config), a pin, and every change while a rollout is in progress (a canary step's share of the
 * baseline weight).
 */
function asWritten(service: ServiceConfig, decision: Decision, nextState: ServiceState, live: Weights): Decision {
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const asGiven =
    sameWeights(decision.targetWeights, baselineWeights(service), ids) ||
    nextState.overrides.pin !== undefined ||
    Object.keys(nextState.rollouts).length > 0 ||
    decision.rolloutEvents.length > 0;
  const target = asGiven ? { ...decision.targetWeights } : writtenWeights(decision.targetWeights, live, ids);
  return { ...decision, currentWeights: live, targetWeights: target, changes: decision.changes.length > 0 ? changesBetween(live, target, ids) : [] };
}

/**
 * The states of the guard alarms of the drills in progress and of the scheduled ones, or undefined
 * without drills. A guard that cannot be read is simply absent: a drill in progress goes on to its
 * end, as a maintenance drain would.
 */
async function guardAlarmStates(
  rt: Pick<Runtime, 'metrics'> & { readonly log?: Runtime['log'] },
  service: ServiceConfig,
  state: ServiceState | undefined,
  now: EpochMs,
): Promise<Record<string, AlarmState> | undefined> {
  // Scheduled drills only while their window is open: no alarm reads on the other minutes of the week.
  const due = service.drills.filter((drill) => {
    const start = latestStart(drill.schedule, now, drill.durationMinutes * 60_000);
    return start !== null && now < start + drill.durationMinutes * 60_000;
  });
  const guards = [
    ...Object.values(state?.overrides.drains ?? {}).flatMap((drain) => (drain.guard ? [drain.guard] : [])),
    ...due.map((drill) => drill.guardAlarm),
  ];
  if (guards.length === 0) return undefined;
  const refs = [...new Map(guards.map((guard) => [guardKey(guard), { key: guardKey(guard), name: guard.name, region: guard.region }])).values()];
  try {
    return Object.fromEntries(await rt.metrics.fetchAlarmStates(refs));
  } catch (error) {
    rt.log?.warn('could not read the guard alarms of the drills in progress', { error: (error as Error).message });
    return undefined;
  }
}

/** Route 53's weights of the configured endpoints; every configured record must exist. */
function managedWeights(service: ServiceConfig, all: Weights): Weights {
  const missing = service.endpoints.filter((e) => ownValue(all, e.setIdentifier) === undefined).map((e) => e.setIdentifier);
  if (missing.length > 0) throw new RecordNotFoundError(service.hostedZoneId, service.dnsName, service.recordType, missing);
  return Object.fromEntries(service.endpoints.map((e) => [e.setIdentifier, ownValue(all, e.setIdentifier)!]));
}

function driftOf(service: ServiceConfig, stored: StoredServiceState, current: Weights): DriftReport | undefined {
  const expected = stored.state?.appliedWeights;
  if (!expected) return undefined;
  const endpoints = service.endpoints
    .map((e) => e.setIdentifier)
    .filter((id) => ownValue(expected, id) !== undefined && ownValue(expected, id) !== ownValue(current, id));
  if (endpoints.length === 0) return undefined;
  return { expected: { ...expected }, actual: { ...current }, endpoints };
}

async function recordDrift(rt: Runtime, service: ServiceConfig, drift: DriftReport, at: EpochMs, trigger: string): Promise<void> {
  rt.log.warn('Route 53 holds weights steer53 did not write (drift)', { service: service.name, expected: drift.expected, actual: drift.actual });
  await rt.store.putAudit({
    service: service.name,
    id: rt.newId(),
    at,
    kind: AuditKinds.DRIFT,
    status: AuditStatuses.RECORDED,
    actor: 'outside steer53',
    summary: `${service.dnsName}: Route 53 weights changed outside steer53 (${drift.endpoints.map((id) => `${id} ${ownValue(drift.expected, id)}→${ownValue(drift.actual, id)}`).join(', ')})`,
    before: drift.expected,
    after: drift.actual,
    detail: { seenBy: trigger },
  });
}

function driftNotices(service: ServiceConfig, drift: DriftReport | undefined, trigger: string): Notice[] {
  return drift ? [{ kind: 'drift-detected', severity: 'warning', reason: 'DRIFT_DETECTED', service, drift, trigger }] : [];
}

function driftEvents(service: ServiceConfig, drift: DriftReport | undefined, at: EpochMs, trigger: string): ControllerEvent[] {
  return drift ? [driftDetectedEvent(service, drift, at, trigger)] : [];
}

function decisionAudit(
  service: ServiceConfig,
  id: string,
  decision: Decision,
  trigger: string,
  status: AuditEntry['status'],
  changeIds: readonly string[],
): AuditEntry {
  const after = weightsAfter(decision.currentWeights, decision.changes);
  const what =
    decision.changes.length > 0
      ? decision.changes.map((c) => `${c.setIdentifier} ${c.from}→${c.to}`).join(', ')
      : decision.transitions.length > 0
        ? decision.transitions.map((t) => `${t.endpoint} ${t.from}→${t.to}`).join(', ')
        : decision.blocked.length > 0
          ? `blocked: ${decision.blocked.map((b) => b.code).join(', ')}`
          : (decision.notifications[0]?.summary ?? decision.mode);
  const why = decision.transitions[0]?.message ?? decision.blocked[0]?.message ?? decision.reasons[0]?.message;
  return {
    service: service.name,
    id,
    at: decision.at,
    kind: AuditKinds.DECISION,
    status,
    actor: `steer53 (${trigger})`,
    summary: `${service.dnsName}: ${what}${why ? ` — ${why}` : ''}`.slice(0, 1000),
    before: decision.currentWeights,
    after,
    reasons: decision.reasons,
    changeIds,
    decision,
  };
}

function engineWeightsOf(engineWeights: Weights | undefined): { engineWeights?: Weights } {
  return engineWeights ? { engineWeights } : {};
}

function signature(value: unknown): string {
  return JSON.stringify(value, value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : undefined);
}
