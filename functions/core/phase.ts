/**
 * What the phases of a decision share. `decide` (engine.ts) is a pipeline, as Kubernetes' HPA is:
 * each phase is a pure function of the evaluation and of what earlier phases produced, and returns
 * its value together with what it has to say (reasons, blocked actions, notifications, endpoint
 * transitions, rollout events). Nothing is pushed into a list a phase was handed: `decide` joins
 * what every phase said, in phase order, and that order is the decision's.
 */
import type { Policy, ServiceConfig } from './config.js';
import type {
  AlarmState,
  CapacityReading,
  DeploymentSignal,
  EndpointState,
  EpochMs,
  Notification,
  Reason,
  RolloutEvent,
  ServiceObservations,
  ServiceState,
  Severity,
  Transition,
  Weights,
} from './types.js';

/** What one evaluation of a service reads, fixed before the first phase runs. */
export interface Evaluation {
  readonly service: ServiceConfig;
  readonly policy: Policy;
  /** The configured endpoints' SetIdentifiers, in config order. */
  readonly ids: readonly string[];
  readonly now: EpochMs;
  readonly observations: ServiceObservations;
  /** Deployment events to apply, oldest first. */
  readonly deployments: readonly DeploymentSignal[];
  /** States of the drills' guard alarms, by guardKey. */
  readonly guardAlarms: Readonly<Record<string, AlarmState>>;
  /** The state the last evaluation left. */
  readonly previous: ServiceState;
  /** Each configured endpoint's state before this evaluation: one new to the config starts healthy. */
  readonly priorEndpoints: Readonly<Record<string, EndpointState>>;
  /** What Route 53 holds now, for every configured endpoint. */
  readonly current: Weights;
  /** Route 53 holds other weights than the ones last written. */
  readonly drifted: boolean;
  /** The sum of the baseline weights: the scale weights are planned in. */
  readonly total: number;
  /** Each endpoint's requests per second over its warm capacity this period; null when either is unknown. */
  readonly utilisation: Readonly<Record<string, number | null>>;
  /** Warm capacity (requests/s) from the instances in service, for endpoints with a capacity provider and a reading (warmCapacity.ts). */
  readonly warmNow: Readonly<Record<string, number>>;
  /** What the capacity providers report, by SetIdentifier; undefined when no provider was read. */
  readonly capacity: Readonly<Record<string, CapacityReading>> | undefined;
}

/** What a phase says besides its value. */
export interface Said {
  readonly reasons: readonly Reason[];
  /** Actions a safety rule or an override refused. */
  readonly blocked: readonly Reason[];
  readonly notifications: readonly Notification[];
  readonly transitions: readonly Transition[];
  readonly rolloutEvents: readonly RolloutEvent[];
}

/** A phase's result: its value, and what it said. */
export interface Phase<T> extends Said {
  readonly value: T;
}

const NONE: readonly never[] = [];
const NOTHING: Said = { reasons: NONE, blocked: NONE, notifications: NONE, transitions: NONE, rolloutEvents: NONE };

export function phase<T>(value: T, ...said: readonly Partial<Said>[]): Phase<T> {
  // Property by property, not by spread: on every decision's path, and a literal keeps one shape.
  const { reasons, blocked, notifications, transitions, rolloutEvents } = together(said);
  return { value, reasons, blocked, notifications, transitions, rolloutEvents };
}

/** What several phases (or steps of one) said, joined in the order given. */
export function together(parts: readonly Partial<Said>[]): Said {
  if (parts.length === 0) return NOTHING;
  return {
    reasons: joined(parts, 'reasons'),
    blocked: joined(parts, 'blocked'),
    notifications: joined(parts, 'notifications'),
    transitions: joined(parts, 'transitions'),
    rolloutEvents: joined(parts, 'rolloutEvents'),
  };
}

/**
 * One kind of saying, joined across parts. Most parts say nothing, so this is on every decision's
 * path: a list is copied only when two parts add to it (the lists are read-only, so sharing is safe).
 */
function joined<K extends keyof Said>(parts: readonly Partial<Said>[], key: K): Said[K] {
  let only: Said[K] | undefined;
  let copy: Said[K][number][] | undefined;
  for (const part of parts) {
    const items = part[key];
    if (items === undefined || items.length === 0) continue;
    if (only === undefined) only = items;
    else {
      copy ??= [...only];
      copy.push(...items);
    }
  }
  return (copy ?? only ?? NONE) as Said[K];
}

/** The notification of a reason: one line that names the service. */
export function notice(reason: Reason, severity: Severity, dnsName: string, summary: string = reason.message): Notification {
  return { severity, reason: reason.code, summary: `${dnsName}: ${summary}` };
}

/** A reason that people are also told about. */
export function told(reason: Reason, severity: Severity, dnsName: string, summary?: string): Partial<Said> {
  return { reasons: [reason], notifications: [notice(reason, severity, dnsName, summary)] };
}
