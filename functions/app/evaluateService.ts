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
 * The steps are exposed separately (`prepareEvaluation` up to the intent, then the write, then
 * `complete`/`fail`), so a tick can record every service's intent first and then write each
 * hosted zone's changes in one ChangeResourceRecordSets call.
 */
import type { ServiceConfig } from '../core/config.js';
import { latestStart } from '../core/drills.js';
import { decide } from '../core/engine.js';
import { guardKey, type AlarmState, type Decision, type DeploymentSignal, type EpochMs, type ServiceState, type Weights } from '../core/types.js';
import type { ControllerEvent } from '../events/controllerEvents.js';
import type { RecordSetRef, RecordSetWeights, WeightWrite } from '../ports/dnsWeights.js';
import { RecordNotFoundError, StateVersionConflictError } from '../ports/errors.js';
import type { DriftReport, Notice } from '../ports/notifier.js';
import { AuditKinds, AuditStatuses, type AuditEntry, type PendingChange, type StoredServiceState } from '../ports/stateStore.js';
import { observeServices, type KnownAlarmState, type ServiceObservationResult } from './observe.js';
import type { Runtime } from './runtime.js';
import { ownValue, weightsAfter } from './weightRecords.js';
import { driftDetectedEvent, noticeFor, rolloutEventsOf, shiftBlockedEvent, tell, trafficShiftedEvent, type TellFailure } from './tell.js';

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
}

/** Time past an evaluation's deadline before its intent is taken as abandoned (clock skew, shutdown). */
const DEADLINE_MARGIN_MS = 5_000;

export function recordSetOf(service: ServiceConfig): RecordSetRef {
  return { hostedZoneId: service.hostedZoneId, dnsName: service.dnsName, recordType: service.recordType };
}

export function changeComment(service: ServiceConfig, decisionId: string): string {
  return `steer53 ${service.name} decision ${decisionId}`;
}

/** An evaluation that has recorded its intent and waits for its Route 53 write. */
export interface PreparedWrite {
  readonly kind: 'write';
  readonly service: ServiceConfig;
  readonly decisionId: string;
  readonly write: WeightWrite;
  /** Route 53 accepted the write: mark applied, record, tell. */
  complete(changeIds: readonly string[]): Promise<EvaluationOutcome>;
  /** Route 53 refused: record the failure; the intent stays for a later evaluation to complete. */
  fail(error: unknown): Promise<void>;
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
}

/**
 * The dry run: observe and decide exactly as an evaluation would now, and write nothing — no
 * state, no Route 53, no audit entry, no notice.
 */
export async function planEvaluation(rt: Pick<Runtime, 'dns' | 'metrics' | 'store' | 'clock' | 'options'>, service: ServiceConfig): Promise<PlanOutcome> {
  const now = rt.clock.now();
  const stored = await rt.store.load(service.name);
  const observed = (await observeServices(rt.metrics, [service], now, rt.options ?? {}, [])).get(service.name)!;
  const { decision, drift } = await decideOn(rt, service, stored, now, observed);
  return {
    service: service.name,
    decision,
    stateVersion: stored.version,
    ...(stored.pending ? { pending: { decisionId: stored.pending.decisionId, to: stored.pending.to } } : {}),
    ...(drift ? { drift } : {}),
    gaps: observed.gaps,
  };
}

/** Evaluates one service: observe → decide → apply → tell. */
export async function evaluateService(rt: Runtime, service: ServiceConfig, request: EvaluationRequest): Promise<EvaluationOutcome> {
  const prepared = await prepareEvaluation(rt, service, request);
  if (prepared.kind === 'done') return prepared.outcome;
  let changeIds: readonly string[];
  try {
    changeIds = (await rt.dns.writeWeights([prepared.write], changeComment(service, prepared.decisionId))).changeIds;
  } catch (error) {
    await prepared.fail(error);
    throw error;
  }
  return prepared.complete(changeIds);
}

/** Observe, decide and, when weights are to change, record the intent; the write is the caller's. */
export async function prepareEvaluation(rt: Runtime, service: ServiceConfig, request: EvaluationRequest): Promise<PreparedEvaluation> {
  const maxAttempts = rt.options?.maxAttempts ?? 3;
  const leaseMs = (rt.options?.intentLeaseSeconds ?? 90) * 1000;
  const record = recordSetOf(service);
  const tellFailures: TellFailure[] = [];
  let observed = request.observed;
  let repaired: EvaluationOutcome['repaired'];

  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const now = rt.clock.now();
    const stored = await rt.store.load(service.name);

    if (stored.pending) {
      if (now < (stored.pending.leaseUntil ?? stored.pending.recordedAt + leaseMs)) {
        rt.log.info('another evaluation is applying a change to this service; standing aside', {
          service: service.name,
          decisionId: stored.pending.decisionId,
          recordedAt: new Date(stored.pending.recordedAt).toISOString(),
        });
        return done({
          service: service.name,
          status: EvaluationStatuses.BUSY,
          attempts: attempt,
          changeIds: [],
          ...(repaired ? { repaired } : {}),
          gaps: [],
          tellFailures,
        });
      }
      const completed = await completeAbandonedChange(rt, service, stored, stored.pending, now, request.trigger, tellFailures);
      if (completed) repaired = completed;
      continue; // decide afresh on the state as it is now
    }

    observed ??= (await observeServices(rt.metrics, [service], now, rt.options ?? {}, request.knownAlarms ?? [])).get(service.name)!;
    if (observed.gaps.length > 0) rt.log.warn('some signals could not be observed; they count as unknown', { service: service.name, gaps: observed.gaps });
    const { read, current, drift, decision, nextState } = await decideOn(rt, service, stored, now, observed, request.deployments);
    const driftSignature = drift ? signature(drift.actual) : null;
    const newDrift = drift !== undefined && driftSignature !== stored.driftSignature ? drift : undefined;
    const blockedSignature = decision.blocked.length > 0 ? signature(decision.blocked.map((b) => `${b.code}:${b.endpoint ?? ''}`).sort()) : null;
    const newBlocked = blockedSignature !== null && blockedSignature !== stored.blockedSignature;
    const decisionId = rt.newId();
    const base = { state: nextState, driftSignature, blockedSignature };

    if (decision.changes.length === 0) {
      try {
        await rt.store.save(service.name, stored.version, { ...base, pending: null, updatedAt: now });
      } catch (error) {
        if (error instanceof StateVersionConflictError) continue;
        throw error;
      }
      if (decision.transitions.length > 0 || decision.notifications.length > 0 || newBlocked) {
        await afterCommit(rt, service, tellFailures, () =>
          rt.store.putAudit(decisionAudit(service, decisionId, decision, request.trigger, AuditStatuses.RECORDED, [])),
        );
      }
      if (newDrift) await afterCommit(rt, service, tellFailures, () => recordDrift(rt, service, newDrift, now, request.trigger));
      const notice = noticeFor(service, decision, nextState, { trigger: request.trigger, decisionId, applied: false, changeIds: [], newBlocked });
      const events: ControllerEvent[] = newBlocked ? [shiftBlockedEvent(service, decision, decisionId, request.trigger)] : [];
      events.push(...rolloutEventsOf(service, decision, decisionId, request.trigger));
      tellFailures.push(
        ...(await tell(
          rt,
          service,
          now,
          [...driftNotices(service, newDrift, request.trigger), ...(notice ? [notice] : [])],
          [...driftEvents(service, newDrift, now, request.trigger), ...events],
        )),
      );
      return done({
        service: service.name,
        status: EvaluationStatuses.UNCHANGED,
        attempts: attempt,
        decision,
        decisionId,
        changeIds: [],
        ...(repaired ? { repaired } : {}),
        ...(newDrift ? { drift: newDrift } : {}),
        gaps: observed.gaps,
        tellFailures,
      });
    }

    // 1. Record the intent.
    const to: Weights = Object.fromEntries(decision.changes.map((c) => [c.setIdentifier, c.to]));
    const leaseUntil = request.deadline !== undefined ? Math.max(request.deadline, now) + DEADLINE_MARGIN_MS : now + leaseMs;
    const pending: PendingChange = { decisionId, recordedAt: now, leaseUntil, record, from: current, to, decision, trigger: request.trigger };
    let intentVersion: number;
    try {
      intentVersion = await rt.store.save(service.name, stored.version, { ...base, pending, updatedAt: now });
    } catch (error) {
      if (error instanceof StateVersionConflictError) {
        rt.log.debug('lost the race to another evaluation; re-reading and deciding again', { service: service.name, attempt });
        continue;
      }
      throw error;
    }
    await rt.store.putAudit(decisionAudit(service, decisionId, decision, request.trigger, AuditStatuses.INTENDED, []));

    // 2. Route 53 is the caller's; 3. then mark applied, record, tell.
    const gaps = observed.gaps;
    return {
      kind: 'write',
      service,
      decisionId,
      write: { record, weights: to, ...(read.snapshot !== undefined ? { basedOn: read.snapshot } : {}) },
      fail: async (error) => {
        // The intent stays: the next evaluation after the lease completes it.
        rt.log.error('Route 53 write failed; the recorded intent will be completed by a later evaluation', {
          service: service.name,
          decisionId,
          error: (error as Error).message,
        });
        await rt.store
          .putAudit({ ...decisionAudit(service, decisionId, decision, request.trigger, AuditStatuses.FAILED, []), detail: { error: (error as Error).message } })
          .catch((auditError: unknown) => rt.log.error('could not record the failed write', { service: service.name, error: (auditError as Error).message }));
      },
      complete: async (changeIds) => {
        try {
          await rt.store.save(service.name, intentVersion, { ...base, pending: null, updatedAt: rt.clock.now() });
        } catch (error) {
          if (!(error instanceof StateVersionConflictError)) throw error;
          // Only an evaluation that took our intent for abandoned can have written; it completed the
          // same change. The lease is shorter than this evaluation took: worth a warning.
          rt.log.warn('the change was completed by another evaluation first (intent lease too short?)', { service: service.name, decisionId });
        }
        await afterCommit(rt, service, tellFailures, () =>
          rt.store.putAudit(decisionAudit(service, decisionId, decision, request.trigger, AuditStatuses.APPLIED, changeIds)),
        );
        if (newDrift) await afterCommit(rt, service, tellFailures, () => recordDrift(rt, service, newDrift, now, request.trigger));
        const notice = noticeFor(service, decision, nextState, { trigger: request.trigger, decisionId, applied: true, changeIds, newBlocked });
        const events: ControllerEvent[] = [trafficShiftedEvent(service, decision, decisionId, request.trigger, changeIds)];
        if (newBlocked) events.push(shiftBlockedEvent(service, decision, decisionId, request.trigger));
        events.push(...rolloutEventsOf(service, decision, decisionId, request.trigger));
        tellFailures.push(
          ...(await tell(
            rt,
            service,
            now,
            [...driftNotices(service, newDrift, request.trigger), ...(notice ? [notice] : [])],
            [...driftEvents(service, newDrift, now, request.trigger), ...events],
          )),
        );
        return {
          service: service.name,
          status: EvaluationStatuses.APPLIED,
          attempts: attempt,
          decision,
          decisionId,
          changeIds,
          ...(repaired ? { repaired } : {}),
          ...(newDrift ? { drift: newDrift } : {}),
          gaps,
          tellFailures,
        };
      },
    };
  }

  rt.log.info('other evaluations kept winning the race for this service; they have evaluated it', { service: service.name, attempts: maxAttempts });
  return done({
    service: service.name,
    status: EvaluationStatuses.SUPERSEDED,
    attempts: maxAttempts,
    changeIds: [],
    ...(repaired ? { repaired } : {}),
    gaps: observed?.gaps ?? [],
    tellFailures,
  });
}

function done(outcome: EvaluationOutcome): PreparedEvaluation {
  return { kind: 'done', outcome };
}

/**
 * Completes a change an evaluation recorded but did not confirm: writes Route 53 (a no-op if the
 * write had landed before the crash), clears the intent, records and tells. Returns undefined
 * when another evaluation cleared it first.
 */
async function completeAbandonedChange(
  rt: Runtime,
  service: ServiceConfig,
  stored: StoredServiceState,
  pending: PendingChange,
  now: EpochMs,
  trigger: string,
  tellFailures: TellFailure[],
): Promise<EvaluationOutcome['repaired']> {
  rt.log.warn('completing a change an earlier evaluation recorded but did not confirm (it probably crashed)', {
    service: service.name,
    decisionId: pending.decisionId,
    recordedAt: new Date(pending.recordedAt).toISOString(),
  });
  // A change decided under an older config (a deploy since renamed the records or endpoints) is
  // not completed: it would write records the policy no longer manages.
  const record = recordSetOf(service);
  const managed = new Set(service.endpoints.map((e) => e.setIdentifier));
  const stale =
    ['hostedZoneId', 'dnsName', 'recordType'].some((k) => pending.record[k as keyof RecordSetRef] !== record[k as keyof RecordSetRef]) ||
    Object.keys(pending.to).some((id) => !managed.has(id));
  if (stale) return abandonChange(rt, service, stored, pending, now, trigger, tellFailures, 'the service config changed since it was decided');
  let changeIds: readonly string[];
  try {
    changeIds = (await rt.dns.writeWeights([{ record: pending.record, weights: pending.to }], changeComment(service, pending.decisionId))).changeIds;
  } catch (error) {
    // The records are gone: completing can never succeed, and retrying it would block the service.
    if (error instanceof RecordNotFoundError) return abandonChange(rt, service, stored, pending, now, trigger, tellFailures, error.message);
    throw error;
  }
  if (!(await clearPending(rt, service, stored, stored.state!, now))) return undefined;
  const decision = pending.decision;
  await afterCommit(rt, service, tellFailures, () =>
    rt.store.putAudit({
      ...decisionAudit(service, pending.decisionId, decision, pending.trigger, AuditStatuses.APPLIED, changeIds),
      detail: { completedAt: now, completedBy: trigger, note: 'recorded by an evaluation that did not finish; completed by a later one' },
    }),
  );
  const notice = noticeFor(service, decision, stored.state, {
    trigger: `${pending.trigger} (completed by ${trigger})`,
    decisionId: pending.decisionId,
    applied: true,
    changeIds,
    newBlocked: false,
  });
  const events = [
    trafficShiftedEvent(service, decision, pending.decisionId, pending.trigger, changeIds),
    ...rolloutEventsOf(service, decision, pending.decisionId, pending.trigger),
  ];
  tellFailures.push(...(await tell(rt, service, now, notice ? [notice] : [], events)));
  return { decisionId: pending.decisionId, changeIds };
}

/** Saves `state` with the pending change cleared; false when another evaluation got there first. */
async function clearPending(rt: Runtime, service: ServiceConfig, stored: StoredServiceState, state: ServiceState, now: EpochMs): Promise<boolean> {
  try {
    await rt.store.save(service.name, stored.version, {
      state,
      pending: null,
      driftSignature: stored.driftSignature,
      blockedSignature: stored.blockedSignature,
      updatedAt: now,
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
  tellFailures: TellFailure[],
  why: string,
): Promise<EvaluationOutcome['repaired']> {
  rt.log.error('dropping a recorded change that cannot be completed', { service: service.name, decisionId: pending.decisionId, why });
  if (!(await clearPending(rt, service, stored, { ...stored.state!, appliedWeights: pending.from }, now))) return undefined;
  await afterCommit(rt, service, tellFailures, () =>
    rt.store.putAudit({
      ...decisionAudit(service, pending.decisionId, pending.decision, pending.trigger, AuditStatuses.FAILED, []),
      detail: { abandonedAt: now, abandonedBy: trigger, why },
    }),
  );
  return undefined;
}

/**
 * Audit writes after the state is committed: the change stands whatever happens here, so a
 * failure is logged and returned (the handler counts it) rather than thrown, which would make
 * Lambda retry an evaluation that has already done its work.
 */
async function afterCommit(rt: Runtime, service: ServiceConfig, failures: TellFailure[], write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    failures.push({ channel: 'audit', message: (error as Error).message });
    rt.log.error('audit write failed after the change was committed', { service: service.name, error: (error as Error).message });
  }
}

/**
 * The decision an evaluation takes on the stored state: from the weights Route 53 holds now, the
 * observations, and the guard alarms of drills. Reads only; the evaluation and the dry run share it.
 */
async function decideOn(
  rt: Pick<Runtime, 'dns' | 'metrics'> & { readonly log?: Runtime['log'] },
  service: ServiceConfig,
  stored: StoredServiceState,
  now: EpochMs,
  observed: ServiceObservationResult,
  deployments?: readonly DeploymentSignal[],
): Promise<{ read: RecordSetWeights; current: Weights; drift: DriftReport | undefined; decision: Decision; nextState: ServiceState }> {
  const read = await rt.dns.readWeights(recordSetOf(service));
  const current = managedWeights(service, read.weights);
  const guardAlarms = await guardAlarmStates(rt, service, stored.state, now);
  const { decision, nextState } = decide(service, {
    now,
    observations: observed.observations,
    state: stored.state,
    currentWeights: current,
    ...(deployments !== undefined ? { deployments } : {}),
    ...(guardAlarms ? { guardAlarms } : {}),
  });
  return { read, current, drift: driftOf(service, stored, current), decision, nextState };
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
    const start = latestStart(drill.schedule, now);
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

function signature(value: unknown): string {
  return JSON.stringify(value, value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : undefined);
}
