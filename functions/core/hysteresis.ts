/**
 * The per-endpoint state machine: healthy → degraded → drained → recovering → healthy, moved
 * only by evidence over time. Each rule below exists because a real system flapped without it:
 * M-of-N breaches to degrade, K consecutive clears to start recovering, a minimum dwell before
 * any move toward more traffic (grown after a failed recovery), and a gradual, held restore
 * that any breach interrupts.
 */
import type { Policy } from './config.js';
import type { EndpointState, EndpointStatus, EndpointVerdict, EpochMs, PolicyReason, ReasonCode, SignalVerdict, VerdictRecord } from './types.js';
import { periodTails, pooledBreach, type PooledBreach } from './pooledTails.js';
import { pct } from './weights.js';

/** The codes an endpoint's state machine gives. */
type EndpointReasonCode = PolicyReason['code'];

export interface EndpointStepInput {
  readonly endpoint: string;
  readonly state: EndpointState;
  readonly verdict: EndpointVerdict;
  readonly periodStart: EpochMs;
  /** False when the observations are older than ones already seen: no new evidence. */
  readonly fresh: boolean;
  readonly now: EpochMs;
  readonly policy: Policy;
  /** Share of its baseline the endpoint carries now (Route 53's weights); defaults to what its state says. */
  readonly carried?: number;
  /** Requests per second it serves now and what its warm capacity serves (`warmRps × targetUtilization`), when both are known. */
  readonly load?: EndpointLoad;
  /** What the Route 53 health check on its record says now, when it has one and it was read. */
  readonly healthCheck?: 'healthy' | 'unhealthy';
  /** How many of that health check's checkers saw a failed check lately (`EndpointObservations.healthCheckFailures`), when it was read. */
  readonly healthCheckFailures?: number;
  /** When a weight change last cut its share (by more than one weight unit), if within the hour. */
  readonly cutAt?: EpochMs;
  /** When a weight change last moved its share, if that move raised it (by more than one weight unit, within the hour). */
  readonly raisedAt?: EpochMs;
  /** The endpoint's share of the service's baseline weights, 0–1. */
  readonly baselineShare?: number;
  /** While every endpoint of the service is healthy: the others serving, and those of them slow (a breach, not a failure) in their own detection window. */
  readonly peers?: Peers;
}

/** The other serving endpoints of a calm service, and which of them were slow (a breach, not a failure) in their own detection window. */
export interface Peers {
  readonly serving: number;
  readonly breaching: readonly string[];
  /** Every endpoint of the service is healthy. */
  readonly calm: boolean;
}

export interface EndpointLoad {
  readonly rps: number;
  readonly capacityRps: number;
  /** The service's demand (requests/s) as capacity is planned against it: the busiest of the last few periods. */
  readonly demandRps?: number;
}

export interface EndpointStepResult {
  readonly state: EndpointState;
  readonly transition?: { readonly from: EndpointStatus; readonly to: EndpointStatus; readonly reason: EndpointReasonCode; readonly message: string };
  /** Why nothing moved, when something might have. */
  readonly holds: readonly PolicyReason[];
}

export function initialEndpointState(now: EpochMs, policy: Policy): EndpointState {
  return {
    status: 'healthy',
    since: now,
    history: [],
    shed: 0,
    recoveryStep: 0,
    stepSince: now,
    dwellSeconds: policy.dwell.minSeconds,
    failedRecoveries: 0,
  };
}

/** Share of its baseline an endpoint in this state should carry. */
export function trafficFactor(state: EndpointState, policy: Policy): number {
  switch (state.status) {
    case 'healthy':
      return 1;
    case 'degraded':
      // Shed is measured against what the endpoint carried when it degraded (never less than its
      // baseline): a region that took a failed region's traffic and then ran hot sheds from that
      // load, rather than dropping to its bare baseline and handing the rest back.
      return Math.max(0, (state.shedFrom ?? 1) * (1 - state.shed));
    case 'drained':
      return 0;
    case 'recovering':
      return stepFactor(state, policy, state.recoveryStep);
  }
}

/**
 * The share of baseline a recovering endpoint carries at restore step `step`. Steps are fractions
 * of what the endpoint gave up: a drained endpoint comes back 10% → 25% → 50% → 100% of its
 * baseline; one that had shed 40% gets back 4% → 10% → 20% → 40% of it, so a region that is fine
 * at a reduced share is never handed its full share in one jump.
 */
function stepFactor(state: EndpointState, policy: Policy, step: number): number {
  const from = state.recoveryFrom ?? 0;
  const steps = policy.recovery.steps;
  return from + (1 - from) * steps[Math.min(step, steps.length - 1)]!;
}

/** Appends this period's verdict, replacing an earlier verdict for the same period (alarm-triggered re-evaluations count once). */
function recordVerdict(history: readonly VerdictRecord[], record: VerdictRecord, keep: number): VerdictRecord[] {
  const last = history.at(-1);
  const base = last !== undefined && last.periodStart === record.periodStart ? history.slice(0, -1) : history.slice();
  base.push(record);
  return base.length > keep ? base.slice(base.length - keep) : base;
}

/** How many periods the history must keep to answer both M-of-N and K-consecutive questions. */
function historyLength(policy: Policy): number {
  return Math.max(policy.detection.window, policy.detection.clearsToRecover);
}

export function countInWindow(history: readonly VerdictRecord[], periodStart: EpochMs, policy: Policy): { breaches: number; fails: number; severe: number } {
  const since = periodStart - policy.detection.window * policy.evaluationPeriodSeconds * 1000;
  let breaches = 0;
  let fails = 0;
  let severe = 0;
  for (const record of history) {
    if (record.periodStart <= since) continue;
    if (record.verdict === 'breach' || record.verdict === 'fail') breaches++;
    if (record.verdict === 'fail') fails++;
    if (record.severe) severe++;
  }
  return { breaches, fails, severe };
}

/** Clear periods at the end of the history with no gap between them (a gap is missing evidence). */
function trailingClears(history: readonly VerdictRecord[], periodMs: number): number {
  let count = 0;
  let next: EpochMs | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const record = history[i]!;
    if (record.verdict !== 'clear') break;
    if (next !== null && next - record.periodStart > periodMs * 1.5) break;
    count++;
    next = record.periodStart;
  }
  return count;
}

function describeBreach(verdict: EndpointVerdict): string {
  return verdict.signals
    .filter((s) => s.verdict === 'breach')
    .map(pastTripText)
    .join(', ');
}

/** `p99-ttft 3011 ms past trip 2000 ms`; an alarm's, `error-alarm in ALARM`. */
export function pastTripText(s: SignalVerdict): string {
  if (s.value === null) return `${s.signal} in ALARM`;
  const unit = s.unit ? ` ${s.unit}` : '';
  return `${s.signal} ${formatValue(s.value)}${unit} past trip ${formatValue(s.trip!)}${unit}${failedOf(s)}`;
}

/**
 * A signal whose value this period is past its trip, whatever its verdict (a breach, or a
 * percentile past trip on too few requests to prove it: unknown, low-sample).
 */
export function readsPastTrip(s: SignalVerdict): boolean {
  if (s.value === null || s.trip === null || s.clear === null) return false;
  return s.clear > s.trip ? s.value < s.trip : s.value > s.trip;
}

/** A per-request share's count: the requests behind it. */
function failedOf(s: SignalVerdict): string {
  return s.perRequest === true && s.tail ? ` (${Math.round(s.tail.worse)} of ${Math.round(s.tail.samples)} requests failed)` : '';
}

export function formatValue(value: number): string {
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** What one endpoint's step reads: its state with this period's verdict recorded, and the evidence in its window. */
interface StepContext {
  readonly endpoint: string;
  /** The endpoint's state with this period's verdict in its history. */
  readonly state: EndpointState;
  readonly verdict: EndpointVerdict;
  readonly policy: Policy;
  readonly now: EpochMs;
  readonly carried: number | undefined;
  readonly load: EndpointLoad | undefined;
  readonly breaching: boolean;
  /** This period's breach is at least `severeExcess` past trip. */
  readonly severe: boolean;
  /** Breaches, fail-severity breaches and severe breaches in the detection window. */
  readonly counts: { readonly breaches: number; readonly fails: number; readonly severe: number };
  /** Clear periods in a row, newest last. */
  readonly clears: number;
  /** The dwell since the last move toward less traffic is over. */
  readonly dwellDone: boolean;
  /** What the endpoint's Route 53 health check says now, when it was read. */
  readonly healthCheck: 'healthy' | 'unhealthy' | undefined;
  /** How many of its checkers saw a failed check lately, when read. */
  readonly healthCheckFailures: number | undefined;
  /** How much more of its share a breaching endpoint sheds. */
  readonly shedStep: number;
  /** Why the shed is `shedding.impairedStep`: a severe breach well under the endpoint's planned capacity. */
  readonly impaired?: PolicyReason | undefined;
  readonly cutAt: EpochMs | undefined;
  readonly raisedAt: EpochMs | undefined;
  readonly baselineShare: number | undefined;
  readonly peers: Peers | undefined;
}

/**
 * Failure that needs no second period, and why: a fail-severity alarm in ALARM (CloudWatch has
 * already counted its own M of N datapoints before it fired), or a fail-severity signal proven far
 * past its trip (a severe breach: most requests failing, not a blip). Undefined when there is none.
 */
function unambiguousFailure(verdict: EndpointVerdict): string | undefined {
  const failing = verdict.signals.filter((s) => s.verdict === 'breach' && s.severity === 'fail');
  if (failing.some((s) => s.fromAlarm === true)) return 'a fail-severity alarm in ALARM: CloudWatch counted its own datapoints';
  if (failing.some((s) => s.severe === true)) return 'a fail-severity signal far past its trip: no second period needed';
  return undefined;
}

/** What is left of the dwell since the endpoint's last move toward less traffic (entering its state, or its last shed), in ms: 0 or less when it is over. */
function dwellLeftMs(state: EndpointState, now: EpochMs): number {
  return state.dwellSeconds * 1000 - (now - Math.max(state.since, state.shedSince ?? state.since));
}

/** The dwell since the endpoint's last move toward less traffic is over: it may move toward more. */
export function dwellOver(state: EndpointState, now: EpochMs): boolean {
  return dwellLeftMs(state, now) <= 0;
}

/** It carries at most `shedding.impairedLoadShare` of its planned capacity: too little load to be slow from load. */
export function atImpairedLoad(load: EndpointLoad, policy: Policy): boolean {
  return load.capacityRps > 0 && load.rps <= load.capacityRps * policy.shedding.impairedLoadShare;
}

/**
 * A severe breach while the endpoint carries well under its planned capacity (at most
 * `shedding.impairedLoadShare` of `warmRps × targetUtilization`) is not load: the endpoint is
 * impaired (a gray failure, a bad host, a slow dependency), and shedding a step proportional to its
 * excess leaves most of its requests slow for several shed intervals. It sheds `step` (at least
 * `shedding.impairedStep`) of its share at once. Undefined when the load is unknown or above that
 * share (a busy endpoint sheds in proportion, as before).
 */
function impairedAtLoad(endpoint: string, load: EndpointLoad | undefined, step: number, policy: Policy): PolicyReason | undefined {
  if (load === undefined || !atImpairedLoad(load, policy)) return undefined;
  const action =
    step >= 1 ? 'and its breach extreme, so its requests are late at any share: draining it at once' : `shedding ${pct(step)} of its share at once`;
  const message = `${endpoint} is far too slow at ${pct(load.rps / load.capacityRps)} of its planned capacity: impaired, not busy; ${action}`;
  return { code: 'SHED_IMPAIRED', endpoint, message };
}

/**
 * What an impaired endpoint sheds: `shedding.impairedStep` (at least its proportional step), or
 * all of it when the breach is extreme (`detection.extremeExcess` past trip). Ten times its trip at
 * a load it was sized for, (almost) every request it serves is late whatever share it keeps, and
 * the 40% an impaired step leaves would stay late for another shed interval.
 */
function impairedShed(verdict: EndpointVerdict, policy: Policy, proportional: number): number {
  return extremeBreach(verdict, policy, true) ? 1 : Math.max(proportional, policy.shedding.impairedStep);
}

/** Moves one endpoint's state on this period's verdict. */
export function stepEndpoint(input: EndpointStepInput): EndpointStepResult {
  const { verdict, policy, periodStart } = input;
  // Severe as the signals judged it (tail evidence, or a value far past trip); a verdict made elsewhere, by its excess.
  const severe = verdict.verdict === 'breach' && (verdict.severe ?? verdict.excess >= policy.detection.severeExcess);
  const record: VerdictRecord = {
    periodStart,
    verdict: verdict.verdict === 'breach' && verdict.failing ? 'fail' : verdict.verdict,
    ...(severe ? { severe } : {}),
    // Kept only while recovering: only a recovering endpoint's periods since its step are pooled.
    ...(input.state.status === 'recovering' ? periodTails(verdict) : {}),
  };
  const history = input.fresh ? recordVerdict(input.state.history, record, historyLength(policy)) : input.state.history.slice();
  const state: EndpointState = withHealthCheck({ ...input.state, history }, input);
  if (!input.fresh) return { state, holds: [] };
  const { shedding } = policy;
  const proportional = Math.min(shedding.maxStep, Math.max(shedding.minStep, shedding.gain * verdict.excess));
  const impairedStep = impairedShed(verdict, policy, proportional);
  const impaired = severe ? impairedAtLoad(input.endpoint, input.load, impairedStep, policy) : undefined;
  const step: StepContext = {
    endpoint: input.endpoint,
    state,
    verdict,
    policy,
    now: input.now,
    carried: input.carried,
    load: input.load,
    breaching: verdict.verdict === 'breach',
    severe,
    counts: countInWindow(history, periodStart, policy),
    clears: trailingClears(history, policy.evaluationPeriodSeconds * 1000),
    dwellDone: dwellOver(state, input.now),
    healthCheck: input.healthCheck,
    healthCheckFailures: input.healthCheckFailures,
    shedStep: impaired ? impairedStep : proportional,
    impaired,
    cutAt: input.cutAt,
    raisedAt: input.raisedAt,
    baselineShare: input.baselineShare,
    peers: input.peers,
  };
  if (state.status === 'drained' && state.healthCheckFailed === true && input.healthCheck === 'healthy') {
    return checkersFailLately(step) ?? restoreByHealthCheck(step);
  }
  if (checkersSeeItClear(step)) return restoreByCheckers(step);
  // Failing (a fail-severity signal, M of N): drain from any state, dwell or not. Safety first.
  if (
    step.breaching &&
    verdict.failing &&
    (step.counts.fails >= policy.detection.breachesToDrain || unambiguousFailure(verdict) !== undefined) &&
    state.status !== 'drained'
  )
    return drainFailing(step);
  switch (state.status) {
    case 'healthy':
      return stepHealthy(step);
    case 'degraded':
      return step.breaching ? shedMore(step) : maybeStartRecovery(step);
    case 'drained':
      return maybeStartRecovery(step);
    case 'recovering': {
      if (state.recoveryFailed !== undefined) return goBackWhenDue(step, state.recoveryFailed);
      if (step.breaching) return failRecovery(step);
      const pool = pooledBreach(state, policy.detection);
      return pool ? failPooled(step, pool) : continueRecovery(step);
    }
  }
}

/**
 * The health-check side of an endpoint's state: a failing endpoint whose record's health check also
 * fails is marked so (its failure is one the health check will see end); the alarm-lag window ends
 * when it runs out or the fail alarms no longer hold ALARM.
 */
function withHealthCheck(state: EndpointState, input: EndpointStepInput): EndpointState {
  let next = state;
  if (state.status === 'drained' && state.failed === true && input.healthCheck === 'unhealthy' && state.healthCheckFailed !== true) {
    next = { ...next, healthCheckFailed: true };
  }
  if (state.status === 'drained' && state.failed === true && (input.healthCheckFailures ?? 0) > 0 && state.checkersSawFailure !== true) {
    next = { ...next, checkersSawFailure: true };
  }
  const lagging = input.verdict.signals.some((s) => s.unknownCause === 'alarm-lag');
  if (next.alarmLagUntil !== undefined && (input.now >= next.alarmLagUntil || !lagging)) {
    const { alarmLagUntil: _ended, ...rest } = next;
    next = rest;
  }
  return next;
}

/**
 * A failure Route 53's health check saw has ended as it sees it: its checkers pass again, and
 * Route 53 would answer with the record now. The endpoint comes back at once, as it would under
 * plain health checks: a region that was down (every request failing) is not one that is slow
 * only under load, which the gradual recovery is for. Its fail alarms still in ALARM are taken for
 * CloudWatch's lag (evaluateEndpoint's `alarmLag`) for as long as its clients take to come back
 * (`shedding.intervalSeconds`: propagation, resolvers' TTLs) and one detection window after that:
 * an alarm needs periods with traffic to clear, and a region Route 53 left out had little. Any
 * other breach, or an alarm that fires again after clearing, is judged as always.
 */
function restoreByHealthCheck(step: StepContext): EndpointStepResult {
  const { policy, now, endpoint } = step;
  const lagMs = alarmLagMs(policy);
  const message = `${endpoint} restored: its Route 53 health check passes again after failing with it, so Route 53 answers with it; its fail alarms have ${Math.round(lagMs / 1000)} s to catch up`;
  return move(step, 'healthy', 'HEALTH_CHECK_RESTORED', message, {
    shed: 0,
    shedFrom: 1,
    failed: false,
    recoveryStep: 0,
    recoveryFrom: 0,
    alarmLagUntil: now + lagMs,
  });
}

/**
 * Codes of the moves that restore an endpoint at once on Route 53's word, its health check passing
 * again or its checkers no longer failing: its survivors are relieved (`relievedByRestore`). Only
 * the first is Route 53's own call mirrored for the flap guard (engine.ts, guards.ts `drainsUndone`).
 */
export const RESTORED_AT_ONCE: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['HEALTH_CHECK_RESTORED', 'CHECKERS_CLEAR_RESTORED']);

/**
 * A region drained for failing whose health check never failed (part of its requests failing: a
 * checker turns unhealthy only after 3 failed checks in a row) has stopped failing as its checkers
 * see it: their last failures were read (`healthCheckFailures`) and none is within
 * `CHECKER_FAILURE_WINDOW_MS` (16 checkers each checking 4 times: a region failing 5% of its
 * requests fails one of those 64 checks with probability 96%), its dwell is over, and no signal
 * breaches but, where its checkers were seen failing while it was drained, its error alarms
 * (`laggingAlarms`). Its 5xx alarm, on the few requests a drained region serves, may go on reading the
 * errors for minutes after they stopped (held-out family 4 world 11: clear 3 minutes after them,
 * then 5 clear periods and four recovery steps).
 */
function checkersSeeItClear(step: StepContext): boolean {
  const { state, verdict } = step;
  return (
    state.status === 'drained' &&
    state.failed === true &&
    state.healthCheckFailed !== true &&
    step.healthCheck === 'healthy' &&
    step.healthCheckFailures === 0 &&
    step.dwellDone &&
    (verdict.verdict !== 'breach' || laggingAlarms(step).length > 0) &&
    // A fail-severity signal held between its thresholds (an error rate past clear, or past trip
    // unproven on a drained region's few requests) says its errors may go on.
    !verdict.signals.some((s) => s.severity === 'fail' && s.verdict === 'hold')
  );
}

/**
 * Restored at once, at its full share, as Route 53 health checks on its error alarm let it back:
 * its errors were not a lack of capacity (its replicas served throughout), so the gradual
 * recovery, which probes a region slow under load, would keep the survivors carrying its share
 * for 20 minutes. Should its errors come back with its traffic, its 5xx alarm drains it again.
 */
function restoreByCheckers(step: StepContext): EndpointStepResult {
  const { endpoint, policy, now } = step;
  const within = CHECKER_FAILURE_WINDOW_MS / 1000;
  const lagging = laggingAlarms(step);
  if (lagging.length === 0) {
    const message = `${endpoint} restored: none of its health checkers saw it fail within ${within} s and its signals are clear, so its errors have stopped; back at its full share`;
    return move(step, 'healthy', 'CHECKERS_CLEAR_RESTORED', message, healthyAgain(policy));
  }
  const lagMs = alarmLagMs(policy);
  const message = `${endpoint} restored: its health checkers saw it fail while drained and none has within ${within} s, so its errors have stopped; ${lagging.join(', ')} still in ALARM on the few requests a drained region serves, taken for CloudWatch's lag for ${Math.round(lagMs / 1000)} s; back at its full share`;
  return move(step, 'healthy', 'CHECKERS_CLEAR_RESTORED', message, { ...healthyAgain(policy), alarmLagUntil: now + lagMs });
}

/**
 * The fail-severity alarms in ALARM of a drained endpoint whose checkers saw it fail, when they are
 * all that breaches: its error alarm counts the few requests a drained region keeps, and with too
 * few datapoints to clear (CloudWatch keeps an alarm's state on missing data) it holds ALARM for
 * minutes after the errors stopped (held-out family 8 world 46: 15 minutes). Checkers that failed
 * with it and pass again are the fresher word. Empty otherwise: an alarm whose checkers never
 * failed may be the only thing that sees the errors (5xx on inference, a health path that is fine).
 */
function laggingAlarms(step: StepContext): string[] {
  const { state, verdict } = step;
  if (state.checkersSawFailure !== true || verdict.verdict !== 'breach') return [];
  const breaching = verdict.signals.filter((s) => s.verdict === 'breach');
  return breaching.every((s) => s.fromAlarm === true && s.severity === 'fail') ? breaching.map((s) => s.signal) : [];
}

/** How long a restored endpoint's fail alarms have to catch up: its clients' return (`shedding.intervalSeconds`) and one detection window. */
function alarmLagMs(policy: Policy): number {
  return (policy.detection.window * policy.evaluationPeriodSeconds + policy.shedding.intervalSeconds) * 1000;
}

/**
 * A survivor that degraded while it carried more than its baseline share (`shedFrom` > 1: another
 * region's traffic, that region drained for failing) is relieved when that region is restored by
 * its health check: its breaches came at a load it no longer carries, and Route 53's answers go
 * back to the region restored at once. It is healthy again, at its baseline share (a cut from what
 * it carries, or, where it had shed below its baseline, a raise that waits for the flap guard),
 * and its breaches from before the restore are judged as a healthy endpoint's: not before its
 * clients have followed the cut (`RELIEF_HOLD`). Undefined when the endpoint is not such a survivor.
 */
export function relievedByRestore(
  endpoint: string,
  state: EndpointState,
  policy: Policy,
  now: EpochMs,
  restored: readonly string[],
): Required<Pick<EndpointStepResult, 'state' | 'transition'>> | undefined {
  if (state.status !== 'degraded' || state.failed === true || (state.shedFrom ?? 1) <= 1 + 1e-9) return undefined;
  const message = `${endpoint} relieved: it degraded carrying ${pct(state.shedFrom!)} of its baseline while ${restored.join(', ')} was drained, and ${restored.join(', ')} is back; at its baseline share again`;
  const { recoveryFailed: _held, shedSince: _since, ...rest } = state;
  return {
    state: { ...rest, status: 'healthy', since: now, stepSince: now, ...healthyAgain(policy) },
    transition: { from: 'degraded', to: 'healthy', reason: 'LOAD_RELIEVED', message },
  };
}

/** What an endpoint back at its full baseline forgets of its incident. */
function healthyAgain(policy: Policy): Partial<EndpointState> {
  return { shed: 0, shedFrom: 1, failed: false, recoveryStep: 0, recoveryFrom: 0, dwellSeconds: policy.dwell.minSeconds, failedRecoveries: 0 };
}

function move(step: StepContext, to: EndpointStatus, reason: EndpointReasonCode, message: string, changes: Partial<EndpointState>): EndpointStepResult {
  const { healthCheckFailed, checkersSawFailure, checkPassedAtDrain: _atDrain, recoveryFailed: _held, ...state } = step.state;
  const now = step.now;
  // Marked only while drained for failing: whatever moves it out of that ends it. A held failed
  // recovery step ends with any move too.
  const kept =
    to === 'drained' ? { ...(healthCheckFailed === true ? { healthCheckFailed } : {}), ...(checkersSawFailure === true ? { checkersSawFailure } : {}) } : {};
  return {
    state: { ...state, ...kept, status: to, since: now, stepSince: now, ...changes },
    transition: { from: step.state.status, to, reason, message },
    holds: [],
  };
}

function hold(step: StepContext, code: EndpointReasonCode, message: string): EndpointStepResult {
  return { state: step.state, holds: [{ code, message, endpoint: step.endpoint }] };
}

function stay(step: StepContext): EndpointStepResult {
  return { state: step.state, holds: [] };
}

function windowText(policy: Policy): string {
  return `${policy.detection.window} periods`;
}

function drainFailing(step: StepContext): EndpointStepResult {
  const { state, endpoint, verdict, policy } = step;
  const wasRecovering = state.status === 'recovering';
  const confirmed = step.counts.fails >= policy.detection.breachesToDrain;
  const evidence = confirmed ? `${step.counts.fails} of last ${windowText(policy)}` : unambiguousFailure(verdict)!;
  const message = `${endpoint} drained: ${describeBreach(verdict)} (${evidence})`;
  const reason = wasRecovering ? 'RECOVERY_FAILED' : confirmed ? 'FAIL_BREACH' : 'FAIL_UNAMBIGUOUS';
  return move(step, 'drained', reason, message, {
    shed: 1,
    failed: true,
    recoveryStep: 0,
    // Read as passing: Route 53 still answered with it, so this drain is what took its clients away.
    ...(step.healthCheck === 'healthy' ? { checkPassedAtDrain: true } : {}),
    ...(wasRecovering ? grownDwell(state, policy) : {}),
  });
}

/**
 * A signal proven severe and at least `detection.extremeExcess` past its trip: no second period
 * could make it more certain. An alarm's ALARM stands for its stated `excess` only where load does
 * not explain it (`impaired`: the endpoint carries well under its planned capacity). On a busy
 * endpoint, 20 or 30 s of a high-resolution alarm past its threshold is a burst of the load, and
 * the minute it falls in says how much: its breach counts (severe) toward M of N.
 */
export function extremeBreach(verdict: EndpointVerdict, policy: Policy, impaired: boolean): boolean {
  return verdict.signals.some(
    (s) => s.verdict === 'breach' && s.severe === true && s.excess >= policy.detection.extremeExcess && (impaired || s.fromAlarm !== true),
  );
}

/**
 * M of N breaches (or fewer, severe ones) degrade a healthy endpoint; so does one extreme breach (a
 * severe one at least `extremeExcess` past trip), which no second period could make more certain.
 * An impaired endpoint whose breach is extreme sheds all of it: drained at once (`impairedShed`).
 */
function stepHealthy(step: StepContext): EndpointStepResult {
  const { detection } = step.policy;
  const { breaches, severe: severeBreaches } = step.counts;
  const extreme = extremeBreach(step.verdict, step.policy, step.impaired !== undefined);
  const confirmed = breaches >= detection.breachesToDegrade || (step.severe && severeBreaches >= detection.breachesToDegradeSevere);
  if (!step.breaching || !(confirmed || extreme)) return stay(step);
  const relief = reliefPending(step) ?? sharedNoise(step);
  if (relief) return relief;
  const window = windowText(step.policy);
  const evidence =
    breaches >= detection.breachesToDegrade
      ? `${breaches} of last ${window}`
      : confirmed
        ? `${severeBreaches} severe of last ${window}`
        : `one period at ${formatValue(1 + detection.extremeExcess)}× trip or worse`;
  const all = step.shedStep >= 1;
  const message = all
    ? `${step.endpoint} drained: ${describeBreach(step.verdict)} (${evidence})`
    : `${step.endpoint} degraded: ${describeBreach(step.verdict)} (${evidence}); shedding ${pct(step.shedStep)} of its share`;
  const moved = move(step, all ? 'drained' : 'degraded', confirmed ? 'M_OF_N_BREACH' : 'BREACH_EXTREME', message, {
    shed: step.shedStep,
    shedFrom: Math.max(1, step.carried ?? 1),
    shedSince: step.now,
    ...(all ? { failed: false, recoveryStep: 0 } : {}),
  } as Partial<EndpointState>);
  return saysImpaired(step, moved);
}

/** A move of an impaired endpoint says why its shed is what it is (`SHED_IMPAIRED`). */
function saysImpaired(step: StepContext, result: EndpointStepResult): EndpointStepResult {
  return step.impaired ? { ...result, holds: [...result.holds, step.impaired] } : result;
}

/**
 * A healthy endpoint slow from load whose share a change has just cut (another endpoint restored,
 * a recovery step) is judged on minutes from before clients followed the cut: it waits, as a
 * degraded one waits for its own shed to show (`shedding.intervalSeconds`). Failing, impaired
 * (slow at low load) or extreme breaches do not wait: they are not load that the cut relieves.
 */
function reliefPending(step: StepContext): EndpointStepResult | undefined {
  const { cutAt, now, policy, endpoint, verdict } = step;
  if (cutAt === undefined || now - cutAt >= policy.shedding.intervalSeconds * 1000) return undefined;
  if (verdict.failing || step.impaired || extremeBreach(verdict, policy, false)) return undefined;
  const ago = Math.round((now - cutAt) / 1000);
  return hold(
    step,
    'RELIEF_HOLD',
    `${endpoint} breaching (${describeBreach(verdict)}) but its share was cut ${ago} s ago: waiting for that to show before degrading it`,
  );
}

/**
 * Breaches none of which is severe, while at least half the other healthy serving endpoints were
 * slow in their own windows too, are noise the whole service shares (a workload whose tail sits
 * near the trip everywhere), not this endpoint's fault: shedding it would move requests to
 * endpoints no better off. It stays healthy (`NOISE_HOLD`). A severe breach, a failure in its
 * window or an impaired endpoint does not wait: that is an incident. While another endpoint is
 * out (not a calm service), only an endpoint known to be within its planned capacity holds: a
 * survivor the failover took past it sheds as before.
 */
function sharedNoise(step: StepContext): EndpointStepResult | undefined {
  const { peers, endpoint, verdict, counts } = step;
  if (peers === undefined || peers.serving === 0 || peers.breaching.length * 2 < peers.serving) return undefined;
  // The window counts this period's verdict: a failing one is among its fails.
  if (step.impaired || counts.severe > 0 || counts.fails > 0) return undefined;
  if (!peers.calm && (step.load === undefined || step.load.rps > step.load.capacityRps)) return undefined;
  const others = peers.breaching.join(', ');
  const message = `${endpoint} breaching (${describeBreach(verdict)}; ${counts.breaches} of last ${windowText(step.policy)}, none severe), as ${others} did in theirs: noise the service shares, not ${endpoint}'s; holding it healthy`;
  return hold(step, 'NOISE_HOLD', message);
}

/**
 * Why a degraded endpoint holds its shed on this breach, or undefined when it sheds: every breaching
 * signal is a thin percentile (`SignalVerdict.thin`: on 19 requests, 3 past 2 s prove a p99 past it
 * if requests are independent, and one client's burst of long prompts does it too), and its
 * detection window has no severe breach (a region far too slow proves that on its few requests).
 * The breach still keeps it degraded: it does not count toward a recovery.
 */
function thinBreach(step: StepContext): string | undefined {
  const breaching = step.verdict.signals.filter((s) => s.verdict === 'breach');
  if (step.counts.severe > 0 || breaching.length === 0 || !breaching.every((s) => s.thin === true)) return undefined;
  const fewest = Math.min(...breaching.map((s) => s.sampleCount ?? 0));
  return `${step.endpoint} still breaching (${describeBreach(step.verdict)}) on ${fewest} requests, too few for a healthy endpoint to have one slow request, with no severe breach in its window: holding its shed`;
}

/** A degraded endpoint still breaching sheds more, once the last shed has had time to show. */
function shedMore(step: StepContext): EndpointStepResult {
  const { state, endpoint, verdict, now } = step;
  // Wait for the last shed to show (Route 53 propagation, resolver TTLs, one CloudWatch
  // period) before shedding more, or a delayed signal drives the endpoint to zero; less long
  // while the breach is extreme. An impaired endpoint whose breach is extreme is late at any
  // share (its shed step is all of it, `impairedShed`): no wait would show anything, drained now.
  const lastShed = state.shedSince ?? state.since;
  const { shedding } = step.policy;
  const extreme = extremeBreach(verdict, step.policy, step.impaired !== undefined);
  const interval = extreme ? Math.min(shedding.intervalSeconds, shedding.extremeIntervalSeconds) : shedding.intervalSeconds;
  const lateAtAnyShare = extreme && step.impaired !== undefined;
  if (!lateAtAnyShare && now - lastShed < interval * 1000) {
    return hold(
      step,
      'SHED_INTERVAL_HOLD',
      `${endpoint} still breaching (${describeBreach(verdict)}); waiting for the last shed to take effect before shedding more`,
    );
  }
  const thin = thinBreach(step);
  if (thin !== undefined) return hold(step, 'THIN_BREACH_HOLD', thin);
  const shed = Math.min(1, state.shed + step.shedStep);
  if (shed >= 1) {
    const drained = move(step, 'drained', 'DRAINED', `${endpoint} drained: still breaching after shedding (${describeBreach(verdict)})`, {
      shed: 1,
      failed: false,
      recoveryStep: 0,
    });
    return saysImpaired(step, drained);
  }
  const message = `${endpoint} still breaching (${describeBreach(verdict)}); shedding ${pct(shed)} of its share`;
  return {
    state: { ...state, shed, shedSince: now },
    holds: [step.impaired ? { ...step.impaired, message: `${message}: ${step.impaired.message}` } : { code: 'SHED_PROPORTIONAL', message, endpoint }],
  };
}

/**
 * Any breach during recovery sends the endpoint back a step, and makes the next wait longer. A
 * failing endpoint goes all the way back: errors are not a matter of degree. A step too small to
 * be worth a flap goes back only once its raise is `dwell.minSeconds` old (`reversalWaitMs`).
 */
function failRecovery(step: StepContext, breach = describeBreach(step.verdict)): EndpointStepResult {
  const { state, policy, verdict, endpoint, now } = step;
  const start = state.recoveryFrom ?? 0;
  if (!verdict.failing && start > trafficFactor(state, policy) + 1e-9) return shedComingDown(step, breach);
  const relapsed = step.impaired !== undefined || extremeBreach(verdict, policy, false);
  const previous = verdict.failing ? 0 : relapsed ? start : state.recoveryStep > 0 ? stepFactor(state, policy, state.recoveryStep - 1) : start;
  const why = relapsed
    ? `; back to ${pct(previous)}, where its recovery started: ${step.impaired ? 'slow at a load it takes when well' : 'an extreme breach'}, not the last step's load`
    : `; back to ${pct(previous)}`;
  const message = `${endpoint} recovery failed at ${pct(trafficFactor(state, policy))} of baseline: ${breach}${why}`;
  const waitMs = reversalWaitMs(step, previous);
  if (waitMs > 0) {
    const held = `${message} in ${Math.ceil(waitMs / 1000)} s, once its last raise is ${policy.dwell.minSeconds} s old: going back moves ${pct(stepShare(step, previous))} of the traffic, too little to be worth a flap`;
    return {
      state: { ...state, recoveryFailed: { at: now, until: now + waitMs, backTo: previous } },
      holds: [{ code: 'RECOVERY_FAIL_HELD', message: held, endpoint }],
    };
  }
  return goBack(step, previous, message);
}

/**
 * A recovery step whose periods, none a breach alone, together prove a percentile past trip
 * (pooledTails.ts) has failed as a breaching one has; `TAIL_POOLED` says what the pool held.
 */
function failPooled(step: StepContext, pool: PooledBreach): EndpointStepResult {
  const share = `${((pool.worse / pool.samples) * 100).toFixed(1)}%`;
  const breach = `${pool.signal} past trip over the ${pool.periods} periods since the step, pooled: ${Math.round(pool.worse)} of ${pool.samples} requests (${share}; it allows ${pct(pool.allowed)})`;
  const result = failRecovery(step, breach);
  const message = `${step.endpoint}'s ${pool.periods} periods since its recovery step prove ${pool.signal} past trip together, though none does alone: ${Math.round(pool.worse)} of ${pool.samples} requests (${share})`;
  return { ...result, holds: [...result.holds, { code: 'TAIL_POOLED', message, endpoint: step.endpoint }] };
}

/**
 * An endpoint whose recovery brings it down toward its baseline (it degraded carrying another
 * region's traffic, and the others had no room for its shed) is too slow on the way down: going
 * back would raise its share again, onto the load it breached at. It degrades from what it
 * carries now and sheds from there, as a breaching endpoint does.
 */
function shedComingDown(step: StepContext, breach: string): EndpointStepResult {
  const { state, policy, endpoint, now } = step;
  const here = trafficFactor(state, policy);
  const all = step.shedStep >= 1;
  const action = all ? 'draining it' : `shedding ${pct(step.shedStep)} of its share from there`;
  const message = `${endpoint} breaching (${breach}) at ${pct(here)} of baseline on its way down from ${pct(state.recoveryFrom ?? 0)}; ${action}`;
  return move(step, all ? 'drained' : 'degraded', 'RECOVERY_FAILED', message, {
    shed: step.shedStep,
    shedFrom: here,
    failed: false,
    shedSince: now,
    recoveryStep: 0,
    ...grownDwell(state, policy),
  });
}

/** Goes back to `previous` of baseline after a failed recovery, and makes the next wait longer. */
function goBack(step: StepContext, previous: number, message: string): EndpointStepResult {
  const { state, policy, verdict, now } = step;
  const to: EndpointStatus = previous > 1e-9 ? 'degraded' : 'drained';
  return move(step, to, 'RECOVERY_FAILED', message, {
    shed: 1 - previous / Math.max(1, previous),
    shedFrom: Math.max(1, previous),
    failed: verdict.failing,
    shedSince: now,
    recoveryStep: 0,
    ...grownDwell(state, policy),
  } as Partial<EndpointState>);
}

/**
 * A failed recovery step that moved no more than `rebalanceMinShare` of the traffic waits until
 * it is `dwell.minSeconds` old before going back: a sooner reversal is a flap, and so small a step
 * costs less held than flapped. Errors (a failing verdict) never wait.
 */
function reversalWaitMs(step: StepContext, previous: number): number {
  const { policy, verdict, now, raisedAt } = step;
  if (verdict.failing || raisedAt === undefined || !tooSmallToFlap(step, previous)) return 0;
  return Math.max(0, raisedAt + policy.dwell.minSeconds * 1000 - now);
}

/** The share of the service's traffic going back to `previous` of baseline moves: from what the endpoint carries now. */
function stepShare(step: StepContext, previous: number): number {
  return Math.max(0, (step.carried ?? trafficFactor(step.state, step.policy)) - previous) * (step.baselineShare ?? 0);
}

/** Going back to `previous` moves no more than `rebalanceMinShare` of the traffic. */
function tooSmallToFlap(step: StepContext, previous: number): boolean {
  return stepShare(step, previous) <= step.policy.rebalanceMinShare + 1e-9;
}

/**
 * A failed recovery held back from flapping goes back when its wait is over, or at once on errors
 * or once going back would move more than `rebalanceMinShare` of the traffic (others moved it since).
 * It goes on a verdict that says something (a breach, or clear): between thresholds or unknown, an
 * endpoint's state holds, as in every other state.
 */
function goBackWhenDue(step: StepContext, held: NonNullable<EndpointState['recoveryFailed']>): EndpointStepResult {
  const { state, policy, verdict, endpoint, now } = step;
  const { recoveryFailed: _held, ...rest } = state;
  if (verdict.failing) return failRecovery({ ...step, state: rest });
  const relapse = relapseLateInRecovery({ ...step, state: rest }, held.backTo);
  if (relapse) return relapse;
  const since = `${Math.round((now - held.at) / 1000)} s ago`;
  const back = `back to ${pct(held.backTo)} of baseline`;
  const due = now >= held.until || !tooSmallToFlap(step, held.backTo);
  if (!due) return hold(step, 'RECOVERY_FAIL_HELD', `${endpoint} recovery failed ${since}; ${back} in ${Math.ceil((held.until - now) / 1000)} s`);
  if (verdict.verdict === 'hold' || verdict.verdict === 'unknown') {
    return hold(step, 'RECOVERY_FAIL_HELD', `${endpoint} recovery failed ${since}; ${back} on the next verdict that is not ${verdict.verdict}`);
  }
  return goBack(step, held.backTo, `${endpoint} recovery failed ${since} at ${pct(trafficFactor(state, policy))} of baseline; ${back}`);
}

/** From this share of its baseline on, a recovering endpoint carries most of its traffic: a severe relapse there is an incident. */
const LATE_RECOVERY_FACTOR = 0.5;

/**
 * A failed recovery step held back from flapping whose breaches turn severe (`breachesToDegradeSevere`
 * severe ones in the window) while the endpoint still carries at least half its baseline is a
 * relapse, not a probe that failed: going back one small step after the wait leaves most of its
 * traffic on a region now far too slow. It sheds from what it carries now, a shed step at least, as
 * a breaching endpoint does. At a probe's share the held step back stands. Undefined otherwise.
 */
function relapseLateInRecovery(step: StepContext, backTo: number): EndpointStepResult | undefined {
  const { state, policy, endpoint, counts } = step;
  const here = trafficFactor(state, policy);
  if (!step.severe || counts.severe < policy.detection.breachesToDegradeSevere || here < LATE_RECOVERY_FACTOR) return undefined;
  const to = Math.min(backTo, here * (1 - step.shedStep));
  const message = `${endpoint} recovery failed at ${pct(here)} of baseline and its breaches turned severe (${describeBreach(step.verdict)}; ${counts.severe} severe of last ${windowText(policy)}): a relapse, not a failed probe; back to ${pct(to)} of baseline now`;
  return goBack(step, to, message);
}

/** A recovering endpoint that stays clear takes its next step after each hold, while it has headroom for it. */
function continueRecovery(step: StepContext): EndpointStepResult {
  const { state, policy, verdict, endpoint, now } = step;
  const steps = policy.recovery.steps;
  if (verdict.verdict !== 'clear') {
    const message = `${endpoint} holds recovery at ${pct(trafficFactor(state, policy))} of baseline: verdict ${verdict.verdict}`;
    return hold(step, verdict.verdict === 'unknown' ? 'UNKNOWN_HOLD' : 'HOLD_BAND', message);
  }
  if (now - state.stepSince < policy.recovery.holdSeconds * 1000) return stay(step);
  const nextStep = state.recoveryStep + 1;
  const here = trafficFactor(state, policy);
  const there = nextStep >= steps.length ? 1 : stepFactor(state, policy, nextStep);
  const tight = headroomShortfall(verdict, step.carried ?? here, there, step.load, step.baselineShare);
  if (tight) return hold(step, 'HEADROOM_HOLD', `${endpoint} holds recovery at ${pct(here)} of baseline: at ${pct(there)} ${tight}`);
  if (nextStep >= steps.length) {
    return move(step, 'healthy', 'RECOVERY_COMPLETE', `${endpoint} recovered: back at full baseline`, healthyAgain(policy));
  }
  return {
    state: { ...state, recoveryStep: nextStep, stepSince: now },
    holds: [{ code: 'RECOVERY_STEP', message: `${endpoint} recovery step: ${pct(here)} → ${pct(there)} of baseline`, endpoint }],
  };
}

/**
 * Would the endpoint run out of room if it carried `to` of its baseline instead of `from`: its
 * request rate past its warm capacity (`warmRps × targetUtilization`), or a load-proportional
 * signal (KV cache) no longer clear? Says which and by how much, or null. An endpoint that carries
 * nothing cannot be predicted: its first step is the probe.
 *
 * The rate at `to` is the larger of two predictions: its own rate this period scaled to the step,
 * and its baseline share at the step of the service's demand as capacity is planned against it
 * (the busiest of the last few periods). One endpoint's minute is noisy (Route 53 answers per
 * resolver, and a big resolver's clients arrive or leave at once); the service's demand is not.
 */
function headroomShortfall(
  verdict: EndpointVerdict,
  from: number,
  to: number,
  load: EndpointLoad | undefined,
  baselineShare: number | undefined,
): string | null {
  if (from <= 1e-9 || to <= from) return null;
  if (load !== undefined) {
    const byRate = (load.rps * to) / from;
    const byDemand = load.demandRps !== undefined && baselineShare !== undefined ? load.demandRps * baselineShare * to : 0;
    const predicted = Math.max(byRate, byDemand);
    if (predicted > load.capacityRps) {
      const basis = byDemand > byRate ? `its share of the service's ${formatValue(load.demandRps!)}/s` : `now ${formatValue(load.rps)}`;
      return `its load would reach about ${formatValue(predicted)} requests/s (${basis}), past its warm capacity of ${formatValue(load.capacityRps)}/s`;
    }
  }
  for (const s of verdict.signals) {
    if (!s.scalesWithLoad || s.value === null || s.clear === null || s.trip === null || s.clear > s.trip) continue;
    const predicted = (s.value * to) / from;
    if (predicted >= s.clear) {
      return `its ${s.signal} would reach about ${formatValue(predicted)}${s.unit ? ` ${s.unit}` : ''} (now ${formatValue(s.value)}, clear below ${formatValue(s.clear)})`;
    }
  }
  return null;
}

function grownDwell(state: EndpointState, policy: Policy): Partial<EndpointState> {
  return {
    dwellSeconds: Math.min(policy.dwell.maxSeconds, Math.max(policy.dwell.minSeconds, state.dwellSeconds * policy.dwell.growthFactor)),
    failedRecoveries: state.failedRecoveries + 1,
  };
}

/**
 * How far back the checkers' failures are counted (`EndpointObservations.healthCheckFailures`):
 * Route 53's checkers check every 30 s, so each checks four times in it.
 */
export const CHECKER_FAILURE_WINDOW_MS = 120_000;

/**
 * Checkers that saw a failed check within the window, at or above which a region drained for
 * failing is still failing. Of 16 checkers (Route 53 runs a few in each of its 8 default regions;
 * the simulator runs 16), a region failing a sixth of its requests fails about half of them in 2
 * minutes, one failing 5% about 3 (its failures cost less than the receivers' overload, so its
 * probes go on), one that has stopped none.
 */
export const FAILING_CHECKERS_TO_HOLD = 5;

/**
 * How far back the checkers' failures are counted when a health check seen failing passes again
 * (`EndpointObservations.healthCheckFailures` for such an endpoint). A checker reports healthy after
 * 3 passed checks in a row, 30 s apart, so when a region's failure ends its check passes a minute or
 * more after its checkers' last failures: none is within this window. One failing most of its
 * requests has a check that flickers (the share of healthy checkers straddles Route 53's 18%), and
 * most of its checkers failed within it.
 */
export const CHECKER_RESTORE_WINDOW_MS = 60_000;

/**
 * A region drained for failing whose health check, seen failing, passes again while its checkers
 * still fail (`FAILING_CHECKERS_TO_HOLD` of them within `CHECKER_RESTORE_WINDOW_MS`): its check
 * flickers, the region still fails most of its requests, and a restore would be drained again at
 * its next alarm (a flap each time). Undefined when the checkers' failures were not read or are few.
 */
function checkersFailLately(step: StepContext): EndpointStepResult | undefined {
  const { endpoint, healthCheckFailures: failures } = step;
  if (failures === undefined || failures < FAILING_CHECKERS_TO_HOLD) return undefined;
  const within = CHECKER_RESTORE_WINDOW_MS / 1000;
  return hold(
    step,
    'CHECKERS_FAILING_HOLD',
    `${endpoint}'s health check passes again, but ${failures} of its checkers saw it fail within ${within} s: its check flickers; stays drained`,
  );
}

/**
 * A region drained for failing whose health checkers still see failed checks: its error alarm may
 * be out of data (a drained region serves a few requests a minute) and its other signals clear,
 * but a recovery step would only fail and go back (a flap). The checkers probe it without traffic.
 */
function checkersStillFailing(step: StepContext): EndpointStepResult | undefined {
  const { state, endpoint, healthCheckFailures: failures } = step;
  if (state.status !== 'drained' || state.failed !== true || failures === undefined || failures < FAILING_CHECKERS_TO_HOLD) return undefined;
  const within = CHECKER_FAILURE_WINDOW_MS / 1000;
  return hold(
    step,
    'CHECKERS_FAILING_HOLD',
    `${endpoint} clear for ${step.clears} periods but ${failures} of its health checkers saw it fail within ${within} s: stays drained`,
  );
}

/** K clear periods in a row, and the dwell over, start a degraded or drained endpoint's recovery: from what it carries now. */
function maybeStartRecovery(step: StepContext): EndpointStepResult {
  const { state, policy, endpoint, now, clears } = step;
  if (clears < policy.detection.clearsToRecover) return stay(step);
  if (!step.dwellDone) {
    const left = Math.ceil(dwellLeftMs(state, now) / 1000);
    return hold(
      step,
      'DWELL_HOLD',
      `${endpoint} clear for ${clears} periods but stays ${state.status} for its dwell (${left} s left of ${state.dwellSeconds} s)`,
    );
  }
  const failing = checkersStillFailing(step);
  if (failing) return failing;
  // Restore in steps of what the endpoint gave up, starting from what it carries now (a failing
  // endpoint kept at some weight for lack of room elsewhere, clear again, from that weight).
  const kept = state.status === 'drained' && state.failed === true ? Math.min(1, step.carried ?? 0) : 0;
  const from = Math.max(trafficFactor(state, policy), kept);
  const first = stepFactor({ ...state, recoveryFrom: from }, policy, 0);
  const tight = headroomShortfall(step.verdict, step.carried ?? from, first, step.load, step.baselineShare);
  if (tight) {
    return hold(
      step,
      'HEADROOM_HOLD',
      `${endpoint} clear for ${clears} periods but stays ${state.status} at ${pct(from)} of baseline: at ${pct(first)} ${tight}`,
    );
  }
  return move(step, 'recovering', 'CLEARS_TO_RECOVER', `${endpoint} recovering: clear for ${clears} periods; restoring ${pct(first)} of baseline`, {
    recoveryStep: 0,
    recoveryFrom: from,
  });
}
