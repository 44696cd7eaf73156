/**
 * Port: telling people. A notice is structured; the adapter renders it for its medium (SNS
 * subject and body, a chat message) with `functions/app/noticeText.ts`.
 */
import type { ServiceConfig } from '../core/config.js';
import type { Decision, ReasonCode, ServiceState, Severity, Weights } from '../core/types.js';

export const NoticeKinds = {
  TRAFFIC_SHIFTED: 'traffic-shifted',
  SHIFT_BLOCKED: 'shift-blocked',
  STATE_CHANGED: 'state-changed',
  DRIFT_DETECTED: 'drift-detected',
} as const;
export type NoticeKind = (typeof NoticeKinds)[keyof typeof NoticeKinds];

export interface DriftReport {
  /** What the controller last wrote. */
  readonly expected: Weights;
  /** What Route 53 holds. */
  readonly actual: Weights;
  /** SetIdentifiers whose weights differ. */
  readonly endpoints: readonly string[];
}

export interface Notice {
  readonly kind: NoticeKind;
  readonly severity: Severity;
  /** The reason that matters most, for subscription filters. */
  readonly reason: ReasonCode | 'DRIFT_DETECTED';
  readonly service: ServiceConfig;
  readonly decision?: Decision;
  /** The engine state after the decision (history, for "3 of 5 min"). */
  readonly state?: ServiceState;
  readonly drift?: DriftReport;
  /** Who or what triggered the evaluation. */
  readonly trigger: string;
  /** Id of the decision (also in the audit log and the Route 53 change comment). */
  readonly decisionId?: string;
  /** Route 53 change ids of an applied change. */
  readonly changeIds?: readonly string[];
}

export interface Notifier {
  notify(notice: Notice): Promise<void>;
}
