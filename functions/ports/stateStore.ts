/**
 * Port: the controller's memory. One item per service holds the engine state, a version for
 * optimistic concurrency and, between deciding and writing Route 53, the change it intends; audit
 * entries record every action (who or what, why, before, after).
 */
import type { Decision, EpochMs, Reason, ServiceState, Weights } from '../core/types.js';
import type { RecordSetRef } from './dnsWeights.js';

/**
 * A change the controller has decided and recorded but not yet confirmed written to Route 53. If
 * the evaluation that recorded it dies before marking it applied, the next one completes it.
 */
export interface PendingChange {
  readonly decisionId: string;
  readonly recordedAt: EpochMs;
  /**
   * Until when the evaluation that recorded it may still be running (its invocation's deadline);
   * after it, the change is taken as abandoned. Absent on intents recorded before this existed:
   * then `recordedAt` plus the runtime's lease applies.
   */
  readonly leaseUntil?: EpochMs;
  readonly record: RecordSetRef;
  /** The weights before, as Route 53 held them when the decision was taken. */
  readonly from: Weights;
  /** The weights to write (only the records that change). */
  readonly to: Weights;
  /** The decision, so an evaluation that completes the change can record and tell it. */
  readonly decision: Decision;
  /** What triggered the evaluation that decided it. */
  readonly trigger: string;
}

export interface StoredServiceState {
  readonly service: string;
  /** 0 when the service has never been written. Only grows. */
  readonly version: number;
  /** The engine's state; undefined before the first evaluation. */
  readonly state: ServiceState | undefined;
  readonly pending: PendingChange | null;
  /** Fingerprint of the last drift reported, so one console edit is reported once, not every minute. */
  readonly driftSignature: string | null;
  /** Fingerprint of the last blocked actions reported, so a standing block is reported once. */
  readonly blockedSignature: string | null;
  readonly updatedAt: EpochMs | null;
  /**
   * The engine's own last weights, at the configured total, where Route 53 holds them at another
   * scale (`state.appliedWeights`, what was written: evaluateService.ts, "written at the scale Route
   * 53 holds"). Absent when the two are the same.
   */
  readonly engineWeights?: Weights;
}

export interface StateWrite {
  readonly state: ServiceState;
  readonly pending: PendingChange | null;
  readonly driftSignature: string | null;
  readonly blockedSignature: string | null;
  readonly updatedAt: EpochMs;
  /** See StoredServiceState.engineWeights. @default the same as `state.appliedWeights` */
  readonly engineWeights?: Weights;
}

export const AuditKinds = {
  DECISION: 'decision',
  DRIFT: 'drift',
  REPAIR: 'repair',
  DEPLOYMENT: 'deployment',
  NOTIFICATION_FAILED: 'notification-failed',
  /** An operator set or removed an override (freeze, pin, maintenance drain). */
  OVERRIDE: 'override',
} as const;
export type AuditKind = (typeof AuditKinds)[keyof typeof AuditKinds];

export const AuditStatuses = { INTENDED: 'intended', APPLIED: 'applied', RECORDED: 'recorded', FAILED: 'failed' } as const;
export type AuditStatus = (typeof AuditStatuses)[keyof typeof AuditStatuses];

export interface AuditEntry {
  readonly service: string;
  /** Unique id; with `at` it names the entry, so writing an entry again updates it. */
  readonly id: string;
  readonly at: EpochMs;
  readonly kind: AuditKind;
  readonly status: AuditStatus;
  /** Who or what acted: `steer53 schedule`, `steer53 alarm <name>`, a pipeline, `drift`. */
  readonly actor: string;
  /** One line a person can read. */
  readonly summary: string;
  readonly before?: Weights;
  readonly after?: Weights;
  readonly reasons?: readonly Reason[];
  /** Route 53 change ids of an applied change. */
  readonly changeIds?: readonly string[];
  /** The whole decision, for decisions. */
  readonly decision?: Decision;
  /** Anything else worth keeping (deployment detail, drift weights, error text). */
  readonly detail?: Readonly<Record<string, unknown>>;
  /** What was cut so the entry fits one DynamoDB item (ports/auditSize.ts); absent when it is whole. */
  readonly truncated?: readonly string[];
}

export interface AuditQuery {
  /** @default 50 */
  readonly limit?: number;
}

export interface StateStore {
  load(service: string): Promise<StoredServiceState>;
  /**
   * Loads many services at once (strongly consistent, as `load`): a tick reads its services'
   * states in a few batch calls instead of one call each. Each service maps to its state, or to
   * the error that made it unreadable (a corrupt item fails that service alone).
   */
  loadMany(services: readonly string[]): Promise<ReadonlyMap<string, StoredServiceState | Error>>;
  /**
   * Writes the item only if its version is still `expectedVersion` (0 = it must not exist yet);
   * returns the new version. Throws `StateVersionConflictError` when another evaluation won.
   */
  save(service: string, expectedVersion: number, write: StateWrite): Promise<number>;
  /**
   * Writes an audit entry (bounded to one DynamoDB item by `boundedAudit`, saying what it cut);
   * writing the same service, `at` and `id` again replaces it.
   */
  putAudit(entry: AuditEntry): Promise<void>;
  /** The service's audit entries, newest first. */
  listAudit(service: string, query?: AuditQuery): Promise<AuditEntry[]>;
}
