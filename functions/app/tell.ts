/**
 * Tell: after a decision is recorded (and applied), people get a notice and other systems get an
 * event. Telling never undoes or blocks what was decided: a failing SNS or EventBridge call is
 * logged, counted in the outcome and written to the audit log, and the decision stands.
 */
import type { ServiceConfig } from '../core/config.js';
import type { Decision, ReasonCode, ServiceState, Severity } from '../core/types.js';
import { ControllerDetailTypes, serviceFields, type ControllerEvent } from '../events/controllerEvents.js';
import type { DriftReport, Notice, NoticeKind } from '../ports/notifier.js';
import { AuditKinds, AuditStatuses } from '../ports/stateStore.js';
import type { Runtime } from './runtime.js';
import { weightsAfter } from './weightRecords.js';

export interface TellFailure {
  readonly channel: 'notify' | 'publish' | 'audit';
  readonly message: string;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Reasons that say an endpoint is breaching and shedding (or about to shed): a change they come with is worth a look. */
const SHEDDING_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'SHED_PROPORTIONAL',
  'SHED_IMPAIRED',
  'SHED_INTERVAL_HOLD',
  'THIN_BREACH_HOLD',
  'RELIEF_HOLD',
  'RECOVERY_FAIL_HELD',
  'M_OF_N_BREACH',
  'BREACH_EXTREME',
  'FAIL_BREACH',
  'FAIL_UNAMBIGUOUS',
]);

/** The notice for a decision, or undefined when it is not worth telling anyone. */
export function noticeFor(
  service: ServiceConfig,
  decision: Decision,
  state: ServiceState | undefined,
  context: { trigger: string; decisionId: string; applied: boolean; changeIds: readonly string[]; newBlocked: boolean },
): Notice | undefined {
  const top = [...decision.notifications].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])[0];
  let kind: NoticeKind;
  let severity: Severity;
  if (context.applied && decision.changes.length > 0) {
    kind = 'traffic-shifted';
    // Shedding from a breaching endpoint is worth a look; a recovery step is news, not a page.
    const shedding = decision.reasons.some((r) => SHEDDING_CODES.has(r.code));
    severity = top?.severity ?? (decision.emergency ? 'critical' : shedding ? 'warning' : 'info');
  } else if (context.newBlocked && decision.blocked.length > 0) {
    kind = 'shift-blocked';
    severity = top?.severity ?? 'warning';
  } else if (top) {
    kind = 'state-changed';
    severity = top.severity;
  } else {
    return undefined;
  }
  const reason: ReasonCode = top?.reason ?? decision.transitions[0]?.reason ?? decision.blocked[0]?.code ?? decision.reasons[0]?.code ?? 'WEIGHTS_RECONCILED';
  return {
    kind,
    severity,
    reason,
    service,
    decision,
    ...(state ? { state } : {}),
    trigger: context.trigger,
    decisionId: context.decisionId,
    changeIds: context.changeIds,
  };
}

export function trafficShiftedEvent(
  service: ServiceConfig,
  decision: Decision,
  decisionId: string,
  trigger: string,
  changeIds: readonly string[],
): ControllerEvent {
  const after = weightsAfter(decision.currentWeights, decision.changes);
  return {
    detailType: ControllerDetailTypes.TRAFFIC_SHIFTED,
    detail: {
      ...serviceFields(service, decision.at, trigger),
      decisionId,
      mode: decision.mode,
      emergency: decision.emergency,
      before: decision.currentWeights,
      after,
      changes: decision.changes.map((c) => ({ endpoint: c.setIdentifier, from: c.from, to: c.to })),
      reasons: decision.reasons.map((r) => ({ code: r.code, message: r.message, ...(r.endpoint ? { endpoint: r.endpoint } : {}) })),
      changeIds: [...changeIds],
    },
  };
}

export function shiftBlockedEvent(service: ServiceConfig, decision: Decision, decisionId: string, trigger: string): ControllerEvent {
  return {
    detailType: ControllerDetailTypes.SHIFT_BLOCKED,
    detail: {
      ...serviceFields(service, decision.at, trigger),
      decisionId,
      mode: decision.mode,
      currentWeights: decision.currentWeights,
      targetWeights: decision.targetWeights,
      blocked: decision.blocked.map((r) => ({ code: r.code, message: r.message, ...(r.endpoint ? { endpoint: r.endpoint } : {}) })),
    },
  };
}

export function driftDetectedEvent(service: ServiceConfig, drift: DriftReport, at: number, trigger: string): ControllerEvent {
  return {
    detailType: ControllerDetailTypes.DRIFT_DETECTED,
    detail: { ...serviceFields(service, at, trigger), expected: drift.expected, actual: drift.actual, endpoints: [...drift.endpoints] },
  };
}

/** What the pipeline is told of its rollouts: `Rollback Requested` and `Rollout Succeeded`, one per rollout event of the decision. */
export function rolloutEventsOf(service: ServiceConfig, decision: Decision, decisionId: string, trigger: string): ControllerEvent[] {
  // A decision recorded before rollouts existed (an intent completed after an upgrade) has none.
  return (decision.rolloutEvents ?? []).map((event): ControllerEvent => {
    const fields = {
      ...serviceFields(service, decision.at, trigger),
      decisionId,
      endpoint: event.endpoint,
      version: event.version,
      ...(event.pipelineExecutionId !== undefined ? { pipelineExecutionId: event.pipelineExecutionId } : {}),
      reason: event.reason,
    };
    return event.type === 'Rollback Requested'
      ? { detailType: ControllerDetailTypes.ROLLBACK_REQUESTED, detail: { ...fields, onFailure: service.policy.rollout.onFailure } }
      : { detailType: ControllerDetailTypes.ROLLOUT_SUCCEEDED, detail: fields };
  });
}

/** Overrides as the `Override Changed` event carries them: the engine's, without its bookkeeping. */
function overridesDetail(overrides: ServiceState['overrides'] | undefined) {
  const plain = (o: { by: string; reason: string; setAt: number; until: number | null }) => ({ by: o.by, reason: o.reason, setAt: o.setAt, until: o.until });
  return {
    ...(overrides?.freeze ? { freeze: plain(overrides.freeze) } : {}),
    ...(overrides?.pin ? { pin: { ...plain(overrides.pin), weights: { ...overrides.pin.weights } } } : {}),
    ...(overrides?.drains ? { drains: Object.fromEntries(Object.entries(overrides.drains).map(([id, d]) => [id, plain(d)])) } : {}),
  };
}

const OVERRIDE_CHANGES: ReadonlyMap<string, 'set' | 'expired' | 'lifted'> = new Map([
  ['OVERRIDE_SET', 'set'],
  ['OVERRIDE_EXPIRED', 'expired'],
  ['OVERRIDE_LIFTED', 'lifted'],
] as const);

/** `Override Changed`, one per override the decision told of (set or changed, expired, or lifted by an operator). */
export function overrideEventsOf(
  service: ServiceConfig,
  decision: Decision,
  state: ServiceState | undefined,
  decisionId: string,
  trigger: string,
): ControllerEvent[] {
  return decision.reasons
    .filter((r) => r.code === 'OVERRIDE_SET' || r.code === 'OVERRIDE_EXPIRED' || r.code === 'OVERRIDE_LIFTED')
    .map((r) => ({
      detailType: ControllerDetailTypes.OVERRIDE_CHANGED,
      detail: {
        ...serviceFields(service, decision.at, trigger),
        decisionId,
        change: OVERRIDE_CHANGES.get(r.code)!,
        ...(r.endpoint !== undefined ? { endpoint: r.endpoint } : {}),
        message: r.message,
        overrides: overridesDetail(state?.overrides),
      },
    }));
}

/** Sends notices and events; every failure is logged, recorded and returned, never thrown. */
export async function tell(
  rt: Runtime,
  service: ServiceConfig,
  at: number,
  notices: readonly Notice[],
  events: readonly ControllerEvent[],
): Promise<TellFailure[]> {
  const failures: TellFailure[] = [];
  for (const notice of notices) {
    try {
      await rt.notifier.notify(notice);
    } catch (error) {
      failures.push({ channel: 'notify', message: (error as Error).message });
      rt.log.error('notification failed; the decision stands', {
        service: service.name,
        kind: notice.kind,
        reason: notice.reason,
        error: (error as Error).message,
      });
    }
  }
  if (events.length > 0) {
    try {
      await rt.events.publish(events);
    } catch (error) {
      failures.push({ channel: 'publish', message: (error as Error).message });
      rt.log.error('event publish failed; the decision stands', {
        service: service.name,
        detailTypes: events.map((e) => e.detailType),
        error: (error as Error).message,
      });
    }
  }
  if (failures.length > 0) {
    try {
      await rt.store.putAudit({
        service: service.name,
        id: rt.newId(),
        at,
        kind: AuditKinds.NOTIFICATION_FAILED,
        status: AuditStatuses.FAILED,
        actor: 'steer53',
        summary: `could not tell: ${failures.map((f) => `${f.channel}: ${f.message}`).join('; ')}`.slice(0, 1000),
        detail: {
          failures,
          notices: notices.map((n) => ({ kind: n.kind, reason: n.reason, decisionId: n.decisionId })),
          events: events.map((e) => e.detailType),
        },
      });
    } catch (error) {
      failures.push({ channel: 'audit', message: (error as Error).message });
      rt.log.error('could not record the notification failure', { service: service.name, error: (error as Error).message });
    }
  }
  return failures;
}
