/**
 * Adaptive polling: which services a tick reads. Reading every metric of every service every
 * minute costs about $8.6 per service-month in GetMetricData alone ($0.01 per 1,000 metrics); a
 * healthy, quiet service is read only every `policy.polling.quietIntervalSeconds` (5 minutes by
 * default) while its CloudWatch alarms give the fast path: an alarm's state change evaluates its
 * service at once (onAlarm), whatever the cadence. Anything that is not quiet is read every period.
 *
 * The engine is not blinded by the periods a service is not read: its verdict history records
 * only the periods it judged, so a skipped period counts neither as a breach nor as a clear (M of
 * N counts breaches inside a window of time; K clears must be consecutive periods, and a gap
 * breaks them), and every service that is not quiet (a breach, a signal past its clear threshold,
 * a recovery) is read every period anyway.
 *
 * Quiet services are spread over the interval by a stable hash of their name, so a tick reads
 * about 1/k of them (k = interval / period), not all of them every k-th minute.
 */
import type { ServiceConfig } from '../core/config.js';
import { latestStart } from '../core/drills.js';
import type { EpochMs } from '../core/types.js';
import type { StoredServiceState } from '../ports/stateStore.js';

export const PollReasons = {
  /** No state yet: nothing is known of the service. */
  FIRST_EVALUATION: 'FIRST_EVALUATION',
  /** A recorded change waits to be completed. */
  PENDING_CHANGE: 'PENDING_CHANGE',
  /** An endpoint is degraded, drained or recovering. */
  ENDPOINT_NOT_HEALTHY: 'ENDPOINT_NOT_HEALTHY',
  /** An endpoint's last verdict was not clear: a signal past its clear threshold (near trip), a breach, or no usable data. */
  VERDICT_NOT_CLEAR: 'VERDICT_NOT_CLEAR',
  ROLLOUT_IN_PROGRESS: 'ROLLOUT_IN_PROGRESS',
  /** A drill is in progress, or starts before the next quiet read. */
  DRILL_DUE: 'DRILL_DUE',
  /** A freeze, pin or maintenance drain is in force (it may expire before the next quiet read). */
  OVERRIDE_IN_FORCE: 'OVERRIDE_IN_FORCE',
  FAIL_STATIC: 'FAIL_STATIC',
  /** An endpoint has no alarm signal, so nothing would wake the service between quiet reads. */
  NO_ALARM_FAST_PATH: 'NO_ALARM_FAST_PATH',
  /** The quiet interval is one period: every service is read every period. */
  EVERY_PERIOD: 'EVERY_PERIOD',
  /** Named by the tick's caller (a Scheduler payload listing services). */
  ASKED: 'ASKED',
  /** Its state could not be read: evaluated, so that it fails with the error rather than being skipped in silence. */
  STATE_UNREADABLE: 'STATE_UNREADABLE',
  /** Quiet, and this period is its turn. */
  QUIET_TURN: 'QUIET_TURN',
  /** Quiet, but its last read is older than the interval (a turn was missed): read now. */
  QUIET_OVERDUE: 'QUIET_OVERDUE',
  /** Quiet, and not its turn: not read this period. */
  QUIET_WAIT: 'QUIET_WAIT',
  /**
   * Quiet and not its turn, but one of its alarms has left OK since its last read (the tick reads
   * the alarms of the services it would skip): read now, whether or not the alarm's event got through.
   */
  ALARM_NOT_OK: 'ALARM_NOT_OK',
} as const;
export type PollReason = (typeof PollReasons)[keyof typeof PollReasons];

export interface PollDecision {
  readonly service: string;
  /** Read and evaluated this period. */
  readonly due: boolean;
  readonly reason: PollReason;
  /** The endpoint the reason is about, when it is about one. */
  readonly endpoint?: string;
}

/** A stable spread of names over the interval's periods. */
function slotOf(name: string, slots: number): number {
  return stableHash(name) % slots;
}

/** FNV-1a, 32 bits: the same number for the same text, on every run and every machine. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Why the service must be read every period, or undefined when it is quiet. */
function busyReason(service: ServiceConfig, stored: StoredServiceState, now: EpochMs): Omit<PollDecision, 'service' | 'due'> | undefined {
  const state = stored.state;
  if (!state) return { reason: PollReasons.FIRST_EVALUATION };
  if (stored.pending) return { reason: PollReasons.PENDING_CHANGE };
  if (state.failStaticSince !== null) return { reason: PollReasons.FAIL_STATIC };
  if (Object.keys(state.rollouts).length > 0) return { reason: PollReasons.ROLLOUT_IN_PROGRESS, endpoint: Object.keys(state.rollouts)[0]! };
  const { freeze, pin, drains } = state.overrides;
  if (freeze || pin || Object.keys(drains ?? {}).length > 0) return { reason: PollReasons.OVERRIDE_IN_FORCE };
  for (const endpoint of service.endpoints) {
    const id = endpoint.setIdentifier;
    const endpointState = state.endpoints[id];
    if (endpointState && endpointState.status !== 'healthy') return { reason: PollReasons.ENDPOINT_NOT_HEALTHY, endpoint: id };
    const last = endpointState?.history.at(-1);
    if (last?.verdict !== 'clear') return { reason: PollReasons.VERDICT_NOT_CLEAR, endpoint: id };
    if (!endpoint.signals.some((signal) => signal.source === 'alarm')) return { reason: PollReasons.NO_ALARM_FAST_PATH, endpoint: id };
  }
  const quietMs = service.policy.polling.quietIntervalSeconds * 1000;
  // A drill in progress or starting before the next quiet read: read every period, so it starts on time.
  const drill = service.drills.find((d) => latestStart(d.schedule, now + quietMs, quietMs + d.durationMinutes * 60_000) !== null);
  if (drill) return { reason: PollReasons.DRILL_DUE, endpoint: drill.endpoint };
  return undefined;
}

/** Whether a tick at `now` reads the service, and why. */
export function pollDecision(service: ServiceConfig, stored: StoredServiceState, now: EpochMs): PollDecision {
  const periodMs = service.policy.evaluationPeriodSeconds * 1000;
  const slots = Math.max(1, Math.round(service.policy.polling.quietIntervalSeconds / service.policy.evaluationPeriodSeconds));
  if (slots === 1) return { service: service.name, due: true, reason: PollReasons.EVERY_PERIOD };
  const busy = busyReason(service, stored, now);
  if (busy) return { service: service.name, due: true, ...busy };
  const lastRead = stored.state?.lastEvaluatedAt ?? null;
  // A turn missed (a failed tick, a late one): a period of grace, then read at once.
  if (lastRead === null || now - lastRead >= (slots + 1) * periodMs) return { service: service.name, due: true, reason: PollReasons.QUIET_OVERDUE };
  const turn = Math.floor(now / periodMs) % slots === slotOf(service.name, slots);
  return { service: service.name, due: turn, reason: turn ? PollReasons.QUIET_TURN : PollReasons.QUIET_WAIT };
}
