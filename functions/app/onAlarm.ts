/**
 * An alarm changed state: find the services and endpoints whose signals name it (by name and
 * region, or by ARN), and evaluate those services at once with the alarm's state as the signal's
 * value. Alarms no signal names are ignored.
 *
 * Before that, the alarm handler screens each change (`screenAlarmChanges`): an event that is too
 * old or from the future, or from an account the signal does not allow, is refused; a composite
 * whose actions are suppressed is ignored; and the alarm's *current* state is read from CloudWatch
 * (one DescribeAlarms per region for the whole invocation), so a replayed or stale event whose
 * state CloudWatch no longer holds moves nothing.
 */
import type { ServiceConfig } from '../core/config.js';
import type { AlarmState, EpochMs } from '../core/types.js';
import type { AlarmRef } from '../ports/metrics.js';
import { ageRefusal, type EventRefusal } from './eventChecks.js';
import type { EvaluationOutcome } from './evaluateService.js';
import type { KnownAlarmState } from './observe.js';
import type { Runtime } from './runtime.js';
import { onTick, type ServiceFailure } from './onTick.js';

export interface AlarmChange {
  readonly alarmName: string;
  readonly alarmArn?: string;
  /** Region the alarm lives in; undefined when the notification did not say (the name alone is matched). */
  readonly region: string | undefined;
  /** The account the event says the alarm lives in; checked by `screenAlarmChanges`. */
  readonly account?: string;
  readonly state: AlarmState;
  readonly previousState?: AlarmState;
  /** The SQS record the change came in, when it came from the alarm queue. */
  readonly messageId?: string;
}

export interface AlarmSignalMatch {
  readonly service: ServiceConfig;
  readonly endpoint: string;
  readonly signal: string;
}

export interface AlarmOutcome {
  /** False when no signal of any service names the alarm. */
  readonly matched: boolean;
  readonly matches: readonly AlarmMatchSummary[];
  readonly outcomes: readonly EvaluationOutcome[];
  readonly failures: readonly ServiceFailure[];
}

/** The signals that name this alarm, in config order. */
export function matchAlarm(services: readonly ServiceConfig[], alarm: Pick<AlarmChange, 'alarmName' | 'alarmArn' | 'region'>): AlarmSignalMatch[] {
  const matches: AlarmSignalMatch[] = [];
  for (const service of services) {
    for (const endpoint of service.endpoints) {
      for (const signal of endpoint.signals) {
        if (signal.source !== 'alarm') continue;
        const byArn = signal.alarm.arn !== undefined && alarm.alarmArn !== undefined && signal.alarm.arn === alarm.alarmArn;
        const byName =
          signal.alarm.name !== undefined &&
          signal.alarm.name === alarm.alarmName &&
          (alarm.region === undefined || (signal.alarm.region ?? endpoint.region) === alarm.region);
        if (byArn || byName) matches.push({ service, endpoint: endpoint.setIdentifier, signal: signal.name });
      }
    }
  }
  return matches;
}

/** `deadline`: when this invocation will be stopped at the latest (see EvaluationRequest.deadline). */
export async function onAlarm(rt: Runtime, alarm: AlarmChange, deadline?: number): Promise<AlarmOutcome> {
  const batch = await onAlarms(rt, [alarm], deadline);
  const matches = batch.matches[0]!;
  return { matched: matches.length > 0, matches, outcomes: batch.outcomes, failures: batch.failures };
}

/** What a batch of alarm changes did: the signals naming each change (in order), and every service's evaluation. */
export interface AlarmBatchOutcome {
  /** Per change, in the order given: the signals that name it (none: it is ignored). */
  readonly matches: readonly (readonly AlarmMatchSummary[])[];
  readonly outcomes: readonly EvaluationOutcome[];
  readonly failures: readonly ServiceFailure[];
}

export interface AlarmMatchSummary {
  readonly service: string;
  readonly endpoint: string;
  readonly signal: string;
}

/**
 * Several alarm changes at once (an alarm storm, as a queue delivers it): every service they name is
 * evaluated once, with each named signal at its change's state (a later change of the same signal
 * wins), and the services are evaluated as a tick evaluates them (onTick.ts): their states read in
 * batches, observed together, and each hosted zone's changes written in one change batch. A region
 * failing under a thousand services is then a few Route 53 changes per zone, not one per alarm.
 * The zones are read and written one after another, the fullest first: when the invocation's share
 * of Route 53 cannot cover them all before its deadline, whole zones are done and the rest fail
 * fast (RateBudgetExhaustedError), for the next tick to read.
 */
export async function onAlarms(rt: Runtime, alarms: readonly AlarmChange[], deadline?: number): Promise<AlarmBatchOutcome> {
  const matched = alarms.map((alarm) => matchAlarm(rt.config.services, alarm));
  const known = new Map<string, KnownAlarmState>();
  const triggers = new Map<string, Set<string>>();
  alarms.forEach((alarm, i) => {
    for (const m of matched[i]!) {
      known.set(JSON.stringify([m.service.name, m.endpoint, m.signal]), {
        service: m.service.name,
        endpoint: m.endpoint,
        signal: m.signal,
        state: alarm.state,
      });
      triggers.set(m.service.name, (triggers.get(m.service.name) ?? new Set()).add(`alarm ${alarm.alarmName} ${alarm.state}`));
    }
  });
  const matches = matched.map((list) => list.map((m) => ({ service: m.service.name, endpoint: m.endpoint, signal: m.signal })));
  const services = rt.config.services.filter((s) => triggers.has(s.name));
  if (services.length === 0) return { matches, outcomes: [], failures: [] };
  const tick = await onTick(rt, {
    trigger: 'alarm',
    services,
    asked: services.map((s) => s.name),
    knownAlarms: [...known.values()],
    triggers: Object.fromEntries([...triggers].map(([service, list]) => [service, [...list].join(', ')])),
    // A storm's batch spans many zones at the alarm function's small share of Route 53: whole zones, fullest first.
    zonesInTurn: true,
    ...(deadline !== undefined ? { deadline } : {}),
  });
  return { matches, outcomes: tick.outcomes, failures: tick.failures };
}

/** An alarm change as the handler parsed it: when it happened and whether its actions are suppressed. */
export interface ReceivedAlarmChange extends AlarmChange {
  readonly account: string;
  /** When the state changed, epoch ms. */
  readonly at: EpochMs;
  readonly actionsSuppressedBy?: string;
}

/**
 * What becomes of one received change: acted on with the state CloudWatch holds now, ignored
 * (no signal names it, its actions are suppressed, CloudWatch holds another state now, or its
 * state could not be confirmed), or refused (too old, from the future, from a foreign account).
 */
export type ScreenedAlarm =
  | { readonly kind: 'act'; readonly change: AlarmChange }
  | {
      readonly kind: 'ignored';
      readonly change: ReceivedAlarmChange;
      readonly why: AlarmIgnoredWhy;
      readonly detail: string;
      /** Reading its state failed (throttling, an outage): delivered again, it may act. */
      readonly retryable?: true;
    }
  | { readonly kind: 'refused'; readonly change: ReceivedAlarmChange; readonly refusal: EventRefusal };

export type AlarmIgnoredWhy = 'no-signal' | 'actions-suppressed' | 'superseded' | 'unconfirmed';

/**
 * How old an alarm event whose state cannot be read back may be and still act: an alarm in another
 * account, which DescribeAlarms in the controller's account cannot see. Two minutes: a replay is
 * refused, a live event is not delayed.
 */
export const UNCONFIRMABLE_MAX_AGE_MS = 120_000;

/** The accounts a matched signal allows: the account in its ARN, else the controller's own. */
function allowedAccounts(matches: readonly AlarmSignalMatch[], controllerAccount: string | undefined): string[] {
  const accounts = matches.map((m) => {
    const signal = m.service.endpoints.find((e) => e.setIdentifier === m.endpoint)?.signals.find((s) => s.name === m.signal);
    const arn = signal?.source === 'alarm' ? signal.alarm.arn : undefined;
    return arn !== undefined ? arn.split(':')[4] : controllerAccount;
  });
  return [...new Set(accounts.filter((a): a is string => a !== undefined))].sort();
}

/** A change that passed the checks without AWS calls: its state is to be confirmed, in this region. */
interface ToConfirm {
  readonly kind: 'confirm';
  readonly region: string;
}

/** The checks that need no AWS call: age, account, suppression, and whether any signal names it. */
function screenOne(rt: Runtime, change: ReceivedAlarmChange, now: EpochMs): ScreenedAlarm | ToConfirm {
  const age = ageRefusal(change.at, now, rt.config.events);
  if (age) return { kind: 'refused', change, refusal: age };
  const matches = matchAlarm(rt.config.services, change);
  if (matches.length === 0) return { kind: 'ignored', change, why: 'no-signal', detail: 'no signal in the config names this alarm' };
  const allowed = allowedAccounts(matches, rt.account);
  if (!allowed.includes(change.account)) {
    return { kind: 'refused', change, refusal: { code: 'ACCOUNT_NOT_ALLOWED', account: change.account, allowed, about: `alarm ${change.alarmName}` } };
  }
  if (change.actionsSuppressedBy !== undefined) {
    return { kind: 'ignored', change, why: 'actions-suppressed', detail: `the composite alarm's actions are suppressed (${change.actionsSuppressedBy})` };
  }
  // An SNS notification may name no region code: the signal's region says where to read the alarm.
  const signal = matches[0]!.service.endpoints.find((e) => e.setIdentifier === matches[0]!.endpoint);
  const configured = signal?.signals.find((s) => s.name === matches[0]!.signal);
  const region = change.region ?? (configured?.source === 'alarm' ? configured.alarm.region : undefined) ?? signal?.region ?? '';
  return { kind: 'confirm', region };
}

/**
 * Screens a batch of alarm changes, then confirms the survivors' current states with one
 * `fetchAlarmStates` call (the adapter asks DescribeAlarms once per region). A change acts with the
 * state CloudWatch holds now, and only when that is the state the event reports. When the states
 * cannot be read (throttling, an outage), nothing acts: fail safe, the next tick reads them again.
 */
export async function screenAlarmChanges(rt: Runtime, changes: readonly ReceivedAlarmChange[]): Promise<ScreenedAlarm[]> {
  const now = rt.clock.now();
  const screened = changes.map((change) => screenOne(rt, change, now));
  // Another account's alarm is invisible to DescribeAlarms here (and a same-named local alarm is not it).
  const pending = changes.flatMap((change, i) => {
    const s = screened[i]!;
    return s.kind === 'confirm' && change.account === rt.account ? [refOf(String(i), change, s.region)] : [];
  });
  let current: ReadonlyMap<string, AlarmState> = new Map();
  let failure: string | undefined;
  if (pending.length > 0) {
    try {
      current = await rt.metrics.fetchAlarmStates(pending);
    } catch (error) {
      failure = (error as Error).message;
    }
  }
  return changes.map((change, i) => {
    const s = screened[i]!;
    return s.kind === 'confirm' ? confirmed(change, failure, current.get(String(i)), rt.account, now) : s;
  });
}

function refOf(key: string, change: ReceivedAlarmChange, region: string): AlarmRef {
  return { key, name: change.alarmName, ...(change.alarmArn ? { arn: change.alarmArn } : {}), region };
}

function confirmed(
  change: ReceivedAlarmChange,
  failure: string | undefined,
  state: AlarmState | undefined,
  controllerAccount: string | undefined,
  now: EpochMs,
): ScreenedAlarm {
  if (failure !== undefined) {
    return {
      kind: 'ignored',
      change,
      why: 'unconfirmed',
      retryable: true,
      detail: `its current state could not be read (${failure}); the next tick reads it again`,
    };
  }
  if (state === undefined) {
    // DescribeAlarms in the controller's account cannot see another account's alarm: a fresh event is taken at its word.
    if (change.account !== controllerAccount && now - change.at <= UNCONFIRMABLE_MAX_AGE_MS) return { kind: 'act', change };
    return { kind: 'ignored', change, why: 'unconfirmed', detail: 'DescribeAlarms does not return it; nothing acts on a state it cannot confirm' };
  }
  if (state !== change.state) {
    return { kind: 'ignored', change, why: 'superseded', detail: `the event says ${change.state}, CloudWatch says ${state} now` };
  }
  return { kind: 'act', change };
}
